// Package storetest holds the contract tests every detector.Store and detector.Suppressor must
// pass (memory, bolt and DynamoDB stores alike). Call Store and Suppressor from a test:
//
//	func TestMemoryStoreContract(t *testing.T) {
//		storetest.Store(t, storetest.Options{Retention: 24 * time.Hour}, func(t *testing.T) detector.Store {
//			return baseline.NewMemoryStore(...)
//		})
//	}
//
// Every test asks for a new, empty store. Event times lie around the current hour, so a store
// whose retention window follows the clock and one that follows the latest event time agree.
package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// Options describes the store under test.
type Options struct {
	// Retention is the store's baseline retention (at least 3h). Reads older than it must be
	// absent from Series.Hours.
	Retention time.Duration
}

// Model is the exact expected state of series, computed the simple way.
type Model struct {
	seen   map[string]bool
	Series map[detector.SeriesKey]*detector.Series
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{seen: map[string]bool{}, Series: map[detector.SeriesKey]*detector.Series{}}
}

// Add records reads into the model and returns the Fresh flags a store must answer.
func (m *Model) Add(reads []detector.Read) []bool {
	fresh := make([]bool, len(reads))
	for i, r := range reads {
		if m.seen[r.EventID] {
			continue
		}
		m.seen[r.EventID] = true
		fresh[i] = true
		for _, k := range keysOf(r) {
			s := m.Series[k]
			if s == nil {
				s = &detector.Series{Hours: map[int64]int64{}}
				m.Series[k] = s
			}
			if r.Denied {
				s.Denied++
				continue
			}
			s.Reads++
			s.Hours[detector.Hour(r.Time)]++
			if s.FirstSeen.IsZero() || r.Time.Before(s.FirstSeen) {
				s.FirstSeen, s.FirstEventID = r.Time, r.EventID
			}
			if r.Time.After(s.LastSeen) {
				s.LastSeen = r.Time
			}
		}
	}
	return fresh
}

func keysOf(r detector.Read) []detector.SeriesKey {
	ks := []detector.SeriesKey{{Secret: r.Secret}}
	if r.Principal != "" {
		ks = append(ks, detector.SeriesKey{Secret: r.Secret, Principal: r.Principal})
	}
	return ks
}

