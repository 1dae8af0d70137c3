// Package bolt is secretwatch's embedded file store (bbolt): the baseline store and alert
// suppressor the CLI uses by default. One Record call is one transaction.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/secretwatch/secretwatch/baseline/internal/bound"
	"github.com/secretwatch/secretwatch/baseline/internal/localstate"
	"github.com/secretwatch/secretwatch/detector"
)

var (
	_ detector.Store      = (*Store)(nil)
	_ detector.Suppressor = (*Store)(nil)
)

var (
	bucketSeries = []byte("series")
	bucketEvents = []byte("events")
	bucketAlerts = []byte("alerts")
	bucketMeta   = []byte("meta")
	keyMaxHour   = []byte("maxHour")
)

// Store is the embedded file store the CLI uses by default (bbolt). One Record call is one
// transaction: either every read of the call is counted, or none is.
type Store struct {
	mu    sync.Mutex
	db    *bbolt.DB
	st    localstate.State
	cache map[detector.SeriesKey]*detector.Series // decoded series, write-through
}

// lockWait is how long Open waits for another process to release the file.
var lockWait = 2 * time.Second

// Option configures Open.
type Option func(*config)

type config struct {
	bolt bbolt.Options
	now  func() time.Time
}

// Clock sets the wall clock (default time.Now). The store's "now" follows event time, but never
// more than localstate.FutureSkew past this clock.
func Clock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// BulkLoad skips the fsync after every transaction and syncs once on Close: much faster for a
// replay, and safe against a crash of the process (the page cache survives it). Only a crash of
// the machine itself may lose the last transactions — rerun the replay then; it is idempotent.
func BulkLoad() Option { return func(c *config) { c.bolt.NoSync = true } }

