package report_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/report"
)

// randomReport is a report with random hostile strings and random counts, reaching every branch
// of the page (period ends, history, allow-list, unmatched entries, bands, hidden rows).
func randomReport(r *rand.Rand) *report.Report {
	str := func() string {
		if r.IntN(4) == 0 {
			return ""
		}
		return randomValue(r)
	}
	at := func() time.Time {
		if r.IntN(8) == 0 {
			return time.Time{}
		}
		return fixFrom.Add(time.Duration(r.IntN(7*24*60)) * time.Minute)
	}
	days := 1 + r.IntN(40)
	to := fixFrom.AddDate(0, 0, days)
	rep := &report.Report{From: fixFrom, To: to, PreviousFrom: fixFrom.AddDate(0, 0, -days),
		PeriodEnd: []string{report.EndFlag, report.EndLatest, report.EndNow}[r.IntN(3)], Generated: at(),
		AllowList: str(), Secret: str()}
	if r.IntN(2) == 0 {
		rep.HistoryFrom = fixFrom.AddDate(0, 0, -r.IntN(60))
	}
	n := func(max int) int64 { return int64(r.IntN(max)) }
	for range r.IntN(6) {
		s := &report.Secret{Secret: str(), SecretARN: str(), AllowEntry: str(), Owner: str(), Unmatched: r.IntN(5) == 0,
			Reads: n(3) * n(1000), Denied: n(2) * n(50), PreviousReads: n(1000), PreviousDenied: n(10), Alerts: map[string]int64{}}
		for range r.IntN(3) {
			s.Alerts[str()] = n(9)
		}
		for range r.IntN(3) {
			s.AllowedUnused = append(s.AllowedUnused, str())
		}
		for d := range days {
			s.Daily = append(s.Daily, report.DayCount{Day: fixFrom.AddDate(0, 0, d).Format(time.DateOnly), Reads: n(2) * n(5000), Denied: n(2) * n(30)})
		}
		if r.IntN(2) == 0 {
			lo := float64(n(100)) / float64(1+n(4))
			s.Baseline = &report.Band{Days: int(n(40)), Low: lo, Median: lo + float64(n(50)), High: lo + float64(n(3000))}
		}
		np := r.IntN(8)
		if r.IntN(6) == 0 {
			np = 250
		}
		for range np {
			p := &report.Principal{Principal: str(), PrincipalType: str(), Reads: n(500), Denied: n(3), PreviousReads: n(500),
				PreviousDenied: n(3), FirstSeen: at(), LastSeen: at(), New: r.IntN(3) == 0}
			if a := r.IntN(3); a < 2 {
				ok := a == 0
				p.Allowed = &ok
			}
			for range r.IntN(3) {
				p.SourceIPs = append(p.SourceIPs, str())
				p.VPCEndpointIDs = append(p.VPCEndpointIDs, str())
				p.UserAgents = append(p.UserAgents, str())
			}
			s.Principals = append(s.Principals, p)
		}
		rep.Secrets = append(rep.Secrets, s)
	}
	return rep
}

// Random reports with hostile values in every field give well-formed pages: whatever branch the
// page takes (period ends, history, allow-list, unmatched entries, bands, hidden rows).
func TestHTMLRandomReportsWellFormed(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 120 {
		rep := randomReport(r)
		var b bytes.Buffer
		if err := report.WriteHTML(&b, rep); err != nil {
			t.Fatal(err)
		}
		if _, err := parsePage(b.String()); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
	}
}

// bigReport is 200 secrets × 50 principals with a week of days, plain values.
func bigReport() *report.Report {
	r := rand.New(rand.NewPCG(7, 8))
	rep := &report.Report{From: fixFrom, To: fixTo, PreviousFrom: fixFrom.AddDate(0, 0, -7), PeriodEnd: report.EndLatest,
		Generated: fixtureClock, HistoryFrom: fixFrom.AddDate(0, 0, -28)}
	for s := range 200 {
		sec := &report.Secret{Secret: fmt.Sprintf("111122223333/us-east-1/app/secret-%04d", s), Reads: 1000, PreviousReads: 900,
			Alerts: map[string]int64{"read-spike": 1}, Baseline: &report.Band{Days: 28, Low: 100, Median: 140, High: 180}}
		for d := range 7 {
			sec.Daily = append(sec.Daily, report.DayCount{Day: fixFrom.AddDate(0, 0, d).Format(time.DateOnly), Reads: int64(r.IntN(200))})
		}
		for p := range 50 {
			sec.Principals = append(sec.Principals, &report.Principal{Principal: fmt.Sprintf("arn:aws:iam::111122223333:role/service-%03d", p),
				PrincipalType: "AssumedRole", Reads: int64(100 - p), PreviousReads: 90, FirstSeen: fixFrom, LastSeen: fixTo.Add(-time.Hour),
				New: p%17 == 0, SourceIPs: []string{"10.0.1.2"}, UserAgents: []string{"aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.2 api/secretsmanager#1.35.4"}})
		}
		rep.Secrets = append(rep.Secrets, sec)
	}
	return rep
}

// BenchmarkWriteHTML renders a 200-secret × 50-principal week (BENCHMARKS.md compares it with
// the html/template it replaced).
func BenchmarkWriteHTML(b *testing.B) {
	rep := bigReport()
	var n int64
	for b.Loop() {
		c := &countWriter{}
		if err := report.WriteHTML(c, rep); err != nil {
			b.Fatal(err)
		}
		n = c.n
	}
	b.ReportMetric(float64(n), "bytes/page")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
