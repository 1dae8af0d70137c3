package textsafe

import (
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

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

func TestEscapeHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain ünïcode", "plain ünïcode"},
		{`<script>alert("x")</script>`, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`},
		{`a'b&c+d`, `a&#39;b&amp;c&#43;d`},
		{"</style>]]>\x00\x1b\u202e\\", `&lt;/style&gt;]]&gt;\x00\x1b\u202e\\`},
		{"bad\xff<", `bad\xff&lt;`},
		{"&amp;", "&amp;amp;"},
	} {
		if got := EscapeHTML(tc.in); got != tc.want {
			t.Errorf("EscapeHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// EscapeHTML is what html/template makes of EscapeStrict's output in element text: the HTML
// writer's page stayed byte for byte the page the template made.
func TestEscapeHTMLAsTemplate(t *testing.T) {
	tmpl := template.Must(template.New("").Parse(`<p>{{.}}</p><p title="{{.}}"></p>`))
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"<", ">", "&", `"`, "'", "+", "\\", "\x00", "\x1b", "\u202e", "\xff", "é", "a", " ", "=", "`", "/", "]]>", "&#", ";"}
	for range 2000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		var want strings.Builder
		if err := tmpl.Execute(&want, EscapeStrict(s)); err != nil {
			t.Fatal(err)
		}
		e := EscapeHTML(s)
		if got := "<p>" + e + `</p><p title="` + e + `"></p>`; got != want.String() {
			t.Fatalf("%q: got %s, html/template %s", s, got, want.String())
		}
	}
}

// Unsafe's ASCII shortcut agrees with the Unicode tables.
func TestUnsafeASCII(t *testing.T) {
	for r := rune(0); r < 0x80; r++ {
		want := unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
		if Unsafe(r) != want {
			t.Errorf("Unsafe(%U) = %v, want %v", r, !want, want)
		}
	}
}
