package report_test

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/report"
)

func TestBuild(t *testing.T) {
	r := fixtureReport(t)
	if !r.From.Equal(fixFrom) || !r.To.Equal(fixTo) || !r.PreviousFrom.Equal(fixFrom.AddDate(0, 0, -7)) {
		t.Errorf("period %s %s %s", r.From, r.To, r.PreviousFrom)
	}
	var keys []string
	for _, s := range r.Secrets {
		keys = append(keys, s.Secret)
	}
	// prod/api: read the week before only; retired: named by the allow-list, read 3 weeks ago;
	// ghost/*: an entry no secret matches (listed last).
	if want := []string{apiKey, dbKey, oldKey, "ghost/*"}; !slices.Equal(keys, want) {
		t.Fatalf("secrets %q, want %q", keys, want)
	}
	byKey := func(k string) *report.Secret {
		s, ok := find(r.Secrets, func(s *report.Secret) bool { return s.Secret == k })
		if !ok {
			t.Fatalf("no secret %q", k)
		}
		return s
	}
	db := byKey(dbKey)
	// Week of 03-09: weekdays 10+d%3 reads (d = 21..27), weekend 2; duplicates not counted.
	var wantDB, wantPrev int64
	for d := 14; d < 28; d++ {
		day := fixFrom.AddDate(0, 0, d-21)
		n := int64(10 + d%3)
		if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			n = 2
		}
		if d >= 21 {
			wantDB += n
		} else {
			wantPrev += n
		}
	}
	wantDB += 2   // the new principal
	wantPrev += 1 // ci, the week before (allowed, successful)
	if db.Reads != wantDB || db.PreviousReads != wantPrev || db.Denied != 2 || db.PreviousDenied != 0 {
		t.Errorf("prod/db reads %d (prev %d) denied %d (prev %d); want %d (%d) 2 (0)", db.Reads, db.PreviousReads, db.Denied, db.PreviousDenied, wantDB, wantPrev)
	}
	if db.SecretARN != dbARN || db.SecretName != "prod/db" || db.Account != acct || db.Owner != "team-db" || db.AllowEntry != "prod/db (line 5)" {
		t.Errorf("prod/db identity: %+v", db)
	}
	if want := map[string]int64{"unexpected-principal": 1, "read-spike": 1}; len(db.Alerts) != 2 || db.Alerts["unexpected-principal"] != 1 || db.Alerts["read-spike"] != 1 {
		t.Errorf("alerts %v, want %v", db.Alerts, want)
	}
	// ci was only denied this week: its grant went unused too.
	if !slices.Equal(db.AllowedUnused, []string{ci, "arn:aws:iam::111122223333:role/old-*"}) {
		t.Errorf("allowed unused %q", db.AllowedUnused)
	}
	var sum int64
	for _, d := range db.Daily {
		sum += d.Reads
	}
	if len(db.Daily) != 7 || sum != db.Reads || db.Daily[0].Day != "2026-03-09" {
		t.Errorf("daily %+v", db.Daily)
	}
	if db.Baseline == nil || db.Baseline.Days != 21 || db.Baseline.Low != 2 || db.Baseline.High < 11 {
		t.Errorf("baseline %+v", db.Baseline)
	}
	var names []string
	for _, p := range db.Principals {
		names = append(names, p.Principal)
	}
	if want := []string{app, newbie, ci, evilPrincipal}; !slices.Equal(names, want) {
		t.Fatalf("principals %q, want %q (most reads first)", names, want)
	}
	p := db.Principals[1]
	if !p.New || p.Reads != 2 || p.Allowed == nil || *p.Allowed || !slices.Equal(p.SourceIPs, []string{"198.51.100.9", "198.51.100.10"}) ||
		!p.FirstSeen.Equal(fixFrom.AddDate(0, 0, 4).Add(3*time.Hour+2*time.Minute)) || !p.LastSeen.Equal(p.FirstSeen.Add(7*time.Minute)) {
		t.Errorf("new principal %+v", p)
	}
	if p := db.Principals[0]; p.New || p.Allowed == nil || !*p.Allowed || p.PreviousReads == 0 || !slices.Equal(p.VPCEndpointIDs, []string{"vpce-0a1b2c3d"}) {
		t.Errorf("app %+v", p)
	}
	if p := db.Principals[2]; p.New || p.Reads != 0 || p.Denied != 1 || p.PreviousReads != 1 {
		t.Errorf("ci %+v", p)
	}
	if p := db.Principals[3]; !p.New || p.Denied != 1 || p.PrincipalType != "IAMUser" || p.UserAgents[0] != evilUA {
		t.Errorf("hostile principal %+v", p)
	}
	if api := byKey(apiKey); api.Reads != 0 || api.PreviousReads != 5 || len(api.Principals) != 0 || api.AllowEntry != "" || api.Baseline == nil {
		t.Errorf("prod/api %+v", api)
	}
	if old := byKey(oldKey); old.Reads != 0 || old.PreviousReads != 0 || !slices.Equal(old.AllowedUnused, []string{app}) || old.Unmatched {
		t.Errorf("retired %+v", old)
	}
	if g := byKey("ghost/*"); !g.Unmatched || !slices.Equal(g.AllowedUnused, []string{"arn:aws:iam::111122223333:role/ghost"}) || len(g.Daily) != 7 {
		t.Errorf("ghost %+v", g)
	}
	tot := r.Totals
	if tot.Secrets != 4 || tot.SecretsNoReads != 3 || tot.Principals != 4 || tot.NewPrincipals != 2 || tot.Reads != wantDB || tot.Alerts != 2 || tot.AllowedUnused != 4 {
		t.Errorf("totals %+v", tot)
	}
}

