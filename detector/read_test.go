package detector

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBoundValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want int // length of the result
	}{
		{"empty", "", 0},
		{"short", "aws-cli/2.15", 12},
		{"exactly the bound", strings.Repeat("a", MaxReadValue), MaxReadValue},
		{"long", strings.Repeat("a", 10_000), MaxReadValue},
		{"multi-byte across the bound", strings.Repeat("a", MaxReadValue-1) + "é", MaxReadValue - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := boundValue(tc.in)
			if len(got) != tc.want || !utf8.ValidString(got) || !strings.HasPrefix(tc.in, got) {
				t.Errorf("boundValue: %d bytes (valid %v), want %d", len(got), utf8.ValidString(got), tc.want)
			}
		})
	}
}
