package dynamodb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

// capacityDB asks for ReturnConsumedCapacity TOTAL on every call and sums what comes back:
// write units of UpdateItem, read units of Query and GetItem. dynalite bills the base table only
// (the larger of the item's old and new size, 1 unit per KB for writes, 4 KB per read unit);
// AWS also bills a GSI write for every successful update that writes the index's key attributes
// (gsi1pk: the counter items of the design before issue 12; its projection is small: 1 unit),
// counted here in gsiWrites. The current design has no GSI: gsiWrites stays 0.
type capacityDB struct {
	dynamoAPI
	mu                    sync.Mutex
	wcu, rcu              float64
	updates, gsiWrites    int
	queries, gets, failed int
}

func (c *capacityDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.dynamoAPI.UpdateItem(ctx, in, o...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates++
	if err != nil {
		c.failed++
		c.wcu++ // a failed condition still costs at least one unit (dynalite reports none)
		return out, err
	}
	if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
		c.wcu += *out.ConsumedCapacity.CapacityUnits
	}
	// A GSI write is billed only when the update writes the index's key attributes.
	for _, name := range in.ExpressionAttributeNames {
		if name == "gsi1pk" {
			c.gsiWrites++
			break
		}
	}
	return out, err
}

func (c *capacityDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.dynamoAPI.Query(ctx, in, o...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries++
	if err == nil && out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
		c.rcu += *out.ConsumedCapacity.CapacityUnits
	}
	return out, err
}

func (c *capacityDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.dynamoAPI.GetItem(ctx, in, o...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if err == nil && out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
		c.rcu += *out.ConsumedCapacity.CapacityUnits
	}
	return out, err
}

// A read profile on one secret and one principal: reads every interval, for n reads (a sample
// of the profile's month, see BENCHMARKS.md), delivered one per Record (single, the default
// "direct" delivery) or in batches of what arrives within the SQS batching window (5 s by
// default), at most 100 messages (batch mode).
type capacityProfile struct {
	name     string
	interval time.Duration
	single   int  // reads measured in single mode
	batch    int  // reads measured in batch mode
	cold     bool // a new Store (an empty cache: a cold Lambda container) for every Record
}

var capacityProfiles = []capacityProfile{
	{"1/hour", time.Hour, 48, 48, false},
	{"1/hour-cold", time.Hour, 48, 48, true},
	{"10/min", 6 * time.Second, 600, 600, false},
	{"1/s", time.Second, 3600, 3600, false},
	{"1000/s", time.Millisecond, 6000, 20000, false},
}

const (
	batchWindow = 5 * time.Second
	batchMax    = 100
)

// BenchmarkDynamoCapacity reports write and read units per read for each profile and mode,
// against dynalite (the units are deterministic; the time is not: shared CPU). One command:
//
//	go test ./baseline/dynamodb/ -run '^$' -bench DynamoCapacity -benchtime 1x
func BenchmarkDynamoCapacity(b *testing.B) {
	client := newDynamoClient(dynamoEndpoint(b), 3)
	start := time.Now().UTC().Truncate(time.Hour).Add(-72 * time.Hour)
	for _, p := range capacityProfiles {
		for _, mode := range []string{"single", "batch"} {
			n := p.single
			if mode == "batch" {
				n = p.batch
			}
			b.Run(fmt.Sprintf("%s/%s", p.name, mode), func(b *testing.B) {
				var c *capacityDB
				for b.Loop() {
					// The store's clock follows the traffic (a read is recorded a minute after its
					// event time), as in a live account: hours settle as they do in production.
					var now time.Time
					st := newTable(b, client, Options{Clock: func() time.Time { return now }})
					c = &capacityDB{dynamoAPI: client}
					st.db = c
					var pending []detector.Read
					flush := func() {
						if len(pending) == 0 {
							return
						}
						now = pending[len(pending)-1].Time.Add(time.Minute)
						if p.cold {
							fresh, err := New(c, Options{Table: st.table, Clock: func() time.Time { return now }})
							if err != nil {
								b.Fatal(err)
							}
							st = fresh
						}
						if _, err := st.Record(context.Background(), pending); err != nil {
							b.Fatal(err)
						}
						pending = pending[:0]
					}
					for i := range n {
						r := detector.Read{EventID: storetest.EventID(i + 1), Secret: "111122223333/us-east-1/prod/db",
							Principal: "arn:aws:iam::111122223333:role/app", Time: start.Add(time.Duration(i) * p.interval)}
						if mode == "single" {
							pending = append(pending, r)
							flush()
							continue
						}
						if len(pending) > 0 && (len(pending) == batchMax || r.Time.Sub(pending[0].Time) >= batchWindow) {
							flush()
						}
						pending = append(pending, r)
					}
					flush()
				}
				reads := float64(n)
				b.ReportMetric((c.wcu+float64(c.gsiWrites))/reads, "WCU/read")
				b.ReportMetric(c.wcu/reads, "tableWCU/read")
				b.ReportMetric(float64(c.gsiWrites)/reads, "gsiWCU/read")
				b.ReportMetric(c.rcu/reads, "RCU/read")
				b.ReportMetric(float64(c.updates)/reads, "writes/read")
			})
		}
	}
}
