package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the renderings Write knows.
var Formats = []string{"text", "markdown", "html", "csv", "json"}

// Write renders r in format (one of Formats).
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case "text":
		return WriteText(w, r)
	case "markdown", "md":
		return WriteMarkdown(w, r)
	case "html":
		return WriteHTML(w, r)
	case "csv":
		return WriteCSV(w, r)
	case "json":
		return WriteJSON(w, r)
	}
	return fmt.Errorf("report: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the report as one indented JSON document (docs/report.md). It streams
// secret by secret, so a large report is never held twice in memory.
func WriteJSON(w io.Writer, r *Report) error {
	head := *r
	head.Secrets = []*Secret{}
	b, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	const tail = "[]\n}"
	if !bytes.HasSuffix(b, []byte(tail)) {
		return fmt.Errorf("report: json: unexpected encoding of the report's head")
	}
	bw := bufio.NewWriter(w)
	bw.Write(b[:len(b)-len(tail)])
	if len(r.Secrets) == 0 {
		bw.WriteString("[]\n}\n")
		return bw.Flush()
	}
	bw.WriteString("[\n")
	for i, s := range r.Secrets {
		b, err := json.MarshalIndent(s, "    ", "  ")
		if err != nil {
			return err
		}
		bw.WriteString("    ")
		bw.Write(b)
		if i < len(r.Secrets)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}

const (
	dayFmt  = "2006-01-02"
	timeFmt = "2006-01-02 15:04"
)

// LastDay is the last day of the period (To is exclusive).
func (r *Report) LastDay() time.Time { return r.To.Add(-24 * time.Hour) }

// PreviousLast is the last day of the previous period.
func (r *Report) PreviousLast() time.Time { return r.From.Add(-24 * time.Hour) }

// Days is the period's length in days.
func (r *Report) Days() int { return int(r.To.Sub(r.From) / (24 * time.Hour)) }

func (r *Report) periodLine() string {
	s := fmt.Sprintf("%s to %s (%d days, UTC)", r.From.Format(dayFmt), r.LastDay().Format(dayFmt), r.Days())
	switch r.PeriodEnd {
	case EndLatest:
		s += ", ending with the day of the latest event in the store"
	case EndNow:
		s += ", ending today (the store is empty)"
	}
	return s
}

func (r *Report) previousLine() string {
	return fmt.Sprintf("%s to %s", r.PreviousFrom.Format(dayFmt), r.From.Add(-24*time.Hour).Format(dayFmt))
}

// change formats cur against prev: "+12", "-3", "0".
func change(cur, prev int64) string {
	if d := cur - prev; d > 0 {
		return "+" + strconv.FormatInt(d, 10)
	}
	return strconv.FormatInt(cur-prev, 10)
}

func alertsLine(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", clean(k), m[k]))
	}
	return strings.Join(parts, ", ")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeFmt)
}

// flags are a principal's markers.
func (p *Principal) flags() []string {
	var f []string
	if p.New {
		f = append(f, "NEW")
	}
	if p.Allowed != nil && !*p.Allowed {
		f = append(f, "NOT ALLOWED")
	}
	return f
}

func cleanList(vs []string, sep string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = clean(v)
	}
	return strings.Join(out, sep)
}

func (s *Secret) title() string {
	if s.Unmatched {
		return "allow-list entry " + s.Secret
	}
	return s.Secret
}

