package detector

import (
	"context"
	"fmt"
	"time"
)

func newFirstSeen(cfg *Config) Rule {
	return firstSeen{al: cfg.AllowList, warmup: cfg.FirstSeenWarmup, retention: cfg.Retention}
}

// firstSeen: an allowed principal reads a secret for the first time within the retention window,
// once the secret has warmup of history. Severity medium: allowed, but new.
type firstSeen struct {
	al        *AllowList
	warmup    time.Duration
	retention time.Duration
}

func (firstSeen) ID() string { return RuleFirstSeenPrincipal }

func (r firstSeen) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if !e.Recorded || e.Denied {
			continue
		}
		pairKey := SeriesKey{Secret: e.Read.Secret, Principal: e.Read.Principal}
		pair, whole := b.Series[pairKey], b.Series[SeriesKey{Secret: e.Read.Secret}]
		if pair == nil || whole == nil || pair.FirstEventID != e.Read.EventID || !r.warm(whole, e.Time) {
			continue
		}
		ok, entry := b.Allowed(e)
		if !ok {
			continue // unexpected-principal speaks for it
		}
		a := newAlert(b, RuleFirstSeenPrincipal, SeverityMedium, e, b.WindowCount(pairKey, e.Time))
		a.Reason = fmt.Sprintf("%s read %s for the first time in the %s window (the secret has been read since %s). "+
			"The allow-list allows it through %s.", describePrincipal(e.Principal), bound(e.Secret.Name),
			humanDuration(r.retention), whole.FirstSeen.Format("2006-01-02"), matchingPattern(r.al, entry, e.Principal.ARN))
		a.NextStep = "Check that this new reader is an expected deployment or person (change ticket, new service). " +
			"If not, treat it as unexpected: revoke, rotate, investigate. If it is, nothing to do; consider naming it explicitly in the allow-list."
		b.Emit(i, a)
	}
	return nil
}

// warm reports whether the secret has enough history for a new principal to be news.
func (r firstSeen) warm(whole *Series, at time.Time) bool {
	return !whole.FirstSeen.IsZero() && at.Sub(whole.FirstSeen) >= r.warmup
}
