package detector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RuleBatchRetrieval: BatchGetSecretValue used to harvest: by a catch-all filter, by filters at
// all, or by one principal across many regions.
const RuleBatchRetrieval = "batch-retrieval"

// BatchConfig tunes batch-retrieval.
type BatchConfig struct {
	Regions int           // distinct regions by one principal within Window that alert (default 3)
	Window  time.Duration // default 1 h
}

func (c *BatchConfig) defaults() {
	if c.Regions <= 0 {
		c.Regions = 3
	}
	if c.Window <= 0 {
		c.Window = time.Hour
	}
}

func newBatchRetrieval(cfg *Config) Rule { return batchRetrieval{cfg: cfg.Batch} }

// batchRetrieval (successful BatchGetSecretValue only):
//   - high: filters that are all negations ("!tagKeyThatWillNeverExist"), which select every
//     secret the caller may read — a catch-all harvest;
//   - high: the same principal calling BatchGetSecretValue in ≥ Regions regions within Window
//     (state across invocations: a Tallier of regions per principal and window);
//   - medium: selection by filters (tag, name, description): discovery-style retrieval, not the
//     fixed id list an application uses.
//
// A batch by secretIdList raises nothing here: AWS also logs one GetSecretValue per secret the
// batch returned, and those are judged per secret by the other rules.
type batchRetrieval struct{ cfg BatchConfig }

func (batchRetrieval) ID() string { return RuleBatchRetrieval }

func (r batchRetrieval) Evaluate(ctx context.Context, b *Batch) error {
	for i, e := range b.Events {
		if e.Name != "BatchGetSecretValue" || e.Denied {
			continue
		}
		region := bound(e.Record.AWSRegion)
		w := e.Time.Truncate(r.cfg.Window).UTC()
		n, err := b.Tally(ctx, "batch-regions|"+e.Principal.ARN, w, []string{region}, r.cfg.Regions*4)
		if err != nil {
			return err
		}
		var sev, what string
		switch {
		case len(e.Filters) > 0 && catchAll(e.Filters):
			sev, what = SeverityHigh, "with filters that only negate ("+bound(strings.Join(e.Filters, "; "))+"): that selects every secret it may read"
		case n >= r.cfg.Regions:
			sev, what = SeverityHigh, fmt.Sprintf("in %d regions within %s", n, humanDuration(r.cfg.Window))
		case len(e.Filters) > 0:
			sev, what = SeverityMedium, "selecting secrets by filter ("+bound(strings.Join(e.Filters, "; "))+") rather than by a fixed list of ids"
		}
		if sev == "" {
			continue
		}
		a := eventAlert(b, RuleBatchRetrieval, sev, e, "BatchGetSecretValue")
		a.Reason = fmt.Sprintf("%s called BatchGetSecretValue %s. One call returns up to 20 secret values.", describePrincipal(e.Principal), what)
		if got := batchMembers(b, e); len(got) > 0 {
			a.Reason += fmt.Sprintf(" AWS logged a GetSecretValue for %d secret(s) it returned: %s.", len(got), listOrNobody(got))
		}
		a.NextStep = "List the secrets the batch returned (the GetSecretValue records AWS logs with it, same principal and second). " +
			"If this caller should not harvest secrets: revoke its session, rotate what it read, and scope its secretsmanager:BatchGetSecretValue permission."
		b.Emit(i, a)
	}
	return nil
}

// catchAll: every filter value is a negation ("!x"), so the filters exclude at most a few names
// and select everything else.
func catchAll(filters []string) bool {
	for _, f := range filters {
		_, values, _ := strings.Cut(f, "=")
		for _, v := range strings.Split(values, ",") {
			if !strings.HasPrefix(v, "!") {
				return false
			}
		}
	}
	return true
}

// batchWindow is how far from a BatchGetSecretValue the per-secret GetSecretValue entries AWS
// logs for it may be.
const batchWindow = 5 * time.Second

// batchMembers attributes to a batch the GetSecretValue entries AWS logs for it, when the batch
// holds them: successful reads by the same principal with the same access key within batchWindow.
// It returns the secrets' names (bounded). CloudTrail documents no field linking the entries, so
// this is a correlation by session and time, not a proof.
func batchMembers(b *Batch, batch *Event) []string {
	key := ""
	if ui := batch.Record.UserIdentity; ui != nil {
		key = ui.AccessKeyID
	}
	var names []string
	for _, e := range b.Events {
		if !e.Recorded || e.Denied || e.Principal.ARN != batch.Principal.ARN || e.Time.Sub(batch.Time).Abs() > batchWindow {
			continue
		}
		if ui := e.Record.UserIdentity; ui == nil || ui.AccessKeyID != key {
			continue
		}
		if n := bound(e.Secret.Name); !slices.Contains(names, n) && len(names) < 20 {
			names = append(names, n)
		}
	}
	return names
}
