package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secretwatch/secretwatch/baseline/internal/bound"
	"github.com/secretwatch/secretwatch/detector"
)

var _ detector.Tallier = (*Store)(nil)

// Tally items (docs/dynamodb.md, "Tally items"): one per (key, window),
//
//	pk "T#<key>" (key in its bounded key form, see keyPart)   sk "W#<window start, unix seconds>"
//	m   string set of member digests                         ttl window + retention + 1 day
//
// A member is stored as the base64url of the first 12 bytes of its SHA-256 (16 characters,
// whatever its length): a set of 200 members weighs ~3.2 KB, so a write costs at most 4 units.
const (
	attrMembers = "m"
	// tallyWindowMax is the longest window a rule tallies by (enumeration's day): an item expires
	// a retention after its window can have ended.
	tallyWindowMax = 24 * time.Hour
	// maxFullCache bounds the sets this process remembers as full.
	maxFullCache = 10_000
)

// tallyFull remembers the sets this process has seen at a size: sets only grow (until their
// TTL, a retention after the window), so a set known to hold limit members answers limit without
// a request — a storm of denied calls costs no write per event once its window is full.
type tallyFull struct {
	mu    sync.Mutex
	sizes map[string]int // pk + "\x00" + sk → largest size seen
}

func (c *tallyFull) get(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sizes[id]
}

func (c *tallyFull) put(id string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sizes == nil || len(c.sizes) >= maxFullCache {
		c.sizes = map[string]int{}
	}
	c.sizes[id] = max(c.sizes[id], n)
}

func tallyItemKey(key string, window time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "T#" + keyPart(key)},
		attrSK: &types.AttributeValueMemberS{Value: "W#" + strconv.FormatInt(window.Unix(), 10)},
	}
}

// tallyMember is the stored form of a member: 16 characters (96 bits of its SHA-256).
func tallyMember(m string) string {
	sum := sha256.Sum256([]byte(m))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func memberSet(item map[string]types.AttributeValue) map[string]struct{} {
	set := map[string]struct{}{}
	if ss, ok := item[attrMembers].(*types.AttributeValueMemberSS); ok {
		for _, m := range ss.Value {
			set[m] = struct{}{}
		}
	}
	return set
}

// Tally implements detector.Tallier with UpdateItem "ADD m :new" (a set: adding a member twice
// changes nothing, so redelivery and retries are exact by construction) under the condition
// "attribute_not_exists(m) OR size(m) <= :room", room = limit − |new|, so the set never holds more
// than limit members. When the condition fails the store learns the set (ALL_OLD, or a consistent
// GetItem on dynalite, which ignores ReturnValuesOnConditionCheckFailure) and adds only the
// members not in it, as many as still fit. With no members it reads the item (consistent).
func (s *Store) Tally(ctx context.Context, key string, window time.Time, members []string, limit int) (int, error) {
	if limit <= 0 {
		return 0, ctx.Err()
	}
	k := tallyItemKey(key, window)
	id := k[attrPK].(*types.AttributeValueMemberS).Value + "\x00" + k[attrSK].(*types.AttributeValueMemberS).Value
	if s.tally.get(id) >= limit {
		return limit, ctx.Err()
	}
	var pending []string
	seen := map[string]bool{}
	for _, m := range members {
		if e := tallyMember(m); !seen[e] {
			seen[e] = true
			pending = append(pending, e)
		}
	}
	if len(pending) == 0 {
		item, err := s.getTally(ctx, k)
		if err != nil {
			return 0, fmt.Errorf("baseline: dynamodb tally %s: %w", bound.Text(key, 200), err)
		}
		n := len(memberSet(item))
		s.tally.put(id, n)
		return min(n, limit), nil
	}
	size := -1                    // unknown
	var known map[string]struct{} // the set as the last response showed it
	failures := 0
	for len(pending) > 0 {
		if known != nil {
			kept := pending[:0]
			for _, m := range pending {
				if _, in := known[m]; !in {
					kept = append(kept, m)
				}
			}
			pending = kept
			if len(pending) == 0 || size >= limit {
				break
			}
		}
		chunk := pending[:min(len(pending), limit-max(size, 0))]
		out, err := s.db.UpdateItem(ctx, s.tallyInput(k, window, chunk, limit-len(chunk)))
		if err == nil {
			known = memberSet(out.Attributes)
			size = len(known)
			pending = pending[len(chunk):]
			continue
		}
		ccf, isCCF := errors.AsType[*types.ConditionalCheckFailedException](err)
		if !isCCF {
			return 0, fmt.Errorf("baseline: dynamodb tally %s: %w", bound.Text(key, 200), classify(err))
		}
		if size >= 0 {
			// The chunk was sized to fit the set as we knew it: another writer added meanwhile.
			failures++
			if failures > maxItemRetries {
				return 0, fmt.Errorf("baseline: dynamodb tally %s: %d conditional failures in a row: %w", bound.Text(key, 200), failures, err)
			}
			if err := sleepCtx(ctx, retryDelay(failures)); err != nil {
				return 0, fmt.Errorf("baseline: dynamodb tally %s: %w", bound.Text(key, 200), err)
			}
		}
		item := ccf.Item
		if item == nil {
			if item, err = s.getTally(ctx, k); err != nil {
				return 0, fmt.Errorf("baseline: dynamodb tally %s: %w", bound.Text(key, 200), err)
			}
		}
		known = memberSet(item)
		size = len(known)
	}
	s.tally.put(id, size)
	return min(size, limit), nil
}

func (s *Store) tallyInput(k map[string]types.AttributeValue, window time.Time, chunk []string, room int) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      k,
		UpdateExpression:         aws.String("ADD #m :m SET #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(#m) OR size(#m) <= :room"),
		ExpressionAttributeNames: map[string]string{"#m": attrMembers, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":m":    &types.AttributeValueMemberSS{Value: chunk},
			":ttl":  &types.AttributeValueMemberN{Value: strconv.FormatInt(window.Add(s.ret+tallyWindowMax).Unix(), 10)},
			":room": &types.AttributeValueMemberN{Value: strconv.Itoa(room)},
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

func (s *Store) getTally(ctx context.Context, k map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            k,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify(err)
	}
	return res.Item, nil
}
