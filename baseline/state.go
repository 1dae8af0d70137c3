// Package baseline keeps secretwatch's read baselines: per secret and per (secret, principal),
// first and last seen, totals and hourly read counts by event time. It provides the stores the
// detector runs on: MemoryStore (tests) and BoltStore (the CLI's embedded default). The Lambda's
// DynamoDB store is in baseline/dynamodb. Every store counts a read once per CloudTrail eventID.
package baseline

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

// state is the in-memory form shared by MemoryStore and BoltStore: it applies reads to series
// and remembers which event IDs it has counted.
type state struct {
	retention time.Duration
	maxHour   int64 // latest event hour seen: the store's "now", by event time
}

// horizon is the oldest hour a series keeps.
func (s *state) horizon() int64 {
	return s.maxHour - int64(s.retention/time.Hour)
}

// seriesKeys are the series a read touches: the whole secret and, when the principal is known,
// the pair.
func seriesKeys(r detector.Read) []detector.SeriesKey {
	whole := detector.SeriesKey{Secret: r.Secret}
	if r.Principal == "" {
		return []detector.SeriesKey{whole}
	}
	return []detector.SeriesKey{whole, {Secret: r.Secret, Principal: r.Principal}}
}

// dedupMinDay is the oldest day whose event IDs are remembered.
func (s *state) dedupMinDay() int64 {
	return (s.maxHour - int64(DedupWindow/time.Hour)) / 24
}

// apply adds one fresh read to a series. A pair that was silent for longer than the retention
// window starts a new presence: FirstSeen moves to this read (first-seen "within the window").
func (s *state) apply(se *detector.Series, r detector.Read) {
	if r.Denied {
		se.Denied++
		return
	}
	if se.FirstSeen.IsZero() || (!se.LastSeen.IsZero() && r.Time.Sub(se.LastSeen) > s.retention) {
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

// prune drops hours older than the horizon.
func (s *state) prune(se *detector.Series) {
	h := s.horizon()
	for k := range se.Hours {
		if k < h {
			delete(se.Hours, k)
		}
	}
}

func cloneSeries(se *detector.Series) *detector.Series {
	c := *se
	c.Hours = maps.Clone(se.Hours)
	return &c
}

// eventKey is the compact form of an event ID: 16 bytes for a UUID, the string otherwise.
func eventKey(id string) string {
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		if b, err := hex.DecodeString(strings.ReplaceAll(id, "-", "")); err == nil {
			return string(b)
		}
	}
	return id
}

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

func alertID(key string, window time.Time) string {
	return key + "|" + window.UTC().Format(time.RFC3339)
}