// EqualSeries reports how got differs from want ("" when equal). Times compare with Equal.
func EqualSeries(got, want *detector.Series) string {
	switch {
	case got == nil && want == nil:
		return ""
	case got == nil || want == nil:
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	var d []string
	if got.Reads != want.Reads {
		d = append(d, fmt.Sprintf("Reads %d, want %d", got.Reads, want.Reads))
	}
	if got.Denied != want.Denied {
		d = append(d, fmt.Sprintf("Denied %d, want %d", got.Denied, want.Denied))
	}
	if !got.FirstSeen.Equal(want.FirstSeen) || got.FirstEventID != want.FirstEventID {
		d = append(d, fmt.Sprintf("FirstSeen %v %q, want %v %q", got.FirstSeen, got.FirstEventID, want.FirstSeen, want.FirstEventID))
	}
	if !got.LastSeen.Equal(want.LastSeen) {
		d = append(d, fmt.Sprintf("LastSeen %v, want %v", got.LastSeen, want.LastSeen))
	}
	gh, wh := nonZero(got.Hours), nonZero(want.Hours)
	if !maps.Equal(gh, wh) {
		d = append(d, fmt.Sprintf("Hours %v, want %v", sortedHours(gh), sortedHours(wh)))
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

func nonZero(m map[int64]int64) map[int64]int64 {
	out := map[int64]int64{}
	for h, n := range m {
		if n != 0 {
			out[h] = n
		}
	}
	return out
}

func sortedHours(m map[int64]int64) []string {
	var out []string
	for _, h := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%d:%d", h, m[h]))
	}
	return out
}

// EventID returns a CloudTrail-like event ID (a lowercase UUID) for n.
func EventID(n int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", n*2654435761%(1<<32), n%0xffff, n%0xfff, (n/7)%0xfff, n)
}

// Mix returns n reads over secrets×principals, spread over hours [from, from+hours), with every
// seventh read denied and event times strictly increasing with i (so first-seen ties never occur).
// IDs start at idBase.
func Mix(n, idBase int, secrets, principals []string, from time.Time, hours int) []detector.Read {
	reads := make([]detector.Read, n)
	span := time.Duration(hours) * time.Hour
	for i := range reads {
		reads[i] = detector.Read{
			EventID:   EventID(idBase + i),
			Secret:    secrets[i%len(secrets)],
			Principal: principals[(i/len(secrets))%len(principals)],
			Time:      from.Add(span * time.Duration(i) / time.Duration(n)).Add(time.Duration(i) * time.Microsecond),
			Denied:    i%7 == 3,
		}
	}
	return reads
}

// CheckRecorded compares a Record answer with the model: Fresh flags, and the Series of every key
// the reads touch.
func CheckRecorded(t testing.TB, reads []detector.Read, got detector.Recorded, wantFresh []bool, m *Model) {
	t.Helper()
	if !slices.Equal(got.Fresh, wantFresh) {
		t.Errorf("Fresh = %v, want %v", summarize(got.Fresh), summarize(wantFresh))
	}
	for _, r := range reads {
		for _, k := range keysOf(r) {
			s, ok := got.Series[k]
			if !ok {
				t.Errorf("Series has no %+v", k)
				continue
			}
			if d := EqualSeries(s, m.Series[k]); d != "" {
				t.Errorf("Series[%+v]: %s", k, d)
			}
		}
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

func summarize(b []bool) string {
	if len(b) <= 20 {
		return fmt.Sprint(b)
	}
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return fmt.Sprintf("%d of %d true", n, len(b))
}

// baseTime is the start of an hour a few hours before now.
func baseTime() time.Time { return time.Now().UTC().Truncate(time.Hour).Add(-6 * time.Hour) }

// Store runs the detector.Store contract tests.
func Store(t *testing.T, opt Options, newStore func(t *testing.T) detector.Store) {
	if opt.Retention < 3*time.Hour {
		t.Fatalf("storetest: Options.Retention %v: need at least 3h", opt.Retention)
	}
	secrets := []string{"111122223333/us-east-1/db", "111122223333/us-east-1/api#key", "111122223333/eu-west-1/x"}
	principals := []string{"arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/ci", "arn:aws:iam::444455556666:user/alice%"}

	t.Run("Empty", func(t *testing.T) {
		st := newStore(t)
		got, err := st.Record(t.Context(), nil)
		if err != nil || len(got.Fresh) != 0 || len(got.Series) != 0 {
			t.Fatalf("Record(nil) = %+v, %v; want empty, nil", got, err)
		}
	})

	t.Run("ExactCounts", func(t *testing.T) {
		st := newStore(t)
		m := NewModel()
		reads := Mix(600, 1, secrets, principals, baseTime(), 5)
		for _, size := range []int{1, 2, 50, 7, 300, 240} {
			chunk := reads[:size]
			reads = reads[size:]
			want := m.Add(chunk)
			got, err := st.Record(t.Context(), chunk)
			if err != nil {
				t.Fatal(err)
			}
			CheckRecorded(t, chunk, got, want, m)
		}
	})

	t.Run("DuplicatesSameCall", func(t *testing.T) {
		st := newStore(t)
		m := NewModel()
		base := Mix(120, 1000, secrets, principals, baseTime(), 3)
		var reads []detector.Read
		for i, r := range base { // each read twice, the copy sometimes right after, sometimes later
			reads = append(reads, r)
			if i%2 == 0 {
				reads = append(reads, r)
			}
		}
		for i := 1; i < len(base); i += 2 {
			reads = append(reads, base[i])
		}
		want := m.Add(reads)
		got, err := st.Record(t.Context(), reads)
		if err != nil {
			t.Fatal(err)
		}
		CheckRecorded(t, reads, got, want, m)
	})

	t.Run("DuplicatesSeparateCalls", func(t *testing.T) {
		st := newStore(t)
		m := NewModel()
		reads := Mix(150, 2000, secrets, principals, baseTime(), 4)
		want := m.Add(reads)
		first, err := st.Record(t.Context(), reads)
		if err != nil {
			t.Fatal(err)
		}
		CheckRecorded(t, reads, first, want, m)
		// Again, whole; then one by one (a single-event redelivery); then shuffled halves.
		again, err := st.Record(t.Context(), reads)
		if err != nil {
			t.Fatal(err)
		}
		CheckRecorded(t, reads, again, make([]bool, len(reads)), m)
		for _, r := range reads[:10] {
			got, err := st.Record(t.Context(), []detector.Read{r})
			if err != nil {
				t.Fatal(err)
			}
			CheckRecorded(t, []detector.Read{r}, got, []bool{false}, m)
		}
		rev := slices.Clone(reads)
		slices.Reverse(rev)
		got, err := st.Record(t.Context(), rev[:75])
		if err != nil {
			t.Fatal(err)
		}
		CheckRecorded(t, rev[:75], got, make([]bool, 75), m)
	})

	t.Run("FirstSeen", func(t *testing.T) {
		st := newStore(t)
		m := NewModel()
		b := baseTime()
		sec, p := secrets[0], principals[0]
		mk := func(id int, at time.Duration, denied bool, prin string) detector.Read {
			return detector.Read{EventID: EventID(500000 + id), Secret: sec, Principal: prin, Time: b.Add(at), Denied: denied}
		}
		steps := [][]detector.Read{
			{mk(1, 2*time.Hour, true, p)},                            // denied only: no FirstSeen yet
			{mk(2, 2*time.Hour+time.Minute, false, p)},               // first successful read
			{mk(3, 3*time.Hour, false, p)},                           // later: FirstSeen unchanged
			{mk(4, time.Hour+30*time.Minute, false, p)},              // a late event, earlier: becomes FirstSeen
			{mk(5, 3*time.Hour+time.Second, false, "")},              // read without principal: whole secret only
			{mk(6, 3*time.Hour+2*time.Second, false, principals[1])}, // new principal: its own FirstSeen
		}
		for i, reads := range steps {
			want := m.Add(reads)
			got, err := st.Record(t.Context(), reads)
			if err != nil {
				t.Fatal(err)
			}
			CheckRecorded(t, reads, got, want, m)
			if i == 0 {
				if s := got.Series[detector.SeriesKey{Secret: sec, Principal: p}]; s == nil || !s.FirstSeen.IsZero() || s.Denied != 1 {
					t.Errorf("after a denied read only: %+v, want zero FirstSeen and Denied 1", s)
				}
			}
			if i == 5 {
				s := got.Series[detector.SeriesKey{Secret: sec, Principal: principals[1]}]
				if s == nil || s.Reads != 1 || s.FirstEventID != EventID(500006) {
					t.Errorf("new principal: %+v, want Reads 1 and FirstEventID of its read", s)
				}
			}
		}
	})

	t.Run("Retention", func(t *testing.T) {
		st := newStore(t)
		now := time.Now().UTC()
		sec, p := secrets[1], principals[2]
		old := detector.Read{EventID: EventID(600001), Secret: sec, Principal: p, Time: now.Add(-opt.Retention - 3*time.Hour)}
		mid := detector.Read{EventID: EventID(600002), Secret: sec, Principal: p, Time: now.Add(-opt.Retention / 2)}
		cur := detector.Read{EventID: EventID(600003), Secret: sec, Principal: p, Time: now.Add(-time.Minute)}
		for _, r := range []detector.Read{old, mid} {
			if _, err := st.Record(t.Context(), []detector.Read{r}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.Record(t.Context(), []detector.Read{cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keysOf(cur) {
			s := got.Series[k]
			if s == nil {
				t.Fatalf("no Series %+v", k)
			}
			if _, ok := s.Hours[detector.Hour(old.Time)]; ok {
				t.Errorf("Series[%+v].Hours has hour %d, older than retention %v: %v", k, detector.Hour(old.Time), opt.Retention, s.Hours)
			}
			if s.Hours[detector.Hour(mid.Time)] != 1 || s.Hours[detector.Hour(cur.Time)] != 1 {
				t.Errorf("Series[%+v].Hours = %v, want hours %d and %d at 1", k, s.Hours, detector.Hour(mid.Time), detector.Hour(cur.Time))
			}
		}
	})

	// One record dated far in the future (a broken clock, a forged file) must not move the
	// store's "now": the history before it stays, and the same reads again are duplicates.
	t.Run("FutureRecordKeepsHistory", func(t *testing.T) {
		st := newStore(t)
		m := NewModel()
		reads := Mix(60, 800000, secrets, principals, baseTime(), 3)
		want := m.Add(reads)
		got, err := st.Record(t.Context(), reads)
		if err != nil {
			t.Fatal(err)
		}
		CheckRecorded(t, reads, got, want, m)
		future := detector.Read{EventID: EventID(899999), Secret: secrets[0], Principal: principals[0],
			Time: time.Date(2099, 1, 1, 12, 0, 0, 0, time.UTC)}
		if _, err := st.Record(t.Context(), []detector.Read{future}); err != nil {
			t.Fatal(err)
		}
		got, err = st.Record(t.Context(), reads)
		if err != nil {
			t.Fatal(err)
		}
		if n := countTrue(got.Fresh); n != 0 {
			t.Errorf("after a record dated 2099, %d of %d reads of the same day counted again as new", n, len(reads))
		}
		for k, want := range m.Series {
			s := got.Series[k]
			if s == nil {
				t.Errorf("Series has no %+v", k)
				continue
			}
			if !maps.Equal(nonZero(s.Hours), nonZero(want.Hours)) && !(k.Secret == future.Secret && (k.Principal == "" || k.Principal == future.Principal)) {
				t.Errorf("Series[%+v].Hours = %v, want %v", k, sortedHours(nonZero(s.Hours)), sortedHours(want.Hours))
			}
			for h, n := range want.Hours {
				if s.Hours[h] != n {
					t.Errorf("Series[%+v].Hours[%d] = %d after a record dated 2099, want %d: history lost", k, h, s.Hours[h], n)
				}
			}
		}
	})

	t.Run("SeriesOfDuplicatesOnly", func(t *testing.T) {
		st := newStore(t)
		r := detector.Read{EventID: EventID(700001), Secret: secrets[2], Principal: principals[0], Time: baseTime()}
		if _, err := st.Record(t.Context(), []detector.Read{r}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Record(t.Context(), []detector.Read{r, r})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Fresh, []bool{false, false}) {
			t.Errorf("Fresh = %v, want [false false]", got.Fresh)
		}
		for _, k := range keysOf(r) {
			if s := got.Series[k]; s == nil || s.Reads != 1 || s.Hours[detector.Hour(r.Time)] != 1 {
				t.Errorf("Series[%+v] = %+v, want Reads 1", k, s)
			}
		}
	})
}

// Suppressor runs the detector.Suppressor contract tests.
func Suppressor(t *testing.T, newSup func(t *testing.T) detector.Suppressor) {
	w1 := time.Now().UTC().Truncate(time.Hour)
	w2 := w1.Add(time.Hour)
	key := detector.RuleReadSpike + "|111122223333/us-east-1/db|arn:aws:iam::111122223333:role/app"
	other := detector.RuleFirstSeenPrincipal + "|111122223333/us-east-1/db|arn:aws:iam::111122223333:role/app"

	t.Run("ClaimCounts", func(t *testing.T) {
		sup := newSup(t)
		steps := []struct {
			key    string
			window time.Time
			n      int64
			want   detector.AlertState
		}{
			{key, w1, 3, detector.AlertState{Count: 3}},
			{key, w1, 0, detector.AlertState{Count: 3}}, // a redelivered event adds nothing
			{key, w1, 2, detector.AlertState{Count: 5}},
			{key, w2, 1, detector.AlertState{Count: 1}},   // another window
			{other, w1, 4, detector.AlertState{Count: 4}}, // another key
			{other, w2, 0, detector.AlertState{}},         // nothing claimed yet
		}
		for i, s := range steps {
			got, err := sup.Claim(t.Context(), s.key, s.window, s.n)
			if err != nil {
				t.Fatal(err)
			}
			if got != s.want {
				t.Errorf("step %d: Claim(%s, %v, %d) = %+v, want %+v", i, s.key, s.window, s.n, got, s.want)
			}
		}
	})

	t.Run("MarkDelivered", func(t *testing.T) {
		sup := newSup(t)
		if _, err := sup.Claim(t.Context(), key, w1, 1); err != nil {
			t.Fatal(err)
		}
		if err := sup.MarkDelivered(t.Context(), key, w1); err != nil {
			t.Fatal(err)
		}
		if err := sup.MarkDelivered(t.Context(), key, w1); err != nil { // idempotent
			t.Fatal(err)
		}
		got, err := sup.Claim(t.Context(), key, w1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := (detector.AlertState{Count: 3, Delivered: true}); got != want {
			t.Errorf("after MarkDelivered: %+v, want %+v", got, want)
		}
		for _, c := range []struct {
			key string
			w   time.Time
		}{{key, w2}, {other, w1}} {
			got, err := sup.Claim(t.Context(), c.key, c.w, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.Delivered {
				t.Errorf("Claim(%s, %v) Delivered = true: delivery must be per key and window", c.key, c.w)
			}
		}
	})
}
