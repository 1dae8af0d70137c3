package report

import (
	"strings"
	"testing"
	"time"
)

func TestWriteSummary(t *testing.T) {
	from := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	r := &Report{From: from, To: from.Add(7 * 24 * time.Hour), Totals: Totals{Secrets: 3, SecretsNoReads: 1, Reads: 40, Denied: 2, Principals: 2, NewPrincipals: 1, Alerts: 2}}
	r.Secrets = append(r.Secrets, &Secret{Secret: "a/r/db", Reads: 30, Alerts: map[string]int64{"unexpected-principal": 2},
		Principals: []*Principal{{Principal: "arn:aws:iam::1:role/evil\u202e\n", Reads: 1, New: true}, {Principal: "arn:aws:iam::1:role/app", Reads: 29}}})
	r.Secrets = append(r.Secrets, &Secret{Secret: "a/r/api", Reads: 10, Denied: 2})
	r.Secrets = append(r.Secrets, &Secret{Secret: "a/r/old"})
	for i := range 30 {
		r.Secrets[1].Principals = append(r.Secrets[1].Principals, &Principal{Principal: strings.Repeat("p", 1000) + string(rune('a'+i%26)), New: true})
	}
	var b strings.Builder
	if err := WriteSummary(&b, r, []string{"s3://bucket/reports/2026-03-09--2026-03-16/report.html"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"2026-03-09 to 2026-03-15 (UTC, 7 days)", "Secrets read: 2 (no reads: 1)", "Reads: 40", "unexpected-principal: 2",
		`role/evil\u202e\x0a reads a/r/db`, "… and 21 more", "a/r/db: 30 reads, 0 denied, 2 principals", "s3://bucket/reports/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "a/r/old:") {
		t.Errorf("summary lists a secret without reads among the most read:\n%s", out)
	}
	if len(out) > 16<<10 {
		t.Errorf("summary of %d bytes", len(out))
	}
}
