package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

// These tests run the store's core — its write conditions, freeze and spill, retries — against a
// small fake client in every plain `go test`, no dynalite needed. The fake keeps items in a map
// and applies the store's updates; each test decides, through the function fields, which
// conditions fail. The real conditions are checked against dynalite by the other tests.

// fakeDB implements dynamoAPI with function fields; nil fields use the in-memory table.
type fakeDB struct {
	items  map[string]map[string]types.AttributeValue // "pk|sk" → item
	update func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	calls  []*dynamodb.UpdateItemInput
	gets   int

	reportCalls int
}

// isReportItem tells the items report.go writes (R#, D#, X#, L#) from the counters and alerts.
func isReportItem(key map[string]types.AttributeValue) bool {
	pk := sAttr(key, attrPK)
	return len(pk) > 1 && pk[1] == '#' && strings.ContainsRune("RDXL", rune(pk[0]))
}

func newFakeDB() *fakeDB { return &fakeDB{items: map[string]map[string]types.AttributeValue{}} }

func sAttr(m map[string]types.AttributeValue, k string) string {
	v, _ := m[k].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

func fkey(key map[string]types.AttributeValue) string {
	return sAttr(key, attrPK) + "|" + sAttr(key, attrSK)
}

// apply is the update every counter write makes: ADD n, d, ev; SET the rest.
func (f *fakeDB) apply(in *dynamodb.UpdateItemInput) map[string]types.AttributeValue {
	k := fkey(in.Key)
	item := f.items[k]
	if item == nil {
		item = map[string]types.AttributeValue{attrPK: in.Key[attrPK], attrSK: in.Key[attrSK]}
		f.items[k] = item
	}
	for name, attr := range in.ExpressionAttributeNames {
		v, ok := in.ExpressionAttributeValues[":"+strings.TrimPrefix(name, "#")]
		if !ok {
			continue
		}
		switch attr {
		case attrReads, attrDenied, attrCount:
			n, _ := strconv.ParseInt(v.(*types.AttributeValueMemberN).Value, 10, 64)
			item[attr] = &types.AttributeValueMemberN{Value: strconv.FormatInt(numAttr(item[attr])+n, 10)}
		case attrIDs, attrMembers: // ADD to a string set: a union
			var old []string
			if ss, ok := item[attr].(*types.AttributeValueMemberSS); ok {
				old = ss.Value
			}
			union := slices.Clone(old)
			for _, m := range v.(*types.AttributeValueMemberSS).Value {
				if !slices.Contains(union, m) {
					union = append(union, m)
				}
			}
			item[attr] = &types.AttributeValueMemberSS{Value: union}
		default:
			item[attr] = v
		}
	}
	return item
}

// ccf is the condition failure AWS returns, with the item as it is (ALL_OLD).
func (f *fakeDB) ccf(in *dynamodb.UpdateItemInput) error {
	return &types.ConditionalCheckFailedException{Message: ptr("The conditional request failed"), Item: f.items[fkey(in.Key)]}
}

func ptr[T any](v T) *T { return &v }

func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if isReportItem(in.Key) {
		f.reportCalls++ // the report's items (report.go) are not what these tests are about
		return &dynamodb.UpdateItemOutput{}, nil
	}
	f.calls = append(f.calls, in)
	if f.update != nil {
		return f.update(in)
	}
	return &dynamodb.UpdateItemOutput{Attributes: f.apply(in)}, nil
}

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.gets++
	return &dynamodb.GetItemOutput{Item: f.items[fkey(in.Key)]}, nil
}

func (f *fakeDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil // an empty index: every item is new
}

func (f *fakeDB) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return &dynamodb.CreateTableOutput{}, nil
}

func (f *fakeDB) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableStatus: types.TableStatusActive}}, nil
}

