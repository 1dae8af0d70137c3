package cloudtrail

import (
	"bytes"
	"encoding/json"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// keptRecords returns the benchmark trail's records that pass the prefilter.
func keptRecords(b *testing.B) [][]byte {
	dir, err := benchTrail()
	if err != nil {
		b.Fatal(err)
	}
	files, _ := Files([]string{dir})
	var out [][]byte
	for it := range Read(b.Context(), files[:min(len(files), 20)]) {
		if it.Raw != nil && benchMayHandle(it.Raw) {
			out = append(out, bytes.Clone(it.Raw))
		}
	}
	return out
}

func BenchmarkDecoders(b *testing.B) {
	recs := keptRecords(b)
	var size int64
	for _, r := range recs {
		size += int64(len(r))
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			for _, r := range recs {
				rec := new(Record)
				w := wire{recordAlias: (*recordAlias)(rec)}
				if err := json.Unmarshal(r, &w); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("json-v2", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			for _, r := range recs {
				rec := new(Record)
				w := wire{recordAlias: (*recordAlias)(rec)}
				if err := jsonv2.Unmarshal(r, &w, jsonv2.MatchCaseInsensitiveNames(true)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			for _, r := range recs {
				rec := new(Record)
				w := wire{recordAlias: (*recordAlias)(rec)}
				if !decodePlain(r, &w) {
					b.Fatalf("decodePlain refuses %s", r)
				}
			}
		}
	})
}