func TestBuildSecretFilter(t *testing.T) {
	st := fixtureStore(t)
	for _, tc := range []struct {
		glob string
		want []string
	}{
		{"prod/*", []string{apiKey, dbKey}},
		{"*:secret:prod/db-*", []string{dbKey}}, // the full ARN
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:retired", []string{oldKey}},
		{"ghost/x", []string{"ghost/*"}},
		{"nothing", nil},
	} {
		r, err := report.Build(t.Context(), st, report.Options{From: fixFrom, To: fixTo, AllowList: fixtureAllow(t), Secret: tc.glob})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range r.Secrets {
			got = append(got, s.Secret)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("--secret %q: %q, want %q", tc.glob, got, tc.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	st := fixtureStore(t)
	now := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name             string
		since            time.Duration
		from, to         time.Time
		wantFrom, wantTo time.Time
		end              string
		err              bool
	}{
		{"default: the week ending with the latest event's day", 7 * 24 * time.Hour, time.Time{}, time.Time{}, fixFrom, fixTo, report.EndLatest, false},
		{"--to", 2 * 24 * time.Hour, time.Time{}, fixFrom, fixFrom.AddDate(0, 0, -2), fixFrom, report.EndFlag, false},
		{"--from --to", 0, fixFrom.Add(time.Hour), fixTo, fixFrom.AddDate(0, 0, 1), fixTo, report.EndFlag, false},
		{"--from only", 0, fixFrom.AddDate(0, 0, 3), time.Time{}, fixFrom.AddDate(0, 0, 3), fixTo, report.EndLatest, false},
		{"empty", 0, fixTo, fixFrom, time.Time{}, time.Time{}, "", true},
		{"too long", 0, fixFrom.AddDate(-2, 0, 0), fixTo, time.Time{}, time.Time{}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, to, end, err := report.Period(t.Context(), st, tc.since, tc.from, tc.to, now)
			if (err != nil) != tc.err || !f.Equal(tc.wantFrom) || !to.Equal(tc.wantTo) || end != tc.end {
				t.Errorf("Period = %s, %s, %q, %v; want %s, %s, %q (error %v)", f, to, end, err, tc.wantFrom, tc.wantTo, tc.end, tc.err)
			}
		})
	}
	empty := baseline.NewMemoryStore(0)
	f, to, end, err := report.Period(t.Context(), empty, 7*24*time.Hour, time.Time{}, time.Time{}, now)
	if err != nil || end != report.EndNow || !to.Equal(time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)) || !f.Equal(to.AddDate(0, 0, -7)) {
		t.Errorf("empty store: %s %s %q %v", f, to, end, err)
	}
}

