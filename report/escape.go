package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes an attacker-controlled value safe to print in a human format: invalid UTF-8,
// control characters (C0, DEL, C1) and invisible formatting characters (bidi overrides,
// zero-width joiners, line and paragraph separators) become visible escapes; a backslash is
// doubled so that an escape cannot be forged.
func clean(s string) string {
	if !needsClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case unsafeRune(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsClean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\\' || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// mdCode renders an attacker-controlled value as a Markdown code span, the one inline form in
// which nothing is interpreted (no emphasis, links, autolinks or HTML). The fence is longer than
// any run of backticks in the value, and a pipe is escaped so the value cannot break a table
// (GFM splits cells before it parses code spans). Control characters are escaped first.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(clean(s), "|", `\|`)
	run, longest := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || s[0] == ' ' || s[len(s)-1] == ' ' {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// csvCell defuses spreadsheet formulas: a cell starting with = + - @ (or a tab or carriage
// return, which some spreadsheets skip) gets a leading apostrophe. encoding/csv does the quoting.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