func newFakeStore(t *testing.T, db *fakeDB) *Store {
	t.Helper()
	st, err := New(db, Options{Table: "fake", Retention: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func fakeRead(i int, at time.Time) detector.Read {
	return detector.Read{EventID: storetest.EventID(i), Secret: "111122223333/us-east-1/db", Principal: "arn:aws:iam::111122223333:role/app", Time: at}
}

var fakeBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestFakeWriteConditions(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reads int
		want  []string // in every counter write's condition
		not   []string
	}{
		{"single read: contains mode", 1, []string{"NOT contains(#ev, :i0)", "size(#ev) < :soft"}, []string{"size(#ev) = :size", ":i1)"}},
		{"40 reads: contains mode", 40, []string{"NOT contains(#ev, :i39)"}, []string{":i40)"}},
		{"41 reads, new items: optimistic", 41, []string{"attribute_not_exists(#pk)"}, []string{"contains("}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Conditions, not freezing: one chunk that never fills.
			old := softOverride
			softOverride = 100000
			t.Cleanup(func() { softOverride = old })
			db := newFakeDB()
			st := newFakeStore(t, db)
			var reads []detector.Read
			for i := range tt.reads {
				reads = append(reads, fakeRead(i, fakeBase.Add(time.Duration(i)*time.Second)))
			}
			rec, err := st.Record(t.Context(), reads)
			if err != nil {
				t.Fatal(err)
			}
			if n := slices.Index(rec.Fresh, false); n >= 0 {
				t.Errorf("read %d not fresh", n)
			}
			if len(db.calls) != 1 {
				t.Errorf("%d UpdateItem, want 1 (the read's chunk: no whole-secret item)", len(db.calls))
			}
			for _, in := range db.calls {
				cond := *in.ConditionExpression
				for _, w := range tt.want {
					if !strings.Contains(cond, w) {
						t.Errorf("condition %q lacks %q", cond, w)
					}
				}
				for _, w := range tt.not {
					if strings.Contains(cond, w) {
						t.Errorf("condition %q has %q", cond, w)
					}
				}
			}
			// The optimistic write to an item now known: size(ev) = what it holds.
			if tt.reads > maxCondIDs {
				db.calls = nil
				more := []detector.Read{}
				for i := range 50 {
					more = append(more, fakeRead(1000+i, fakeBase.Add(time.Duration(i)*time.Second)))
				}
				if _, err := st.Record(t.Context(), more); err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf("%d", tt.reads)
				for _, in := range db.calls {
					if !strings.Contains(*in.ConditionExpression, "size(#ev) = :size") || in.ExpressionAttributeValues[":size"].(*types.AttributeValueMemberN).Value != want {
						t.Errorf("second batch: condition %q size %v, want size(#ev) = %s", *in.ConditionExpression, in.ExpressionAttributeValues[":size"], want)
					}
				}
			}
		})
	}
}

// A condition failure whose item already holds the ID is a duplicate: not fresh, not an error,
// no further write; the cached ID set answers the next duplicate without a request.
func TestFakeDuplicate(t *testing.T) {
	db := newFakeDB()
	r := fakeRead(1, fakeBase)
	seed := newFakeStore(t, db) // another instance counted it
	if _, err := seed.Record(t.Context(), []detector.Read{r}); err != nil {
		t.Fatal(err)
	}
	db.calls = nil
	db.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, db.ccf(in) }
	st := newFakeStore(t, db)
	for round := range 2 {
		rec, err := st.Record(t.Context(), []detector.Read{r})
		if err != nil || rec.Fresh[0] {
			t.Fatalf("round %d: %v, fresh %v; want a duplicate", round, err, rec.Fresh)
		}
		if s := rec.Series[detector.SeriesKey{Secret: r.Secret, Principal: r.Principal}]; s == nil || s.Reads != 1 {
			t.Errorf("round %d: series %+v, want 1 read", round, s)
		}
	}
	if len(db.calls) != 1 {
		t.Errorf("%d UpdateItem, want 1 (one failed condition, then the cache answers)", len(db.calls))
	}
}

