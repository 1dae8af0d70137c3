package dynamodb

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

// tallyFakeDB is a fake that evaluates the tally condition (size(m) <= :room) as DynamoDB does.
// allOld: a failed condition returns the item (AWS); otherwise none (dynalite), and the store
// must read it with GetItem. before, when set, runs before each tally write (another writer).
func tallyFakeDB(allOld bool, before func(db *fakeDB, in *dynamodb.UpdateItemInput)) *fakeDB {
	db := newFakeDB()
	db.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		if before != nil {
			before(db, in)
		}
		if room, ok := in.ExpressionAttributeValues[":room"]; ok {
			r, _ := strconv.Atoi(room.(*types.AttributeValueMemberN).Value)
			if ss, ok := db.items[fkey(in.Key)][attrMembers].(*types.AttributeValueMemberSS); ok && len(ss.Value) > r {
				if !allOld {
					return nil, &types.ConditionalCheckFailedException{Message: ptr("The conditional request failed")}
				}
				return nil, db.ccf(in)
			}
		}
		return &dynamodb.UpdateItemOutput{Attributes: db.apply(in)}, nil
	}
	return db
}

func TestFakeTallierContract(t *testing.T) {
	for _, allOld := range []bool{true, false} {
		t.Run(fmt.Sprintf("allOld=%v", allOld), func(t *testing.T) {
			storetest.Tallier(t, func(t *testing.T) detector.Tallier { return newFakeStore(t, tallyFakeDB(allOld, nil)) })
		})
	}
}

// The item: T#<key> / W#<window>, members as 16-character digests, a TTL a retention (plus the
// longest window) after the window; a long key in its digest form.
func TestFakeTallyItem(t *testing.T) {
	db := tallyFakeDB(true, nil)
	st := newFakeStore(t, db) // retention 48h
	w := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("p#", 400)
	for _, key := range []string{"bulk|arn:aws:iam::111122223333:role/a#b", long} {
		if n, err := st.Tally(t.Context(), key, w, []string{"111122223333/us-east-1/" + strings.Repeat("s", 300), "x"}, 10); err != nil || n != 2 {
			t.Fatalf("Tally = %d, %v; want 2", n, err)
		}
	}
	want := map[string]bool{
		"T#bulk|arn:aws:iam::111122223333:role/a%23b|W#1772445600": true,
		"T#" + digestPart(long) + "|W#1772445600":                  true,
	}
	for k, item := range db.items {
		if !want[k] {
			t.Errorf("unexpected item %.80q", k)
			continue
		}
		delete(want, k)
		ss := item[attrMembers].(*types.AttributeValueMemberSS).Value
		if len(ss) != 2 || len(ss[0]) != 16 || len(ss[1]) != 16 {
			t.Errorf("members %q, want 2 digests of 16 characters", ss)
		}
		if ttl := numAttr(item[attrTTL]); ttl != w.Add(48*time.Hour+24*time.Hour).Unix() {
			t.Errorf("ttl %d, want window + retention + 1 day", ttl)
		}
	}
	if len(want) > 0 {
		t.Errorf("items missing: %v", want)
	}
}