// Open opens (creating if needed) the store file at path. Its errors name the file and say what
// to do; they wrap ErrInUse (another process has it open), ErrDamaged (truncated or not a store)
// or the file system's error (e.g. fs.ErrPermission).
func Open(path string, retention time.Duration, opts ...Option) (s *Store, err error) {
	if retention <= 0 {
		retention = localstate.DefaultRetention
	}
	cfg := config{bolt: bbolt.Options{Timeout: lockWait, NoFreelistSync: true}, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	// bbolt panics on some damage checkFile cannot see; in this goroutine, that is an error.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, damaged(path, fmt.Sprint(r))
		}
	}()
	db, err := bbolt.Open(path, 0o600, &cfg.bolt)
	if err != nil {
		return nil, openError(path, err)
	}
	s = &Store{db: db, st: localstate.State{Retention: retention, Now: cfg.now}, cache: map[detector.SeriesKey]*detector.Series{}}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketSeries, bucketEvents, bucketAlerts, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keyMaxHour); len(v) == 8 {
			s.st.MaxHour = int64(binary.BigEndian.Uint64(v))
			s.st.Clamp() // a file written by a build that followed any record into the future
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// Close syncs and closes the file.
func (s *Store) Close() error {
	err := s.db.Sync()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// Key sizes: bbolt refuses keys over 32 KiB, and a secret ID or principal comes from a record
// anyone in the account can write. A part longer than maxKeyPart, or one holding a NUL (the
// separator) or starting with localstate.Digest's marker, is stored as its digest; the series
// value then carries the readable names, bounded to maxNameText.
const (
	maxKeyPart  = 512
	maxNameText = 2048
)

func keyPart(s string) (string, bool) {
	if len(s) <= maxKeyPart && !strings.ContainsRune(s, 0) && !strings.HasPrefix(s, "\x01") {
		return s, false
	}
	return localstate.Digest(s), true
}

// seriesKeyBytes is the bbolt key of a series, and whether a part of it is a digest.
func seriesKeyBytes(k detector.SeriesKey) ([]byte, bool) {
	sec, d1 := keyPart(k.Secret)
	pr, d2 := keyPart(k.Principal)
	return []byte(sec + "\x00" + pr), d1 || d2
}

func dayKey(d int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(d)) }

// Record implements detector.Store.
func (s *Store) Record(ctx context.Context, reads []detector.Read) (detector.Recorded, error) {
	if err := ctx.Err(); err != nil {
		return detector.Recorded{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := detector.Recorded{Fresh: make([]bool, len(reads)), Series: map[detector.SeriesKey]*detector.Series{}}
	prevMax := s.st.MaxHour
	touched := map[detector.SeriesKey]*detector.Series{}
	days := localstate.DayRows{} // report rows of the fresh reads, see report.go
	err := s.db.Update(func(tx *bbolt.Tx) error {
		sb, eb := tx.Bucket(bucketSeries), tx.Bucket(bucketEvents)
		for _, r := range reads {
			s.st.Observe(r.Time)
		}
		get := func(k detector.SeriesKey) (*detector.Series, error) {
			if se := touched[k]; se != nil {
				return se, nil
			}
			se := s.cache[k]
			if se == nil {
				se = &detector.Series{}
				if v := sb.Get(key(k)); v != nil {
					if _, err := decodeSeries(v, se); err != nil {
						return nil, fmt.Errorf("series %q/%q: %w", k.Secret, k.Principal, err)
					}
				}
			} else {
				se = localstate.CloneSeries(se) // the cache changes only when the transaction commits
			}
			touched[k] = se
			return se, nil
		}
		for i, r := range reads {
			keys := localstate.SeriesKeys(r)
			series := make([]*detector.Series, len(keys))
			for j, k := range keys {
				se, err := get(k)
				if err != nil {
					return err
				}
				series[j] = se
			}
			db, err := eb.CreateBucketIfNotExists(dayKey(localstate.DayOf(r.Time)))
			if err != nil {
				return err
			}
			id := []byte(localstate.EventKey(r.EventID))
			if db.Get(id) != nil {
				continue
			}
			if err := db.Put(id, []byte{1}); err != nil {
				return err
			}
			out.Fresh[i] = true
			for _, se := range series {
				s.st.Apply(se, r)
			}
			days.Add(r)
		}
		// Drop de-duplication days past the horizon.
		minDay := s.st.DedupMinDay()
		var old [][]byte
		c := eb.Cursor()
		for k, _ := c.First(); k != nil && int64(binary.BigEndian.Uint64(k)) < minDay; k, _ = c.Next() {
			old = append(old, slices.Clone(k))
		}
		for _, k := range old {
			if err := eb.DeleteBucket(k); err != nil {
				return err
			}
		}
		for k, se := range touched {
			s.st.Prune(se)
			if err := sb.Put(encodeKeyed(k, se)); err != nil {
				return err
			}
		}
		if err := s.putDays(tx, days); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyMaxHour, binary.BigEndian.AppendUint64(nil, uint64(s.st.MaxHour)))
	})
	if err != nil {
		s.st.MaxHour = prevMax
		if errors.Is(err, bberrors.ErrKeyTooLarge) || errors.Is(err, bberrors.ErrValueTooLarge) || errors.Is(err, bberrors.ErrKeyRequired) {
			err = fmt.Errorf("%w: %w", detector.ErrUnstorable, err)
		}
		return detector.Recorded{}, fmt.Errorf("bolt: record: %w", err)
	}
	for k, se := range touched {
		s.cache[k] = se
		out.Series[k] = localstate.CloneSeries(se)
	}
	if len(s.cache) > 200_000 {
		clear(s.cache) // bounded memory; the file is the truth
	}
	return out, nil
}

// Claim implements detector.Suppressor.
func (s *Store) Claim(ctx context.Context, key string, window time.Time, n int64) (detector.AlertState, error) {
	var st detector.AlertState
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		id := []byte(localstate.AlertID(key, window))
		st = decodeAlert(b.Get(id))
		st.Count += n
		return b.Put(id, encodeAlert(st))
	})
	if err != nil {
		return st, fmt.Errorf("bolt: claim: %w", err)
	}
	return st, nil
}

// MarkDelivered implements detector.Suppressor.
func (s *Store) MarkDelivered(ctx context.Context, key string, window time.Time) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		id := []byte(localstate.AlertID(key, window))
		st := decodeAlert(b.Get(id))
		st.Delivered = true
		return b.Put(id, encodeAlert(st))
	})
	if err != nil {
		return fmt.Errorf("bolt: mark delivered: %w", err)
	}
	return nil
}

// Series returns one series (nil when unknown).
func (s *Store) Series(k detector.SeriesKey) (*detector.Series, error) {
	var out *detector.Series
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSeries).Get(key(k))
		if v == nil {
			return nil
		}
		out = &detector.Series{}
		_, err := decodeSeries(v, out)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: series: %w", err)
	}
	return out, nil
}

// EachSeries calls f for every series in key order, for reports and learn.
func (s *Store) EachSeries(f func(detector.SeriesKey, *detector.Series) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSeries).ForEach(func(k, v []byte) error {
			sec, pr, _ := strings.Cut(string(k), "\x00")
			se := &detector.Series{}
			names, err := decodeSeries(v, se)
			if err != nil {
				return err
			}
			if names != nil {
				sec, pr = names[0], names[1]
			}
			return f(detector.SeriesKey{Secret: sec, Principal: pr}, se)
		})
	})
}

