// Package detector is secretwatch's core: it turns CloudTrail records into verdicts. It
// normalises principals and secrets, checks reads against the allow-list, keeps baselines
// through a Store, and raises alerts. It knows no AWS SDK, no Lambda and no DynamoDB: adapters
// implement the small interfaces it declares (Store, Suppressor, Notifier, MetricsRecorder).
package detector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// Log attribute keys.
const (
	LogEventID   = "event_id"
	LogEventName = "event_name"
	LogSecret    = "secret"
	LogPrincipal = "principal"
	LogReason    = "reason"
	LogSource    = "source"
)

// Config holds the detector's knobs. Zero values take the documented defaults.
type Config struct {
	AllowList       *AllowList    // required
	Retention       time.Duration // baseline history kept (default 35 days)
	SuppressWindow  time.Duration // identical alerts inside one window become one (default 1 h)
	FirstSeenWarmup time.Duration // no first-seen alerts until a secret has this much history (default 7 days)
	Spike           SpikeConfig
	Monitor         MonitorConfig // secretwatch's own resources (monitor-tampering)
	Batch           BatchConfig
	Bulk            BulkConfig
	Denied          DeniedConfig
	Enum            EnumConfig
	// RotationGrace is how many hours, counting the rotation's own, read-spike forgives an
	// established reader's refresh burst after a rotation (default 2, at most 2).
	RotationGrace int
	Logger        *slog.Logger
	// Now is the wall clock (default time.Now); records dated later than Now()+ClockSkew are
	// refused as future-dated (default skew 15 min).
	Now       func() time.Time
	ClockSkew time.Duration
}

// Detector evaluates batches of records. It is safe for use by one goroutine at a time.
type Detector struct {
	cfg   Config
	store Store
	log   *slog.Logger
	norm  *Normaliser
	rules []Rule
	tally localTally
}

// New returns a detector that keeps its baselines in store.
func New(cfg Config, store Store) (*Detector, error) {
	if cfg.AllowList == nil {
		return nil, errors.New("detector: no allow-list: refusing to run without one")
	}
	if store == nil {
		return nil, errors.New("detector: no store")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 35 * 24 * time.Hour
	}
	if cfg.SuppressWindow <= 0 {
		cfg.SuppressWindow = time.Hour
	}
	if cfg.FirstSeenWarmup <= 0 {
		cfg.FirstSeenWarmup = 7 * 24 * time.Hour
	}
	cfg.Spike.defaults()
	cfg.Monitor.defaults()
	cfg.Batch.defaults()
	cfg.Bulk.defaults()
	cfg.Denied.defaults()
	cfg.Enum.defaults()
	if cfg.RotationGrace <= 0 || cfg.RotationGrace > 2 {
		cfg.RotationGrace = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = 15 * time.Minute
	}
	d := &Detector{cfg: cfg, store: store, log: cfg.Logger, norm: NewNormaliser(cfg.Now, cfg.ClockSkew)}
	d.tally.keep = 8 * 24 * time.Hour
	for _, f := range registry {
		d.rules = append(d.rules, f.new(&d.cfg))
	}
	return d, nil
}

// Result is what one batch produced.
type Result struct {
	Alerts []*Alert // merged by (rule, secret, principal, window); Count counts fresh events only
	Stats  Stats
}

