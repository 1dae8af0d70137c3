// Package localstate is the in-memory logic shared by the local stores (baseline.MemoryStore and
// baseline/bolt.Store): it applies reads to series and says what to forget when.
package localstate

import (
	"encoding/hex"
	"maps"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// DefaultRetention is the baseline history kept when the caller does not say.
const DefaultRetention = 35 * 24 * time.Hour

// DedupWindow is how long, before the newest event a store has seen, event IDs are remembered.
// A redelivery or a re-replay of events inside it is never counted twice; events older than it
// (relative to the newest) are counted as new, since nothing can tell them apart any more.
const DedupWindow = 400 * 24 * time.Hour

// State applies reads to series and remembers the store's "now" by event time.
type State struct {
	Retention time.Duration
	MaxHour   int64 // latest event hour seen: the store's "now", by event time
}

// Horizon is the oldest hour a series keeps.
func (s *State) Horizon() int64 {
	return s.MaxHour - int64(s.Retention/time.Hour)
}

// SeriesKeys are the series a read touches: the whole secret and, when the principal is known,
// the pair.
func SeriesKeys(r detector.Read) []detector.SeriesKey {
	whole := detector.SeriesKey{Secret: r.Secret}
	if r.Principal == "" {
		return []detector.SeriesKey{whole}
	}
	return []detector.SeriesKey{whole, {Secret: r.Secret, Principal: r.Principal}}
}

// DedupMinDay is the oldest day whose event IDs are remembered.
func (s *State) DedupMinDay() int64 {
	return (s.MaxHour - int64(DedupWindow/time.Hour)) / 24
}

// Apply adds one fresh read to a series. A pair that was silent for longer than the retention
// window starts a new presence: FirstSeen moves to this read (first-seen "within the window").
func (s *State) Apply(se *detector.Series, r detector.Read) {
	if r.Denied {
		se.Denied++
		return
	}
	if se.FirstSeen.IsZero() || (!se.LastSeen.IsZero() && r.Time.Sub(se.LastSeen) > s.Retention) {
		se.FirstSeen, se.FirstEventID = r.Time, r.EventID
	} else if r.Time.Before(se.FirstSeen) {
		se.FirstSeen, se.FirstEventID = r.Time, r.EventID
	}
	if r.Time.After(se.LastSeen) {
		se.LastSeen = r.Time
	}
	se.Reads++
	if se.Hours == nil {
		se.Hours = map[int64]int64{}
	}
	se.Hours[detector.Hour(r.Time)]++
}

// Prune drops hours older than the horizon.
func (s *State) Prune(se *detector.Series) {
	h := s.Horizon()
	for k := range se.Hours {
		if k < h {
			delete(se.Hours, k)
		}
	}
}

// CloneSeries returns a deep copy of se.
func CloneSeries(se *detector.Series) *detector.Series {
	c := *se
	c.Hours = maps.Clone(se.Hours)
	return &c
}

// EventKey is the compact form of an event ID: 16 bytes for a UUID, the string otherwise.
func EventKey(id string) string {
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		if b, err := hex.DecodeString(strings.ReplaceAll(id, "-", "")); err == nil {
			return string(b)
		}
	}
	return id
}

// DayOf is the de-duplication day of an event time.
func DayOf(t time.Time) int64 { return t.Unix() / 86400 }

// AlertID names one alert window.
func AlertID(key string, window time.Time) string {
	return key + "|" + window.UTC().Format(time.RFC3339)
}
