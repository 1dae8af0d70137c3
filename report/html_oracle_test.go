package report_test

import (
	"bytes"
	"fmt"
	"io"
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

// The writer makes exactly the page html/template made of the template it replaced.
func TestHTMLMatchesTemplateOracle(t *testing.T) {
	reports := map[string]*report.Report{"fixture": fixtureReport(t)}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 120 {
		reports[fmt.Sprint("random", i)] = randomReport(r)
	}
	for name, rep := range reports {
		var got, want bytes.Buffer
		if err := report.WriteHTML(&got, rep); err != nil {
			t.Fatal(err)
		}
		if err := report.OracleHTML(&want, rep); err != nil {
			t.Fatal(err)
		}
		if g, w := got.String(), want.String(); g != w {
			i := 0
			for i < len(g) && i < len(w) && g[i] == w[i] {
				i++
			}
			t.Fatalf("%s: differs at byte %d:\ngot  %q\nwant %q", name, i, g[max(0, i-200):min(len(g), i+200)], w[max(0, i-200):min(len(w), i+200)])
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

// BenchmarkWriteHTML renders a 200-secret × 50-principal report with the writer and with the
// html/template it replaced, in the same run.
func BenchmarkWriteHTML(b *testing.B) {
	rep := bigReport()
	for name, write := range map[string]func(io.Writer, *report.Report) error{"writer": report.WriteHTML, "template": report.OracleHTML} {
		b.Run(name, func(b *testing.B) {
			var n int64
			for b.Loop() {
				c := &countWriter{}
				if err := write(c, rep); err != nil {
					b.Fatal(err)
				}
				n = c.n
			}
			b.ReportMetric(float64(n), "bytes/page")
		})
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
