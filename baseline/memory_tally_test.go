package baseline

import (
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"

	"testing"
	"time"
)

func TestMemoryTally(t *testing.T) {
	m := NewMemoryStore(48 * time.Hour)
	w := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ctx := t.Context()
	for _, tt := range []struct {
		key     string
		window  time.Time
		members []string
		limit   int
		want    int
	}{
		{"k", w, []string{"a", "b"}, 10, 2},
		{"k", w, []string{"b", "a"}, 10, 2}, // redelivered: nothing changes
		{"k", w, nil, 10, 2},                // read only
		{"k", w, []string{"c", "d", "e"}, 4, 4},
		{"k", w.Add(time.Hour), []string{"a"}, 10, 1}, // another window
		{"other", w, nil, 10, 0},
		{"k", w.Add(72 * time.Hour), []string{"z"}, 10, 1}, // moves past the retention...
		{"k", w, nil, 10, 0},                               // ...so the old window is forgotten
	} {
		got, err := m.Tally(ctx, tt.key, tt.window, tt.members, tt.limit)
		if err != nil || got != tt.want {
			t.Errorf("Tally(%s, %s, %v) = %d, %v; want %d", tt.key, tt.window.Format(time.RFC3339), tt.members, got, err, tt.want)
		}
	}
}

func TestMemoryTallierContract(t *testing.T) {
	storetest.Tallier(t, func(t *testing.T) detector.Tallier { return NewMemoryStore(testRetention) })
}
