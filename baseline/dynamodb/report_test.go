package dynamodb

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/report"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/internal/storetest"
)

func TestDynamoReportSource(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	opt := storetest.Options{Retention: 48 * time.Hour}
	storetest.ReportSource(t, opt, func(t *testing.T) storetest.ReportStore {
		return newTable(t, client, Options{Retention: opt.Retention})
	})
}

// The report's writes grow with what the reads bring that this instance does not know (a new
// day, secret, principal or value), not with the reads: a second batch of new reads that bring
// no new value costs no report write at all.
func TestDynamoReportWritesFollowValues(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	db := &countingDB{dynamoAPI: client}
	st := newTable(t, client, Options{Retention: 72 * time.Hour})
	st.db = db
	at := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	batch := func(first int) []detector.Read {
		var reads []detector.Read
		for i := range 200 {
			reads = append(reads, detector.Read{
				EventID: storetest.EventID(first + i), Secret: testSecrets[i%2], Principal: testPrincipals[i%3],
				Time: at.Add(time.Duration(i) * time.Second), SourceIP: []string{"10.0.0.1", "10.0.0.2"}[i%2],
				UserAgent: "aws-sdk-go-v2/1.30", PrincipalType: "AssumedRole",
			})
		}
		return reads
	}
	if _, err := st.Record(t.Context(), batch(1)); err != nil {
		t.Fatal(err)
	}
	// 2 secrets × 3 principals: 6 (secret, principal, day) items, each read first (no index
	// item: the report finds the secrets in the top chunks' partitions).
	if got, gets := db.report.Load(), db.reportGet.Load(); got != 6 || gets != 6 {
		t.Errorf("first batch: %d report writes and %d reads, want 6 and 6", got, gets)
	}
	db.reset()
	if _, err := st.Record(t.Context(), batch(1000)); err != nil {
		t.Fatal(err)
	}
	if got := db.report.Load(); got != 0 {
		t.Errorf("second batch, no new value: %d report writes, want 0", got)
	}
	// A new source IP for one (secret, principal, day): one write.
	db.reset()
	r := batch(5000)[:1]
	r[0].SourceIP = "192.0.2.9"
	if _, err := st.Record(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if got := db.report.Load(); got != 1 {
		t.Errorf("one new value: %d report writes, want 1", got)
	}
}

// scannedDB sums what every Query evaluated (ScannedCount): the items a report pays to read.
type scannedDB struct {
	dynamoAPI
	mu      sync.Mutex
	scanned int64
	queries int
}

func (c *scannedDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.dynamoAPI.Query(ctx, in, o...)
	if err == nil {
		c.mu.Lock()
		c.scanned += int64(out.ScannedCount)
		c.queries++
		c.mu.Unlock()
	}
	return out, err
}

// A report of a few days reads the top chunks of those days, not every chunk kept: the secrets
// are found by a walk that costs one small Query per secret, whatever their history.
func TestDynamoReportReadsOnlyItsDays(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	st := newTable(t, client, Options{Retention: 30 * 24 * time.Hour})
	end := time.Now().UTC().Truncate(24 * time.Hour)
	const days, perDay = 20, 6 // 3 secrets × 2 principals, one read a day each, 20 days
	var reads []detector.Read
	for d := range days {
		for i := range perDay {
			reads = append(reads, detector.Read{
				EventID: storetest.EventID(d*perDay + i + 1), Secret: testSecrets[i%3], Principal: testPrincipals[i%2],
				Time: end.Add(-time.Duration(days-d)*24*time.Hour + time.Duration(i)*time.Minute),
			})
		}
	}
	if _, err := st.Record(t.Context(), reads); err != nil {
		t.Fatal(err)
	}
	db := &scannedDB{dynamoAPI: client}
	st.db = db
	from := end.Add(-2 * 24 * time.Hour)
	rows := 0
	if err := st.Days(t.Context(), from, end, func(r *report.DayRow) error {
		if r.Day.Before(from) || !r.Day.Before(end) {
			t.Errorf("row of %v outside [%v, %v)", r.Day, from, end)
		}
		rows++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if rows != 2*perDay {
		t.Errorf("%d rows, want %d", rows, 2*perDay)
	}
	// 2 days × 6 top chunks and ≤ 6 R# items, plus per secret one walk step and one latest-hour
	// step: ≤ 24 + 6 items, where reading every chunk kept would be 120.
	if limit := int64(2*perDay*2 + 2*3); db.scanned > limit {
		t.Errorf("Days evaluated %d items in %d queries, want at most %d (the days asked and one step per secret)", db.scanned, db.queries, limit)
	}
}
