package report_test

import (
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/report"
)

const (
	acct   = "111122223333"
	app    = "arn:aws:iam::111122223333:role/app"
	ci     = "arn:aws:iam::111122223333:role/ci"
	batch  = "arn:aws:iam::111122223333:role/batch"
	newbie = "arn:aws:iam::111122223333:role/intruder"
	dbKey  = acct + "/us-east-1/prod/db"
	dbARN  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf"
	apiKey = acct + "/us-east-1/prod/api"
	oldKey = acct + "/us-east-1/retired"
)

// hostile values: control characters, terminal escapes, Markdown, HTML and formula injection.
const (
	evilPrincipal = "arn:aws:iam::444455556666:user/<b>x</b>|`y`\x1b[31m"
	evilUA        = "=HYPERLINK(\"http://evil\")\n<script>alert(1)</script> **bold** [l](http://x) \u202e"
	evilIP        = "+1 | @SUM(A1)"
)

const fixtureAllowList = `version: 1
defaults:
  allow: []
secrets:
  - secret: prod/db
    allow:
      - arn:aws:iam::111122223333:role/app
      - arn:aws:iam::111122223333:role/ci
      - arn:aws:iam::111122223333:role/old-*
    owner: team-db
  - secret: retired
    allow: [arn:aws:iam::111122223333:role/app]
  - secret: ghost/*
    allow: [arn:aws:iam::111122223333:role/ghost]
`

// Period of the fixture: the week of 2026-03-09 (a Monday), compared with the week before.
var (
	fixFrom = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	fixTo   = fixFrom.AddDate(0, 0, 7)
)

// fixtureStore fills a memory store: 28 days of history for prod/db, a week of reads by app,
// ci (some denied) and a hostile new principal, prod/api read the week before only, retired read
// three weeks before; every read recorded twice (duplicates count once); alerts delivered and not.
func fixtureStore(t testing.TB) *baseline.MemoryStore {
	st := baseline.NewMemoryStore(0)
	var reads []detector.Read
	id := 0
	add := func(secret, principal, ptype string, at time.Time, denied bool, ip, vpce, ua string) {
		id++
		r := detector.Read{EventID: storetest.EventID(id), Secret: secret, Principal: principal, Time: at, Denied: denied,
			SourceIP: ip, VPCEndpointID: vpce, UserAgent: ua, PrincipalType: ptype}
		if id%3 == 0 {
			r.SecretARN = dbARN
			if secret != dbKey {
				r.SecretARN = ""
			}
		}
		reads = append(reads, r)
	}
	start := fixFrom.AddDate(0, 0, -21)
	for d := range 28 {
		day := start.AddDate(0, 0, d)
		n := 10 + d%3
		if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			n = 2
		}
		for i := range n {
			add(dbKey, app, "AssumedRole", day.Add(time.Duration(8+i)*time.Hour+17*time.Minute), false, "", "vpce-0a1b2c3d", "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.26")
		}
		if d%7 == 1 {
			add(dbKey, ci, "AssumedRole", day.Add(14*time.Hour), d >= 21, "203.0.113.7", "", "aws-cli/2.15.0")
		}
	}
	add(dbKey, newbie, "AssumedRole", fixFrom.AddDate(0, 0, 4).Add(3*time.Hour+2*time.Minute), false, "198.51.100.9", "", "curl/8.5")
	add(dbKey, newbie, "AssumedRole", fixFrom.AddDate(0, 0, 4).Add(3*time.Hour+9*time.Minute), false, "198.51.100.10", "", "curl/8.5")
	add(dbKey, evilPrincipal, "IAMUser", fixFrom.AddDate(0, 0, 5).Add(time.Hour), true, evilIP, "", evilUA)
	for i := range 5 {
		add(apiKey, batch, "AssumedRole", fixFrom.AddDate(0, 0, -3).Add(time.Duration(i)*time.Hour), false, "lambda.amazonaws.com", "", "AWS Internal")
	}
	add(oldKey, app, "AssumedRole", fixFrom.AddDate(0, 0, -20), false, "10.1.2.3", "", "Boto3/1.34")
	ctx := t.Context()
	for range 2 {
		if _, err := st.Record(ctx, reads); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(rule, secret, principal string, w time.Time, delivered bool) {
		key := rule + "|" + secret + "|" + principal
		if _, err := st.Claim(ctx, key, w, 1); err != nil {
			t.Fatal(err)
		}
		if delivered {
			if err := st.MarkDelivered(ctx, key, w); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := fixFrom.AddDate(0, 0, 4).Add(3 * time.Hour)
	claim(detector.RuleUnexpectedPrincipal, dbKey, newbie, w, true)
	claim(detector.RuleUnexpectedPrincipal, dbKey, evilPrincipal, w.Add(22*time.Hour), false) // not delivered: not counted
	claim(detector.RuleReadSpike, dbKey, "", w.Add(2*time.Hour), true)
	claim(detector.RuleReadSpike, dbKey, "", fixFrom.Add(-time.Hour), true) // before the period
	return st
}

func fixtureAllow(t testing.TB) *detector.AllowList {
	al, _, err := detector.ParseAllowList("allowlist.yaml", []byte(fixtureAllowList))
	if err != nil {
		t.Fatal(err)
	}
	return al
}

var fixtureClock = time.Date(2026, 3, 16, 6, 0, 0, 0, time.UTC)

func fixtureReport(t testing.TB) *report.Report {
	st := fixtureStore(t)
	r, err := report.Build(t.Context(), st, report.Options{From: fixFrom, To: fixTo, PeriodEnd: report.EndLatest,
		AllowList: fixtureAllow(t), Generated: fixtureClock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func find[T any](xs []T, f func(T) bool) (T, bool) {
	for _, x := range xs {
		if f(x) {
			return x, true
		}
	}
	var zero T
	return zero, false
}
