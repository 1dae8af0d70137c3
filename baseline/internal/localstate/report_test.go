package localstate

import (
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/report"
)

func TestParseAlertID(t *testing.T) {
	w := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		key  string
		want report.AlertRow
		ok   bool
	}{
		{"read-spike|a/r/s|", report.AlertRow{Rule: "read-spike", Secret: "a/r/s", Window: w}, true},
		{"unexpected-principal|a/r/s|arn:aws:iam::1:user/x|y", report.AlertRow{Rule: "unexpected-principal", Secret: "a/r/s", Principal: "arn:aws:iam::1:user/x|y", Window: w}, true},
		{"nonsense", report.AlertRow{}, false},
	} {
		got, ok := ParseAlertID(AlertID(tc.key, w))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseAlertID(%q) = %+v, %v; want %+v, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := ParseAlertID("a|b|c|not-a-time"); ok {
		t.Error("bad window parsed")
	}
}
