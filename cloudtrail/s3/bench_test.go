package s3_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/secretwatch/secretwatch/cloudtrail"
	cts3 "github.com/secretwatch/secretwatch/cloudtrail/s3"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/s3test"
)

// BenchmarkBackfill reads a trail from the S3 stand-in (gofakes3 in httptest, in this process)
// as "secretwatch replay s3://…" does — list, download, inflate, prefilter, decode — against
// reading the same files from disk in the same run. The trail is the bundled example (28 files,
// 11,418 records) copied under 8 accounts: 224 objects, 91,344 records, 11 MB of gzip.
//
//	go test ./cloudtrail/s3/ -run '^$' -bench Backfill -benchtime 3x -count 3
func BenchmarkBackfill(b *testing.B) {
	s3test.Env(b)
	srv := s3test.Start(b, bucket)
	dir := b.TempDir()
	var bytes int64
	for i := range 8 {
		acct := fmt.Sprintf("1000000000%02d", i)
		srv.UploadTree(b, bucket, "../../testdata/example/AWSLogs/111122223333", "AWSLogs/"+acct+"/")
		if err := os.CopyFS(filepath.Join(dir, acct), os.DirFS("../../testdata/example/AWSLogs/111122223333")); err != nil {
			b.Fatal(err)
		}
	}
	files, err := cloudtrail.Files([]string{dir})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		fi, _ := os.Stat(f)
		bytes += fi.Size()
	}
	cfg, err := config.LoadDefaultConfig(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	client, err := cts3.NewFromConfig(cfg, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	count := func(b *testing.B, read func() int) {
		b.SetBytes(bytes)
		var n int
		for b.Loop() {
			n = read()
		}
		if n != 8*11418 {
			b.Fatalf("%d records, want %d", n, 8*11418)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("files/workers=%d", workers), func(b *testing.B) {
			count(b, func() int {
				n := 0
				for it := range cloudtrail.Read(b.Context(), files, cloudtrail.WithWorkers(workers), cloudtrail.WithPrefilter(detector.MayHandle)) {
					if it.Err != nil && it.Record == nil {
						b.Fatal(it.Err)
					}
					n++
				}
				return n
			})
		})
		b.Run(fmt.Sprintf("s3/workers=%d", workers), func(b *testing.B) {
			count(b, func() int {
				objs, err := cts3.List(b.Context(), client, cts3.URI{Bucket: bucket}, cts3.Span{})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for it := range cloudtrail.ReadStreams(b.Context(), cts3.Streams(cts3.SDKGetter{API: client}, objs), cloudtrail.WithWorkers(workers), cloudtrail.WithPrefilter(detector.MayHandle)) {
					if it.Err != nil && it.Record == nil {
						b.Fatal(it.Err)
					}
					n++
				}
				return n
			})
		})
	}
}
