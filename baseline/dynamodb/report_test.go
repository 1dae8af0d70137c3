package dynamodb

import (
	"github.com/secretwatch/secretwatch/detector"
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