func encodeAlert(st detector.AlertState) []byte {
	b := binary.AppendVarint(nil, st.Count)
	if st.Delivered {
		return append(b, 1)
	}
	return append(b, 0)
}

func decodeAlert(v []byte) detector.AlertState {
	var st detector.AlertState
	if len(v) == 0 {
		return st
	}
	c, n := binary.Varint(v)
	if n <= 0 {
		return st
	}
	st.Count = c
	st.Delivered = n < len(v) && v[n] == 1
	return st
}

// Series values: version 1 is the series; version 2 (keys holding a digest) starts with the
// readable secret and principal, then the same.
const (
	seriesVersion      = 1
	seriesVersionNames = 2
)

func key(k detector.SeriesKey) []byte {
	b, _ := seriesKeyBytes(k)
	return b
}

// encodeKeyed returns the key and value of series k.
func encodeKeyed(k detector.SeriesKey, se *detector.Series) ([]byte, []byte) {
	kb, digested := seriesKeyBytes(k)
	if !digested {
		return kb, encodeSeries(se)
	}
	b := []byte{seriesVersionNames}
	for _, n := range []string{bound.Text(k.Secret, maxNameText), bound.Text(k.Principal, maxNameText)} {
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	return kb, append(b, encodeSeries(se)...)
}

func encodeSeries(se *detector.Series) []byte {
	b := []byte{seriesVersion}
	b = binary.AppendVarint(b, timeOrZero(se.FirstSeen))
	b = binary.AppendVarint(b, timeOrZero(se.LastSeen))
	b = binary.AppendVarint(b, se.Reads)
	b = binary.AppendVarint(b, se.Denied)
	b = binary.AppendUvarint(b, uint64(len(se.FirstEventID)))
	b = append(b, se.FirstEventID...)
	hours := make([]int64, 0, len(se.Hours))
	for h := range se.Hours {
		hours = append(hours, h)
	}
	slices.Sort(hours)
	b = binary.AppendUvarint(b, uint64(len(hours)))
	prev := int64(0)
	for _, h := range hours {
		b = binary.AppendVarint(b, h-prev)
		b = binary.AppendVarint(b, se.Hours[h])
		prev = h
	}
	return b
}

var errCorrupt = errors.New("corrupt series record")

// decodeSeries decodes a series value into se, and returns the readable names a version 2
// value carries (nil for version 1).
func decodeSeries(v []byte, se *detector.Series) (*[2]string, error) {
	var names *[2]string
	if len(v) > 0 && v[0] == seriesVersionNames {
		names = new([2]string)
		v = v[1:]
		for i := range names {
			l, n := binary.Uvarint(v)
			if n <= 0 || uint64(len(v)-n) < l {
				return nil, errCorrupt
			}
			names[i] = string(v[n : n+int(l)])
			v = v[n+int(l):]
		}
	}
	return names, decodeBody(v, se)
}

func decodeBody(v []byte, se *detector.Series) error {
	if len(v) == 0 || v[0] != seriesVersion {
		return errCorrupt
	}
	v = v[1:]
	var vals [4]int64
	for i := range vals {
		x, n := binary.Varint(v)
		if n <= 0 {
			return errCorrupt
		}
		vals[i], v = x, v[n:]
	}
	se.FirstSeen, se.LastSeen = zeroOrTime(vals[0]), zeroOrTime(vals[1])
	se.Reads, se.Denied = vals[2], vals[3]
	l, n := binary.Uvarint(v)
	if n <= 0 || uint64(len(v)-n) < l {
		return errCorrupt
	}
	se.FirstEventID = string(v[n : n+int(l)])
	v = v[n+int(l):]
	cnt, n := binary.Uvarint(v)
	if n <= 0 || cnt > uint64(len(v)) {
		return errCorrupt
	}
	v = v[n:]
	se.Hours = make(map[int64]int64, cnt)
	prev := int64(0)
	for range cnt {
		d, n1 := binary.Varint(v)
		if n1 <= 0 {
			return errCorrupt
		}
		c, n2 := binary.Varint(v[n1:])
		if n2 <= 0 {
			return errCorrupt
		}
		v = v[n1+n2:]
		prev += d
		se.Hours[prev] = c
	}
	return nil
}

func timeOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func zeroOrTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
