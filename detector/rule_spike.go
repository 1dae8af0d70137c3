package detector

import (
	"context"
	"encoding/json"
	"time"
)

func newReadSpike(cfg *Config) Rule { return readSpike{grace: cfg.RotationGrace} }

// readSpike: the hour's reads of a secret — as a whole, and per principal — far above its own
// seasonal baseline (SpikeConfig). Severity high: harvesting or a runaway client.
//
// Rotation awareness: a rotation (RotateSecret, PutSecretValue, UpdateSecretVersionStage moving
// AWSCURRENT, UpdateSecret with a new value) is followed by a burst of reads as every client
// refreshes. For the hour of the rotation and the next one (RotationGrace, at most 2 h), a spike
// is not raised for the secret as a whole, nor for a principal that had read the secret before
// the rotation hour — unless the hour's count exceeds 10× the spike threshold. A principal new to
// the secret, bulk-retrieval and every other rule are unaffected, so a rotation hides no stranger
// and buys an attacker at most two hours of reads by an established reader (the rotation itself
// needs write access, which secret-lifecycle judges).
type readSpike struct{ grace int }

func (readSpike) ID() string { return RuleReadSpike }

// rotationEvent reports whether a successful event rotates (changes the current value of) its secret.
func rotationEvent(e *Event) bool {
	if e.Denied || !e.HasSecret || e.Source != "secretsmanager.amazonaws.com" {
		return false
	}
	switch e.Name {
	case "RotateSecret", "PutSecretValue", "RotationSucceeded":
		return true
	case "UpdateSecretVersionStage":
		var p struct {
			VersionStage    string `json:"versionStage"`
			MoveToVersionID string `json:"moveToVersionId"`
		}
		_ = json.Unmarshal(e.Record.RequestParameters, &p)
		return p.VersionStage == "AWSCURRENT" && p.MoveToVersionID != ""
	case "UpdateSecret":
		var p struct {
			ClientRequestToken string `json:"clientRequestToken"`
		}
		_ = json.Unmarshal(e.Record.RequestParameters, &p)
		return p.ClientRequestToken != ""
	}
	return false
}

func (r readSpike) Evaluate(ctx context.Context, b *Batch) error {
	for _, e := range b.Events {
		if rotationEvent(e) {
			if _, err := b.Tally(ctx, "rotation|"+e.Secret.Key(), e.Time.Truncate(time.Hour).UTC(), []string{bound(e.Record.EventID)}, 16); err != nil {
				return err
			}
		}
	}
	type secretHour struct {
		secret string
		hour   int64
	}
	rotated := map[secretHour]time.Time{} // start of the rotation hour in grace (zero: none)
	graceOf := func(secret string, h int64) (time.Time, error) {
		k := secretHour{secret, h}
		if t, ok := rotated[k]; ok {
			return t, nil
		}
		var at time.Time
		for back := 0; back < r.grace && at.IsZero(); back++ {
			hr := time.Unix((h-int64(back))*3600, 0).UTC()
			n, err := b.Tally(ctx, "rotation|"+secret, hr, nil, 16)
			if err != nil {
				return at, err
			}
			if n > 0 {
				at = hr
			}
		}
		rotated[k] = at
		return at, nil
	}
	for i, e := range b.Events {
		if !e.Recorded || e.Denied {
			continue
		}
		h := Hour(e.Time)
		pairKey, wholeKey := SeriesKey{Secret: e.Read.Secret, Principal: e.Read.Principal}, SeriesKey{Secret: e.Read.Secret}
		excused := func(v spikeVerdict, established bool) (bool, error) {
			if !established || float64(v.Count) > 10*v.Threshold {
				return false, nil
			}
			at, err := graceOf(e.Read.Secret, h)
			return !at.IsZero(), err
		}
		if pair := b.Series[pairKey]; pair != nil {
			if v := b.Spike(pairKey, h); v.Spike {
				est := !pair.FirstSeen.IsZero() && Hour(pair.FirstSeen) < h-int64(r.grace)
				if ok, err := excused(v, est); err != nil {
					return err
				} else if !ok {
					b.Emit(i, spikeAlert(b, e, v, false, b.WindowCount(pairKey, e.Time)))
				}
			}
		}
		if b.Series[wholeKey] != nil {
			if v := b.Spike(wholeKey, h); v.Spike {
				if ok, err := excused(v, true); err != nil {
					return err
				} else if ok {
					continue
				}
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
