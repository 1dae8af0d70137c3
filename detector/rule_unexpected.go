package detector

import (
	"context"
	"fmt"
	"time"
)

func newUnexpectedPrincipal(cfg *Config) Rule { return unexpectedPrincipal{al: cfg.AllowList} }

// unexpectedPrincipal: a successful read by a principal the allow-list does not allow. Severity
// high; critical for the root user or a caller from another account (docs/rules.md).
type unexpectedPrincipal struct{ al *AllowList }

func (unexpectedPrincipal) ID() string { return RuleUnexpectedPrincipal }

func (r unexpectedPrincipal) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if !e.Recorded || e.Denied {
			continue
		}
		ok, entry := b.Allowed(e)
		if ok {
			continue
		}
		n := b.WindowCount(SeriesKey{Secret: e.Read.Secret, Principal: e.Read.Principal}, e.Time)
		b.Emit(i, r.alert(b, e, entry, n))
	}
	return nil
}

func (r unexpectedPrincipal) alert(b *Batch, e *Event, entry *AllowEntry, n int64) *Alert {
	sev := SeverityHigh
	if e.Principal.Type == TypeRoot || e.Principal.Account != "" && e.Principal.Account != e.Secret.Account {
		sev = SeverityCritical
	}
	a := newAlert(b, RuleUnexpectedPrincipal, sev, e, n)
	rule := "the defaults (no entry names this secret)"
	if entry != nil {
		rule = fmt.Sprintf("entry %q (%s:%d)", entry.Secret, r.al.Source, entry.Line)
	}
	a.Reason = fmt.Sprintf("%s read %s, and the allow-list does not allow it: %s allows %s.",
		describePrincipal(e.Principal), bound(e.Secret.Name), rule, listOrNobody(allowPatterns(r.al, entry)))
	a.NextStep = fmt.Sprintf("Confirm with the owner%s whether %s should read this secret. If not: "+
		"revoke its access (identity policy and the secret's resource policy), rotate the secret, and "+
		"review its other CloudTrail activity around %s (event IDs below). If it should: add it to the allow-list.",
		ownerOf(entry), e.Principal.ARN, e.Time.Format(time.RFC3339))
	return a
}