// Process evaluates a batch of records: normalise each once, record the reads in the store, run
// every rule over the batch, merge their alerts. Records it cannot use are counted in
// Result.Stats.Skipped and logged without their content; they never fail the batch. An error is
// returned only when the store fails — the whole batch must then be retried, and the store's
// contract guarantees the retry counts every read exactly once.
func (d *Detector) Process(ctx context.Context, recs []*cloudtrail.Record) (Result, error) {
	var res Result
	b := &Batch{d: d, Events: make([]*Event, 0, len(recs))}
	var reads []Read
	var recorded []*Event
	for _, rec := range recs {
		res.Stats.Records++
		if rec != nil && rec.EventSource == "secretsmanager.amazonaws.com" {
			res.Stats.SecretsManager++
		}
		ev, reason := d.norm.Normalise(rec)
		switch reason {
		case "":
		case SkipMalformed, SkipNotHandled:
			res.Stats.Skip(reason)
			continue
		default:
			res.Stats.Handled++
			res.Stats.Skip(reason)
			d.log.WarnContext(ctx, "skipping record", LogReason, reason, LogEventID, bound(rec.EventID), LogEventName, bound(rec.EventName))
			continue
		}
		res.Stats.Handled++
		if !ev.Principal.Known {
			res.Stats.UnknownIdentity++
			d.log.WarnContext(ctx, "unknown identity type; processed with a best-effort principal",
				"identity_type", bound(ev.Principal.Type), LogPrincipal, bound(ev.Principal.ARN), LogEventID, bound(rec.EventID))
		}
		e := &ev
		b.Events = append(b.Events, e)
		if e.Recorded {
			reads = append(reads, e.Read)
			recorded = append(recorded, e)
		} else if e.Name == "GetSecretValue" && e.Denied {
			res.Stats.Denied++ // an attempt on a secret the record does not name: nothing to record
		}
	}
	if len(b.Events) == 0 {
		return res, nil
	}
	b.Series = map[SeriesKey]*Series{}
	if len(reads) > 0 {
		rec, err := d.store.Record(ctx, reads)
		if err != nil {
			return res, fmt.Errorf("detector: record %d reads: %w", len(reads), err)
		}
		if len(rec.Fresh) != len(reads) {
			return res, fmt.Errorf("detector: store answered %d freshness flags for %d reads", len(rec.Fresh), len(reads))
		}
		if rec.Series != nil {
			b.Series = rec.Series
		}
		for i, e := range recorded {
			e.Fresh = rec.Fresh[i]
		}
	}
	b.allowed = map[allowKey]allowVerdict{}
	b.spikes = map[spikeKey]spikeVerdict{}
	b.alerts = map[string]*emitted{}
	for _, e := range recorded {
		switch {
		case !e.Fresh:
			res.Stats.Duplicates++
		case e.Denied:
			res.Stats.Denied++
		default:
			res.Stats.Reads++
			if res.Stats.SecretReads == nil {
				res.Stats.SecretReads = map[string]int64{}
			}
			res.Stats.SecretReads[e.Secret.Name]++
			if ok, _ := b.Allowed(e); !ok {
				res.Stats.Unexpected++
			}
		}
	}
	for i, r := range d.rules {
		b.rule = i
		if err := r.Evaluate(ctx, b); err != nil {
			return res, fmt.Errorf("detector: rule %s: %w", r.ID(), err)
		}
	}
	for _, a := range b.result() {
		if d.suppressed(a) {
			res.Stats.Suppressed++
			continue
		}
		res.Alerts = append(res.Alerts, a)
	}
	return res, nil
}

// suppressed reports whether a suppression of the allow-list silences a.
func (d *Detector) suppressed(a *Alert) bool {
	for _, s := range d.cfg.AllowList.Suppressions {
		if s.Matches(a) {
			return true
		}
	}
	return false
}

// windowCount is the number of reads s has in the suppression window starting at w: the hours
// the window covers (a window shorter than an hour counts its whole hour). At least 1 — the read
// being judged — even if a store returned no hour for it.
func (d *Detector) windowCount(s *Series, w time.Time) int64 {
	if s == nil {
		return 1
	}
	var n int64
	first := Hour(w)
	last := Hour(w.Add(d.cfg.SuppressWindow - time.Nanosecond))
	for h := first; h <= last; h++ {
		n += s.Hours[h]
	}
	return max(n, 1)
}

