package localstate

import (
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/report"
)

// The stores keep, besides the baselines, what the weekly report needs: per (secret, principal,
// UTC day) the fresh reads and denied attempts with their bounded context (report.DayRow), for
// the retention window. Rows are written from the reads a Record call counts as fresh, in the
// same transaction that counts them, so they are exact under duplicates and retries.

// DayRowKey names one report.DayRow.
type DayRowKey struct {
	Day       int64 // days since the Unix epoch
	Secret    string
	Principal string
}

// DayRows accumulates the fresh reads of one Record call by (secret, principal, day).
type DayRows map[DayRowKey]*report.DayRow

func (d DayRows) Add(r detector.Read) {
	k := DayRowKey{DayOf(r.Time), r.Secret, r.Principal}
	row := d[k]
	if row == nil {
		row = report.NewDayRow(r)
		d[k] = row
	}
	row.Add(r)
}

// DayRowMinDay is the oldest day whose rows are kept: days wholly before the retention horizon go.
func (s *State) DayRowMinDay() int64 {
	h := s.Horizon()
	return (h + 23) / 24
}

func UnixDay(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// DayRange converts [from, to) to day numbers [lo, hi); a zero from means no lower bound.
func DayRange(from, to time.Time) (lo, hi int64) {
	lo = -1 << 62
	if !from.IsZero() {
		lo = CeilDay(from)
	}
	return lo, CeilDay(to)
}

// CeilDay is the first day starting at or after t.
func CeilDay(t time.Time) int64 {
	d := DayOf(t)
	if UnixDay(d).Before(t) {
		d++
	}
	return d
}

// ParseAlertID is the inverse of alertID for keys of the form rule|secret|principal (see
// detector.Alert.Key): secret keys cannot contain '|', so a '|' in a principal stays in it.
func ParseAlertID(id string) (report.AlertRow, bool) {
	i := strings.LastIndexByte(id, '|')
	if i < 0 {
		return report.AlertRow{}, false
	}
	w, err := time.Parse(time.RFC3339, id[i+1:])
	if err != nil {
		return report.AlertRow{}, false
	}
	rule, rest, ok := strings.Cut(id[:i], "|")
	if !ok {
		return report.AlertRow{}, false
	}
	secret, principal, ok := strings.Cut(rest, "|")
	if !ok {
		return report.AlertRow{}, false
	}
	return report.AlertRow{Rule: rule, Secret: secret, Principal: principal, Window: w.UTC()}, true
}

func InRange(t, from, to time.Time) bool {
	return !t.Before(from) && t.Before(to)
}

func HourTime(h int64) time.Time {
	if h <= 0 {
		return time.Time{}
	}
	return time.Unix(h*3600, 0).UTC()
}
