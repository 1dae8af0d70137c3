package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/report"
)

// ReportStore is a store that also serves reports.
type ReportStore interface {
	detector.Store
	detector.Suppressor
	report.Source
}

// dayModel is the expected report.DayRow of one (secret, principal, day), computed the simple way.
type dayModel struct {
	reads, denied         int64
	first, last           time.Time
	ips, vpces, uas, arns map[string]bool
	principalType         string
}

type dayModelKey struct {
	day               time.Time
	secret, principal string
}

// withContext gives reads the context fields a detector fills (deterministic from i).
func withContext(reads []detector.Read) []detector.Read {
	for i := range reads {
		r := &reads[i]
		r.SourceIP = fmt.Sprintf("10.0.%d.%d", i%3, i%5)
		if i%4 == 0 {
			r.VPCEndpointID = fmt.Sprintf("vpce-%04d", i%2)
		}
		r.UserAgent = []string{"aws-sdk-go-v2/1.30", "Boto3/1.34", "aws-cli/2.15"}[i%3]
		r.PrincipalType = "AssumedRole"
		r.SecretARN = "arn:aws:secretsmanager:r:a:secret:" + r.Secret + "-AbCdEf"
	}
	return reads
}

// addModel records the reads not seen before into the model.
func addModel(m map[dayModelKey]*dayModel, seen map[string]bool, reads []detector.Read) {
	for _, r := range reads {
		if seen[r.EventID] {
			continue
		}
		seen[r.EventID] = true
		k := dayModelKey{report.Day(r.Time), r.Secret, r.Principal}
		d := m[k]
		if d == nil {
			d = &dayModel{ips: map[string]bool{}, vpces: map[string]bool{}, uas: map[string]bool{}, arns: map[string]bool{}}
			m[k] = d
		}
		if r.Denied {
			d.denied++
		} else {
			d.reads++
		}
		if d.first.IsZero() || r.Time.Before(d.first) {
			d.first = r.Time
		}
		if r.Time.After(d.last) {
			d.last = r.Time
		}
		for set, v := range map[*map[string]bool]string{&d.ips: r.SourceIP, &d.vpces: r.VPCEndpointID, &d.uas: r.UserAgent, &d.arns: r.SecretARN} {
			if v != "" {
				(*set)[v] = true
			}
		}
		d.principalType = r.PrincipalType
	}
}