// Requests: one UpdateItem per call while the set has room; a full set answers from the
// process's memory; a cold process meets a full set with one failed write (plus one GetItem where
// the condition failure carries no item, as on dynalite).
func TestFakeTallyRequests(t *testing.T) {
	w := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, allOld := range []bool{true, false} {
		t.Run(fmt.Sprintf("allOld=%v", allOld), func(t *testing.T) {
			db := tallyFakeDB(allOld, nil)
			st := newFakeStore(t, db)
			for i := range 3 {
				if n, err := st.Tally(t.Context(), "k", w, []string{strconv.Itoa(i)}, 3); err != nil || n != i+1 {
					t.Fatalf("Tally %d = %d, %v", i, n, err)
				}
			}
			if len(db.calls) != 3 || db.gets != 0 {
				t.Errorf("%d UpdateItem, %d GetItem for 3 members; want 3, 0", len(db.calls), db.gets)
			}
			db.calls, db.gets = nil, 0
			for i := range 5 {
				if n, err := st.Tally(t.Context(), "k", w, []string{strconv.Itoa(10 + i)}, 3); err != nil || n != 3 {
					t.Fatalf("Tally on a full set = %d, %v; want 3", n, err)
				}
			}
			if len(db.calls) != 0 || db.gets != 0 {
				t.Errorf("full set, warm: %d UpdateItem, %d GetItem; want none", len(db.calls), db.gets)
			}
			cold := newFakeStore(t, db)
			if n, err := cold.Tally(t.Context(), "k", w, []string{"new"}, 3); err != nil || n != 3 {
				t.Fatalf("cold Tally on a full set = %d, %v; want 3", n, err)
			}
			wantGets := 1
			if allOld {
				wantGets = 0
			}
			if len(db.calls) != 1 || db.gets != wantGets {
				t.Errorf("full set, cold: %d UpdateItem, %d GetItem; want 1, %d", len(db.calls), db.gets, wantGets)
			}
			if n, err := cold.Tally(t.Context(), "k", w, nil, 3); err != nil || n != 3 || len(db.calls) != 1 || db.gets != wantGets {
				t.Errorf("read of a set known full = %d, %v after %d UpdateItem, %d GetItem; want 3 and no request", n, err, len(db.calls), db.gets)
			}
		})
	}
}

// Another writer adds members between our read and our write: the store retries (backing off)
// with what still fits, the set never exceeds the limit, and the answer is its size.
func TestFakeTallyContention(t *testing.T) {
	oldBase, oldCap := retryBase, retryCap
	retryBase, retryCap = time.Microsecond, 10*time.Microsecond
	t.Cleanup(func() { retryBase, retryCap = oldBase, oldCap })
	w := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	other := 0
	db := tallyFakeDB(false, func(db *fakeDB, in *dynamodb.UpdateItemInput) {
		if other < 3 && len(db.items) > 0 { // three foreign members, one before each of our writes
			other++
			db.apply(&dynamodb.UpdateItemInput{Key: in.Key, ExpressionAttributeNames: map[string]string{"#m": attrMembers},
				ExpressionAttributeValues: map[string]types.AttributeValue{":m": &types.AttributeValueMemberSS{Value: []string{fmt.Sprintf("other-%d", other)}}}})
		}
	})
	st := newFakeStore(t, db)
	if n, err := st.Tally(t.Context(), "k", w, []string{"a"}, 6); err != nil || n != 1 {
		t.Fatalf("first Tally = %d, %v", n, err)
	}
	n, err := st.Tally(t.Context(), "k", w, []string{"b", "c", "d", "e", "f", "g"}, 6)
	size := len(db.items["T#k|W#"+strconv.FormatInt(w.Unix(), 10)][attrMembers].(*types.AttributeValueMemberSS).Value)
	if err != nil || n != 6 || size != 6 {
		t.Errorf("Tally under contention = %d, %v, set of %d; want 6, a set of 6", n, err, size)
	}
	for _, in := range db.calls {
		m := in.ExpressionAttributeValues[":m"].(*types.AttributeValueMemberSS).Value
		room, _ := strconv.Atoi(in.ExpressionAttributeValues[":room"].(*types.AttributeValueMemberN).Value)
		if room+len(m) != 6 || slices.Contains(m, "a") {
			t.Errorf("write of %v with room %d: room + members must be the limit, and known members not re-sent", m, room)
		}
	}

	// A writer that always wins: give up after maxItemRetries, wrapped.
	always := tallyFakeDB(false, nil)
	always.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		always.apply(&dynamodb.UpdateItemInput{Key: in.Key, ExpressionAttributeNames: map[string]string{"#m": attrMembers},
			ExpressionAttributeValues: map[string]types.AttributeValue{":m": &types.AttributeValueMemberSS{Value: []string{fmt.Sprintf("x%d", len(always.calls))}}}})
		return nil, &types.ConditionalCheckFailedException{Message: ptr("The conditional request failed")}
	}
	st = newFakeStore(t, always)
	if _, err := st.Tally(t.Context(), "k", w, []string{"a"}, 1000); err == nil || !strings.Contains(err.Error(), "conditional failures in a row") {
		t.Errorf("Tally against an item that always changes: %v", err)
	}
}
