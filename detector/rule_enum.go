package detector

import (
	"context"
	"fmt"
	"time"
)

// RuleEnumeration: a burst of ListSecrets / DescribeSecret by a principal that normally does
// not list or describe secrets.
const RuleEnumeration = "enumeration"

// EnumConfig tunes enumeration.
type EnumConfig struct {
	Count  int           // list/describe calls in one window that alert (default 10)
	Window time.Duration // default 10 min
	Days   int           // prior days that make a principal a usual lister (default 7)
}

func (c *EnumConfig) defaults() {
	if c.Count <= 0 {
		c.Count = 10
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	if c.Days <= 0 {
		c.Days = 7
	}
}

func newEnumeration(cfg *Config) Rule { return enumeration{cfg: cfg.Enum} }

// enumeration counts each principal's ListSecrets, DescribeSecret, ListSecretVersionIds and
// GetResourcePolicy calls (distinct event IDs) per Window and per day, in a Tallier. Count or
// more in a window alert unless the principal made Count or more such calls on one of the prior
// Days days (caching clients and rotation functions describe secrets all day). Severity medium:
// discovery (MITRE T1526/T1580) precedes the reads; alone it reveals names and policies, not values.
type enumeration struct{ cfg EnumConfig }

func (enumeration) ID() string { return RuleEnumeration }

func (r enumeration) Evaluate(ctx context.Context, b *Batch) error {
	type key struct {
		p string
		w time.Time
	}
	ids := map[key][]string{}
	days := map[key][]string{}
	last := map[key]int{}
	var order []key
	for i, e := range b.Events {
		if e.Kind != KindList {
			continue
		}
		k := key{e.Principal.ARN, e.Time.Truncate(r.cfg.Window).UTC()}
		if _, ok := ids[k]; !ok {
			order = append(order, k)
		}
		ids[k] = append(ids[k], bound(e.Record.EventID))
		dk := key{e.Principal.ARN, e.Time.Truncate(24 * time.Hour).UTC()}
		days[dk] = append(days[dk], bound(e.Record.EventID))
		last[k] = i
	}
	limit := r.cfg.Count * 10
	for dk, v := range days {
		if _, err := b.Tally(ctx, "enum-day|"+dk.p, dk.w, v, limit); err != nil {
			return err
		}
	}
	for _, k := range order {
		n, err := b.Tally(ctx, "enum|"+k.p, k.w, ids[k], limit)
		if err != nil {
			return err
		}
		if n < r.cfg.Count {
			continue
		}
		day := k.w.Truncate(24 * time.Hour)
		usual := false
		for d := 1; d <= r.cfg.Days && !usual; d++ {
			m, err := b.Tally(ctx, "enum-day|"+k.p, day.Add(-time.Duration(d)*24*time.Hour), nil, limit)
			if err != nil {
				return err
			}
			usual = m >= r.cfg.Count
		}
		if usual {
			continue
		}
		e := b.Events[last[k]]
		a := eventAlert(b, RuleEnumeration, SeverityMedium, e, "")
		a.Secret, a.SecretName, a.SecretARN = "", "", ""
		a.Count, a.additive, a.Window = int64(n), false, k.w
		a.Reason = fmt.Sprintf("%s made %d list/describe calls on Secrets Manager in the %s from %s (threshold %d), and made fewer than %d on each of the %d days before.",
			describePrincipal(e.Principal), n, humanWindow(r.cfg.Window), k.w.Format("2006-01-02 15:04 MST"), r.cfg.Count, r.cfg.Count, r.cfg.Days)
		a.NextStep = "Check who is mapping the secrets (a new tool, an audit, or someone looking for what to read next). Watch this principal's reads " +
			"closely; if it is not expected to explore, revoke its session."
		b.Emit(last[k], a)
	}
	return nil
}
