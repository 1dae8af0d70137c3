package baseline

import (
	"context"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

var _ detector.Tallier = (*MemoryStore)(nil)

// tallies are the distinct sets of detector.Tallier, by (key, window).
type tallies struct {
	sets   map[tallyID]map[string]struct{}
	pruned int64 // the store's "now" (localstate.State.MaxHour) at the last pruning
}

type tallyID struct {
	key    string
	window int64
}

// Tally implements detector.Tallier. Adding a member twice changes nothing (idempotent under
// redelivery and retries); a set keeps at most limit members; windows older than the store's
// retention before the store's "now" are forgotten (localstate.State: the latest event time seen,
// never past the clock, so a window dated 2099 forgets nothing).
func (m *MemoryStore) Tally(ctx context.Context, key string, window time.Time, members []string, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &m.tally
	if t.sets == nil {
		t.sets = map[tallyID]map[string]struct{}{}
	}
	if len(members) > 0 {
		m.st.Observe(window)
	}
	if m.st.MaxHour > t.pruned {
		t.pruned = m.st.MaxHour
		horizon := m.st.Horizon() * 3600
		for id := range t.sets {
			if id.window < horizon {
				delete(t.sets, id)
			}
		}
	}
	id := tallyID{key, window.Unix()}
	set := t.sets[id]
	if len(members) == 0 {
		return len(set), nil
	}
	if set == nil {
		set = map[string]struct{}{}
		t.sets[id] = set
	}
	for _, mb := range members {
		if len(set) >= limit {
			break
		}
		set[mb] = struct{}{}
	}
	return len(set), nil
}
