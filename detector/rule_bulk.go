package detector

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// RuleBulkRetrieval: one principal reads many distinct secrets in a short window, more than it
// does at that time of day.
const RuleBulkRetrieval = "bulk-retrieval"

// BulkConfig tunes bulk-retrieval.
type BulkConfig struct {
	Distinct int           // distinct secrets in one window that alert (default 20)
	Window   time.Duration // default 10 min
	Days     int           // prior days compared at the same time of day (default 7)
	// Tolerance: the window is normal when Distinct ≤ Tolerance × the median of the prior days'
	// counts in the same window and its two neighbours (default 1.5).
	Tolerance float64
}

func (c *BulkConfig) defaults() {
	if c.Distinct <= 0 {
		c.Distinct = 20
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	if c.Days <= 0 {
		c.Days = 7
	}
	if c.Tolerance <= 0 {
		c.Tolerance = 1.5
	}
}

func newBulkRetrieval(cfg *Config) Rule { return bulkRetrieval{cfg: cfg.Bulk} }

// bulkRetrieval counts the distinct secrets (versions and stages of one secret count once: the
// key is the secret) each principal reads successfully per Window, in a Tallier that survives
// invocations. At Distinct or more it compares with the same window (±1) on the prior Days days:
// a nightly sync job that reads 40 secrets at 02:00 every night is normal at 02:00 and not at
// noon. Severity high: harvesting many secrets at once is what a stolen session does first.
type bulkRetrieval struct{ cfg BulkConfig }

func (bulkRetrieval) ID() string { return RuleBulkRetrieval }

func (r bulkRetrieval) Evaluate(ctx context.Context, b *Batch) error {
	type pw struct {
		p string
		w time.Time
	}
	// Add every read of the batch first, so that one alert per window carries the final count.
	sets := map[pw][]string{}
	var order []pw
	last := map[pw]int{}
	for i, e := range b.Events {
		if !e.Recorded || e.Denied {
			continue
		}
		k := pw{e.Principal.ARN, e.Time.Truncate(r.cfg.Window).UTC()}
		if _, ok := sets[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(sets[k], e.Read.Secret) {
			sets[k] = append(sets[k], e.Read.Secret)
		}
		last[k] = i
	}
	limit := r.cfg.Distinct * 10
	for _, k := range order {
		n, err := b.Tally(ctx, "bulk|"+k.p, k.w, sets[k], limit)
		if err != nil {
			return err
		}
		if n < r.cfg.Distinct {
			continue
		}
		usual, err := r.usual(ctx, b, k.p, k.w, limit)
		if err != nil {
			return err
		}
		if float64(n) <= r.cfg.Tolerance*usual {
			continue
		}
		e := b.Events[last[k]]
		a := eventAlert(b, RuleBulkRetrieval, SeverityHigh, e, "")
		a.Secret, a.SecretName, a.SecretARN = "", "", ""
		a.Count = int64(n)
		a.additive = false
		a.Window = k.w
		a.Reason = fmt.Sprintf("%s read %d distinct secrets in the %s from %s (threshold %d); at this time of day it usually reads %.0f (median of %d prior days).",
			describePrincipal(e.Principal), n, humanWindow(r.cfg.Window), k.w.Format("2006-01-02 15:04 MST"), r.cfg.Distinct, usual, r.cfg.Days)
		a.NextStep = "Check what drives the reads (deployment, sync job, a person's script). If the caller is not expected to read this many secrets: " +
			"revoke its session, rotate the secrets it read (CloudTrail, same principal and window), and review how its credentials were obtained."
		b.Emit(last[k], a)
	}
	return nil
}

// usual is the median, over the prior days, of the largest count among the same window and its
// two neighbours.
func (r bulkRetrieval) usual(ctx context.Context, b *Batch, principal string, w time.Time, limit int) (float64, error) {
	samples := make([]float64, 0, r.cfg.Days)
	for d := 1; d <= r.cfg.Days; d++ {
		var best int
		for _, off := range []time.Duration{-r.cfg.Window, 0, r.cfg.Window} {
			n, err := b.Tally(ctx, "bulk|"+principal, w.Add(-time.Duration(d)*24*time.Hour+off), nil, limit)
			if err != nil {
				return 0, err
			}
			best = max(best, n)
		}
		samples = append(samples, float64(best))
	}
	return median(samples), nil
}

func humanWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}
