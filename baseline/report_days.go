package baseline

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

// dayRowKey names one report.DayRow.
type dayRowKey struct {
	day       int64 // days since the Unix epoch
	secret    string
	principal string
}

// dayRows accumulates the fresh reads of one Record call by (secret, principal, day).
type dayRows map[dayRowKey]*report.DayRow

func (d dayRows) add(r detector.Read) {
	k := dayRowKey{dayOf(r.Time), r.Secret, r.Principal}
	row := d[k]
	if row == nil {
		row = report.NewDayRow(r)
		d[k] = row
	}
	row.Add(r)
}

// dayRowMinDay is the oldest day whose rows are kept: days wholly before the retention horizon go.
func (s *state) dayRowMinDay() int64 {
	h := s.horizon()
	return (h + 23) / 24
}

func unixDay(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// dayRange converts [from, to) to day numbers [lo, hi); a zero from means no lower bound.
func dayRange(from, to time.Time) (lo, hi int64) {
	lo = -1 << 62
	if !from.IsZero() {
		lo = ceilDay(from)
	}
	return lo, ceilDay(to)
}

// ceilDay is the first day starting at or after t.
func ceilDay(t time.Time) int64 {
	d := dayOf(t)
	if unixDay(d).Before(t) {
		d++
	}
	return d
}

// parseAlertID is the inverse of alertID for keys of the form rule|secret|principal (see
// detector.Alert.Key): secret keys cannot contain '|', so a '|' in a principal stays in it.
func parseAlertID(id string) (report.AlertRow, bool) {
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

func inRange(t, from, to time.Time) bool {
	return !t.Before(from) && t.Before(to)
}

func hourTime(h int64) time.Time {
	if h <= 0 {
		return time.Time{}
	}
	return time.Unix(h*3600, 0).UTC()
}
