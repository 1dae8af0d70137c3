package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// SummaryTop is how many secrets, most read first, a summary lists.
const SummaryTop = 10

// WriteSummary writes a short plain-text summary of r for an email (the scheduled weekly
// delivery): the totals, the alerts by rule, the new principals and the most read secrets, at
// most SummaryTop of each list, followed by links (one per line, e.g. the S3 keys of the full
// report). Its size is bounded whatever the report: every value is cut to MaxValueBytes.
func WriteSummary(w io.Writer, r *Report, links []string) error {
	var b strings.Builder
	t := r.Totals
	fmt.Fprintf(&b, "secretwatch weekly report: %s to %s (UTC, %d days)\n\n", r.From.Format("2006-01-02"), r.LastDay().Format("2006-01-02"), r.Days())
	fmt.Fprintf(&b, "Secrets read: %d (no reads: %d)\n", t.Secrets-t.SecretsNoReads, t.SecretsNoReads)
	fmt.Fprintf(&b, "Reads: %d (previous period %d), denied: %d (previous %d)\n", t.Reads, t.PreviousReads, t.Denied, t.PreviousDenied)
	fmt.Fprintf(&b, "Principal-secret pairs: %d, new this period: %d\n", t.Principals, t.NewPrincipals)
	fmt.Fprintf(&b, "Allowed but unused grants: %d\n", t.AllowedUnused)
	alerts := map[string]int64{}
	for _, s := range r.Secrets {
		for rule, n := range s.Alerts {
			alerts[rule] += n
		}
	}
	fmt.Fprintf(&b, "Alerts raised: %d\n", t.Alerts)
	for _, rule := range slices.Sorted(maps.Keys(alerts)) {
		fmt.Fprintf(&b, "  %s: %d\n", clean(Bound(rule)), alerts[rule])
	}

	type pair struct{ secret, principal string }
	var fresh []pair
	for _, s := range r.Secrets {
		for _, p := range s.Principals {
			if p.New {
				fresh = append(fresh, pair{s.Secret, p.Principal})
			}
		}
	}
	if len(fresh) > 0 {
		fmt.Fprintf(&b, "\nNew principals (%d):\n", len(fresh))
		for _, p := range fresh[:min(len(fresh), SummaryTop)] {
			fmt.Fprintf(&b, "  %s reads %s\n", orDash(clean(Bound(p.principal))), clean(Bound(p.secret)))
		}
		if len(fresh) > SummaryTop {
			fmt.Fprintf(&b, "  … and %d more\n", len(fresh)-SummaryTop)
		}
	}
	read := slices.DeleteFunc(slices.Clone(r.Secrets), func(s *Secret) bool { return s.Reads+s.Denied == 0 })
	slices.SortStableFunc(read, func(a, c *Secret) int { return cmp.Compare(c.Reads+c.Denied, a.Reads+a.Denied) })
	if len(read) > 0 {
		fmt.Fprintf(&b, "\nMost read secrets:\n")
		for _, s := range read[:min(len(read), SummaryTop)] {
			fmt.Fprintf(&b, "  %s: %d reads, %d denied, %d principals\n", clean(Bound(s.Secret)), s.Reads, s.Denied, len(s.Principals))
		}
	}
	if len(links) > 0 {
		fmt.Fprintf(&b, "\nFull report:\n")
		for _, l := range links {
			fmt.Fprintf(&b, "  %s\n", clean(Bound(l)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
