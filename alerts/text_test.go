package alerts

import (
	"bytes"
	"errors"
	"flag"
	"github.com/secretwatch/secretwatch/internal/alerttest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/secretwatch/secretwatch/detector"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/alerts")

const goldenDir = "../testdata/alerts"

// golden compares got with testdata/alerts/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./alerts -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./alerts -update rewrites it):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

var textCases = []struct {
	name  string
	alert func() *detector.Alert
}{
	{"unexpected-principal", func() *detector.Alert { return alerttest.Fixture(detector.RuleUnexpectedPrincipal) }},
	{"first-seen-principal", func() *detector.Alert { return alerttest.Fixture(detector.RuleFirstSeenPrincipal) }},
	{"read-spike", func() *detector.Alert { return alerttest.Fixture(detector.RuleReadSpike) }},
	{"read-spike-whole-secret", func() *detector.Alert {
		a := alerttest.Fixture(detector.RuleReadSpike)
		a.Principal, a.PrincipalType, a.Session = "", "", ""
		a.Reason += "; top readers this hour: arn:aws:iam::123456789012:role/ci-deploy (41)"
		return a
	}},
	{"storm", alerttest.Storm},
	{"missing-optional", alerttest.Sparse},
	{"hostile", alerttest.Hostile},
}

func TestTextGolden(t *testing.T) {
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Text(&buf, tc.alert()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".golden", buf.String())
			if buf.String() != Render(tc.alert()) {
				t.Error("Text and Render differ")
			}
		})
	}
}

func TestTextShape(t *testing.T) {
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.alert()
			text := Render(a)
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")

			head := lines[0]
			for _, want := range []string{"[" + strings.ToUpper(a.Severity) + "]", a.Rule, secretName(a)} {
				if !strings.Contains(head, want) {
					t.Errorf("headline %q lacks %q", head, want)
				}
			}
			for _, section := range []string{"Who", "What", "When (UTC)", "From where", "Why", "Next step"} {
				if !slices.Contains(lines, section) {
					t.Errorf("no section %q", section)
				}
			}

			// Only lines holding one unbreakable value may be wider than 80 columns.
			for _, l := range lines {
				if runeLen(l) <= 80 {
					continue
				}
				if strings.HasPrefix(l, strings.Repeat(" ", len(indent))) && len(l) > labelWidth &&
					!strings.Contains(strings.TrimSpace(l[min(labelWidth, len(l)):]), "  ") &&
					isValueLine(a, l) {
					continue
				}
				t.Errorf("line wider than 80 columns: %q", l)
			}

			for _, r := range text {
				if r != '\n' && unsafeRune(r) {
					t.Errorf("unescaped control or format character %U in text", r)
				}
			}
		})
	}
}

// isValueLine reports whether l shows one of a's identifier values (which are never broken).
func isValueLine(a *detector.Alert, l string) bool {
	v := strings.TrimSpace(l[labelWidth:])
	values := append([]string{a.Principal, a.SecretARN, a.Session}, a.UserAgents...)
	values = append(values, a.SourceIPs...)
	for _, x := range values {
		if clean(x) == v {
			return true
		}
	}
	return false
}

func TestTextReasonVerbatim(t *testing.T) {
	a := alerttest.Fixture(detector.RuleReadSpike)
	a.Reason = "240 reads in 1h vs median 6 (MAD 2.5, threshold 30.75) over 4 weeks; " +
		"p99=11 — a 40x spike. " + strings.Repeat("word ", 40) + "supercalifragilisticexpialidocious-" +
		strings.Repeat("x", 100) + " end."
	text := Render(a)
	why := between(text, "\nWhy\n", "\n\nNext step\n")
	if !slices.Equal(strings.Fields(why), strings.Fields(a.Reason)) {
		t.Errorf("reason not verbatim:\n%s", why)
	}
	for _, l := range strings.Split(why, "\n") {
		if runeLen(l) > TextWidth && strings.Contains(strings.TrimSpace(l), " ") {
			t.Errorf("prose line wider than %d: %q", TextWidth, l)
		}
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	before, _, _ := strings.Cut(after, to)
	return before
}

func TestTextDeterministic(t *testing.T) {
	a := alerttest.Storm()
	b := alerttest.Storm()
	loc := time.FixedZone("UTC+9", 9*3600)
	b.FirstSeen, b.LastSeen, b.Window = b.FirstSeen.In(loc), b.LastSeen.In(loc), b.Window.In(loc)
	if Render(a) != Render(b) {
		t.Error("text depends on the time zone of the alert's times")
	}
	if Render(a) != Render(a) {
		t.Error("text differs between two renders")
	}
}

func TestTextErrors(t *testing.T) {
	if err := Text(&bytes.Buffer{}, nil); err == nil {
		t.Error("nil alert: no error")
	}
	werr := errors.New("disk full")
	if err := Text(failWriter{werr}, alerttest.Sparse()); !errors.Is(err, werr) {
		t.Errorf("write error not wrapped: %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestFormatCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1: "1", 999: "999", 1000: "1,000", 10000: "10,000",
		1234567: "1,234,567", -1234: "-1,234"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "plain",
		"grüße ✓":       "grüße ✓",
		"a\x1b[2Jb":     `a\x1b[2Jb`,
		"rtl\u202eflip": `rtl\u202eflip`,
		"bad\xffbyte":   `bad\xffbyte`,
		"c1\u0085x":     `c1\x85x`,
		"zw\u200bj":     `zw\u200bj`,
		"tab\there":     `tab\x09here`,
		"line\u2028sep": `line\u2028sep`,
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
		for _, r := range clean(in) {
			if unsafeRune(r) || r == unicode.ReplacementChar {
				t.Errorf("clean(%q) kept %U", in, r)
			}
		}
	}
}
