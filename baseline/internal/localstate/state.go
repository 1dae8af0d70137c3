// Package localstate is the in-memory logic shared by the local stores (baseline.MemoryStore and
// baseline/bolt.Store): it applies reads to series and says what to forget when.
package localstate

import (
	"crypto/sha256"
	"encoding/base64"
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

// FutureSkew is how far past the wall clock an event time may move a store's "now". Event times
// come from records anyone can forge: one dated 2099 must not make the store forget its history.
const FutureSkew = time.Hour

// State applies reads to series and remembers the store's "now" by event time.
type State struct {
	Retention time.Duration
	// MaxHour is the store's "now", by event time: the latest event hour seen, but never later
	// than the wall clock plus FutureSkew (see Observe).
	MaxHour int64
	Now     func() time.Time // wall clock; nil: time.Now
}

// CapHour is the latest hour MaxHour may reach now.
func (s *State) CapHour() int64 {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return detector.Hour(now().Add(FutureSkew))
}

// Observe moves MaxHour to the hour of t if it is later — but never past CapHour, so retention
// and de-duplication pruning follow the data, not a single record's say-so.
func (s *State) Observe(t time.Time) {
	if h := min(detector.Hour(t), s.CapHour()); h > s.MaxHour {
		s.MaxHour = h
	}
}

// Clamp brings a MaxHour loaded from disk (written by a build that trusted every event time)
// back under CapHour.
func (s *State) Clamp() {
	s.MaxHour = min(s.MaxHour, s.CapHour())
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

// EventKey is the compact, bounded form of an event ID: 16 bytes for a UUID; the string itself
// when it is short and cannot be mistaken for another form; otherwise "\x01" and the SHA-256 of
// the ID (33 bytes). An ID of any length thus gives a key of at most 64 bytes.
func EventKey(id string) string {
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		if b, err := hex.DecodeString(strings.ReplaceAll(id, "-", "")); err == nil {
			return string(b)
		}
	}
	if len(id) <= 64 && len(id) != 16 && !strings.HasPrefix(id, "\x01") {
		return id
	}
	return Digest(id)
}

// Digest is "\x01" and the base64url SHA-256 of s (44 bytes, never a NUL): the key form of a
// value too long (or too odd) to be a key itself.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "\x01" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// DayOf is the de-duplication day of an event time.
func DayOf(t time.Time) int64 { return t.Unix() / 86400 }

// AlertID names one alert window. An alert key holds a secret and a principal: over 1 KiB it is
// replaced by its Digest, so the ID stays a valid, bounded key (bbolt refuses keys over 32 KiB).
func AlertID(key string, window time.Time) string {
	if len(key) > 1024 || strings.HasPrefix(key, "\x01") {
		key = Digest(key)
	}
	return key + "|" + window.UTC().Format(time.RFC3339)
}
