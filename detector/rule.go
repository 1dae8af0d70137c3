package detector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// Rule is one detection. A rule reads the batch context and emits alerts; it never writes to
// the store and never delivers. Adding a rule means adding a file with its type and a line in
// registry.
type Rule interface {
	// ID is the rule's stable name: alerts carry it, users route, filter and suppress by it.
	ID() string
	// Evaluate looks at the batch and emits alerts through b.Emit. An error (a store's) fails
	// the batch, which is then retried.
	Evaluate(ctx context.Context, b *Batch) error
}

// ruleFactory builds a rule from the detector's effective configuration.
type ruleFactory struct {
	id  string
	new func(cfg *Config) Rule
}

// registry lists the rules in evaluation order (the order only decides which of two alerts
// raised by the same event is listed first). Adding a rule: a file with its type and constructor,
// and one line here.
var registry = []ruleFactory{
	{RuleUnexpectedPrincipal, newUnexpectedPrincipal},
	{RuleFirstSeenPrincipal, newFirstSeen},
	{RuleReadSpike, newReadSpike},
	{RuleRootAccess, newRootAccess},
	{RulePolicyChange, newPolicyChange},
	{RuleSecretLifecycle, newSecretLifecycle},
	{RuleTrailTampering, newTrailTampering},
	{RuleMonitorTampering, newMonitorTampering},
	{RuleBatchRetrieval, newBatchRetrieval},
	{RuleBulkRetrieval, newBulkRetrieval},
	{RuleAccessDeniedBurst, newAccessDeniedBurst},
	{RuleEnumeration, newEnumeration},
	{RuleHumanAccess, newHumanAccess},
	{RuleUnexpectedNetworkPath, newUnexpectedNetworkPath},
}

// RuleIDs lists the registered rules in evaluation order.
func RuleIDs() []string {
	out := make([]string, len(registry))
	for i, r := range registry {
		out[i] = r.id
	}
	return out
}

// Batch is what the rules see of one Process call: the normalised events in record order, the
// store's series after recording them, and cached answers shared by the rules.
type Batch struct {
	Events []*Event
	Series map[SeriesKey]*Series

	d       *Detector
	allowed map[allowKey]allowVerdict
	spikes  map[spikeKey]spikeVerdict
	alerts  map[string]*emitted
	order   []string
	rule    int // index of the rule being evaluated
}

type allowKey struct {
	SeriesKey
	arn string // a glob may match the full ARN, known for some reads only
}

type allowVerdict struct {
	ok    bool
	entry *AllowEntry
}

type spikeKey struct {
	SeriesKey
	hour int64
}

type emitted struct {
	a         *Alert
	pos, rule int
}

// Config returns the detector's effective configuration.
func (b *Batch) Config() *Config { return &b.d.cfg }

// Allowed is the allow-list's answer for the event's secret and principal, asked once per pair.
func (b *Batch) Allowed(e *Event) (bool, *AllowEntry) {
	k := allowKey{SeriesKey{Secret: e.Secret.Key(), Principal: e.Principal.ARN}, e.Secret.ARN}
	v, ok := b.allowed[k]
	if !ok {
		v.ok, v.entry = b.d.cfg.AllowList.Allowed(e.Secret, e.Principal.ARN)
		b.allowed[k] = v
	}
	return v.ok, v.entry
}

// Spike is the read-spike verdict of series k for hour h, computed once per (series, hour): the
// series are the state after the whole batch, so every read of one hour gets the same answer.
func (b *Batch) Spike(k SeriesKey, h int64) spikeVerdict {
	sk := spikeKey{k, h}
	v, ok := b.spikes[sk]
	if !ok {
		if s := b.Series[k]; s != nil {
			v = checkSpike(b.d.cfg.Spike, s, h, b.d.cfg.Retention)
		}
		b.spikes[sk] = v
	}
	return v
}

// Window is the suppression window an event time falls in.
func (b *Batch) Window(t time.Time) time.Time { return t.Truncate(b.d.cfg.SuppressWindow).UTC() }

// WindowCount is the number of reads series k has in the window of t (at least 1).
func (b *Batch) WindowCount(k SeriesKey, t time.Time) int64 {
	return b.d.windowCount(b.Series[k], b.Window(t))
}

