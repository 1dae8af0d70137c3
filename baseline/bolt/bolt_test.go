package bolt

import (
	"path/filepath"
	"testing"
	"time"

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
	if err := decodeSeries(encodeSeries(in), &out); err != nil {
		t.Fatal(err)
	}
	if d := storetest.EqualSeries(&out, in); d != "" || out.Reads != in.Reads || out.Denied != in.Denied {
		t.Errorf("round trip: %s %+v", d, out)
	}
	for _, bad := range [][]byte{nil, {9}, {1}, {1, 2, 2, 2, 2, 200}} {
		if err := decodeSeries(bad, &out); err == nil {
			t.Errorf("decodeSeries(%v): want error", bad)
		}
	}
}