// A full top chunk freezes: new reads go to the per-minute spill chunk of their event time, a
// full minute chunk to the per-second one, a full second to the links of its chain, and a full
// chain is ErrBucketFull.
func TestFakeFreezeAndSpill(t *testing.T) {
	oldSoft, oldChain := softOverride, maxChain
	softOverride, maxChain = 2, 2
	t.Cleanup(func() { softOverride, maxChain = oldSoft, oldChain })
	db := newFakeDB()
	// The fake enforces the freeze: a contains-mode write to an item at or over its soft limit fails.
	db.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		if soft, ok := in.ExpressionAttributeValues[":soft"]; ok {
			limit, _ := strconv.Atoi(soft.(*types.AttributeValueMemberN).Value)
			if ss, ok := db.items[fkey(in.Key)][attrIDs].(*types.AttributeValueMemberSS); ok && len(ss.Value) >= limit {
				return nil, db.ccf(in)
			}
		}
		return &dynamodb.UpdateItemOutput{Attributes: db.apply(in)}, nil
	}
	st := newFakeStore(t, db)
	at := fakeBase.Add(17*time.Minute + 5*time.Second) // minute 17, second 1025 of the hour
	var keys []string
	for i := range 11 {
		rec, err := st.Record(t.Context(), []detector.Read{fakeRead(i, at)})
		switch {
		case i < 10 && err != nil:
			t.Fatalf("read %d: %v", i, err)
		case i < 10 && !rec.Fresh[0]:
			t.Fatalf("read %d not fresh", i)
		case i == 10:
			if !errors.Is(err, ErrBucketFull) {
				t.Fatalf("read %d: %v, want ErrBucketFull (top, minute, second and chain full)", i, err)
			}
			continue
		}
		last := counterWrites(db.calls)[len(counterWrites(db.calls))-1]
		keys = append(keys, sAttr(last.Key, attrPK)+" "+sAttr(last.Key, attrSK))
	}
	r := fakeRead(0, at)
	h := detector.Hour(at)
	top := topPK(r.Secret) + " " + topSK(r.Secret, h, r.Principal)
	c := spillPK(r.Secret, h) + " " + r.Principal
	want := []string{top, top, c + "#m17", c + "#m17", c + "#s1025", c + "#s1025", c + "#s1025#0001", c + "#s1025#0001", c + "#s1025#0002", c + "#s1025#0002"}
	if !slices.Equal(keys, want) {
		t.Errorf("items written:\n%v\nwant\n%v", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	// Duplicates of frozen-item reads are found in the frozen items: no write, not fresh.
	db.calls = nil
	rec, err := st.Record(t.Context(), []detector.Read{fakeRead(0, at), fakeRead(3, at), fakeRead(5, at), fakeRead(9, at)})
	if err != nil || slices.Contains(rec.Fresh, true) {
		t.Errorf("duplicates after spilling: %v, fresh %v", err, rec.Fresh)
	}
	if n := len(counterWrites(db.calls)); n != 0 {
		t.Errorf("%d writes for duplicates the cache knows, want 0", n)
	}
	// The hour is long settled (fakeBase): reads routed to its spill chunks bump the top
	// chunk's version once per Record, duplicates too (a retry after a crash bumps then).
	if n := len(db.calls); n != 1 || *db.calls[0].UpdateExpression != "ADD #v :one" {
		t.Errorf("%d other writes, want 1 version bump", n)
	}
	if s := rec.Series[detector.SeriesKey{Secret: r.Secret}]; s == nil || s.Reads != 10 || s.Hours[h] != 10 {
		t.Errorf("whole-secret series %+v, want 10 reads in the hour across top and spill chunks", s)
	}
}

// counterWrites are the calls that add reads to a chunk (not version bumps or roll-ups).
func counterWrites(calls []*dynamodb.UpdateItemInput) []*dynamodb.UpdateItemInput {
	return slices.DeleteFunc(slices.Clone(calls), func(in *dynamodb.UpdateItemInput) bool {
		_, ok := in.ExpressionAttributeNames["#ev"]
		return !ok
	})
}

// Writers contending for one item back off (jittered, growing) and give up only after
// maxItemRetries failures in a row that found no duplicate; a failed optimistic write falls back
// to contains mode.
func TestFakeContention(t *testing.T) {
	oldBase, oldCap := retryBase, retryCap
	retryBase, retryCap = time.Microsecond, 10*time.Microsecond
	t.Cleanup(func() { retryBase, retryCap = oldBase, oldCap })

	t.Run("gives up", func(t *testing.T) {
		db := newFakeDB()
		db.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, db.ccf(in) }
		st := newFakeStore(t, db)
		_, err := st.Record(t.Context(), []detector.Read{fakeRead(1, fakeBase)})
		if err == nil || !strings.Contains(err.Error(), "conditional failures in a row") {
			t.Fatalf("Record against an item that always fails: %v", err)
		}
		if len(db.calls) != maxItemRetries+1 {
			t.Errorf("%d attempts, want %d", len(db.calls), maxItemRetries+1)
		}
	})

	t.Run("optimistic falls back to contains", func(t *testing.T) {
		old := softOverride
		softOverride = 100000 // one chunk that never fills
		t.Cleanup(func() { softOverride = old })
		db := newFakeDB()
		st := newFakeStore(t, db)
		var first []detector.Read
		for i := range 50 {
			first = append(first, fakeRead(i, fakeBase))
		}
		if _, err := st.Record(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		optimistic := 0
		db.calls = nil
		db.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			if strings.Contains(*in.ConditionExpression, "size(#ev) = :size") {
				optimistic++
				// another writer added a read meanwhile
				other := &dynamodb.UpdateItemInput{Key: in.Key, ExpressionAttributeNames: map[string]string{"#n": attrReads, "#ev": attrIDs},
					ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "1"},
						":ev": &types.AttributeValueMemberSS{Value: []string{fmt.Sprintf("other-%d", optimistic)}}}}
				db.apply(other)
				return nil, db.ccf(in)
			}
			return &dynamodb.UpdateItemOutput{Attributes: db.apply(in)}, nil
		}
		var next []detector.Read
		for i := range 100 {
			next = append(next, fakeRead(100+i, fakeBase))
		}
		rec, err := st.Record(t.Context(), next)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(rec.Fresh, false) {
			t.Error("a read not fresh")
		}
		if optimistic != maxOptimisticFailures {
			t.Errorf("%d optimistic attempts, want %d then contains mode", optimistic, maxOptimisticFailures)
		}
	})
}

