package report_test

import (
	"slices"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/baseline"
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
