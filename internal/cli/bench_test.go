package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/scenario"
)

// BenchmarkReplay measures the replay pipeline on a generated 14-day account (scale 1, ~38k
// records in ~5,600 gzip files), in three layers measured in the same run so each is compared with
// the one below it: decoding alone (the baseline), decoding plus the detector on the in-memory
// store, and the whole replay command on the bbolt file store.
func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	tree := filepath.Join(dir, "logs")
	truth, err := scenario.Generate(b.Context(), tree, scenario.Options{Scale: 1, InjectAnomalies: true})
	if err != nil {
		b.Fatal(err)
	}
	files, err := cloudtrail.Files([]string{tree})
	if err != nil {
		b.Fatal(err)
	}
	allowPath := filepath.Join(dir, "allow.yaml")
	var learnt strings.Builder
	l := detector.NewLearner()
	for it := range cloudtrail.Read(b.Context(), files) {
		if it.Record != nil {
			l.Add(it.Record)
		}
	}
	if err := l.WriteYAML(&learnt, "bench"); err != nil {
		b.Fatal(err)
	}
	writeBench(b, allowPath, learnt.String())
	al, err := detector.LoadAllowList(allowPath)
	if err != nil {
		b.Fatal(err)
	}
	records := float64(truth.Counts.Records)

	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for it := range cloudtrail.Read(b.Context(), files) {
				if it.Record != nil {
					n++
				}
			}
		}
		b.ReportMetric(records*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("decode+detect/memory", func(b *testing.B) {
		for b.Loop() {
			d, err := detector.New(detector.Config{AllowList: al}, baseline.NewMemoryStore(0))
			if err != nil {
				b.Fatal(err)
			}
			batch := make([]*cloudtrail.Record, 0, batchSize)
			for it := range cloudtrail.Read(b.Context(), files) {
				if it.Record == nil {
					continue
				}
				if batch = append(batch, it.Record); len(batch) == batchSize {
					if _, err := d.Process(b.Context(), batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			if _, err := d.Process(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(records*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("replay/bolt", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			store := filepath.Join(b.TempDir(), "sw.db")
			if err := Run(b.Context(), []string{"replay", "--store", store, "--config", allowPath, "--format", "json", tree},
				strings.NewReader(""), io.Discard, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(records*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

func writeBench(b *testing.B, path, content string) {
	b.Helper()
	if err := writeFileBytes(path, []byte(content)); err != nil {
		b.Fatal(err)
	}
}

func writeFileBytes(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