// allDays returns every row the source has, by key.
func allDays(t *testing.T, src report.Source, from, to time.Time) map[dayModelKey]*report.DayRow {
	t.Helper()
	out := map[dayModelKey]*report.DayRow{}
	err := src.Days(t.Context(), from, to, func(r *report.DayRow) error {
		k := dayModelKey{r.Day, r.Secret, r.Principal}
		if out[k] != nil {
			return fmt.Errorf("row %+v yielded twice", k)
		}
		out[k] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkDays(t *testing.T, got map[dayModelKey]*report.DayRow, want map[dayModelKey]*dayModel) {
	t.Helper()
	for k, w := range want {
		g := got[k]
		if g == nil {
			t.Errorf("no row for %+v", k)
			continue
		}
		var d []string
		if g.Reads != w.reads || g.Denied != w.denied {
			d = append(d, fmt.Sprintf("reads/denied %d/%d, want %d/%d", g.Reads, g.Denied, w.reads, w.denied))
		}
		if !g.FirstSeen.Equal(w.first) || !g.LastSeen.Equal(w.last) {
			d = append(d, fmt.Sprintf("first/last %v %v, want %v %v", g.FirstSeen, g.LastSeen, w.first, w.last))
		}
		for _, c := range []struct {
			name string
			got  []string
			want map[string]bool
		}{{"sourceIPs", g.SourceIPs, w.ips}, {"vpcEndpointIds", g.VPCEndpointIDs, w.vpces}, {"userAgents", g.UserAgents, w.uas}} {
			if s := slices.Sorted(slices.Values(c.got)); !slices.Equal(s, slices.Sorted(maps.Keys(c.want))) {
				d = append(d, fmt.Sprintf("%s %q, want %q", c.name, s, slices.Sorted(maps.Keys(c.want))))
			}
		}
		if !w.arns[g.SecretARN] && len(w.arns) > 0 || g.PrincipalType != w.principalType {
			d = append(d, fmt.Sprintf("secretARN %q principalType %q", g.SecretARN, g.PrincipalType))
		}
		if len(d) > 0 {
			t.Errorf("row %+v: %s", k, strings.Join(d, "; "))
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("unexpected row %+v", k)
		}
	}
}

// ReportSource runs the report.Source contract tests: the day rows count each event once,
// whatever the deliveries; their value sets are bounded; Days, Alerts and Latest answer ranges.
func ReportSource(t *testing.T, opt Options, newStore func(t *testing.T) ReportStore) {
	if opt.Retention < 48*time.Hour {
		t.Fatalf("storetest: ReportSource needs Options.Retention of at least 48h, not %v", opt.Retention)
	}
	secrets := []string{"111122223333/us-east-1/db", "111122223333/eu-west-1/x"}
	principals := []string{"arn:aws:iam::111122223333:role/app", "arn:aws:iam::444455556666:user/a|b\x00c", ""}
	never := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("ExactUnderDuplicates", func(t *testing.T) {
		st := newStore(t)
		model, seen := map[dayModelKey]*dayModel{}, map[string]bool{}
		// 30 hours: the reads cross a UTC midnight.
		reads := withContext(Mix(900, 1, secrets, principals, baseTime().Add(-24*time.Hour), 30))
		batches := [][]detector.Read{reads[:100], reads[50:400], reads[:400], reads[400:], reads}
		for _, b := range batches {
			addModel(model, seen, b)
			if _, err := st.Record(t.Context(), b); err != nil {
				t.Fatal(err)
			}
		}
		checkDays(t, allDays(t, st, time.Time{}, never), model)
		var reads1, denied1 int64
		for _, w := range model {
			reads1, denied1 = reads1+w.reads, denied1+w.denied
		}
		if reads1+denied1 != int64(len(reads)) {
			t.Fatalf("model counts %d events, want %d", reads1+denied1, len(reads))
		}
	})

	t.Run("BoundedValues", func(t *testing.T) {
		st := newStore(t)
		at := baseTime()
		var reads []detector.Read
		for i := range 40 {
			reads = append(reads, detector.Read{
				EventID: EventID(10_000 + i), Secret: secrets[0], Principal: principals[0], Time: at.Add(time.Duration(i) * time.Second),
				SourceIP: fmt.Sprintf("192.0.2.%d", i), VPCEndpointID: fmt.Sprintf("vpce-%d", i),
				UserAgent: fmt.Sprint(i) + strings.Repeat("é", 1000), PrincipalType: strings.Repeat("T", 1000),
			})
		}
		for i := 0; i < len(reads); i += 7 {
			if _, err := st.Record(t.Context(), reads[i:min(i+7, len(reads))]); err != nil {
				t.Fatal(err)
			}
		}
		rows := allDays(t, st, time.Time{}, never)
		if len(rows) != 1 {
			t.Fatalf("%d rows, want 1", len(rows))
		}
		for _, r := range rows {
			if r.Reads != 40 {
				t.Errorf("reads %d, want 40", r.Reads)
			}
			for name, l := range map[string][]string{"sourceIPs": r.SourceIPs, "vpcEndpointIds": r.VPCEndpointIDs, "userAgents": r.UserAgents} {
				if len(l) != report.MaxValues {
					t.Errorf("%s: %d values, want %d", name, len(l), report.MaxValues)
				}
				for _, v := range l {
					if len(v) > report.MaxValueBytes || !utf8.ValidString(v) {
						t.Errorf("%s: value of %d bytes (valid UTF-8: %v)", name, len(v), utf8.ValidString(v))
					}
				}
			}
			if len(r.PrincipalType) > report.MaxValueBytes {
				t.Errorf("principalType of %d bytes", len(r.PrincipalType))
			}
		}
	})

	t.Run("DayRanges", func(t *testing.T) {
		st := newStore(t)
		today := report.Day(baseTime())
		reads := []detector.Read{
			{EventID: EventID(1), Secret: secrets[0], Principal: principals[0], Time: today.Add(-20 * time.Hour)},
			{EventID: EventID(2), Secret: secrets[0], Principal: principals[0], Time: today.Add(time.Hour)},
			{EventID: EventID(3), Secret: secrets[1], Principal: principals[1], Time: today.Add(2 * time.Hour), Denied: true},
		}
		if _, err := st.Record(t.Context(), reads); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			from, to time.Time
			want     int
		}{
			{time.Time{}, never, 3},
			{today, today.Add(24 * time.Hour), 2},
			{today.Add(-24 * time.Hour), today, 1},
			{today.Add(time.Hour), today.Add(24 * time.Hour), 0},  // a day starts inside [from, to) or not at all
			{today.Add(-23 * time.Hour), today.Add(time.Hour), 2}, // today starts inside, yesterday before
			{today.Add(24 * time.Hour), never, 0},
		} {
			if got := len(allDays(t, st, tc.from, tc.to)); got != tc.want {
				t.Errorf("Days(%s, %s): %d rows, want %d", tc.from, tc.to, got, tc.want)
			}
		}
		latest, err := st.Latest(t.Context())
		if err != nil || !latest.Equal(today.Add(2*time.Hour)) {
			t.Errorf("Latest = %v, %v; want %v", latest, err, today.Add(2*time.Hour))
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		st := newStore(t)
		if latest, err := st.Latest(t.Context()); err != nil || !latest.IsZero() {
			t.Errorf("Latest of an empty store = %v, %v; want zero", latest, err)
		}
		// Both in the past: a store's "now" never runs ahead of the wall clock (a future-dated
		// record must not expire history).
		later := baseTime()
		at := later.Add(-(opt.Retention + 48*time.Hour))
		for i, tm := range []time.Time{at, later} {
			if _, err := st.Record(t.Context(), []detector.Read{{EventID: EventID(100 + i), Secret: secrets[0], Principal: principals[0], Time: tm}}); err != nil {
				t.Fatal(err)
			}
		}
		rows := allDays(t, st, time.Time{}, never)
		if len(rows) != 1 || rows[dayModelKey{report.Day(later), secrets[0], principals[0]}] == nil {
			t.Errorf("after the retention window: rows %v, want only the day of %s", slices.Collect(maps.Keys(rows)), later)
		}
	})

	t.Run("Alerts", func(t *testing.T) {
		st := newStore(t)
		w := baseTime()
		type claim struct {
			rule, secret, principal string
			window                  time.Time
			delivered               bool
		}
		claims := []claim{
			{detector.RuleUnexpectedPrincipal, secrets[0], principals[1], w, true},
			{detector.RuleReadSpike, secrets[0], "", w.Add(time.Hour), true},
			{detector.RuleReadSpike, secrets[1], principals[0], w.Add(2 * time.Hour), false}, // never delivered
			{detector.RuleFirstSeenPrincipal, secrets[1], principals[0], w.Add(-48 * time.Hour), true},
		}
		for _, c := range claims {
			key := c.rule + "|" + c.secret + "|" + c.principal
			if _, err := st.Claim(t.Context(), key, c.window, 2); err != nil {
				t.Fatal(err)
			}
			if c.delivered {
				if err := st.MarkDelivered(t.Context(), key, c.window); err != nil {
					t.Fatal(err)
				}
			}
		}
		var got []report.AlertRow
		if err := st.Alerts(t.Context(), w.Add(-time.Hour), w.Add(3*time.Hour), func(a report.AlertRow) error {
			got = append(got, a)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b report.AlertRow) int { return a.Window.Compare(b.Window) })
		want := []report.AlertRow{
			{Rule: claims[0].rule, Secret: claims[0].secret, Principal: claims[0].principal, Window: claims[0].window},
			{Rule: claims[1].rule, Secret: claims[1].secret, Principal: "", Window: claims[1].window},
		}
		if len(got) != len(want) {
			t.Fatalf("alerts %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i].Rule != want[i].Rule || got[i].Secret != want[i].Secret || got[i].Principal != want[i].Principal || !got[i].Window.Equal(want[i].Window) {
				t.Errorf("alert %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