// WriteText writes the report for a terminal or an e-mail.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	t := r.Totals
	fmt.Fprintf(bw, "secretwatch report: who accessed which secret\n")
	fmt.Fprintf(bw, "Period:   %s\n", r.periodLine())
	fmt.Fprintf(bw, "Compared: %s (change columns)\n", r.previousLine())
	if !r.HistoryFrom.IsZero() {
		fmt.Fprintf(bw, "History:  since %s (\"new\" = not seen since then)\n", r.HistoryFrom.Format(dayFmt))
	}
	if r.AllowList != "" {
		fmt.Fprintf(bw, "Allow-list: %s\n", clean(r.AllowList))
	}
	if r.Secret != "" {
		fmt.Fprintf(bw, "Secrets matching: %s\n", clean(r.Secret))
	}
	fmt.Fprintf(bw, "\n%d secrets (%d with no reads), %d principal-secret pairs (%d new), %d reads (%s), %d denied (%s), %d allowed-but-unused patterns, %d alerts\n",
		t.Secrets, t.SecretsNoReads, t.Principals, t.NewPrincipals, t.Reads, change(t.Reads, t.PreviousReads), t.Denied, change(t.Denied, t.PreviousDenied), t.AllowedUnused, t.Alerts)
	for _, s := range r.Secrets {
		fmt.Fprintf(bw, "\n== %s\n", clean(s.title()))
		if s.SecretARN != "" {
			fmt.Fprintf(bw, "   %s\n", clean(s.SecretARN))
		}
		if s.Unmatched {
			fmt.Fprintf(bw, "   no secret in the store matches this entry\n")
		}
		fmt.Fprintf(bw, "   reads %d (previous %d, %s), denied %d (previous %d, %s)", s.Reads, s.PreviousReads, change(s.Reads, s.PreviousReads),
			s.Denied, s.PreviousDenied, change(s.Denied, s.PreviousDenied))
		if s.Reads == 0 {
			fmt.Fprintf(bw, " — NO READS: a candidate to retire")
		}
		fmt.Fprintln(bw)
		if s.AllowEntry != "" {
			fmt.Fprintf(bw, "   allow-list entry %s", clean(s.AllowEntry))
			if s.Owner != "" {
				fmt.Fprintf(bw, ", owner %s", clean(s.Owner))
			}
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "   alerts: %s\n", alertsLine(s.Alerts))
		if s.Reads > 0 || s.Denied > 0 {
			var days []string
			for _, d := range s.Daily {
				days = append(days, strconv.FormatInt(d.Reads, 10))
			}
			fmt.Fprintf(bw, "   daily reads: %s", strings.Join(days, " "))
			if s.Baseline != nil {
				fmt.Fprintf(bw, " (usual %g-%g, median %g, over %d days)", s.Baseline.Low, s.Baseline.High, s.Baseline.Median, s.Baseline.Days)
			}
			fmt.Fprintln(bw)
		}
		if len(s.Principals) > 0 {
			tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "   \tPRINCIPAL\tTYPE\tREADS\tCHANGE\tDENIED\tFIRST SEEN\tLAST SEEN\t")
			for _, p := range s.Principals {
				fmt.Fprintf(tw, "   \t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", clean(p.Principal), orDash(clean(p.PrincipalType)), p.Reads,
					change(p.Reads, p.PreviousReads), p.Denied, fmtTime(p.FirstSeen), fmtTime(p.LastSeen), strings.Join(p.flags(), ", "))
			}
			tw.Flush()
			for _, p := range s.Principals {
				var from []string
				if len(p.SourceIPs) > 0 {
					from = append(from, "IPs "+cleanList(p.SourceIPs, ", "))
				}
				if len(p.VPCEndpointIDs) > 0 {
					from = append(from, "VPC endpoints "+cleanList(p.VPCEndpointIDs, ", "))
				}
				if len(p.UserAgents) > 0 {
					from = append(from, "agents "+cleanList(p.UserAgents, " | "))
				}
				if len(from) > 0 {
					fmt.Fprintf(bw, "   %s: %s\n", clean(p.Principal), strings.Join(from, "; "))
				}
			}
		}
		if len(s.AllowedUnused) > 0 {
			fmt.Fprintf(bw, "   allowed but unused (grants to remove?): %s\n", cleanList(s.AllowedUnused, ", "))
		}
	}
	return bw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteMarkdown writes the report as GitHub-flavoured Markdown. Every value from the logs is a
