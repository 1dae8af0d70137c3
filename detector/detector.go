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
	Logger          *slog.Logger
}

// Detector evaluates batches of records. It is safe for use by one goroutine at a time.
type Detector struct {
	cfg   Config
	store Store
	log   *slog.Logger
	arns  map[string]string // secret key → full ARN, learnt from records that carried it
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Detector{cfg: cfg, store: store, log: cfg.Logger, arns: map[string]string{}}, nil
}

// Config returns the effective configuration (defaults applied).
func (d *Detector) Config() Config { return d.cfg }

// Result is what one batch produced.
type Result struct {
	Alerts []*Alert // merged by (rule, secret, principal, window); Count counts fresh events only
	Stats  Stats
}

// read is a normalised read with what the rules need to explain themselves.
type read struct {
	Read
	ref       SecretRef
	principal Principal
	rec       *cloudtrail.Record
}

// Process evaluates a batch of records in order. Records it cannot use are counted in
// Result.Stats.Skipped and logged without their content; they never fail the batch. An error is
// returned only when the store fails — the whole batch must then be retried, and the store's
// contract guarantees the retry counts every read exactly once.
func (d *Detector) Process(ctx context.Context, recs []*cloudtrail.Record) (Result, error) {
	var res Result
	reads := make([]read, 0, len(recs))
	for _, rec := range recs {
		res.Stats.Records++
		if rec == nil {
			res.Stats.Skip(SkipMalformed)
			continue
		}
		if rec.EventSource == "secretsmanager.amazonaws.com" {
			res.Stats.SecretsManager++
		}
		kind, ok := Kind(rec.EventSource, rec.EventName)
		if !ok {
			res.Stats.Skip(SkipNotHandled)
			continue
		}
		res.Stats.Handled++
		if kind != KindRead || rec.EventName != "GetSecretValue" {
			// BatchGetSecretValue is logged again as one GetSecretValue per secret returned, so
			// counting it too would count every read twice. Changes and tampering have rules
			// of their own (not in this package yet); they are handled, not skipped.
			continue
		}
		r, reason := d.normalise(ctx, rec)
		if reason != "" {
			res.Stats.Skip(reason)
			d.log.WarnContext(ctx, "skipping record", LogReason, reason, LogEventID, rec.EventID, LogEventName, rec.EventName)
			continue
		}
		if !r.principal.Known {
			res.Stats.UnknownIdentity++
			d.log.WarnContext(ctx, "unknown identity type; processed with a best-effort principal",
				"identity_type", r.principal.Type, LogPrincipal, r.principal.ARN, LogEventID, rec.EventID)
		}
		reads = append(reads, r)
	}
	if len(reads) == 0 {
		return res, nil
	}
	in := make([]Read, len(reads))
	for i := range reads {
		in[i] = reads[i].Read
	}
	rec, err := d.store.Record(ctx, in)
	if err != nil {
		return res, fmt.Errorf("detector: record %d reads: %w", len(in), err)
	}
	if len(rec.Fresh) != len(in) {
		return res, fmt.Errorf("detector: store answered %d freshness flags for %d reads", len(rec.Fresh), len(in))
	}
	merged := map[string]*Alert{}
	var order []string
	// The series are the state after the whole batch, so every read of one series in one hour
	// gets the same spike verdict: compute it once.
	type spikeKey struct {
		SeriesKey
		hour int64
	}
	verdicts := map[spikeKey]spikeVerdict{}
	// The allow-list's answer depends only on the secret and the principal: once per pair.
	type verdict struct {
		ok    bool
		entry *AllowEntry
	}
	type pairARN struct {
		SeriesKey
		arn string // a glob may match the full ARN, known for some reads only
	}
	allowedPairs := map[pairARN]verdict{}
	allowedOf := func(r *read) (bool, *AllowEntry) {
		k := pairARN{SeriesKey{Secret: r.Secret, Principal: r.Principal}, r.ref.ARN}
		v, ok := allowedPairs[k]
		if !ok {
			v.ok, v.entry = d.cfg.AllowList.Allowed(r.ref, r.Principal)
			allowedPairs[k] = v
		}
		return v.ok, v.entry
	}
	spikeOf := func(k SeriesKey, s *Series, h int64) spikeVerdict {
		sk := spikeKey{k, h}
		v, ok := verdicts[sk]
		if !ok {
			v = checkSpike(d.cfg.Spike, s, h, d.cfg.Retention)
			verdicts[sk] = v
		}
		return v
	}
	emit := func(a *Alert) {
		k := a.Key() + "|" + a.Window.Format(time.RFC3339)
		if m, ok := merged[k]; ok {
			m.Merge(a)
			return
		}
		merged[k] = a
		order = append(order, k)
	}
	for i := range reads {
		r := &reads[i]
		fresh := rec.Fresh[i]
		switch {
		case !fresh:
			res.Stats.Duplicates++
		case r.Denied:
			res.Stats.Denied++
		default:
			res.Stats.Reads++
			if res.Stats.SecretReads == nil {
				res.Stats.SecretReads = map[string]int64{}
			}
			res.Stats.SecretReads[r.ref.Name]++
		}
		if r.Denied {
			continue
		}
		pairKey, wholeKey := SeriesKey{Secret: r.Secret, Principal: r.Principal}, SeriesKey{Secret: r.Secret}
		pair, whole := rec.Series[pairKey], rec.Series[wholeKey]
		window := r.Time.Truncate(d.cfg.SuppressWindow).UTC()
		// An alert counts the reads its series has in the window, as the store counted them:
		// exact however often the events were delivered or the batch retried.
		pairCount, wholeCount := d.windowCount(pair, window), d.windowCount(whole, window)
		allowed, entry := allowedOf(r)
		if !allowed {
			if fresh {
				res.Stats.Unexpected++
			}
			emit(d.unexpected(r, entry, pairCount))
		} else if pair != nil && whole != nil && pair.FirstEventID == r.EventID && d.warm(whole, r.Time) {
			emit(d.firstSeen(r, entry, whole, pairCount))
		}
		if pair != nil {
			if v := spikeOf(pairKey, pair, Hour(r.Time)); v.Spike {
				emit(d.spike(r, v, false, pairCount))
			}
		}
		if whole != nil {
			if v := spikeOf(wholeKey, whole, Hour(r.Time)); v.Spike {
				a := d.spike(r, v, true, wholeCount)
				a.Reason += "; top readers this hour: " + topReaders(rec.Series, r.Secret, Hour(r.Time), 3)
				emit(a)
			}
		}
	}
	for _, k := range order {
		res.Alerts = append(res.Alerts, merged[k])
	}
	return res, nil
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

// warm reports whether the secret has enough history for a new principal to be news.
func (d *Detector) warm(whole *Series, at time.Time) bool {
	return !whole.FirstSeen.IsZero() && at.Sub(whole.FirstSeen) >= d.cfg.FirstSeenWarmup
}

// normalise turns a GetSecretValue record into a read, or says why it cannot.
func (d *Detector) normalise(ctx context.Context, rec *cloudtrail.Record) (read, string) {
	if rec.EventID == "" {
		return read{}, SkipNoEventID
	}
	if rec.EventTime.IsZero() {
		return read{}, SkipNoEventTime
	}
	p, err := NormalisePrincipal(rec.UserIdentity)
	if err != nil {
		return read{}, SkipNoIdentity
	}
	ids, _, err := secretIDs(rec.RequestParameters)
	if err != nil || len(ids) == 0 {
		return read{}, SkipNoSecret
	}
	ref, err := ParseSecretID(ids[0], rec.RecipientAccountID, rec.AWSRegion)
	if err != nil || ref.Account == "" && ref.Region == "" {
		return read{}, SkipNoSecret
	}
	if ref.ARN != "" {
		if len(d.arns) < 100_000 {
			d.arns[ref.Key()] = ref.ARN
		}
	} else {
		ref.ARN = d.arns[ref.Key()]
	}
	return read{
		Read: Read{
			EventID:   rec.EventID,
			Secret:    ref.Key(),
			Principal: p.ARN,
			Time:      rec.EventTime.Time,
			Denied:    rec.ErrorCode != "",

			SourceIP:      boundValue(rec.SourceIPAddress),
			UserAgent:     boundValue(rec.UserAgent),
			VPCEndpointID: boundValue(rec.VPCEndpointID),
			PrincipalType: boundValue(p.Type),
			SecretARN:     boundValue(ref.ARN),
		},
		ref:       ref,
		principal: p,
		rec:       rec,
	}, ""
}

func (d *Detector) base(rule, severity string, r *read, n int64) *Alert {
	a := &Alert{
		Rule:          rule,
		Severity:      severity,
		Secret:        r.Secret,
		SecretName:    r.ref.Name,
		SecretARN:     r.ref.ARN,
		Principal:     r.Principal,
		PrincipalType: r.principal.Type,
		Session:       r.principal.Session,
		Account:       r.ref.Account,
		Region:        r.ref.Region,
		Window:        r.Time.Truncate(d.cfg.SuppressWindow).UTC(),
		FirstSeen:     r.Time,
		LastSeen:      r.Time,
		Count:         n,
		EventIDs:      []string{r.EventID},
	}
	a.SourceIPs = appendBounded(nil, MaxAlertValues, r.rec.SourceIPAddress)
	a.UserAgents = appendBounded(nil, MaxAlertValues, r.rec.UserAgent)
	a.VPCEndpointIDs = appendBounded(nil, MaxAlertValues, r.rec.VPCEndpointID)
	return a
}

func (d *Detector) unexpected(r *read, entry *AllowEntry, n int64) *Alert {
	sev := SeverityHigh
	who := describePrincipal(r.principal)
	if r.principal.Type == TypeRoot || r.principal.Account != "" && r.principal.Account != r.ref.Account {
		sev = SeverityCritical
	}
	a := d.base(RuleUnexpectedPrincipal, sev, r, n)
	rule := "the defaults (no entry names this secret)"
	if entry != nil {
		rule = fmt.Sprintf("entry %q (%s:%d)", entry.Secret, d.cfg.AllowList.Source, entry.Line)
	}
	a.Reason = fmt.Sprintf("%s read %s, and the allow-list does not allow it: %s allows %s.",
		who, r.ref.Name, rule, listOrNobody(allowPatterns(d.cfg.AllowList, entry)))
	a.NextStep = fmt.Sprintf("Confirm with the owner%s whether %s should read this secret. If not: "+
		"revoke its access (identity policy and the secret's resource policy), rotate the secret, and "+
		"review its other CloudTrail activity around %s (event IDs below). If it should: add it to the allow-list.",
		ownerOf(entry), r.Principal, r.Time.Format(time.RFC3339))
	return a
}

func (d *Detector) firstSeen(r *read, entry *AllowEntry, whole *Series, n int64) *Alert {
	a := d.base(RuleFirstSeenPrincipal, SeverityMedium, r, n)
	a.Reason = fmt.Sprintf("%s read %s for the first time in the %s window (the secret has been read since %s). "+
		"The allow-list allows it through %s.", describePrincipal(r.principal), r.ref.Name,
		humanDuration(d.cfg.Retention), whole.FirstSeen.Format("2006-01-02"), matchingPattern(d.cfg.AllowList, entry, r.Principal))
	a.NextStep = "Check that this new reader is an expected deployment or person (change ticket, new service). " +
		"If not, treat it as unexpected: revoke, rotate, investigate. If it is, nothing to do; consider naming it explicitly in the allow-list."
	return a
}

func (d *Detector) spike(r *read, v spikeVerdict, whole bool, n int64) *Alert {
	a := d.base(RuleReadSpike, SeverityHigh, r, n)
	who := "by " + r.Principal
	if whole {
		a.Principal, a.PrincipalType, a.Session = "", "", ""
		who = "by all principals"
	}
	a.Reason = v.reason(who)
	a.NextStep = "Find who drives the extra reads (principals and source IPs below; CloudTrail for the hour). " +
		"A new deployment or a retry loop is benign but costly; a credential being harvested is not — if the caller is unknown, revoke and rotate."
	return a
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

func describePrincipal(p Principal) string {
	s := p.ARN
	if p.Type != "" {
		s += " (" + p.Type
		if p.Session != "" {
			s += ", session " + p.Session
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
		if globMatch(p, principal) {
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