// newAlert starts an alert about event e with the event's context.
func newAlert(b *Batch, rule, severity string, e *Event, n int64) *Alert {
	a := &Alert{
		Rule:          rule,
		Severity:      severity,
		Principal:     e.Principal.ARN,
		PrincipalType: bound(e.Principal.Type),
		Session:       bound(e.Principal.Session),
		Window:        b.Window(e.Time),
		FirstSeen:     e.Time,
		LastSeen:      e.Time,
		Count:         n,
		EventIDs:      []string{bound(e.Record.EventID)},
	}
	if e.HasSecret {
		a.Secret, a.SecretName, a.SecretARN = e.Secret.Key(), e.Secret.Name, bound(e.Secret.ARN)
		a.Account, a.Region = e.Secret.Account, e.Secret.Region
	} else {
		a.Account, a.Region = bound(e.Record.RecipientAccountID), bound(e.Record.AWSRegion)
	}
	a.Workload = Workload(e)
	a.SourceIPs = appendBounded(nil, MaxAlertValues, bound(e.Record.SourceIPAddress))
	a.UserAgents = appendBounded(nil, MaxAlertValues, bound(e.Record.UserAgent))
	a.VPCEndpointIDs = appendBounded(nil, MaxAlertValues, bound(e.Record.VPCEndpointID))
	return a
}

// eventAlert starts an alert about one non-read event: its count is the number of distinct events
// merged into it, and resource (what the call acted on) is part of its key.
func eventAlert(b *Batch, rule, severity string, e *Event, resource string) *Alert {
	a := newAlert(b, rule, severity, e, 1)
	a.Resource = bound(resource)
	a.additive = true
	return a
}

// secretLabel names the secret of an event for a reason ("secret NAME", or "an unnamed secret").
func secretLabel(e *Event) string {
	if e.HasSecret {
		return "secret " + bound(e.Secret.Name)
	}
	return "an unnamed secret"
}

// topReaders names the principals with the most reads of secret in hour h, among the series the
// batch touched, with their counts.
func topReaders(series map[SeriesKey]*Series, secret string, h int64, n int) string {
	type reader struct {
		p string
		c int64
	}
	var rs []reader
	for k, s := range series {
		if k.Secret == secret && k.Principal != "" && s.Hours[h] > 0 {
			rs = append(rs, reader{k.Principal, s.Hours[h]})
		}
	}
	slices.SortFunc(rs, func(a, b reader) int { return cmp.Or(cmp.Compare(b.c, a.c), cmp.Compare(a.p, b.p)) })
	parts := make([]string, 0, n)
	for i, r := range rs {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(rs)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", r.p, r.c))
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}

// describePrincipal names a principal for a reason: every part bounded and free of control
// characters.
func describePrincipal(p Principal) string {
	s := bound(p.ARN)
	if p.Type != "" {
		s += " (" + bound(p.Type)
		if p.Session != "" {
			s += ", session " + bound(p.Session)
		}
		s += ")"
	}
	return s
}

func ownerOf(e *AllowEntry) string {
	if e == nil || e.Owner == "" {
		return ""
	}
	return " (" + e.Owner + ")"
}

func allowPatterns(al *AllowList, e *AllowEntry) []string {
	if e != nil {
		return e.Allow
	}
	return al.Defaults
}

func matchingPattern(al *AllowList, e *AllowEntry, principal string) string {
	for _, p := range allowPatterns(al, e) {
		if al.matches(p, principal) {
			return fmt.Sprintf("%q", p)
		}
	}
	return "a pattern"
}

func listOrNobody(s []string) string {
	if len(s) == 0 {
		return "nobody"
	}
	const max = 5
	if len(s) > max {
		return strings.Join(s[:max], ", ") + fmt.Sprintf(" and %d more", len(s)-max)
	}
	return strings.Join(s, ", ")
}

func humanDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d-day", d/(24*time.Hour))
	}
	return d.String()
}

// SortAlerts orders alerts by first occurrence, then rule, secret and principal.
func SortAlerts(as []*Alert) {
	slices.SortStableFunc(as, func(a, b *Alert) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Secret, b.Secret), cmp.Compare(a.Principal, b.Principal))
	})
}
