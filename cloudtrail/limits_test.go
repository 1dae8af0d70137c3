package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// repeatReader yields n copies of one byte without holding them.
type repeatReader struct {
	c byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := range p {
		p[i] = r.c
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// bombRecord is a record whose userAgent is n bytes of 'A', as a stream.
func bombRecord(n int64) io.Reader {
	return io.MultiReader(strings.NewReader(`{"eventVersion":"1.08","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","eventID":"bomb","userIdentity":{},"requestParameters":{},"userAgent":"`),
		&repeatReader{c: 'A', n: n}, strings.NewReader(`"}`))
}

// bombFile is a log file: smallRecord(0), a record with an n-byte user agent, smallRecord(1).
func bombFile(n int64) io.Reader {
	return io.MultiReader(strings.NewReader(`{"Records":[`+smallRecord(0)+","), bombRecord(n), strings.NewReader(","+smallRecord(1)+"]}\n"))
}

// bigRecord is a record of about n bytes made of many short strings (none over MaxStringBytes).
func bigRecord(n int) string {
	var b strings.Builder
	b.WriteString(`{"eventVersion":"1.08","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","eventID":"big","userIdentity":{},"requestParameters":{"tags":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"0123456789abcdef0123456789abcdef"`)
	}
	b.WriteString("]}}")
	return b.String()
}

// Over-size values are counted skips with their position; their neighbours are read.
func TestDecodeOversize(t *testing.T) {
	r0, r1 := smallRecord(0), smallRecord(1)
	long := `{"eventName":"GetSecretValue","userIdentity":{},"requestParameters":{},"userAgent":"` + strings.Repeat("A", MaxStringBytes+1) + `"}`
	escaped := `{"eventName":"GetSecretValue","userIdentity":{},"requestParameters":{},"userAgent":"` + strings.Repeat(`\"`, MaxStringBytes/2+1) + `"}`
	big := bigRecord(MaxRecordBytes + 1)
	justUnder := bigRecord(MaxRecordBytes - 200)
	tests := []struct {
		name, in, summary string
	}{
		{"Records: long string", `{"Records":[` + r0 + "," + long + "," + r1 + "]}", "R oversize R"},
		{"Records: long escaped string", `{"Records":[` + r0 + "," + escaped + "," + r1 + "]}", "R oversize R"},
		{"Records: big record", `{"Records":[` + r0 + "," + big + "," + r1 + "]}", "R oversize R"},
		{"Records: record just under the limit", `{"Records":[` + r0 + "," + justUnder + "," + r1 + "]}", "R R R"},
		{"Records: long key", `{"Records":[` + r0 + `,{"` + strings.Repeat("k", MaxStringBytes+1) + `":1},` + r1 + "]}", "R oversize R"},
		{"Records: long string in a later key", `{"Records":[` + r0 + `],"x":"` + strings.Repeat("k", 2*MaxRecordBytes) + `"}` + "\n" + r1, "R R"},
		{"NDJSON", r0 + "\n" + long + "\n" + big + "\n" + r1 + "\n", "R oversize oversize R"},
		{"pretty stream", r0 + "\n\n" + big + "\n  " + r1, "R oversize R"},
		{"array", "[" + r0 + "," + big + "," + long + "," + r1 + "]", "R oversize oversize R"},
		{"EventBridge", string(eventBridge("AWS API Call via CloudTrail", []byte(big))) + "\n" + r1 + "\n", "oversize R"},
		{"log file with Records not first", `{"a":1,"Records":[` + big + "]}\n" + r1 + "\n", "oversize R"},
		{"over-size and then a syntax error", `{"Records":[` + r0 + "," + big + ",}", "R oversize malformed"},
		{"syntax error inside an over-size value", `{"Records":[` + r0 + "," + big[:len(big)-2] + ":}," + r1 + "]}", "R malformed"},
	}
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			in := []byte(tt.in)
			name := tt.name
			if gz {
				in, name = gzipBytes(t, in), name+", gzip"
			}
			t.Run(name, func(t *testing.T) {
				items := decodeBytes(in)
				checkItems(t, "test", items)
				if got := summary(items); got != tt.summary {
					t.Errorf("items: %s\nwant:  %s", got, tt.summary)
					for _, it := range items {
						t.Logf("%d: %v", it.Index, it.Err)
					}
				}
				for _, it := range items {
					if errors.Is(it.Err, ErrOversize) {
						if it.Record != nil || it.Raw != nil {
							t.Errorf("over-size item holds data")
						}
						if msg := it.Err.Error(); !strings.Contains(msg, "record ") || !strings.Contains(msg, "at byte ") || strings.Contains(msg, "AAAA") {
							t.Errorf("error %q should give the position and no content", msg)
						}
					}
				}
			})
		}
	}
}

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A record with a 256 MiB user agent (plain) or a 64 MiB one (gzip: a 64 KB file) is skipped,
// its neighbours read, and decoding it allocates a few MiB in all — not the size of the value.
// (The 1 GiB case of issue 7 is the same code path; BENCHMARKS.md gives the RSS of the command.)
func TestDecodeBombMemory(t *testing.T) {
	plain, packed := int64(256<<20), int64(64<<20)
	if raceEnabled() {
		// Under -race every scanned byte costs ~20×: still four times the limit below, so an
		// unbounded decoder fails all the same.
		plain, packed = 32<<20, 32<<20
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := io.Copy(zw, bombFile(packed)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	for _, tc := range []struct {
		name string
		in   func() io.Reader
	}{
		{"plain", func() io.Reader { return bombFile(plain) }},
		{"gzip", func() io.Reader { return bytes.NewReader(gz.Bytes()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var items []Item
			in := tc.in()
			n := allocated(func() { items = collect(Decode(in, "bomb")) })
			if got := summary(items); got != "R oversize R" {
				t.Errorf("items: %s, want R oversize R", got)
			}
			const limit = 8 << 20
			if n > limit {
				t.Errorf("decoding the bomb allocated %d MiB, want at most %d MiB", n>>20, limit>>20)
			}
			t.Logf("allocated %.1f MiB", float64(n)/(1<<20))
		})
	}
}

// With workers, records of up to MaxRecordBytes waiting in the files' queues stay within their
// byte budget: the live heap stays far below what three files of large records would need.
func TestReadWorkersBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	rec := bigRecord(900 << 10)
	var paths []string
	for f := range 3 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		io.WriteString(zw, `{"Records":[`)
		for i := range 60 {
			if i > 0 {
				io.WriteString(zw, ",")
			}
			io.WriteString(zw, rec)
		}
		io.WriteString(zw, "]}")
		zw.Close()
		paths = append(paths, writeFile(t, dir, fmt.Sprintf("f%d.json.gz", f), buf.Bytes()))
	}
	var peak uint64
	var ms runtime.MemStats
	n := 0
	for it := range Read(t.Context(), paths, WithWorkers(4)) {
		if it.Err != nil {
			t.Fatal(it.Err)
		}
		if n++; n%10 == 1 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if n != 180 {
		t.Fatalf("%d items, want 180", n)
	}
	t.Logf("peak live heap %.1f MiB", float64(peak)/(1<<20))
	if peak > 96<<20 {
		t.Errorf("peak live heap %d MiB with 3 files of 54 MB in flight, want at most 96 MiB", peak>>20)
	}
}
