package bolt

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secretwatch/secretwatch/baseline/internal/localstate"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

func TestTallierContract(t *testing.T) {
	storetest.Tallier(t, func(t *testing.T) detector.Tallier { return openBolt(t) })
}

// tallyKeys counts the entries of the tally bucket (sizes and members).
func tallyKeys(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketTally); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The sets survive a close and reopen, stay idempotent, and windows older than the retention
// before the store's "now" are forgotten — by the store's now, which a record dated 2099 cannot
// move past the clock.
func TestTallyReopenAndRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sw.db")
	w := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := Clock(func() time.Time { return w.Add(30 * time.Minute) })
	open := func() *Store {
		t.Helper()
		s, err := Open(path, testRetention, clock)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	type step struct {
		key     string
		window  time.Time
		members []string
		limit   int
		want    int
	}
	run := func(s *Store, steps []step) {
		t.Helper()
		for i, st := range steps {
			got, err := s.Tally(t.Context(), st.key, st.window, st.members, st.limit)
			if err != nil || got != st.want {
				t.Errorf("step %d: Tally(%s, %s, %v, %d) = %d, %v; want %d", i, st.key, st.window.Format(time.RFC3339), st.members, st.limit, got, err, st.want)
			}
		}
	}
	s := open()
	run(s, []step{
		{"k", w, []string{"a", "b"}, 10, 2},
		{"k", w.Add(-40 * time.Hour), []string{"a", "b", "c"}, 10, 3}, // inside the 48h retention
		{"k", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), []string{"x"}, 10, 1},
	})
	s.Close()

	s = open()
	run(s, []step{
		{"k", w, nil, 10, 2},
		{"k", w, []string{"b", "a"}, 10, 2}, // redelivered after the reopen: nothing changes
		{"k", w, []string{"c"}, 10, 3},
		{"k", w.Add(-40 * time.Hour), nil, 10, 3}, // the 2099 window forgot nothing
	})
	if h, want := s.st.MaxHour, detector.Hour(w.Add(30*time.Minute+localstate.FutureSkew)); h != want {
		t.Errorf("store now = hour %d, want %d (the clock plus FutureSkew, not 2099)", h, want)
	}
	s.Close()

	// The clock moves on a day; a window of that day moves the store's now, and the window 40h
	// before the first one is now past the retention.
	clock = Clock(func() time.Time { return w.Add(24*time.Hour + 30*time.Minute) })
	s = open()
	defer s.Close()
	before := tallyKeys(t, s)
	run(s, []step{
		{"k", w.Add(24 * time.Hour), []string{"z"}, 10, 1},
		{"k", w.Add(-40 * time.Hour), nil, 10, 0}, // forgotten
		{"k", w, nil, 10, 3},                      // kept
	})
	if after := tallyKeys(t, s); after != before+2-4 {
		t.Errorf("tally bucket: %d entries, then %d; want 2 added (size, member) and 4 deleted (the old window's size and 3 members)", before, after)
	}
}

// Keys and members of any length are stored in their bounded form: a 40 KB key (bbolt refuses
// keys over 32 KB) and members that differ only at their end stay distinct.
func TestTallyLongKeys(t *testing.T) {
	s := openBolt(t)
	w := time.Now().UTC().Truncate(time.Hour)
	long := strings.Repeat("k", 40<<10)
	var members []string
	for i := range 5 {
		members = append(members, fmt.Sprintf("%s%d", long, i))
	}
	for _, k := range []string{long + "1", long + "2"} {
		n, err := s.Tally(t.Context(), k, w, members, 10)
		if err != nil || n != 5 {
			t.Fatalf("Tally(40 KB key) = %d, %v; want 5", n, err)
		}
	}
	if n, err := s.Tally(t.Context(), long+"1", w, members[:2], 10); err != nil || n != 5 {
		t.Errorf("Tally again = %d, %v; want 5", n, err)
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTally).ForEach(func(k, _ []byte) error {
			if len(k) > 8+2*maxKeyPart+1 {
				t.Errorf("tally key of %d bytes", len(k))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
