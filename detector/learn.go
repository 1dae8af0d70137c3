package detector

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// Learner proposes an allow-list from history: every (secret, principal) pair with a successful
// read. It de-duplicates by event ID, so duplicate deliveries do not inflate the counts.
type Learner struct {
	pairs   map[SeriesKey]*learnt
	secrets map[string]SecretRef
	seen    map[string]struct{}
	norm    *Normaliser
	paths   map[string]*pathsSeen // secret key → how its reads arrived
	from    time.Time
	to      time.Time
	reads   int64
}

type learnt struct {
	reads       int64
	first, last time.Time
	ptype       string
	known       bool
}

// NewLearner returns an empty learner.
func NewLearner() *Learner {
	return &Learner{pairs: map[SeriesKey]*learnt{}, secrets: map[string]SecretRef{}, seen: map[string]struct{}{},
		norm: NewNormaliser(nil, 0), paths: map[string]*pathsSeen{}}
}

// Add considers one record; anything but a successful GetSecretValue is ignored. It normalises
// with the detector's own Normaliser, so what it proposes is what the detector will match.
func (l *Learner) Add(rec *cloudtrail.Record) {
	ev, reason := l.norm.Normalise(rec)
	if reason != "" || !ev.Recorded || ev.Denied {
		return
	}
	if _, dup := l.seen[ev.Read.EventID]; dup {
		return
	}
	ref, p := ev.Secret, ev.Principal
	l.seen[ev.Read.EventID] = struct{}{}
	ps := l.paths[ref.Key()]
	if ps == nil {
		ps = &pathsSeen{}
		l.paths[ref.Key()] = ps
	}
	ps.add(ev)
	if prev, ok := l.secrets[ref.Key()]; !ok || prev.ARN == "" {
		l.secrets[ref.Key()] = ref
	}
	k := SeriesKey{Secret: ref.Key(), Principal: p.ARN}
	e := l.pairs[k]
	t := ev.Time
	if e == nil {
		e = &learnt{first: t, last: t, ptype: p.Type, known: p.Known}
		l.pairs[k] = e
	}
	e.reads++
	e.first = minTime(e.first, t)
	e.last = maxTime(e.last, t)
	l.reads++
	if l.from.IsZero() || t.Before(l.from) {
		l.from = t
	}
	if t.After(l.to) {
		l.to = t
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// pathsSeen is how one secret's successful reads arrived, for proposing network: expectations.
type pathsSeen struct {
	reads, other int64 // all reads; reads through neither a VPC endpoint nor a service
	vpce, via    []string
}

// maxProposedPaths bounds the endpoints and services remembered per secret; more than that is
// not a path worth pinning.
const maxProposedPaths = 4

func (ps *pathsSeen) add(ev Event) {
	ps.reads++
	ui := ev.Record.UserIdentity
	switch {
	case ev.Record.VPCEndpointID != "":
		ps.vpce = addDistinct(ps.vpce, bound(ev.Record.VPCEndpointID))
	case ui != nil && ui.InvokedBy != "" && ev.Principal.Type != TypeAWSService:
		ps.via = addDistinct(ps.via, bound(ui.InvokedBy))
	default:
		ps.other++
	}
}

func addDistinct(s []string, v string) []string {
	if slices.Contains(s, v) || len(s) > maxProposedPaths {
		return s
	}
	return append(s, v)
}

// minReadsForPaths: a network: proposal needs this much history of the secret.
const minReadsForPaths = 20

// proposal is the network: block learn proposes: every read of the secret came through a
// few VPC endpoints or services; "" otherwise.
func (ps *pathsSeen) proposal(lead string) string {
	if ps == nil || ps.reads < minReadsForPaths || ps.other > 0 || len(ps.vpce) == 0 ||
		len(ps.vpce) > maxProposedPaths || len(ps.via) > maxProposedPaths {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s  network: # every one of %d reads came this way: a read that does not is unexpected-network-path\n", lead, ps.reads)
	fmt.Fprintf(&b, "  %s    vpce: [%s]\n", lead, joinYAML(ps.vpce))
	if len(ps.via) > 0 {
		fmt.Fprintf(&b, "  %s    via: [%s]\n", lead, joinYAML(ps.via))
	}
	return b.String()
}

func joinYAML(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = yamlString(v)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// Pairs is the number of (secret, principal) pairs learnt.
func (l *Learner) Pairs() int { return len(l.pairs) }

// WriteYAML writes the proposed allow-list in the allow-list schema, with a comment per
// principal giving its reads and first and last seen. The output passes ParseAllowList.
func (l *Learner) WriteYAML(w io.Writer, sources string) error {
	bw := &errWriter{w: w}
	principals := map[string]struct{}{}
	for k := range l.pairs {
		principals[k.Principal] = struct{}{}
	}
	bw.printf("# Proposed by `secretwatch learn` from %s\n", sources)
	if l.reads > 0 {
		bw.printf("# %d successful reads of %d secrets by %d principals, %s – %s.\n",
			l.reads, len(l.secrets), len(principals), l.from.Format(time.RFC3339), l.to.Format(time.RFC3339))
	} else {
		bw.printf("# No successful GetSecretValue reads found.\n")
	}
	bw.printf("# This is what happened, not what should happen: review every principal before you commit it.\n")
	bw.printf("version: 1\n\n# Reads of secrets not named below are unexpected.\ndefaults:\n  allow: []\n\nsecrets:")
	if len(l.secrets) == 0 {
		bw.printf(" []\n")
		return bw.err
	}
	bw.printf("\n")
	// Entries are written per (account, region, name) as the allow-list can scope them: an
	// account that is not a 12-digit id (anonymised logs) cannot be written, so its secrets merge
	// with the unscoped entry of the same name (check-config rejects a secret listed twice).
	type entryKey struct{ account, region, name string }
	entryOf := func(ref SecretRef) entryKey {
		k := entryKey{region: ref.Region, name: ref.Name}
		if isAccountID(ref.Account) {
			k.account = ref.Account
		}
		return k
	}
	groups := map[entryKey][]string{}
	var entries []entryKey
	for k, ref := range l.secrets {
		ek := entryOf(ref)
		if _, ok := groups[ek]; !ok {
			entries = append(entries, ek)
		}
		groups[ek] = append(groups[ek], k)
	}
	slices.SortFunc(entries, func(a, b entryKey) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.account, b.account), cmp.Compare(a.region, b.region))
	})
	byKey := map[string][]SeriesKey{}
	for k := range l.pairs {
		byKey[k.Secret] = append(byKey[k.Secret], k)
	}
	for _, ek := range entries {
		keys := groups[ek]
		slices.Sort(keys)
		lead := ""
		if checkSecretPattern(ek.name) != nil {
			// A name the allow-list cannot express (white space): left for a person.
			lead = "# "
			bw.printf("  # secret %s is not a valid allow-list secret pattern; review by hand\n", yamlString(ek.name))
		}
		bw.printf("  %s- secret: %s\n", lead, yamlString(ek.name))
		for _, k := range keys {
			if ref := l.secrets[k]; ref.ARN != "" {
				bw.printf("    # %s\n", ref.ARN)
			}
			if ref := l.secrets[k]; ek.account == "" {
				bw.printf("    # account %s is not a 12-digit AWS account ID: entry not scoped to an account\n", yamlString(ref.Account))
			}
		}
		if ek.account != "" {
			bw.printf("  %s  account: %s\n", lead, yamlString(ek.account))
		}
		if ek.region != "" {
			bw.printf("  %s  region: %s\n", lead, yamlString(ek.region))
		}
		if len(keys) == 1 {
			bw.printf("%s", l.paths[keys[0]].proposal(lead))
		}
		bw.printf("  %s  allow:\n", lead)
		merged := map[string]*learnt{}
		var ps []string
		for _, k := range keys {
			for _, p := range byKey[k] {
				e := l.pairs[p]
				m := merged[p.Principal]
				if m == nil {
					c := *e
					merged[p.Principal] = &c
					ps = append(ps, p.Principal)
					continue
				}
				m.reads += e.reads
				m.first, m.last = minTime(m.first, e.first), maxTime(m.last, e.last)
			}
		}
		slices.Sort(ps)
		for _, p := range ps {
			e := merged[p]
			note := ""
			if !e.known {
				note = "; unknown identity type " + cleanKey(e.ptype)
			}
			lead := lead + "- "
			if checkPrincipalPattern(p) != nil {
				// Not a pattern the allow-list accepts (an unknown identity type): leave it for a
				// person to decide rather than write a file that fails check-config.
				lead, note = "# - ", note+"; not a valid pattern, review by hand"
			}
			bw.printf("      %s%s # %s, %d reads, first %s, last %s%s\n", lead, yamlString(p), cleanKey(e.ptype), e.reads,
				e.first.Format(time.RFC3339), e.last.Format(time.RFC3339), note)
		}
	}
	return bw.err
}

// yamlString quotes s as a YAML double-quoted scalar (JSON strings are valid YAML).
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
