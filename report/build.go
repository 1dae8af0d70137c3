package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// MaxPeriod bounds a report's period (and so its daily series).
const MaxPeriod = 400 * 24 * time.Hour

// Where Report.To came from.
const (
	EndFlag   = "flag"
	EndLatest = "latest event"
	EndNow    = "now"
)

// Period resolves a report's period. A zero to defaults to the UTC midnight after the latest
// event in the store (so a report over old logs covers them), or after now when the store is
// empty; a zero from defaults to to − since. The stores count whole UTC days, so both ends are
// then rounded up to a UTC midnight: the period holds the days that start inside [from, to).
func Period(ctx context.Context, src Source, since time.Duration, from, to, now time.Time) (f, t time.Time, end string, err error) {
	end = EndFlag
	if to.IsZero() {
		latest, err := src.Latest(ctx)
		if err != nil {
			return f, t, "", fmt.Errorf("report: latest event: %w", err)
		}
		end = EndLatest
		if latest.IsZero() {
			latest, end = now, EndNow
		}
		to = Day(latest).Add(24 * time.Hour)
	}
	if from.IsZero() {
		if since <= 0 {
			return f, t, "", errors.New("report: the period length must be positive")
		}
		from = to.Add(-since)
	}
	from, to = CeilDay(from), CeilDay(to)
	switch {
	case !from.Before(to):
		return f, t, "", fmt.Errorf("report: empty period: from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	case to.Sub(from) > MaxPeriod:
		return f, t, "", fmt.Errorf("report: period of %s is longer than %d days", to.Sub(from), MaxPeriod/(24*time.Hour))
	}
	return from, to, end, nil
}

// Options selects what Build reports.
type Options struct {
	From, To  time.Time           // the period [From, To), see Period
	PeriodEnd string              // where To came from (EndFlag, EndLatest, EndNow)
	AllowList *detector.AllowList // optional: allowed-but-unused patterns, unread secrets, Allowed
	Secret    string              // optional glob over the secret's name, key, partial or full ARN
	Generated time.Time           // the report's clock
}

type pairKey struct{ secret, principal string }

// secretAgg and pairAgg accumulate rows.
type secretAgg struct {
	arn                   string
	reads, denied         int64
	prevReads, prevDenied int64
	daily                 map[int64]*DayCount // current period, by day number
	history               map[int64]int64     // reads per day before the period
	firstDay              int64
	current, previous     bool
}

type pairAgg struct {
	row                   DayRow // current-period totals (Day unused)
	prevReads, prevDenied int64
	current, seenBefore   bool
}

// HistoryDays bounds the history Build reads before a period: the previous period (the change
// columns) and at least HistoryDays days (the usual band and "new"). Four whole weeks keep
// weekends in proportion in the band; with the default 35-day retention a week's report reads
// the whole store anyway, a store kept longer is not read further back than this.
const HistoryDays = 28

// HistoryStart is the first day Build reads for the period [from, to): the longer of HistoryDays
// and the period's length before from.
func HistoryStart(from, to time.Time) time.Time {
	return from.Add(-max(to.Sub(from), HistoryDays*24*time.Hour))
}

// Build makes the report of opt's period from src. It reads the rows of [HistoryStart, To) once —
// the period, the previous period of the same length and the history the band and "new" look
// back on — and holds one aggregate per (secret, principal) seen in them.
func Build(ctx context.Context, src Source, opt Options) (*Report, error) {
	if !opt.From.Before(opt.To) || opt.To.Sub(opt.From) > MaxPeriod {
		return nil, fmt.Errorf("report: bad period [%s, %s)", opt.From, opt.To)
	}
	from, to := CeilDay(opt.From), CeilDay(opt.To)
	if !from.Before(to) {
		return nil, fmt.Errorf("report: period [%s, %s) holds no whole UTC day", opt.From, opt.To)
	}
	prevFrom := from.Add(-to.Sub(from))
	secrets := map[string]*secretAgg{}
	pairs := map[pairKey]*pairAgg{}
	var oldest time.Time
	keep := func(secret, arn string) bool {
		return opt.Secret == "" || secretMatches(opt.Secret, secret, arn)
	}
	histFrom := HistoryStart(from, to)
	err := src.Days(ctx, histFrom, to, func(r *DayRow) error {
		// (A source that yields more than asked changes nothing.)
		if r.Day.Before(histFrom) || !r.Day.Before(to) || !keep(r.Secret, r.SecretARN) {
			return nil
		}
		if oldest.IsZero() || r.Day.Before(oldest) {
			oldest = r.Day
		}
		s := secrets[r.Secret]
		if s == nil {
			s = &secretAgg{daily: map[int64]*DayCount{}, history: map[int64]int64{}, firstDay: math.MaxInt64}
			secrets[r.Secret] = s
		}
		if s.arn == "" {
			s.arn = r.SecretARN
		}
		day := r.Day.Unix() / 86400
		s.firstDay = min(s.firstDay, day)
		pk := pairKey{r.Secret, r.Principal}
		p := pairs[pk]
		switch {
		case !r.Day.Before(from):
			s.current = true
			s.reads += r.Reads
			s.denied += r.Denied
			dc := s.daily[day]
			if dc == nil {
				dc = &DayCount{}
				s.daily[day] = dc
			}
			dc.Reads += r.Reads
			dc.Denied += r.Denied
			if p == nil {
				p = &pairAgg{}
				pairs[pk] = p
			}
			p.current = true
			p.row.Merge(r)
			return nil
		case !r.Day.Before(prevFrom):
			s.previous = true
			s.prevReads += r.Reads
			s.prevDenied += r.Denied
		}
		s.history[day] += r.Reads
		// Before the period: only what the pair did then matters.
		if p == nil {
			p = &pairAgg{}
			pairs[pk] = p
		}
		p.seenBefore = true
		if !r.Day.Before(prevFrom) {
			p.prevReads += r.Reads
			p.prevDenied += r.Denied
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	alerts := map[string]map[string]int64{}
	err = src.Alerts(ctx, from, to, func(a AlertRow) error {
		// Account-wide alerts (a trail stopped, the monitor's rule disabled) name no secret: they
		// are not part of any secret's access report.
		if a.Secret == "" || !keep(a.Secret, "") {
			return nil
		}
		m := alerts[a.Secret]
		if m == nil {
			m = map[string]int64{}
			alerts[a.Secret] = m
		}
		m[a.Rule]++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report: alerts: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	rep := &Report{From: from, To: to, PreviousFrom: prevFrom, PeriodEnd: opt.PeriodEnd, Generated: opt.Generated.UTC(),
		HistoryFrom: oldest, Secret: opt.Secret, Secrets: []*Secret{}}
	if opt.AllowList != nil {
		rep.AllowList = opt.AllowList.Source
	}
	// Pairs by secret.
	bySecret := map[string][]pairKey{}
	for pk, p := range pairs {
		if p.current {
			bySecret[pk.secret] = append(bySecret[pk.secret], pk)
		}
	}
	matchedEntries := map[*detector.AllowEntry]bool{}
	for key, s := range secrets {
		ref := refOf(key, s.arn)
		var entry *detector.AllowEntry
		if opt.AllowList != nil {
			entry = opt.AllowList.Entry(ref)
			if entry != nil {
				matchedEntries[entry] = true
			}
		}
		// A secret is in the report when it was used in this period or the previous one, or when
		// an allow-list entry names it (then it may have no reads: a candidate to retire).
		if !s.current && !s.previous && entry == nil && alerts[key] == nil {
			continue
		}
		sec := &Secret{
			Secret: key, SecretName: ref.Name, Account: ref.Account, Region: ref.Region, SecretARN: s.arn,
			Reads: s.reads, Denied: s.denied, PreviousReads: s.prevReads, PreviousDenied: s.prevDenied,
			Principals: []*Principal{}, AllowedUnused: []string{}, Alerts: map[string]int64{},
		}
		maps.Copy(sec.Alerts, alerts[key])
		delete(alerts, key)
		for d := from; d.Before(to); d = d.Add(24 * time.Hour) {
			dc := DayCount{Day: d.Format(time.DateOnly)}
			if c := s.daily[d.Unix()/86400]; c != nil {
				dc.Reads, dc.Denied = c.Reads, c.Denied
			}
			sec.Daily = append(sec.Daily, dc)
		}
		sec.Baseline = band(s, from)
		for _, pk := range bySecret[key] {
			p := pairs[pk]
			pr := &Principal{
				Principal: pk.principal, PrincipalType: p.row.PrincipalType,
				Reads: p.row.Reads, Denied: p.row.Denied, PreviousReads: p.prevReads, PreviousDenied: p.prevDenied,
				FirstSeen: p.row.FirstSeen, LastSeen: p.row.LastSeen, New: !p.seenBefore,
				SourceIPs: nonNil(p.row.SourceIPs), VPCEndpointIDs: nonNil(p.row.VPCEndpointIDs), UserAgents: nonNil(p.row.UserAgents),
			}
			if opt.AllowList != nil {
				ok, _ := opt.AllowList.Allowed(ref, pk.principal)
				pr.Allowed = &ok
			}
			sec.Principals = append(sec.Principals, pr)
		}
		slices.SortFunc(sec.Principals, func(a, b *Principal) int {
			return cmp.Or(cmp.Compare(b.Reads, a.Reads), cmp.Compare(b.Denied, a.Denied), cmp.Compare(a.Principal, b.Principal))
		})
		if entry != nil {
			sec.AllowEntry, sec.Owner = entryName(entry), entry.Owner
			sec.AllowedUnused = unused(entry.Allow, sec.Principals)
		}
		rep.Secrets = append(rep.Secrets, sec)
	}
	// Alerts of secrets the rows no longer hold (expired): still reported.
	for key, m := range alerts {
		ref := refOf(key, "")
		rep.Secrets = append(rep.Secrets, &Secret{Secret: key, SecretName: ref.Name, Account: ref.Account, Region: ref.Region,
			Principals: []*Principal{}, AllowedUnused: []string{}, Alerts: m, Daily: emptyDaily(from, to)})
	}
	// Allow-list entries that matched no secret the store knows.
	if opt.AllowList != nil {
		for i := range opt.AllowList.Entries {
			e := &opt.AllowList.Entries[i]
			if matchedEntries[e] || opt.Secret != "" && !detector.GlobMatch(opt.Secret, e.Secret) && !detector.GlobMatch(e.Secret, opt.Secret) {
				continue
			}
			rep.Secrets = append(rep.Secrets, &Secret{Secret: e.Secret, SecretName: e.Secret, Account: e.Account, Region: e.Region,
				AllowEntry: entryName(e), Owner: e.Owner, Unmatched: true,
				Principals: []*Principal{}, AllowedUnused: append([]string{}, e.Allow...), Alerts: map[string]int64{}, Daily: emptyDaily(from, to)})
		}
	}
	slices.SortFunc(rep.Secrets, func(a, b *Secret) int {
		return cmp.Or(cmp.Compare(boolInt(a.Unmatched), boolInt(b.Unmatched)), cmp.Compare(a.Secret, b.Secret))
	})
	for _, s := range rep.Secrets {
		t := &rep.Totals
		t.Secrets++
		if s.Reads == 0 {
			t.SecretsNoReads++
		}
		t.Principals += len(s.Principals)
		for _, p := range s.Principals {
			if p.New {
				t.NewPrincipals++
			}
		}
		t.Reads += s.Reads
		t.Denied += s.Denied
		t.PreviousReads += s.PreviousReads
		t.PreviousDenied += s.PreviousDenied
		t.AllowedUnused += len(s.AllowedUnused)
		for _, n := range s.Alerts {
			t.Alerts += n
		}
	}
	return rep, nil
}

// CeilDay is the first UTC midnight at or after t.
func CeilDay(t time.Time) time.Time {
	d := Day(t)
	if d.Before(t) {
		d = d.Add(24 * time.Hour)
	}
	return d
}

// refOf rebuilds a secret's reference from its canonical key.
func refOf(key, arn string) detector.SecretRef {
	a, r, n := detector.SplitKey(key)
	return detector.SecretRef{Account: a, Region: r, Name: n, ARN: arn}
}

// secretMatches applies a --secret glob to the secret's name, key, partial or full ARN.
func secretMatches(glob, key, arn string) bool {
	ref := refOf(key, arn)
	return detector.GlobMatch(glob, ref.Name) || detector.GlobMatch(glob, key) || detector.GlobMatch(glob, ref.PartialARN()) ||
		arn != "" && detector.GlobMatch(glob, arn)
}

// unused returns the patterns that match no principal with a successful read.
func unused(patterns []string, ps []*Principal) []string {
	out := []string{}
	for _, pat := range patterns {
		if !slices.ContainsFunc(ps, func(p *Principal) bool { return p.Reads > 0 && detector.GlobMatch(pat, p.Principal) }) {
			out = append(out, pat)
		}
	}
	return out
}

// entryName names an entry by its pattern and line (the file is Report.AllowList).
func entryName(e *detector.AllowEntry) string {
	return e.Secret + " (line " + strconv.Itoa(e.Line) + ")"
}

// band is the usual range of the secret's daily reads on the days before from that Build read
// (since HistoryFrom), from the secret's first day among them; nil with fewer than 3 such days.
func band(s *secretAgg, from time.Time) *Band {
	last := from.Unix()/86400 - 1
	if s.firstDay > last || last-s.firstDay+1 < 3 {
		return nil
	}
	var vals []float64
	for d := s.firstDay; d <= last; d++ {
		vals = append(vals, float64(s.history[d]))
	}
	slices.Sort(vals)
	return &Band{Days: len(vals), Low: quantile(vals, 0.1), Median: quantile(vals, 0.5), High: quantile(vals, 0.9)}
}

// quantile of sorted values, linear between the closest ranks.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	v := sorted[i] + (sorted[i+1]-sorted[i])*(pos-float64(i))
	return math.Round(v*100) / 100
}

func emptyDaily(from, to time.Time) []DayCount {
	var out []DayCount
	for d := from; d.Before(to); d = d.Add(24 * time.Hour) {
		out = append(out, DayCount{Day: d.Format(time.DateOnly)})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