// code span (nothing in it is interpreted) with control characters escaped.
func WriteMarkdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	t := r.Totals
	fmt.Fprintf(bw, "# secretwatch report: who accessed which secret\n\n")
	fmt.Fprintf(bw, "- **Period:** %s\n", r.periodLine())
	fmt.Fprintf(bw, "- **Compared with:** %s\n", r.previousLine())
	if !r.HistoryFrom.IsZero() {
		fmt.Fprintf(bw, "- **History since:** %s (*new* = not seen since then)\n", r.HistoryFrom.Format(dayFmt))
	}
	if r.AllowList != "" {
		fmt.Fprintf(bw, "- **Allow-list:** %s\n", mdCode(r.AllowList))
	}
	if r.Secret != "" {
		fmt.Fprintf(bw, "- **Secrets matching:** %s\n", mdCode(r.Secret))
	}
	fmt.Fprintf(bw, "\n| Secret | Reads | Change | Denied | Principals | New | Unused grants | Alerts |\n|---|--:|--:|--:|--:|--:|--:|---|\n")
	for _, s := range r.Secrets {
		name := mdCode(s.Secret)
		if s.Unmatched {
			name += " (allow-list entry, no secret seen)"
		}
		if s.Reads == 0 {
			name += " **no reads**"
		}
		nNew := 0
		for _, p := range s.Principals {
			if p.New {
				nNew++
			}
		}
		fmt.Fprintf(bw, "| %s | %d | %s | %d | %d | %d | %d | %s |\n", name, s.Reads, change(s.Reads, s.PreviousReads), s.Denied,
			len(s.Principals), nNew, len(s.AllowedUnused), alertsLine(s.Alerts))
	}
	fmt.Fprintf(bw, "| **total** | %d | %s | %d | %d | %d | %d | %d |\n", t.Reads, change(t.Reads, t.PreviousReads), t.Denied, t.Principals, t.NewPrincipals, t.AllowedUnused, t.Alerts)
	for _, s := range r.Secrets {
		if len(s.Principals) == 0 && len(s.AllowedUnused) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n## %s\n\n", mdCode(s.Secret))
		if s.SecretARN != "" {
			fmt.Fprintf(bw, "%s  \n", mdCode(s.SecretARN))
		}
		if s.AllowEntry != "" {
			fmt.Fprintf(bw, "Allow-list entry %s", mdCode(s.AllowEntry))
			if s.Owner != "" {
				fmt.Fprintf(bw, ", owner %s", mdCode(s.Owner))
			}
			fmt.Fprintf(bw, "  \n")
		}
		fmt.Fprintf(bw, "Reads %d (previous %d), denied %d (previous %d), alerts: %s\n", s.Reads, s.PreviousReads, s.Denied, s.PreviousDenied, alertsLine(s.Alerts))
		if len(s.Principals) > 0 {
			fmt.Fprintf(bw, "\n| Principal | Type | Reads | Change | Denied | First seen | Last seen | Source IPs | VPC endpoints | User agents |\n|---|---|--:|--:|--:|---|---|---|---|---|\n")
			for _, p := range s.Principals {
				name := mdCode(p.Principal)
				for _, f := range p.flags() {
					name += " **" + strings.ToLower(f) + "**"
				}
				fmt.Fprintf(bw, "| %s | %s | %d | %s | %d | %s | %s | %s | %s | %s |\n", name, mdCode(p.PrincipalType), p.Reads, change(p.Reads, p.PreviousReads),
					p.Denied, fmtTime(p.FirstSeen), fmtTime(p.LastSeen), mdList(p.SourceIPs), mdList(p.VPCEndpointIDs), mdList(p.UserAgents))
			}
		}
		if len(s.AllowedUnused) > 0 {
			fmt.Fprintf(bw, "\nAllowed but unused this period (grants to remove?): %s\n", mdList(s.AllowedUnused))
		}
	}
	return bw.Flush()
}

func mdList(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = mdCode(v)
	}
	return strings.Join(out, ", ")
}

// CSVHeader is the CSV rendering's header. Each row is one of: kind "secret" (the secret's
// totals; principal empty), "principal" (one principal of the secret), "allowed-unused" (principal
// is the unused allow-list pattern) or "alerts" (rule and alerts). Lists are joined with "; ".
var CSVHeader = []string{"from", "to", "kind", "secret", "secretARN", "principal", "principalType", "reads", "previousReads",
	"denied", "previousDenied", "firstSeen", "lastSeen", "new", "allowed", "sourceIPs", "vpcEndpointIds", "userAgents", "rule", "alerts"}

// WriteCSV writes one table (CSVHeader) for spreadsheets. Cells are cleaned of control
// characters and defused against formula injection.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	from, to := r.From.Format(time.RFC3339), r.To.Format(time.RFC3339)
	row := func(kind string, s *Secret, cells map[string]string) {
		out := make([]string, len(CSVHeader))
		cells["from"], cells["to"], cells["kind"], cells["secret"], cells["secretARN"] = from, to, kind, s.Secret, s.SecretARN
		for i, h := range CSVHeader {
			out[i] = csvCell(clean(cells[h]))
		}
		cw.Write(out)
	}
	cw.Write(CSVHeader)
	n := strconv.FormatInt
	for _, s := range r.Secrets {
		row("secret", s, map[string]string{"reads": n(s.Reads, 10), "previousReads": n(s.PreviousReads, 10), "denied": n(s.Denied, 10), "previousDenied": n(s.PreviousDenied, 10)})
		for _, p := range s.Principals {
			allowed := ""
			if p.Allowed != nil {
				allowed = strconv.FormatBool(*p.Allowed)
			}
			row("principal", s, map[string]string{
				"principal": p.Principal, "principalType": p.PrincipalType, "reads": n(p.Reads, 10), "previousReads": n(p.PreviousReads, 10),
				"denied": n(p.Denied, 10), "previousDenied": n(p.PreviousDenied, 10), "firstSeen": csvTime(p.FirstSeen), "lastSeen": csvTime(p.LastSeen),
				"new": strconv.FormatBool(p.New), "allowed": allowed, "sourceIPs": strings.Join(p.SourceIPs, "; "),
				"vpcEndpointIds": strings.Join(p.VPCEndpointIDs, "; "), "userAgents": strings.Join(p.UserAgents, "; "),
			})
		}
		for _, u := range s.AllowedUnused {
			row("allowed-unused", s, map[string]string{"principal": u})
		}
		for _, rule := range slices.Sorted(maps.Keys(s.Alerts)) {
			row("alerts", s, map[string]string{"rule": rule, "alerts": n(s.Alerts[rule], 10)})
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
