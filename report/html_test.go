package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/report"
)

// A large secret's HTML shows the top principals and every new or not-allowed one, and says how
// many it left out; the needs-a-look list is bounded too.
func TestHTMLBounds(t *testing.T) {
	no := false
	r := &report.Report{From: fixFrom, To: fixTo, PreviousFrom: fixFrom.AddDate(0, 0, -7)}
	s := &report.Secret{Secret: "a/r/big", Reads: 1, Alerts: map[string]int64{}}
	for i := range 300 {
		p := &report.Principal{Principal: fmt.Sprintf("arn:aws:iam::1:role/p%03d", i), Reads: int64(1000 - i), FirstSeen: fixFrom, LastSeen: fixFrom.Add(time.Hour)}
		if i == 120 {
			p.Allowed = &no
		}
		if i >= 140 {
			p.New = true
		}
		s.Principals = append(s.Principals, p)
	}
	r.Secrets = []*report.Secret{s}
	var b bytes.Buffer
	if err := report.WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	rows := strings.Count(html, `<td class="p">arn:aws:iam::1:role/p`)
	if want := report.MaxHTMLFlagged; rows != want {
		t.Errorf("%d principal rows, want %d (top 50, the not-allowed one, then new ones up to the bound)", rows, want)
	}
	if !strings.Contains(html, "and 100 more principals") || !strings.Contains(html, "role/p120 <span") {
		t.Error("the hidden count or the not-allowed principal is missing")
	}
	if !strings.Contains(html, "… and 61 more: see the tables below") { // 160 new + 1 not allowed
		t.Error("the needs-a-look list is not bounded to 100 items")
	}
}

// The streamed JSON is exactly what encoding/json makes of the whole report.
func TestJSONStreamsTheSameDocument(t *testing.T) {
	for name, r := range map[string]*report.Report{
		"fixture": fixtureReport(t),
		"empty":   {From: fixFrom, To: fixTo, Secrets: []*report.Secret{}},
	} {
		var got, want bytes.Buffer
		if err := report.WriteJSON(&got, r); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: streamed JSON differs:\n%s\nwant\n%s", name, got.String(), want.String())
		}
	}
}
