package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// testdataFiles returns the contents of the corpus files in testdata, but for the few over 16 KB:
// large seeds slow the fuzzer down and teach it nothing the small ones do not.
func testdataFiles(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	err := filepath.WalkDir(testdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".tsv") {
			return err
		}
		b, err := os.ReadFile(path)
		if len(b) <= 16<<10 {
			out = append(out, b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, b := range testdataFiles(f) {
		f.Add(b)
	}
	rec := `{"eventVersion":"1.08","eventTime":"2024-10-17 21:48:45.000000000","eventName":"GetSecretValue","userIdentity":{"type":"IAMUser"},"requestParameters":{"secretId":"x"}}`
	for _, s := range []string{
		rec + "\n" + rec + "\n",
		`{"Records":[` + rec + "," + rec + `]}`,
		"{\n\"Records\": [\n" + rec + "\n]}",
		"[" + rec + "]\n[]\n",
		string(eventBridge("AWS API Call via CloudTrail", []byte(rec))),
		`{"Records":{"a":[{}]}, "Records":[1]}`,
		"\ufeff" + rec,
		"",
		"\n\n{\n",
	} {
		f.Add([]byte(s))
		f.Add(gzipBytes(f, []byte(s)))
	}
	full := gzipBytes(f, []byte(`{"Records":[`+rec+","+rec+","+rec+`]}`))
	f.Add(full[:len(full)*2/3])

	f.Fuzz(func(t *testing.T, data []byte) {
		items := collect(Decode(bytes.NewReader(data), "fuzz"))
		checkItems(t, "fuzz", items)
		if len(items) > len(data)+1 {
			t.Fatalf("%d items from %d bytes", len(items), len(data))
		}
		for _, it := range items {
			if errors.Is(it.Err, ErrUnreadable) {
				t.Fatalf("ErrUnreadable from a bytes.Reader: %v", it.Err)
			}
			if it.Raw != nil && !json.Valid(it.Raw) {
				t.Fatalf("item %d: Raw is not valid JSON", it.Index)
			}
		}

		// How the bytes arrive does not matter.
		if got, want := summary(collect(Decode(iotest.OneByteReader(bytes.NewReader(data)), "fuzz"))), summary(items); got != want {
			t.Fatalf("one byte at a time: %s\nall at once:       %s", got, want)
		}
		// Compression is transparent.
		if !bytes.HasPrefix(data, gzipMagic) {
			zitems := collect(Decode(bytes.NewReader(gzipBytes(t, data)), "fuzz"))
			if got, want := summary(zitems), summary(items); got != want {
				t.Fatalf("gzip: %s\nplain: %s", got, want)
			}
			for i := range items {
				if !bytes.Equal(items[i].Raw, zitems[i].Raw) {
					t.Fatalf("item %d: Raw differs between gzip and plain", i)
				}
			}
		}

		// DecodeRecord and Decode agree on a single value.
		rec, err := DecodeRecord(data)
		if rec == nil && err == nil {
			t.Fatal("DecodeRecord: no record and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "cloudtrail: ") {
			t.Fatalf("DecodeRecord error without prefix: %v", err)
		}
		if rec != nil {
			if len(items) != 1 || items[0].Record == nil || !sameRecord(t, items[0].Record, rec) || (err == nil) != (items[0].Err == nil) {
				t.Fatalf("DecodeRecord gave a record (error %v), Decode gave %s", err, summary(items))
			}
		}
	})
}

func FuzzParseTime(f *testing.F) {
	eventTime := regexp.MustCompile(`"eventTime"\s*:\s*"([^"]*)"`)
	for _, b := range testdataFiles(f) {
		for _, m := range eventTime.FindAllSubmatch(b, -1) {
			f.Add(string(m[1]))
		}
	}
	for _, s := range []string{
		"", " ", "2024-10-17 21:48:45.000000000", "2024-07-31T12:36:52Z", "2024-07-31T12:36:52.123456789+05:30",
		"0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2024-02-29 00:00:00", "2024-10-17T21:48:45",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		var tm Time
		jerr := json.Unmarshal(mustMarshal(t, s), &tm)
		if err != nil {
			if got != (time.Time{}) {
				t.Fatalf("ParseTime(%q) = %v with error %v", s, got, err)
			}
			if jerr == nil && strings.TrimSpace(s) != "" {
				t.Fatalf("UnmarshalJSON accepted %q, ParseTime did not: %v", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not in UTC", s, got)
		}
		if jerr != nil || !tm.Equal(got) {
			t.Fatalf("UnmarshalJSON(%q) = %v, %v; ParseTime gave %v", s, tm, jerr, got)
		}
		if y := got.Year(); y < 0 || y > 9999 {
			return // outside what RFC 3339 can write
		}
		back, err := ParseTime(got.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v, and back through RFC 3339: %v, %v", s, got, back, err)
		}
		b, err := json.Marshal(Time{got})
		if err != nil {
			t.Fatal(err)
		}
		var again Time
		if err := json.Unmarshal(b, &again); err != nil || !again.Equal(got) {
			t.Fatalf("JSON round trip of %v through %s: %v, %v", got, b, again, err)
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
