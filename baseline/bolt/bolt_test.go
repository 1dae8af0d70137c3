package bolt

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

const testRetention = 48 * time.Hour

func openBolt(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sw.db"), testRetention)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreContract(t *testing.T) {
	storetest.Store(t, storetest.Options{Retention: testRetention}, func(t *testing.T) detector.Store { return openBolt(t) })
	storetest.Suppressor(t, func(t *testing.T) detector.Suppressor { return openBolt(t) })
}

// The bolt store keeps its counts across a close and reopen, and keeps de-duplicating.
func TestStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sw.db")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	reads := []detector.Read{
		{EventID: "0f8fad5b-d9cb-469f-a165-70867728950e", Secret: "a/r/s", Principal: "p1", Time: at},
		{EventID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Secret: "a/r/s", Principal: "p2", Time: at.Add(time.Minute)},
		{EventID: "not-a-uuid", Secret: "a/r/s", Principal: "p2", Time: at.Add(2 * time.Minute), Denied: true},
	}
	s, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(t.Context(), reads); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(t.Context(), "k", at, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(t.Context(), "k", at); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Record(t.Context(), reads)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range rec.Fresh {
		if f {
			t.Errorf("read %d counted again after reopen", i)
		}
	}
	whole := rec.Series[detector.SeriesKey{Secret: "a/r/s"}]
	if whole.Reads != 2 || whole.Denied != 1 || whole.FirstEventID != reads[0].EventID || whole.Hours[detector.Hour(at)] != 2 {
		t.Errorf("whole series after reopen: %+v", whole)
	}
	st, err := s.Claim(t.Context(), "k", at, 0)
	if err != nil || st.Count != 3 || !st.Delivered {
		t.Errorf("alert state after reopen: %+v %v", st, err)
	}
}

func TestSeriesEncodingRoundTrip(t *testing.T) {
	in := &detector.Series{
		FirstSeen: time.Date(2026, 3, 2, 9, 0, 0, 123, time.UTC), FirstEventID: "e1",
		LastSeen: time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC), Reads: 12345, Denied: 7,
		Hours: map[int64]int64{493000: 3, 493001: 0, 493100: 99999},
	}
	var out detector.Series
	if _, err := decodeSeries(encodeSeries(in), &out); err != nil {
		t.Fatal(err)
	}
	if d := storetest.EqualSeries(&out, in); d != "" || out.Reads != in.Reads || out.Denied != in.Denied {
		t.Errorf("round trip: %s %+v", d, out)
	}
	for _, bad := range [][]byte{nil, {9}, {1}, {1, 2, 2, 2, 2, 200}} {
		if _, err := decodeSeries(bad, &out); err == nil {
			t.Errorf("decodeSeries(%v): want error", bad)
		}
	}
}

// A secret ID, principal or event ID of any length (a 32 KiB secretId is one denied call away)
// is stored under a bounded key, counted once, and read back with its readable name.
func TestStoreLongKeyParts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sw.db")
	s, err := Open(path, testRetention)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	long2k := "111122223333/us-east-1/" + strings.Repeat("a", 2000)
	long32k := "111122223333/us-east-1/" + strings.Repeat("b", 32<<10)
	longPrin := "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 40<<10)
	nul := "111122223333/us-east-1/x\x00y"
	reads := []detector.Read{
		{EventID: storetest.EventID(1), Secret: long2k, Principal: "arn:aws:iam::111122223333:role/attacker", Time: at, Denied: true},
		{EventID: storetest.EventID(2), Secret: long32k, Principal: "arn:aws:iam::111122223333:role/attacker", Time: at, Denied: true},
		{EventID: storetest.EventID(3), Secret: long32k, Principal: longPrin, Time: at.Add(time.Minute)},
		{EventID: strings.Repeat("e", 40<<10), Secret: "111122223333/us-east-1/db", Principal: longPrin, Time: at.Add(2 * time.Minute)},
		{EventID: storetest.EventID(5), Secret: nul, Principal: "", Time: at.Add(3 * time.Minute)},
		{EventID: storetest.EventID(6), Secret: "111122223333/us-east-1/x", Principal: "y\x00", Time: at.Add(4 * time.Minute)},
	}
	m := storetest.NewModel()
	want := m.Add(reads)
	got, err := s.Record(t.Context(), reads)
	if err != nil {
		t.Fatalf("Record with long key parts: %v", err)
	}
	storetest.CheckRecorded(t, reads, got, want, m)
	key := detector.RuleUnexpectedPrincipal + "|" + long32k + "|" + longPrin
	if _, err := s.Claim(t.Context(), key, at, 2); err != nil {
		t.Fatalf("Claim with a 72 KB key: %v", err)
	}
	if err := s.MarkDelivered(t.Context(), key, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, testRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err = s.Record(t.Context(), reads)
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckRecorded(t, reads, got, make([]bool, len(reads)), m)
	if a, err := s.Claim(t.Context(), key, at, 0); err != nil || a.Count != 2 || !a.Delivered {
		t.Errorf("alert after reopen = %+v, %v; want count 2, delivered", a, err)
	}
	// EachSeries gives readable, bounded names; the NUL in a secret does not merge two series.
	seen := map[detector.SeriesKey]int64{}
	err = s.EachSeries(func(k detector.SeriesKey, se *detector.Series) error {
		if len(k.Secret) > maxNameText || len(k.Principal) > maxNameText {
			t.Errorf("EachSeries name of %d/%d bytes, want ≤ %d", len(k.Secret), len(k.Principal), maxNameText)
		}
		seen[k] = se.Reads + se.Denied
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen[detector.SeriesKey{Secret: nul}] != 1 || seen[detector.SeriesKey{Secret: "111122223333/us-east-1/x"}] != 1 {
		t.Errorf("series with a NUL merged with another: %v", seen)
	}
	var long int
	for k := range seen {
		if strings.HasPrefix(k.Secret, "111122223333/us-east-1/bbbb") {
			long++
		}
	}
	if long != 3 { // whole secret, attacker, long principal
		t.Errorf("%d series of the 32 KiB secret, want 3", long)
	}
}

// A file whose "now" a build before the fix let a record dated 2099 set is brought back under
// the (injected) clock on open, so its history is not pruned on the next write.
func TestStoreClampsFutureNowOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sw.db")
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := Clock(func() time.Time { return day.Add(24 * time.Hour) })
	reads := storetest.Mix(50, 1, []string{"a/r/s"}, []string{"p1", "p2"}, day, 5)
	s, err := Open(path, testRetention, clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(t.Context(), reads); err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error { // as the old build left it
		return tx.Bucket(bucketMeta).Put(keyMaxHour, binary.BigEndian.AppendUint64(nil, uint64(detector.Hour(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)))))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, testRetention, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Record(t.Context(), reads)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range rec.Fresh {
		if f {
			t.Fatalf("read %d counted again: the stored 2099 'now' pruned the history", i)
		}
	}
	if h := rec.Series[detector.SeriesKey{Secret: "a/r/s"}].Hours; len(h) != 5 {
		t.Errorf("whole-secret hours %v, want the 5 hours of the day", h)
	}
}
