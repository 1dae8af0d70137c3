package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// jsonValues splits b into top-level values as encoding/json's Decoder does: the values it
// decodes, and whether it then stopped at an error rather than at the end of input.
func jsonValues(b []byte) (vals [][]byte, bad bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return vals, false
		}
		if err != nil {
			return vals, true
		}
		vals = append(vals, raw)
	}
}

// scanValues splits b into top-level values with the scanner.
func scanValues(b []byte) (vals [][]byte, bad bool) { return scanValuesFrom(bytes.NewReader(b)) }

// scanValuesFrom is scanValues reading r.
func scanValuesFrom(r io.Reader) (vals [][]byte, bad bool) {
	sc := newScanner(r, false)
	defer sc.release()
	sc.maxValue, sc.maxString = 1<<30, 1<<30
	line := 0
	for {
		if _, ok := sc.skipTop(&line); !ok {
			return vals, sc.err != io.EOF
		}
		raw, err := sc.value(false)
		if err != nil {
			return vals, true
		}
		vals = append(vals, bytes.Clone(raw))
	}
}

// FuzzScan checks the scanner against encoding/json's notion of where values begin and end, and
// of which input is not JSON: the same values, byte for byte, and an error at the same value.
func FuzzScan(f *testing.F) {
	for _, b := range testdataFiles(f) {
		if len(b) < 1<<16 {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"a":"b\"}{[","c":[1,-2.5e+3,true,false,null,{}]}`, `"x\\" "y"`, `"\u00e9\ud83d\ude00"`, `1 2 3`, `1x`, `true{}`,
		`{}x`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `01`, `-`, `1.`, `1e`, `.5`, `"\q"`, `"\u12G4"`, "\"a\x01\"", `[[[]]]]`,
		`{"Records":[{"eventSource":"s3.amazonaws.com","x":"}\"{"}]}`, "nul", "[1\n,2]\n", "\"\xff\xfe\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantBad := jsonValues(b)
		got, gotBad := scanValues(b)
		if gotBad != wantBad || len(got) != len(want) {
			t.Fatalf("%.80q: scanner: %d values, error %v; encoding/json: %d values, error %v", b, len(got), gotBad, len(want), wantBad)
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("value %d: scanner %q, encoding/json %q", i, got[i], want[i])
			}
		}
		// Input a byte at a time: every token is cut by the end of the buffer somewhere, so the
		// scanner's slow paths decide; the same values.
		got1, gotBad1 := scanValuesFrom(iotest.OneByteReader(bytes.NewReader(b)))
		if gotBad1 != gotBad || len(got1) != len(got) {
			t.Fatalf("%.80q: a byte at a time: %d values, error %v; whole: %d values, error %v", b, len(got1), gotBad1, len(got), gotBad)
		}
		for i := range got {
			if !bytes.Equal(got1[i], got[i]) {
				t.Fatalf("value %d: a byte at a time %q, whole %q", i, got1[i], got[i])
			}
		}
	})
}

// Deep nesting: the same limit as encoding/json.
func TestScanDepth(t *testing.T) {
	for _, n := range []int{maxDepth, maxDepth + 1} {
		b := append(bytes.Repeat([]byte("["), n), bytes.Repeat([]byte("]"), n)...)
		_, wantBad := jsonValues(b)
		_, gotBad := scanValues(b)
		if gotBad != wantBad {
			t.Errorf("depth %d: scanner error %v, encoding/json error %v", n, gotBad, wantBad)
		}
	}
	var se *syntaxError
	if _, err := scanOne(append(bytes.Repeat([]byte("{\"a\":"), maxDepth+1), '1')); !errors.As(err, &se) {
		t.Errorf("too deep: %v, want a syntax error", err)
	}
}

func scanOne(b []byte) ([]byte, error) {
	sc := newScanner(bytes.NewReader(b), false)
	defer sc.release()
	return sc.value(false)
}
