package baseline

import (
	"context"
	"time"

	"github.com/secretwatch/secretwatch/baseline/internal/localstate"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/report"
)

var _ report.Source = (*MemoryStore)(nil)

// memDays are the memory store's report rows.
type memDays struct {
	rows   localstate.DayRows
	minDay int64 // rows before it have been dropped
}

// addDay counts a fresh read in its day row (m.mu held).
func (m *MemoryStore) addDay(r detector.Read) {
	if m.days.rows == nil {
		m.days.rows = localstate.DayRows{}
	}
	m.days.rows.Add(r)
}

// pruneDays drops day rows past the retention window (m.mu held).
func (m *MemoryStore) pruneDays() {
	min := m.st.DayRowMinDay()
	if min <= m.days.minDay {
		return
	}
	m.days.minDay = min
	for k := range m.days.rows {
		if k.Day < min {
			delete(m.days.rows, k)
		}
	}
}

// Days implements report.Source.
func (m *MemoryStore) Days(ctx context.Context, from, to time.Time, yield func(*report.DayRow) error) error {
	lo, hi := localstate.DayRange(from, to)
	m.mu.Lock()
	var rows []*report.DayRow
	for k, r := range m.days.rows {
		if k.Day >= lo && k.Day < hi {
			rows = append(rows, r.Clone())
		}
	}
	m.mu.Unlock()
	for _, r := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(r); err != nil {
			return err
		}
	}
	return nil
}

// Alerts implements report.Source.
func (m *MemoryStore) Alerts(ctx context.Context, from, to time.Time, yield func(report.AlertRow) error) error {
	m.mu.Lock()
	var rows []report.AlertRow
	for id, a := range m.alerts {
		if row, ok := localstate.ParseAlertID(id); ok && a.Delivered && localstate.InRange(row.Window, from, to) {
			rows = append(rows, row)
		}
	}
	m.mu.Unlock()
	for _, r := range rows {
		if err := yield(r); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Latest implements report.Source.
func (m *MemoryStore) Latest(ctx context.Context) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return localstate.HourTime(m.st.MaxHour), nil
}
