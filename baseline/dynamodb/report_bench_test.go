package dynamodb

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/report"
)

// BenchmarkDynamoReportWeek builds the weekly report (report.Build, as the Lambda does) over a
// generated week: benchSecrets secrets × benchPrincipals principals, each pair read in 3 hours
// of every day of 7, with 2 source IPs and a user agent (SECRETWATCH_BENCH_REPORT_SIZE=SxPxH
// overrides: S secrets, P principals, H reads per pair and day). Requests and read units per report are
// reported as metrics (dynalite returns consumed capacity). The setup is not timed.
//
//	source .ci/standins.sh && standins_install && standins_start
//	go test ./baseline/dynamodb/ -run '^$' -bench DynamoReportWeek -benchtime 3x
func BenchmarkDynamoReportWeek(b *testing.B) {
	const days = 7
	benchSecrets, benchPrincipals, perDay := 40, 10, 3
	if v := os.Getenv("SECRETWATCH_BENCH_REPORT_SIZE"); v != "" {
		if _, err := fmt.Sscanf(v, "%dx%dx%d", &benchSecrets, &benchPrincipals, &perDay); err != nil || perDay < 1 || perDay > 3 {
			b.Fatalf("SECRETWATCH_BENCH_REPORT_SIZE=%q: want SxPxH, H in 1..3", v)
		}
	}
	client := newDynamoClient(dynamoEndpoint(b), 3)
	st := newTable(b, client, Options{})
	end := time.Now().UTC().Truncate(24 * time.Hour)
	var reads []detector.Read
	id := 0
	for d := range days {
		for s := range benchSecrets {
			for p := range benchPrincipals {
				for h := range perDay {
					id++
					reads = append(reads, detector.Read{
						EventID: storetest.EventID(id), Secret: fmt.Sprintf("111122223333/us-east-1/secret-%03d", s),
						Principal: fmt.Sprintf("arn:aws:iam::111122223333:role/app-%03d", p),
						Time:      end.Add(-time.Duration(days-d)*24*time.Hour + time.Duration(3+h*7)*time.Hour + time.Duration(id%3600)*time.Second),
						SourceIP:  fmt.Sprintf("10.0.%d.%d", p, h%2), UserAgent: "aws-sdk-go-v2/1.30", PrincipalType: "AssumedRole",
						Denied: id%97 == 0,
					})
				}
			}
		}
	}
	start := time.Now()
	nReads := len(reads)
	if os.Getenv("SECRETWATCH_BENCH_REPORT_BULK") != "" {
		// The items Record would write (TestBulkItemsMatchRecord), loaded with BatchWriteItem:
		// only for one read per pair and day.
		items, err := bulkItems(st, reads)
		if err != nil {
			b.Fatal(err)
		}
		if err := bulkWrite(b.Context(), client, st.table, items); err != nil {
			b.Fatal(err)
		}
		b.Logf("bulk-loaded %d items for %d reads in %s", len(items), nReads, time.Since(start))
	} else {
		for i := 0; i < len(reads); i += 1000 {
			if _, err := st.Record(b.Context(), reads[i:min(i+1000, len(reads))]); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("recorded %d reads in %s", nReads, time.Since(start))
	}
	reads = nil
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBase := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the heap's peak while reports are built (sampled every 20 ms)
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	db := &countingDB{dynamoAPI: client}
	st.db = db
	var rows int
	for b.Loop() {
		db.reset()
		from, to, end, err := report.Period(b.Context(), st, 7*24*time.Hour, time.Time{}, time.Time{}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		rep, err := report.Build(b.Context(), st, report.Options{From: from, To: to, PeriodEnd: end, Generated: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		rows = 0
		for _, s := range rep.Secrets {
			rows += len(s.Principals)
		}
	}
	close(stop)
	<-sampled
	if p := peak.Load(); p > heapBase {
		b.ReportMetric(float64(p-heapBase)/(1<<20), "peakHeapMB")
	}
	if rows != benchSecrets*benchPrincipals {
		b.Fatalf("report has %d (secret, principal) rows, want %d", rows, benchSecrets*benchPrincipals)
	}
	b.ReportMetric(float64(db.query.Load()), "queries/op")
	b.ReportMetric(float64(db.get.Load()+db.report.Load()), "gets/op")
	b.Logf("%d reads recorded; one report: %d Query, %d GetItem", nReads, db.query.Load(), db.get.Load()+db.report.Load())
}