func TestRetryDelay(t *testing.T) {
	for n := 1; n < 40; n++ {
		bound := min(retryCap, retryBase<<min(n-1, 20))
		for range 50 {
			if d := retryDelay(n); d < 0 || d >= bound {
				t.Fatalf("retryDelay(%d) = %v, want in [0, %v)", n, d, bound)
			}
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx on a cancelled context: %v", err)
	}
}

// Errors a retry cannot fix are marked detector.ErrUnstorable; the others are not.
func TestFakeErrorClasses(t *testing.T) {
	for _, tt := range []struct {
		err        error
		unstorable bool
	}{
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "key too long"}, true},
		{&types.ProvisionedThroughputExceededException{Message: ptr("slow down")}, false},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, false},
		{errors.New("connection refused"), false},
	} {
		db := newFakeDB()
		db.update = func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, tt.err }
		st := newFakeStore(t, db)
		_, err := st.Record(t.Context(), []detector.Read{fakeRead(1, fakeBase)})
		if err == nil || errors.Is(err, detector.ErrUnstorable) != tt.unstorable || !errors.Is(err, tt.err) {
			t.Errorf("%v: Record error %v; want it wrapped, unstorable %v", tt.err, err, tt.unstorable)
		}
	}
}

// A batch never pushes a top chunk past its freeze limit (cold starts and reports read it, and
// roll-up writes pay its size): the top chunk takes soft IDs, the rest goes to spill chunks in
// one write each.
func TestFakeTopChunkStaysSmall(t *testing.T) {
	db := newFakeDB()
	st := newFakeStore(t, db)
	var reads []detector.Read
	for i := range 300 {
		reads = append(reads, fakeRead(i, fakeBase.Add(time.Duration(i)*400*time.Millisecond))) // 150 in minute 0, 150 in 1
	}
	rec, err := st.Record(t.Context(), reads)
	if err != nil || slices.Contains(rec.Fresh, false) {
		t.Fatalf("Record: %v, fresh %v", err, rec.Fresh)
	}
	k := itemKey{secret: keyPart(reads[0].Secret), principal: principalPart(reads[0].Principal), hour: detector.Hour(fakeBase)}
	soft := int(softIDs(k))
	var sizes []string
	for _, in := range counterWrites(db.calls) {
		sizes = append(sizes, fmt.Sprintf("%s:%d", sAttr(in.Key, attrSK), len(in.ExpressionAttributeValues[":ev"].(*types.AttributeValueMemberSS).Value)))
	}
	top := sAttr(keyOf(k), attrSK)
	want := []string{fmt.Sprintf("%s:%d", top, soft), fmt.Sprintf("%s#m00:%d", k.principal, 150-soft), fmt.Sprintf("%s#m01:%d", k.principal, 150)}
	if !slices.Equal(sizes, want) {
		t.Errorf("writes (sort key:IDs) %v, want %v", sizes, want)
	}
	if s := rec.Series[detector.SeriesKey{Secret: reads[0].Secret}]; s == nil || s.Reads != 300 {
		t.Errorf("whole-secret series %+v, want 300 reads", s)
	}
}
