package report

import (
	"strings"

	"github.com/secretwatch/secretwatch/internal/textsafe"
)

// clean makes an attacker-controlled value safe to print in a human format (textsafe.EscapeStrict):
// control and invisible formatting characters and invalid bytes become visible escapes, and a
// backslash is doubled so that an escape cannot be forged.
func clean(s string) string { return textsafe.EscapeStrict(s) }

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
