package detector

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// Learner proposes an allow-list from history: every (secret, principal) pair with a successful
// read. It de-duplicates by event ID, so duplicate deliveries do not inflate the counts.
type Learner struct {
	pairs   map[SeriesKey]*learnt
	secrets map[string]SecretRef
	seen    map[string]struct{}
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
	return &Learner{pairs: map[SeriesKey]*learnt{}, secrets: map[string]SecretRef{}, seen: map[string]struct{}{}}
}

// Add considers one record; anything but a successful GetSecretValue is ignored.
func (l *Learner) Add(rec *cloudtrail.Record) {
	if rec == nil || rec.EventSource != "secretsmanager.amazonaws.com" || rec.EventName != "GetSecretValue" ||
		rec.ErrorCode != "" || rec.EventID == "" || rec.EventTime.IsZero() {
		return
	}
	if _, dup := l.seen[rec.EventID]; dup {
		return
	}
	p, err := NormalisePrincipal(rec.UserIdentity)
	if err != nil {
		return
	}
	ids, _, err := secretIDs(rec.RequestParameters)
	if err != nil || len(ids) == 0 {
		return
	}
	ref, err := ParseSecretID(ids[0], rec.RecipientAccountID, rec.AWSRegion)
	if err != nil {
		return
	}
	l.seen[rec.EventID] = struct{}{}
	if prev, ok := l.secrets[ref.Key()]; !ok || prev.ARN == "" {
		l.secrets[ref.Key()] = ref
	}
	k := SeriesKey{Secret: ref.Key(), Principal: p.ARN}
	e := l.pairs[k]
	t := rec.EventTime.Time
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
	keys := make([]string, 0, len(l.secrets))
	for k := range l.secrets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ra, rb := l.secrets[a], l.secrets[b]
		return cmp.Or(cmp.Compare(ra.Name, rb.Name), cmp.Compare(ra.Account, rb.Account), cmp.Compare(ra.Region, rb.Region))
	})
	byKey := map[string][]SeriesKey{}
	for k := range l.pairs {
		byKey[k.Secret] = append(byKey[k.Secret], k)
	}
	for _, key := range keys {
		ref := l.secrets[key]
		bw.printf("  - secret: %s\n", yamlString(ref.Name))
		if ref.ARN != "" {
			bw.printf("    # %s\n", ref.ARN)
		}
		bw.printf("    account: %s\n    region: %s\n    allow:\n", yamlString(ref.Account), yamlString(ref.Region))
		ps := byKey[key]
		slices.SortFunc(ps, func(a, b SeriesKey) int { return cmp.Compare(a.Principal, b.Principal) })
		for _, p := range ps {
			e := l.pairs[p]
			note := ""
			if !e.known {
				note = "; unknown identity type " + e.ptype
			}
			lead := "- "
			if checkPrincipalPattern(p.Principal) != nil {
				// Not a pattern the allow-list accepts (an unknown identity type): leave it for a
				// person to decide rather than write a file that fails check-config.
				lead, note = "# - ", note+"; not a valid pattern, review by hand"
			}
			bw.printf("      %s%s # %s, %d reads, first %s, last %s%s\n", lead, yamlString(p.Principal), e.ptype, e.reads,
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
