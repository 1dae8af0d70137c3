package detector

import (
	"context"
)

func newReadSpike(cfg *Config) Rule { return readSpike{} }

// readSpike: the hour's reads of a secret — as a whole, and per principal — far above its own
// seasonal baseline (SpikeConfig). Severity high: harvesting or a runaway client.
type readSpike struct{}

func (readSpike) ID() string { return RuleReadSpike }

func (readSpike) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if !e.Recorded || e.Denied {
			continue
		}
		h := Hour(e.Time)
		pairKey, wholeKey := SeriesKey{Secret: e.Read.Secret, Principal: e.Read.Principal}, SeriesKey{Secret: e.Read.Secret}
		if b.Series[pairKey] != nil {
			if v := b.Spike(pairKey, h); v.Spike {
				b.Emit(i, spikeAlert(b, e, v, false, b.WindowCount(pairKey, e.Time)))
			}
		}
		if b.Series[wholeKey] != nil {
			if v := b.Spike(wholeKey, h); v.Spike {
				a := spikeAlert(b, e, v, true, b.WindowCount(wholeKey, e.Time))
				a.Reason += "; top readers this hour: " + topReaders(b.Series, e.Read.Secret, h, 3)
				b.Emit(i, a)
			}
		}
	}
	return nil
}

func spikeAlert(b *Batch, e *Event, v spikeVerdict, whole bool, n int64) *Alert {
	a := newAlert(b, RuleReadSpike, SeverityHigh, e, n)
	who := "by " + e.Principal.ARN
	if whole {
		a.Principal, a.PrincipalType, a.Session = "", "", ""
		who = "by all principals"
	}
	a.Reason = v.reason(who)
	a.NextStep = "Find who drives the extra reads (principals and source IPs below; CloudTrail for the hour). " +
		"A new deployment or a retry loop is benign but costly; a credential being harvested is not — if the caller is unknown, revoke and rotate."
	return a
}
