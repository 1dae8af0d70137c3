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
	// The alerts of one secret, principal and window merge into one, which keeps the reason of
	// the last of them at the latest time (Alert.Merge): only that event's reason is written.
	type group struct {
		secret, principal string
		window            int64
	}
	var last map[group]int
	var latest map[group]time.Time
	unexpected := func(e *Event) bool {
		if !e.Recorded || e.Denied {
			return false
		}
		ok, _ := b.Allowed(e)
		return !ok
	}
	groupOf := func(e *Event) group {
		g := group{principal: e.Principal.ARN, window: b.Window(e.Time).UnixNano()}
		if e.HasSecret {
			g.secret = e.Secret.Key()
		}
		return g
	}
	for i, e := range b.Events {
		if !unexpected(e) {
			continue
		}
		if last == nil {
			last, latest = map[group]int{}, map[group]time.Time{}
		}
		g := groupOf(e)
		if t, seen := latest[g]; !seen || !e.Time.Before(t) {
			latest[g], last[g] = e.Time, i
		}
	}
	for i, e := range b.Events {
		if !unexpected(e) {
			continue
		}
		_, entry := b.Allowed(e)
		n := b.WindowCount(SeriesKey{Secret: e.Read.Secret, Principal: e.Read.Principal}, e.Time)
		b.Emit(i, r.alert(b, e, entry, n, last[groupOf(e)] == i))
	}
	return nil
}

// alert is the alert for e; with reason false, its Reason and NextStep are left empty (another
// event's will be kept).
func (r unexpectedPrincipal) alert(b *Batch, e *Event, entry *AllowEntry, n int64, reason bool) *Alert {
	sev := SeverityHigh
	if e.Principal.Type == TypeRoot || e.Principal.Account != "" && e.Principal.Account != e.Secret.Account {
		sev = SeverityCritical
	}
	a := newAlert(b, RuleUnexpectedPrincipal, sev, e, n)
	if !reason {
		return a
	}
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
