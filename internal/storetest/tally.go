package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// Tallier runs the detector.Tallier contract tests: distinct sets per (key, window), idempotent
// under redelivery, bounded by limit, separate per key and per window, and not disturbed by a
// window dated far in the future. Forgetting old windows is a "may" of the contract; each store
// tests its own retention.
func Tallier(t *testing.T, newStore func(t *testing.T) detector.Tallier) {
	w := time.Now().UTC().Truncate(10 * time.Minute).Add(-time.Hour)
	key := "bulk|arn:aws:iam::111122223333:role/app"

	type step struct {
		key     string
		window  time.Time
		members []string
		limit   int
		want    int
	}
	run := func(t *testing.T, tl detector.Tallier, steps []step) {
		t.Helper()
		for i, s := range steps {
			got, err := tl.Tally(t.Context(), s.key, s.window, s.members, s.limit)
			if err != nil {
				t.Fatalf("step %d: Tally: %v", i, err)
			}
			if got != s.want {
				t.Errorf("step %d: Tally(%.40q, %s, %d members, limit %d) = %d, want %d",
					i, s.key, s.window.Format(time.RFC3339), len(s.members), s.limit, got, s.want)
			}
		}
	}

	t.Run("Distinct", func(t *testing.T) {
		run(t, newStore(t), []step{
			{key, w, nil, 10, 0}, // nothing yet: read only
			{key, w, []string{"a", "b"}, 10, 2},
			{key, w, []string{"b", "a"}, 10, 2}, // redelivered: nothing changes
			{key, w, []string{"c", "c", "c"}, 10, 3},
			{key, w, nil, 10, 3},
			{key, w.Add(10 * time.Minute), []string{"a"}, 10, 1}, // another window
			{key + "x", w, nil, 10, 0},                           // another key
			{key + "x", w, []string{"z"}, 10, 1},
			{key, w, nil, 10, 3},
			{key, w.Add(-24 * time.Hour), nil, 10, 0}, // the same window a day earlier: a baseline read
		})
	})

	t.Run("Limit", func(t *testing.T) {
		many := make([]string, 30)
		for i := range many {
			many[i] = fmt.Sprintf("111122223333/us-east-1/secret-%02d", i)
		}
		run(t, newStore(t), []step{
			{key, w, many[:3], 5, 3},
			{key, w, many[:10], 5, 5}, // more than fits: the set stops at limit
			{key, w, many[10:], 5, 5},
			{key, w, many[:3], 5, 5}, // redelivery of members inside
			{key, w, nil, 5, 5},
			{key, w.Add(time.Hour), many, 20, 20}, // one call larger than the limit
			{key, w.Add(time.Hour), many[25:], 20, 20},
			{key, w.Add(time.Hour), nil, 20, 20},
		})
	})

	t.Run("OneMemberPerCall", func(t *testing.T) {
		// The Lambda's shape: one event per invocation.
		tl := newStore(t)
		var steps []step
		for i := range 25 {
			m := []string{fmt.Sprintf("111122223333/us-east-1/s%d", i)}
			steps = append(steps, step{key, w, m, 20, min(i+1, 20)}, step{key, w, m, 20, min(i+1, 20)})
		}
		run(t, tl, steps)
	})

	t.Run("OddKeysAndMembers", func(t *testing.T) {
		// Keys and members come from CloudTrail records: separators, escapes, control bytes and
		// the longest the detector passes (it digests longer ones).
		long := strings.Repeat("k", 200)
		odd := []string{"a#b", "a%23b", "a%b", "a\x00b", "\x01digest-like", "%~not-a-digest", "é", "", "w#1", long, long[:199] + "l"}
		tl := newStore(t)
		for _, k := range odd {
			if n, err := tl.Tally(t.Context(), "k|"+k, w, odd, 100); err != nil || n != len(odd) {
				t.Errorf("Tally(key %q, %d distinct members) = %d, %v; want %d", k, len(odd), n, err, len(odd))
			}
		}
		for i, k := range odd {
			if n, err := tl.Tally(t.Context(), "k|"+k, w, odd[:i+1], 100); err != nil || n != len(odd) {
				t.Errorf("second Tally(key %q) = %d, %v; want %d (nothing new)", k, n, err, len(odd))
			}
		}
		// Keys that differ only in what an escape or a separator could blur stay apart.
		for i, pair := range [][2]string{{"a#b", "a%23b"}, {"a|b", "a#b"}, {long, long[:199] + "l"}, {"a", "a\x00"}} {
			prefix := fmt.Sprintf("p%d|", i)
			a, err := tl.Tally(t.Context(), prefix+pair[0], w, []string{"1"}, 10)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tl.Tally(t.Context(), prefix+pair[1], w, []string{"2", "3"}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if a != 1 || b != 2 {
				t.Errorf("keys %q and %q share a set: %d, %d; want 1, 2", pair[0], pair[1], a, b)
			}
		}
	})

	t.Run("FutureWindowForgetsNothing", func(t *testing.T) {
		// A record dated 2099 (forged, or a broken clock) must not make the store forget the
		// windows it holds now.
		tl := newStore(t)
		run(t, tl, []step{
			{key, w, []string{"a", "b", "c"}, 10, 3},
			{key, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), []string{"x"}, 10, 1},
			{key, w, nil, 10, 3},
			{key, w, []string{"d"}, 10, 4},
		})
	})
}