// Emit raises an alert for the event at position pos of b.Events. Alerts with the same key and
// window merge into one (the single merge of a batch).
func (b *Batch) Emit(pos int, a *Alert) {
	if e := b.Events[pos]; e.Secret.Ambiguous && a.Secret == e.Secret.Key() {
		a.Reason += fmt.Sprintf(" Note: the secret id %s names either this secret (full ARN) or a secret whose name ends in %s (partial ARN); both names have been seen, so it was taken as a full ARN.",
			e.Secret.ARN, e.Secret.ARN[len(e.Secret.ARN)-7:])
	}
	k := a.Key() + "|" + a.Window.Format(time.RFC3339)
	if m, ok := b.alerts[k]; ok {
		m.a.Merge(a)
		return
	}
	b.alerts[k] = &emitted{a: a, pos: pos, rule: b.rule}
	b.order = append(b.order, k)
}

// result lists the merged alerts in the order of the events that first raised them.
func (b *Batch) result() []*Alert {
	slices.SortStableFunc(b.order, func(x, y string) int {
		ex, ey := b.alerts[x], b.alerts[y]
		if ex.pos != ey.pos {
			return ex.pos - ey.pos
		}
		return ex.rule - ey.rule
	})
	out := make([]*Alert, 0, len(b.order))
	for _, k := range b.order {
		out = append(out, b.alerts[k].a)
	}
	return out
}

// maxTallyKey bounds a tally key; longer keys (built from attacker-controlled fields) are
// replaced by a digest.
const maxTallyKey = 200

// Tally adds members to the distinct set (key, window) — in the store when it is a Tallier, in
// the detector's memory otherwise — and returns its size (≤ limit).
func (b *Batch) Tally(ctx context.Context, key string, window time.Time, members []string, limit int) (int, error) {
	if len(key) > maxTallyKey {
		sum := sha256.Sum256([]byte(key))
		key = key[:maxTallyKey-34] + "#" + hex.EncodeToString(sum[:16])
	}
	for i, m := range members {
		if len(m) > maxTallyKey {
			sum := sha256.Sum256([]byte(m))
			members[i] = hex.EncodeToString(sum[:16])
		}
	}
	if t, ok := b.d.store.(Tallier); ok {
		n, err := t.Tally(ctx, key, window, members, limit)
		if err != nil {
			return 0, fmt.Errorf("detector: tally %s: %w", key, err)
		}
		return n, nil
	}
	return b.d.tally.add(key, window, members, limit), nil
}

// localTally is the in-process Tallier of a detector whose store has none. Its memory is bounded:
// windows older than keep behind the newest one are dropped, at most maxLocalTallies sets and
// maxLocalMembers members in all are kept (past that, sets stop growing: counts are then lower
// bounds, never inflated).
type localTally struct {
	sets    map[tallyKey]map[string]struct{}
	members int
	newest  time.Time
	keep    time.Duration
}

const maxLocalMembers = 2_000_000

type tallyKey struct {
	key    string
	window int64
}

const maxLocalTallies = 200_000

func (t *localTally) add(key string, window time.Time, members []string, limit int) int {
	if t.sets == nil {
		t.sets = map[tallyKey]map[string]struct{}{}
	}
	if window.After(t.newest) {
		t.newest = window
		if len(t.sets) > maxLocalTallies/2 || t.members > maxLocalMembers/2 {
			for k, set := range t.sets {
				if time.Unix(k.window, 0).Before(t.newest.Add(-t.keep)) {
					t.members -= len(set)
					delete(t.sets, k)
				}
			}
		}
	}
	k := tallyKey{key, window.Unix()}
	set := t.sets[k]
	if set == nil {
		if len(members) == 0 || len(t.sets) >= maxLocalTallies {
			return len(set)
		}
		set = map[string]struct{}{}
		t.sets[k] = set
	}
	for _, m := range members {
		if len(set) >= limit || t.members >= maxLocalMembers {
			break
		}
		if _, ok := set[m]; !ok {
			set[m] = struct{}{}
			t.members++
		}
	}
	return len(set)
}
