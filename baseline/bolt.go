package baseline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/secretwatch/secretwatch/detector"
)

var (
	_ detector.Store      = (*BoltStore)(nil)
	_ detector.Suppressor = (*BoltStore)(nil)
)

var (
	bucketSeries = []byte("series")
	bucketEvents = []byte("events")
	bucketAlerts = []byte("alerts")
	bucketMeta   = []byte("meta")
	keyMaxHour   = []byte("maxHour")
)

// BoltStore is the embedded file store the CLI uses by default (bbolt). One Record call is one
// transaction: either every read of the call is counted, or none is.
type BoltStore struct {
	mu    sync.Mutex
	db    *bolt.DB
	st    state
	cache map[detector.SeriesKey]*detector.Series // decoded series, write-through
}

// BoltOption configures OpenBoltStore.
type BoltOption func(*bolt.Options)

// BulkLoad skips the fsync after every transaction and syncs once on Close: much faster for a
// replay, and safe against a crash of the process (the page cache survives it). Only a crash of
// the machine itself may lose the last transactions — rerun the replay then; it is idempotent.
func BulkLoad() BoltOption { return func(o *bolt.Options) { o.NoSync = true } }

// OpenBoltStore opens (creating if needed) the store file at path.
func OpenBoltStore(path string, retention time.Duration, opts ...BoltOption) (*BoltStore, error) {
	if retention <= 0 {
		retention = DefaultRetention
	}
	bo := &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true}
	for _, o := range opts {
		o(bo)
	}
	db, err := bolt.Open(path, 0o600, bo)
	if err != nil {
		return nil, fmt.Errorf("baseline: open %s: %w", path, err)
	}
	s := &BoltStore{db: db, st: state{retention: retention}, cache: map[detector.SeriesKey]*detector.Series{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSeries, bucketEvents, bucketAlerts, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keyMaxHour); len(v) == 8 {
			s.st.maxHour = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("baseline: init %s: %w", path, err)
	}
	return s, nil
}

// Close syncs and closes the file.
func (s *BoltStore) Close() error {
	err := s.db.Sync()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("baseline: close: %w", err)
	}
	return nil
}

func seriesKeyBytes(k detector.SeriesKey) []byte {
	return []byte(k.Secret + "\x00" + k.Principal)
}

func dayKey(d int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(d)) }

// Record implements detector.Store.
func (s *BoltStore) Record(ctx context.Context, reads []detector.Read) (detector.Recorded, error) {
	if err := ctx.Err(); err != nil {
		return detector.Recorded{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := detector.Recorded{Fresh: make([]bool, len(reads)), Series: map[detector.SeriesKey]*detector.Series{}}
	prevMax := s.st.maxHour
	touched := map[detector.SeriesKey]*detector.Series{}
	days := dayRows{} // report rows of the fresh reads, see report_bolt.go
	err := s.db.Update(func(tx *bolt.Tx) error {
		sb, eb := tx.Bucket(bucketSeries), tx.Bucket(bucketEvents)
		for _, r := range reads {
			if h := detector.Hour(r.Time); h > s.st.maxHour {
				s.st.maxHour = h
			}
		}
		get := func(k detector.SeriesKey) (*detector.Series, error) {
			if se := touched[k]; se != nil {
				return se, nil
			}
			se := s.cache[k]
			if se == nil {
				se = &detector.Series{}
				if v := sb.Get(seriesKeyBytes(k)); v != nil {
					if err := decodeSeries(v, se); err != nil {
						return nil, fmt.Errorf("series %q/%q: %w", k.Secret, k.Principal, err)
					}
				}
			} else {
				se = cloneSeries(se) // the cache changes only when the transaction commits
			}
			touched[k] = se
			return se, nil
		}
		for i, r := range reads {
			keys := seriesKeys(r)
			series := make([]*detector.Series, len(keys))
			for j, k := range keys {
				se, err := get(k)
				if err != nil {
					return err
				}
				series[j] = se
			}
			db, err := eb.CreateBucketIfNotExists(dayKey(dayOf(r.Time)))
			if err != nil {
				return err
			}
			id := []byte(eventKey(r.EventID))
			if db.Get(id) != nil {
				continue
			}
			if err := db.Put(id, []byte{1}); err != nil {
				return err
			}
			out.Fresh[i] = true
			for _, se := range series {
				s.st.apply(se, r)
			}
			days.add(r)
		}
		// Drop de-duplication days past the horizon.
		minDay := s.st.dedupMinDay()
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
			s.st.prune(se)
			if err := sb.Put(seriesKeyBytes(k), encodeSeries(se)); err != nil {
				return err
			}
		}
		if err := s.putDays(tx, days); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyMaxHour, binary.BigEndian.AppendUint64(nil, uint64(s.st.maxHour)))
	})
	if err != nil {
		s.st.maxHour = prevMax
		return detector.Recorded{}, fmt.Errorf("baseline: bolt record: %w", err)
	}
	for k, se := range touched {
		s.cache[k] = se
		out.Series[k] = cloneSeries(se)
	}
	if len(s.cache) > 200_000 {
		clear(s.cache) // bounded memory; the file is the truth
	}
	return out, nil
}

// Claim implements detector.Suppressor.
func (s *BoltStore) Claim(ctx context.Context, key string, window time.Time, n int64) (detector.AlertState, error) {
	var st detector.AlertState
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		id := []byte(alertID(key, window))
		st = decodeAlert(b.Get(id))
		st.Count += n
		return b.Put(id, encodeAlert(st))
	})
	if err != nil {
		return st, fmt.Errorf("baseline: bolt claim: %w", err)
	}
	return st, nil
}

// MarkDelivered implements detector.Suppressor.
func (s *BoltStore) MarkDelivered(ctx context.Context, key string, window time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		id := []byte(alertID(key, window))
		st := decodeAlert(b.Get(id))
		st.Delivered = true
		return b.Put(id, encodeAlert(st))
	})
	if err != nil {
		return fmt.Errorf("baseline: bolt mark delivered: %w", err)
	}
	return nil
}

// Series returns one series (nil when unknown).
func (s *BoltStore) Series(key detector.SeriesKey) (*detector.Series, error) {
	var out *detector.Series
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSeries).Get(seriesKeyBytes(key))
		if v == nil {
			return nil
		}
		out = &detector.Series{}
		return decodeSeries(v, out)
	})
	if err != nil {
		return nil, fmt.Errorf("baseline: bolt series: %w", err)
	}
	return out, nil
}

// EachSeries calls f for every series in key order, for reports and learn.
func (s *BoltStore) EachSeries(f func(detector.SeriesKey, *detector.Series) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSeries).ForEach(func(k, v []byte) error {
			sec, pr, _ := cutByte(string(k), 0)
			se := &detector.Series{}
			if err := decodeSeries(v, se); err != nil {
				return err
			}
			return f(detector.SeriesKey{Secret: sec, Principal: pr}, se)
		})
	})
}

func cutByte(s string, b byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
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

const seriesVersion = 1

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

func decodeSeries(v []byte, se *detector.Series) error {
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
