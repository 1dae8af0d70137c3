package textsafe

import "testing"

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, escape, strict string }{
		{"plain ünïcode", "plain ünïcode", "plain ünïcode"},
		{"a\nb\x1b[2J", `a\x0ab\x1b[2J`, `a\x0ab\x1b[2J`},
		{"bidi\u202eevil", `bidi\u202eevil`, `bidi\u202eevil`},
		{"bad\xffbyte", `bad\xffbyte`, `bad\xffbyte`},
		{`forged \x1b`, `forged \x1b`, `forged \\x1b`},
		{"line\u2028sep", `line\u2028sep`, `line\u2028sep`},
	} {
		if got := Escape(tc.in); got != tc.escape {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.escape)
		}
		if got := EscapeStrict(tc.in); got != tc.strict {
			t.Errorf("EscapeStrict(%q) = %q, want %q", tc.in, got, tc.strict)
		}
	}
}
