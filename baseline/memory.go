package baseline

import (
	"context"
	"sync"
	"time"

	"github.com/secretwatch/secretwatch/baseline/internal/localstate"
	"github.com/secretwatch/secretwatch/detector"
)

var (
	_ detector.Store      = (*MemoryStore)(nil)
	_ detector.Suppressor = (*MemoryStore)(nil)
)

// MemoryStore is a complete in-memory Store and Suppressor, for tests and one-off runs.
type MemoryStore struct {
	mu     sync.Mutex
	st     localstate.State
	series map[detector.SeriesKey]*detector.Series
	seen   map[int64]map[string]struct{} // event day → compact event IDs
	alerts map[string]*detector.AlertState
	days   memDays // report rows, see report_memory.go
	tally  tallies // detector.Tallier sets (memory_tally.go)
}

// NewMemoryStore returns an empty store keeping retention of history (0: DefaultRetention).
func NewMemoryStore(retention time.Duration) *MemoryStore {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &MemoryStore{
		st:     localstate.State{Retention: retention},
		series: map[detector.SeriesKey]*detector.Series{},
		seen:   map[int64]map[string]struct{}{},
		alerts: map[string]*detector.AlertState{},
	}
}

// Record implements detector.Store.
func (m *MemoryStore) Record(ctx context.Context, reads []detector.Read) (detector.Recorded, error) {
	if err := ctx.Err(); err != nil {
		return detector.Recorded{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := detector.Recorded{Fresh: make([]bool, len(reads)), Series: map[detector.SeriesKey]*detector.Series{}}
	for _, r := range reads {
		m.st.Observe(r.Time)
	}
	for i, r := range reads {
		keys := localstate.SeriesKeys(r)
		for _, k := range keys {
			if m.series[k] == nil {
				m.series[k] = &detector.Series{}
			}
			out.Series[k] = nil
		}
		day, id := localstate.DayOf(r.Time), localstate.EventKey(r.EventID)
		ids := m.seen[day]
		if ids == nil {
			ids = map[string]struct{}{}
			m.seen[day] = ids
		}
		if _, dup := ids[id]; dup {
			continue
		}
		ids[id] = struct{}{}
		out.Fresh[i] = true
		for _, k := range keys {
			m.st.Apply(m.series[k], r)
		}
		m.addDay(r)
	}
	m.pruneDays()
	minDay := m.st.DedupMinDay()
	for d := range m.seen {
		if d < minDay {
			delete(m.seen, d)
		}
	}
	for k := range out.Series {
		m.st.Prune(m.series[k])
		out.Series[k] = localstate.CloneSeries(m.series[k])
	}
	return out, nil
}

// Claim implements detector.Suppressor.
func (m *MemoryStore) Claim(ctx context.Context, key string, window time.Time, n int64) (detector.AlertState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := localstate.AlertID(key, window)
	a := m.alerts[id]
	if a == nil {
		a = &detector.AlertState{}
		m.alerts[id] = a
	}
	a.Count += n
	return *a, nil
}

// MarkDelivered implements detector.Suppressor.
func (m *MemoryStore) MarkDelivered(ctx context.Context, key string, window time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := localstate.AlertID(key, window)
	if a := m.alerts[id]; a != nil {
		a.Delivered = true
	} else {
		m.alerts[id] = &detector.AlertState{Delivered: true}
	}
	return nil
}

// Series returns a copy of one series (nil when unknown), for reports and tests.
func (m *MemoryStore) Series(key detector.SeriesKey) *detector.Series {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.series[key]; s != nil {
		return localstate.CloneSeries(s)
	}
	return nil
}
