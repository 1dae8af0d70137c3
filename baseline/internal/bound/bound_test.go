package bound

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	long := strings.Repeat("é", 5000) // 2-byte runes: a cut must not split one
	for _, tt := range []struct {
		in   string
		max  int
		same bool
	}{
		{"", 64, true},
		{"arn:aws:iam::111122223333:role/app", 64, true},
		{strings.Repeat("a", 64), 64, true},
		{strings.Repeat("a", 65), 64, false},
		{long, 1024, false},
		{long + "x", 1024, false},
	} {
		got := Text(tt.in, tt.max)
		if tt.same != (got == tt.in) {
			t.Errorf("Text(%d bytes, %d) changed = %v, want %v", len(tt.in), tt.max, got != tt.in, !tt.same)
		}
		if len(got) > tt.max || !utf8.ValidString(got) {
			t.Errorf("Text(%d bytes, %d) = %d bytes, valid UTF-8 %v", len(tt.in), tt.max, len(got), utf8.ValidString(got))
		}
	}
	if Text(long, 1024) == Text(long+"x", 1024) {
		t.Error("two long values with the same beginning read the same")
	}
}
