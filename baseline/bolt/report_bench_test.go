package bolt

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/report"
)

// The report's size case: 1,000 secrets × 200 principals × 7 days, one read per (secret,
// principal, day) — 1.4 million day rows. SECRETWATCH_BENCH_REPORT_SIZE=SxPxD sets S secrets,
// P principals and D days (at least 7) ending with the reported week: the days before it are
// history the store keeps (its retention is D days) and the report may read.
type benchSize struct{ secrets, principals, days int }

func reportBenchSize(b *testing.B) benchSize {
	z := benchSize{1000, 200, 7}
	if v := os.Getenv("SECRETWATCH_BENCH_REPORT_SIZE"); v != "" {
		if _, err := fmt.Sscanf(v, "%dx%dx%d", &z.secrets, &z.principals, &z.days); err != nil || z.secrets < 1 || z.principals < 1 || z.days < 7 {
			b.Fatalf("SECRETWATCH_BENCH_REPORT_SIZE=%q: want SxPxD, D at least 7", v)
		}
	}
	return z
}

// retention keeps every day of the size case.
func (z benchSize) retention() time.Duration { return time.Duration(z.days+1) * 24 * time.Hour }

// benchFrom starts the reported week (the last 7 days of the size case).
var benchFrom = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)

// fillReportBench writes the size case into a bolt file through Record, as a replay would.
func fillReportBench(b *testing.B, path string, z benchSize) {
	b.Helper()
	benchSecrets, benchPrincipals, benchDays := z.secrets, z.principals, z.days
	st, err := Open(path, z.retention(), BulkLoad())
	if err != nil {
		b.Fatal(err)
	}
	reads := make([]detector.Read, 0, 4096)
	flush := func() {
		if _, err := st.Record(b.Context(), reads); err != nil {
			b.Fatal(err)
		}
		reads = reads[:0]
	}
	n := 0
	for d := range benchDays {
		for s := range benchSecrets {
			for p := range benchPrincipals {
				n++
				reads = append(reads, detector.Read{
					EventID: storetest.EventID(n), Secret: fmt.Sprintf("111122223333/us-east-1/app/secret-%04d", s),
					Principal: fmt.Sprintf("arn:aws:iam::111122223333:role/service-%03d", p), PrincipalType: "AssumedRole",
					Time:     benchFrom.AddDate(0, 0, d+7-benchDays).Add(time.Duration(n%86400) * time.Second),
					SourceIP: fmt.Sprintf("10.0.%d.%d", p%256, s%256), UserAgent: "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.2 api/secretsmanager#1.35.4",
				})
				if len(reads) == cap(reads) {
					flush()
				}
			}
		}
	}
	flush()
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReportBolt builds the last week's report of the size case from a bolt file: "scan"
// only reads every day row kept (the floor of a build that reads them all), "build" makes the
// model, "build+json" renders it too. Set SECRETWATCH_BENCH_REPORT_DB=FILE to keep the file
// between runs (filling it takes a while; the file holds one size case).
func BenchmarkReportBolt(b *testing.B) {
	z := reportBenchSize(b)
	benchSecrets, benchPrincipals := z.secrets, z.principals
	path := os.Getenv("SECRETWATCH_BENCH_REPORT_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "report.db")
	}
	if _, err := os.Stat(path); err != nil {
		fillReportBench(b, path, z)
	}
	st, err := Open(path, z.retention())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	to := benchFrom.AddDate(0, 0, 7)
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			rows := 0
			if err := st.Days(b.Context(), time.Time{}, to, func(*report.DayRow) error { rows++; return nil }); err != nil {
				b.Fatal(err)
			}
			if rows != z.secrets*z.principals*z.days {
				b.Fatalf("%d rows in the file, want %d (SECRETWATCH_BENCH_REPORT_SIZE of another file?)", rows, z.secrets*z.principals*z.days)
			}
		}
	})
	for _, render := range []bool{false, true} {
		name := "build"
		if render {
			name = "build+json"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				r, err := report.Build(b.Context(), st, report.Options{From: benchFrom, To: to})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Secrets) != benchSecrets || r.Totals.Principals != benchSecrets*benchPrincipals {
					b.Fatalf("%d secrets, %d pairs", len(r.Secrets), r.Totals.Principals)
				}
				if render {
					if err := report.WriteJSON(io.Discard, r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