// rangeSource records the ranges a report asks its source for; with all it ignores them and
// yields every row before to, as Build once asked.
type rangeSource struct {
	report.Source
	all    bool
	ranges [][2]time.Time
}

func (s *rangeSource) Days(ctx context.Context, from, to time.Time, yield func(*report.DayRow) error) error {
	s.ranges = append(s.ranges, [2]time.Time{from, to})
	if s.all {
		from = time.Time{}
	}
	return s.Source.Days(ctx, from, to, yield)
}

// Build reads the period, the previous period and HistoryDays before the period (or the
// previous period if longer), not the whole retention window: a store kept for 400 days is read
// 28 days back for a week's report. "New" and the band look back over what was read.
func TestBuildReadsBoundedHistory(t *testing.T) {
	st := baseline.NewMemoryStore(400 * 24 * time.Hour)
	var reads []detector.Read
	add := func(principal string, at time.Time, n int) {
		for i := range n {
			reads = append(reads, detector.Read{EventID: storetest.EventID(len(reads) + 1), Secret: dbKey, Principal: principal,
				Time: at.Add(time.Duration(i) * time.Minute)})
		}
	}
	// app reads every day for 200 days up to the period's end: 5 a day before the last 28 days
	// before the period, 1 a day in them, 3 a day in the period.
	for d := -200; d < 7; d++ {
		n := 5
		switch {
		case d >= 0:
			n = 3
		case d >= -report.HistoryDays:
			n = 1
		}
		add(app, fixFrom.AddDate(0, 0, d).Add(9*time.Hour), n)
	}
	add(ci, fixFrom.AddDate(0, 0, -60), 1)    // long before: outside the history read
	add(ci, fixFrom.AddDate(0, 0, 2), 1)      // so new this period
	add(batch, fixFrom.AddDate(0, 0, -27), 1) // inside the history: not new
	add(batch, fixFrom.AddDate(0, 0, 3), 1)
	if _, err := st.Record(t.Context(), reads); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		histFrom time.Time
	}{
		{"week", fixFrom, fixTo, fixFrom.AddDate(0, 0, -report.HistoryDays)},
		{"60 days", fixTo.AddDate(0, 0, -60), fixTo, fixTo.AddDate(0, 0, -120)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bounded := &rangeSource{Source: st}
			r, err := report.Build(t.Context(), bounded, report.Options{From: tc.from, To: tc.to})
			if err != nil {
				t.Fatal(err)
			}
			if want := [][2]time.Time{{tc.histFrom, tc.to}}; !slices.Equal(bounded.ranges, want) {
				t.Errorf("Days ranges %v, want %v", bounded.ranges, want)
			}
			if !r.HistoryFrom.Equal(tc.histFrom) || !tc.histFrom.Equal(report.HistoryStart(tc.from, tc.to)) {
				t.Errorf("historyFrom %s, want %s", r.HistoryFrom, tc.histFrom)
			}
			// A source that yields every row kept makes the same report.
			whole, err := report.Build(t.Context(), &rangeSource{Source: st, all: true}, report.Options{From: tc.from, To: tc.to})
			if err != nil {
				t.Fatal(err)
			}
			var a, b bytes.Buffer
			if err := report.WriteJSON(&a, r); err != nil {
				t.Fatal(err)
			}
			if err := report.WriteJSON(&b, whole); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Errorf("a source yielding every row made another report")
			}
			if tc.name != "week" {
				return
			}
			s := r.Secrets[0]
			news := map[string]bool{}
			for _, p := range s.Principals {
				news[p.Principal] = p.New
			}
			if want := map[string]bool{app: false, ci: true, batch: false}; !maps.Equal(news, want) {
				t.Errorf("new: %v, want %v", news, want)
			}
			// The band: the 28 days before the period, 1 read a day (the 5-a-day days are not read).
			if bl := s.Baseline; bl == nil || bl.Days != report.HistoryDays || bl.Low != 1 || bl.High != 1 || bl.Median != 1 {
				t.Errorf("baseline %+v, want 28 days of 1", bl)
			}
			if s.PreviousReads != 7 || s.Reads != 7*3+2 {
				t.Errorf("reads %d (previous %d), want 23 (7)", s.Reads, s.PreviousReads)
			}
		})
	}
}
