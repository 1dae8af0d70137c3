package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/secretwatch/secretwatch/detector"
)

var _ detector.Tallier = (*Store)(nil)

// bucketTally holds the distinct sets of detector.Tallier. Keys start with the window (8 bytes,
// see appendOrdered), so expiring old windows is a scan from the start:
//
//	window + key                      → uvarint size of the set
//	window + key + 0x00 + member      → 1 (the member is in the set)
//
// key and member are in their bounded key form (keyPart: at most 512 bytes, never a NUL), so a
// set's size entry and its members never collide with another key's.
var bucketTally = []byte("tally")

func tallySizeKey(key string, window time.Time) []byte {
	k, _ := keyPart(key)
	return append(appendOrdered(make([]byte, 0, 8+len(k)), window.Unix()), k...)
}

func tallyMemberKey(size []byte, member string) []byte {
	m, _ := keyPart(member)
	b := make([]byte, 0, len(size)+1+len(m))
	b = append(append(append(b, size...), 0), m...)
	return b
}

var errCorruptTally = errors.New("corrupt tally size")

func decodeTallySize(v []byte) (int, error) {
	if v == nil {
		return 0, nil
	}
	n, l := binary.Uvarint(v)
	if l <= 0 || l != len(v) || n > 1<<31 {
		return 0, errCorruptTally
	}
	return int(n), nil
}

// Tally implements detector.Tallier: one transaction that adds the members not yet in the set
// (until it holds limit), and forgets the windows older than the retention before the store's
// "now" (localstate.State: the latest event time seen, never past the clock plus FutureSkew, so a
// window dated 2099 is kept but forgets nothing). With no members, or none new, it only reads.
func (s *Store) Tally(ctx context.Context, key string, window time.Time, members []string, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	size := tallySizeKey(key, window)
	// Read first: a set that is full or already holds every member (a reader's usual secrets,
	// a redelivery) needs no write transaction — most calls of a replay.
	var n int
	changes := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTally)
		if b == nil {
			changes = len(members) > 0
			return nil
		}
		var err error
		if n, err = decodeTallySize(b.Get(size)); err != nil {
			return err
		}
		for _, m := range members {
			if n >= limit {
				break
			}
			if b.Get(tallyMemberKey(size, m)) == nil {
				changes = true
				break
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: tally %q: %w", key, err)
	}
	if !changes {
		return min(n, max(limit, 0)), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prevMax := s.st.MaxHour
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketTally)
		if err != nil {
			return err
		}
		s.st.Observe(window)
		if s.st.MaxHour != prevMax {
			if err := tx.Bucket(bucketMeta).Put(keyMaxHour, binary.BigEndian.AppendUint64(nil, uint64(s.st.MaxHour))); err != nil {
				return err
			}
		}
		if err := s.pruneTallies(b); err != nil {
			return err
		}
		if n, err = decodeTallySize(b.Get(size)); err != nil {
			return err
		}
		added := 0
		for _, m := range members {
			if n >= limit {
				break
			}
			mk := tallyMemberKey(size, m)
			if b.Get(mk) != nil {
				continue
			}
			if err := b.Put(mk, []byte{1}); err != nil {
				return err
			}
			n++
			added++
		}
		if added == 0 {
			return nil
		}
		return b.Put(size, binary.AppendUvarint(nil, uint64(n)))
	})
	if err != nil {
		s.st.MaxHour = prevMax
		if errors.Is(err, bberrors.ErrKeyTooLarge) || errors.Is(err, bberrors.ErrValueTooLarge) || errors.Is(err, bberrors.ErrKeyRequired) {
			err = fmt.Errorf("%w: %w", detector.ErrUnstorable, err)
		}
		return 0, fmt.Errorf("bolt: tally %q: %w", key, err)
	}
	return min(n, max(limit, 0)), nil
}

// pruneTallies deletes the sets (sizes and members) of windows older than the horizon. Cheap
// when there is nothing to delete: one seek to the first key.
func (s *Store) pruneTallies(b *bbolt.Bucket) error {
	horizon := s.st.Horizon() * 3600
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); len(k) >= 8 && ordered(k) < horizon; k, _ = c.Next() {
		old = append(old, slices.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
