package alerts

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/secretwatch/secretwatch/detector"
)

// Severities are the alert severities, most severe first.
var Severities = []string{detector.SeverityCritical, detector.SeverityHigh, detector.SeverityMedium, detector.SeverityLow}

func severityRank(s string) int {
	if i := slices.Index(Severities, strings.ToLower(s)); i >= 0 {
		return i
	}
	return len(Severities)
}

// SortBySeverity orders alerts most severe first, then by when they began (the order of
// [detector.SortAlerts] within a severity).
func SortBySeverity(as []*detector.Alert) {
	slices.SortStableFunc(as, func(a, b *detector.Alert) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), a.FirstSeen.Compare(b.FirstSeen))
	})
}

// TableRows is the most alerts [Table] lists: the table fits on one screen.
const TableRows = 20

// Table column widths, in runes (longer values are cut in the middle, "...").
const (
	colSeverity  = 8
	colRule      = 20
	colSecret    = 28
	colPrincipal = 32
)

// Table writes a one-screen summary of as, one line per alert in the order given: severity,
// rule, secret, principal, count. Values are escaped and cut to their column; at most
// [TableRows] lines, then how many more there are.
func Table(w io.Writer, as []*detector.Alert) error {
	var b strings.Builder
	row := func(sev, rule, secret, principal, count string) {
		fmt.Fprintf(&b, "%s  %s  %s  %s  %s\n", pad(sev, colSeverity), pad(rule, colRule), pad(secret, colSecret), pad(principal, colPrincipal), count)
	}
	fmt.Fprintf(&b, "%d %s\n\n", len(as), pluralS(len(as), "alert", "alerts"))
	row("SEVERITY", "RULE", "SECRET", "PRINCIPAL", "COUNT")
	for i, a := range as {
		if i == TableRows {
			fmt.Fprintf(&b, "... and %d more (all in full below)\n", len(as)-TableRows)
			break
		}
		row(strings.ToUpper(Fit(orDefault(a.Severity, "alert"), colSeverity)), Fit(orDefault(a.Rule, "alert"), colRule),
			Fit(orDefault(target(a), unknown), colSecret), Fit(orDefault(shortPrincipal(a), unknown), colPrincipal), formatCount(a.Count))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("alerts: table: %w", err)
	}
	return nil
}

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

func pluralS(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Fit returns s escaped (see [Escape]) and, when longer than n runes, cut in its middle to n
// runes with "..." (the head gives the context, the tail, usually the name, is kept).
func Fit(s string, n int) string {
	s = Escape(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	const dots = "..."
	if n <= len(dots) {
		return string([]rune(s)[:max(n, 0)])
	}
	r := []rune(s)
	keep := n - len(dots)
	head := keep / 3
	return string(r[:head]) + dots + string(r[len(r)-(keep-head):])
}
