package bolt

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secretwatch/secretwatch/baseline/internal/bound"
	"github.com/secretwatch/secretwatch/baseline/internal/localstate"
	"github.com/secretwatch/secretwatch/report"
)

var _ report.Source = (*Store)(nil)

// bucketDays holds the report rows: key = day (8 bytes, see appendOrdered) + secret + 0x00 +
// principal, value = encodeDayRow. Day-first keys make a period one range scan and the expiry
// of old days a scan from the start.
var bucketDays = []byte("days")

// appendOrdered appends v so that byte order is numeric order, negative values (event times
// before 1970, which a hostile record may carry) included: the leading part of the day-row and
// tally keys (tally.go), which makes periods range scans and expiry a scan from the start.
func appendOrdered(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v)^(1<<63))
}

// ordered reads what appendOrdered wrote at the start of k.
func ordered(k []byte) int64 { return int64(binary.BigEndian.Uint64(k) ^ (1 << 63)) }

func dayRowKeyBytes(k localstate.DayRowKey) []byte {
	sec, _ := keyPart(k.Secret)
	pr, _ := keyPart(k.Principal)
	b := make([]byte, 0, 8+len(sec)+1+len(pr))
	b = appendOrdered(b, k.Day)
	b = append(b, sec...)
	b = append(b, 0)
	return append(b, pr...)
}

// putDays merges the rows of one Record call into the file and drops the days past the
// retention window. It runs inside Record's transaction: the rows commit with the counts.
func (s *Store) putDays(tx *bbolt.Tx, rows localstate.DayRows) error {
	b, err := tx.CreateBucketIfNotExists(bucketDays)
	if err != nil {
		return err
	}
	// In key order, and pages filled further than bbolt's default half: rows arrive day by day,
	// so most land at the end of the bucket, where splitting pages in half would waste the rest.
	b.FillPercent = 0.9
	keys := make([]localstate.DayRowKey, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b localstate.DayRowKey) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Secret, b.Secret), cmp.Compare(a.Principal, b.Principal))
	})
	for _, k := range keys {
		row := rows[k]
		key := dayRowKeyBytes(k)
		if v := b.Get(key); v != nil {
			old, err := decodeDayRow(v)
			if err != nil {
				return fmt.Errorf("day row %q/%q: %w", bound.Text(k.Secret, 64), bound.Text(k.Principal, 64), err)
			}
			old.Merge(row)
			row = old
		}
		if err := b.Put(key, encodeDayRow(row)); err != nil {
			return err
		}
	}
	minDay := s.st.DayRowMinDay()
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); len(k) >= 8 && ordered(k) < minDay; k, _ = c.Next() {
		old = append(old, slices.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Days implements report.Source.
func (s *Store) Days(ctx context.Context, from, to time.Time, yield func(*report.DayRow) error) error {
	lo, hi := localstate.DayRange(from, to)
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDays)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		in := interner{}
		start := appendOrdered(nil, lo)
		n := 0
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			if len(k) < 8 {
				return errCorruptDay
			}
			day := ordered(k)
			if day >= hi {
				break
			}
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			row, err := decodeDayRowWith(v, &in)
			if err != nil {
				return fmt.Errorf("day row of %s: %w", localstate.UnixDay(day).Format(time.DateOnly), err)
			}
			row.Day = localstate.UnixDay(day)
			if err := yield(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("baseline: bolt days: %w", err)
	}
	return nil
}

// Alerts implements report.Source.
func (s *Store) Alerts(ctx context.Context, from, to time.Time, yield func(report.AlertRow) error) error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
			row, ok := localstate.ParseAlertID(string(k))
			if !ok || !decodeAlert(v).Delivered || !localstate.InRange(row.Window, from, to) {
				return nil
			}
			return yield(row)
		})
	})
	if err != nil {
		return fmt.Errorf("baseline: bolt alerts: %w", err)
	}
	return ctx.Err()
}

// Latest implements report.Source.
func (s *Store) Latest(ctx context.Context) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return localstate.HourTime(s.st.MaxHour), nil
}

const dayRowVersion = 1

var errCorruptDay = errors.New("corrupt day row")

func encodeDayRow(r *report.DayRow) []byte {
	b := []byte{dayRowVersion}
	b = binary.AppendVarint(b, r.Reads)
	b = binary.AppendVarint(b, r.Denied)
	b = binary.AppendVarint(b, timeOrZero(r.FirstSeen))
	b = binary.AppendVarint(b, timeOrZero(r.LastSeen))
	// The names are in the value: the key holds a digest of an over-long one (see keyPart).
	b = appendString(b, bound.Text(r.Secret, maxNameText))
	b = appendString(b, bound.Text(r.Principal, maxNameText))
	b = appendString(b, r.SecretARN)
	b = appendString(b, r.PrincipalType)
	for _, l := range [][]string{r.SourceIPs, r.VPCEndpointIDs, r.UserAgents} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			b = appendString(b, s)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func decodeDayRow(v []byte) (*report.DayRow, error) { return decodeDayRowWith(v, nil) }

// decodeDayRowWith decodes with strings shared through in (nil: none shared).
func decodeDayRowWith(v []byte, in *interner) (*report.DayRow, error) {
	if len(v) == 0 || v[0] != dayRowVersion {
		return nil, errCorruptDay
	}
	d := dayDecoder{v: v[1:], in: in}
	r := &report.DayRow{}
	r.Reads, r.Denied = d.varint(), d.varint()
	r.FirstSeen, r.LastSeen = zeroOrTime(d.varint()), zeroOrTime(d.varint())
	r.Secret, r.Principal = d.string(), d.string()
	r.SecretARN, r.PrincipalType = d.string(), d.string()
	for _, l := range []*[]string{&r.SourceIPs, &r.VPCEndpointIDs, &r.UserAgents} {
		n := d.uvarint()
		if n > report.MaxValues {
			return nil, errCorruptDay
		}
		for range n {
			*l = append(*l, d.string())
		}
	}
	if d.bad || len(d.v) != 0 {
		return nil, errCorruptDay
	}
	return r, nil
}

// dayDecoder reads varints and strings; a short or malformed input sets bad.
type dayDecoder struct {
	v   []byte
	bad bool
	in  *interner
}

// interner shares the strings a scan decodes: secrets, principals, networks and user agents
// repeat across days, and one copy of each saves most of a report's allocations and memory.
type interner struct{ m map[string]string }

// maxInterned bounds the table (a hostile store of distinct values grows it no further).
const maxInterned = 1 << 20

func (in *interner) string(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

func (d *dayDecoder) varint() int64 {
	x, n := binary.Varint(d.v)
	if n <= 0 {
		d.bad, d.v = true, nil
		return 0
	}
	d.v = d.v[n:]
	return x
}

func (d *dayDecoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.v)
	if n <= 0 {
		d.bad, d.v = true, nil
		return 0
	}
	d.v = d.v[n:]
	return x
}

func (d *dayDecoder) string() string {
	l := d.uvarint()
	if d.bad || l > uint64(len(d.v)) {
		d.bad, d.v = true, nil
		return ""
	}
	s := d.in.string(d.v[:l])
	d.v = d.v[l:]
	return s
}
