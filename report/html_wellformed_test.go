package report_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/secretwatch/secretwatch/internal/textsafe"
	"github.com/secretwatch/secretwatch/report"
)

// page is what parsePage makes of an HTML report.
type page struct {
	skeleton []string          // every tag with its attribute names (and class), in order
	text     string            // the decoded element text, concatenated
	attrs    map[string]string // decoded title and aria-label values, "name=value" → ""
	titles   []string          // decoded title attribute values
	raw      map[string]string // the contents of <style> and <script>
}

// parsePage is a strict tokenizer for the subset of HTML the writer emits, failing on anything
// else: the doctype; tags with lowercase names and double-quoted attribute values; every element
// closed in order (meta is void; a self-closing tag only inside <svg>); <style> and <script> raw
// up to their end tag; text and attribute values holding no '<' or '>', no character reference
// but the six the escaper writes, and no control character but the newline.
func parsePage(src string) (*page, error) {
	const doctype = "<!DOCTYPE html>\n"
	if !strings.HasPrefix(src, doctype) {
		return nil, fmt.Errorf("no doctype")
	}
	p := &page{raw: map[string]string{}, attrs: map[string]string{}}
	var text strings.Builder
	var stack []string
	i := len(doctype)
	name := func() (string, error) {
		j := i
		for i < len(src) && (src[i] >= 'a' && src[i] <= 'z' || src[i] >= '0' && src[i] <= '9' || i > j && (src[i] == '-' || src[i] >= 'A' && src[i] <= 'Z')) {
			i++
		}
		if i == j {
			return "", fmt.Errorf("offset %d: no name", i)
		}
		return src[j:i], nil
	}
	for i < len(src) {
		if src[i] != '<' {
			j := strings.IndexByte(src[i:], '<')
			if j < 0 {
				j = len(src) - i
			}
			t, err := decode(src[i : i+j])
			if err != nil {
				return nil, fmt.Errorf("text at offset %d: %w", i, err)
			}
			text.WriteString(t)
			i += j
			continue
		}
		i++
		if strings.HasPrefix(src[i:], "/") {
			i++
			n, err := name()
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(src[i:], ">") {
				return nil, fmt.Errorf("offset %d: end tag %s not closed", i, n)
			}
			i++
			if len(stack) == 0 || stack[len(stack)-1] != n {
				return nil, fmt.Errorf("offset %d: </%s> closes %v", i, n, stack)
			}
			stack = stack[:len(stack)-1]
			p.skeleton = append(p.skeleton, "/"+n)
			continue
		}
		n, err := name()
		if err != nil {
			return nil, err
		}
		tag := n
		self := false
		for {
			if strings.HasPrefix(src[i:], ">") {
				i++
				break
			}
			if strings.HasPrefix(src[i:], "/>") {
				if !slices.Contains(stack, "svg") {
					return nil, fmt.Errorf("offset %d: self-closing <%s> outside svg", i, n)
				}
				self = true
				i += 2
				break
			}
			if !strings.HasPrefix(src[i:], " ") {
				return nil, fmt.Errorf("offset %d: <%s: want a space, > or />, got %.20q", i, n, src[i:])
			}
			i++
			a, err := name()
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(src[i:], `="`) {
				return nil, fmt.Errorf("offset %d: attribute %s of <%s> not double-quoted", i, a, n)
			}
			i += 2
			j := strings.IndexByte(src[i:], '"')
			if j < 0 {
				return nil, fmt.Errorf("offset %d: attribute %s of <%s> not closed", i, a, n)
			}
			v, err := decode(src[i : i+j])
			if err != nil {
				return nil, fmt.Errorf("attribute %s of <%s> at offset %d: %w", a, n, i, err)
			}
			i += j + 1
			tag += " " + a
			switch a {
			case "class":
				tag += "=" + v
			case "title", "aria-label":
				p.titles = append(p.titles, v)
			}
		}
		p.skeleton = append(p.skeleton, tag)
		switch {
		case n == "style" || n == "script":
			end := "</" + n + ">"
			j := strings.Index(src[i:], end)
			if j < 0 {
				return nil, fmt.Errorf("<%s> not closed", n)
			}
			p.raw[n] += src[i : i+j]
			i += j + len(end)
			p.skeleton = append(p.skeleton, "/"+n)
		case n == "meta" || self:
		default:
			stack = append(stack, n)
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("unclosed %v", stack)
	}
	p.text = text.String()
	return p, nil
}

// decode checks s is safe text or attribute content and replaces its character references.
func decode(s string) (string, error) {
	for _, c := range s {
		switch {
		case c == '<' || c == '>' || c == '"':
			return "", fmt.Errorf("raw %q in %.80q", c, s)
		case c != '\n' && textsafe.Unsafe(c), c == unicode.ReplacementChar:
			return "", fmt.Errorf("raw %U in %.80q", c, s)
		}
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		ref, _, ok := strings.Cut(s, ";")
		c, known := references[ref]
		if !ok || !known {
			return "", fmt.Errorf("bare & in %.40q", s)
		}
		b.WriteString(c)
		s = s[len(ref)+1:]
	}
}

// references are the character references the escaper writes (without the ';').
var references = map[string]string{"&amp": "&", "&lt": "<", "&gt": ">", "&#34": `"`, "&#39": "'", "&#43": "+"}

// valuesReport is a report whose every attacker-controlled string is v (principals, types,
// secrets, ARNs, allow-list entries and owners, source IPs, VPC endpoints, user agents, rules,
// unused patterns, the allow-list file and the secret filter), with enough rows to reach every
// part of the page.
func valuesReport(v string) *report.Report {
	no, yes := false, true
	r := &report.Report{From: fixFrom, To: fixTo, PreviousFrom: fixFrom.AddDate(0, 0, -7), PeriodEnd: report.EndLatest,
		Generated: fixtureClock, HistoryFrom: fixFrom.AddDate(0, 0, -28), AllowList: v, Secret: v}
	for i := range 3 {
		s := &report.Secret{Secret: v, SecretARN: v, AllowEntry: v, Owner: v, Unmatched: i == 2, Reads: int64(10 * (1 - i%2)), Denied: 1,
			PreviousReads: 4, Alerts: map[string]int64{v: 2}, AllowedUnused: []string{v, v},
			Baseline: &report.Band{Days: 21, Low: 1, Median: 3, High: 9}}
		for d := range 7 {
			s.Daily = append(s.Daily, report.DayCount{Day: fixFrom.AddDate(0, 0, d).Format("2006-01-02"), Reads: int64(d), Denied: int64(d % 2)})
		}
		for j := range 3 {
			s.Principals = append(s.Principals, &report.Principal{Principal: v, PrincipalType: v, Reads: int64(5 - j), Denied: 1,
				FirstSeen: fixFrom, LastSeen: fixTo.Add(-1), New: j == 0, Allowed: []*bool{&yes, &no, nil}[j],
				SourceIPs: []string{v, v}, VPCEndpointIDs: []string{v}, UserAgents: []string{v, v}})
		}
		r.Secrets = append(r.Secrets, s)
	}
	return r
}

// checkValueStaysText renders the report of v and fails unless the page is well formed, has
// exactly the tags and attributes of the report of a plain value, the same style sheet and
// script, and shows v — escaped as in every human format — as text and in the title attributes.
func checkValueStaysText(t *testing.T, v string) {
	t.Helper()
	render := func(v string) *page {
		t.Helper()
		var b bytes.Buffer
		if err := report.WriteHTML(&b, valuesReport(v)); err != nil {
			t.Fatal(err)
		}
		p, err := parsePage(b.String())
		if err != nil {
			t.Fatalf("value %.200q: the page is not well formed: %v", v, err)
		}
		return p
	}
	plain := "x"
	if v == "" {
		plain = ""
	}
	got, want := render(v), render(plain)
	if !slices.Equal(got.skeleton, want.skeleton) {
		for i := range min(len(got.skeleton), len(want.skeleton)) {
			if got.skeleton[i] != want.skeleton[i] {
				t.Fatalf("value %.200q changed the markup at tag %d: %q, want %q", v, i, got.skeleton[i], want.skeleton[i])
			}
		}
		t.Fatalf("value %.200q changed the markup: %d tags, want %d", v, len(got.skeleton), len(want.skeleton))
	}
	if got.raw["style"] != want.raw["style"] || got.raw["script"] != want.raw["script"] {
		t.Fatalf("value %.200q changed the style sheet or the script", v)
	}
	if v == "" {
		return
	}
	shown := textsafe.EscapeStrict(v)
	// 3 secrets × (3 principal rows + 3 needs-a-look + ...): at least the 9 principal cells.
	if n := strings.Count(got.text, shown); n < 9 {
		t.Errorf("value %.200q shown %d times as text, want at least 9", v, n)
	}
	if n := strings.Count(strings.Join(got.titles, "\x00"), shown); n < 18 {
		t.Errorf("value %.200q in %d title attributes, want 18 (user agents)", v, n)
	}
}

// No value from the logs can leave the text or attribute value it is written in: not markup,
// quotes, the end of the style sheet or script, CDATA ends, control characters, invalid UTF-8 or
// a megabyte-long string.
func TestHTMLValuesCannotBreakOut(t *testing.T) {
	for _, v := range hostileHTMLValues {
		checkValueStaysText(t, v)
	}
	checkValueStaysText(t, strings.Repeat(`<x a="'>&`, 1<<13)) // 72 KB (the stores cut values to 256 B)
}

var hostileHTMLValues = []string{
	"", "plain", "arn:aws:iam::111122223333:role/app",
	`<script>alert(1)</script>`, `"><script>alert(1)</script>`, `' onmouseover='alert(1)`, `" onmouseover="alert(1)`,
	`</style><script>alert(1)</script>`, `</script><script>alert(1)</script>`, `</title><script>x</script>`,
	`]]><script>x</script>`, `<![CDATA[x]]>`, `<!-- x -->`, `--><script>x</script>`,
	`</svg><img src=x onerror=alert(1)>`, `</textarea></noscript></xmp>`, `&lt;b&gt;`, `&#60;`, `&`, `&amp`,
	"\x00\x01\x1b[31m\x7f\u0085\u200b\u202e\u2028\u2029\ufeff", "\xff\xfe<\xc3", `\x1b`, `+ADw-script+AD4-`,
	"a\nb\r\nc\td", "javascript:alert(1)", "#s0", "=cmd|' /C calc'!A0", "é ü 日本 🙂",
}

// The writer's output is well formed and keeps every value in its place, whatever the value.
func FuzzWriteHTML(f *testing.F) {
	for _, v := range hostileHTMLValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkValueStaysText(t, v)
	})
}

// The checker can fail: markup that breaks out, a quote ending an attribute early, a bare
// ampersand, a raw control character, an unclosed element are each refused.
func TestParsePageRefuses(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteHTML(&b, valuesReport("VALUE")); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	if _, err := parsePage(good); err != nil {
		t.Fatalf("the writer's own page: %v", err)
	}
	for _, bad := range []string{`<b>x</b>`, `x" onclick="y`, `a & b`, "\x1b[2J", `<td>`, `</td>`, `a > b`} {
		if _, err := parsePage(strings.ReplaceAll(good, "VALUE", bad)); err == nil {
			// <b>x</b> is well formed: it must change the skeleton instead.
			p, _ := parsePage(strings.ReplaceAll(good, "VALUE", bad))
			q, _ := parsePage(good)
			if p == nil || slices.Equal(p.skeleton, q.skeleton) {
				t.Errorf("a raw %q passed the check", bad)
			}
		}
	}
}
