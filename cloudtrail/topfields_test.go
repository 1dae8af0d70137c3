package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// scanEvent scans the first value of b as an element of a Records array is scanned with an event
// filter, reading r, and returns what the filter would be shown.
func scanEvent(r io.Reader) (raw []byte, e RawEvent, ok bool) {
	sc := newScanner(r, false)
	defer sc.release()
	line := 0
	if _, more := sc.skipTop(&line); !more {
		return nil, RawEvent{}, false
	}
	start := sc.offset()
	sc.capture = true
	raw, err := sc.value(false)
	if err != nil || sc.over {
		return nil, RawEvent{}, false
	}
	e, ok = sc.top.event(raw, start)
	return bytes.Clone(raw), RawEvent{bytes.Clone(e.Source), bytes.Clone(e.Name), bytes.Clone(e.Time)}, ok
}

// eventFilterSeeds are records the event filter must read right or leave undecided: keys that
// encoding/json matches ignoring case, Unicode folding or escapes, duplicate keys, values that
// are not plain strings, envelopes.
var eventFilterSeeds = []string{
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{},"requestParameters":{}}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}`,
	`{"eventSource":"s3.amazonaws.com"}`,
	`{"EVENTSOURCE":"s3.amazonaws.com","EventName":"GetObject"}`,
	`{"eventSource":"s3.amazonaws.com","eventſource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue"}`,
	`{"eventSource":"s3.amazonaws.com","\u0065ventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue"}`,
	`{"eventSource":"s3.amazonaws.com","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue"}`,
	`{"eventSource":"s3.amazonaws.com","EventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventname":"GetSecretValue"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","event_source":"secretsmanager.amazonaws.com"}`,
	`{"eventSource":"secretsmanager.amazonaws\u002ecom","eventName":"GetSecretValue"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"Get\u004fbject"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":null}`,
	`{"eventSource":"s3.amazonaws.com","eventName":7}`,
	`{"eventSource":["secretsmanager.amazonaws.com"],"eventName":"GetSecretValue"}`,
	`{"eventSource":"","eventName":"GetSecretValue"}`,
	`{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","Records":[]}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","detail":{"eventSource":"secretsmanager.amazonaws.com"}}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","detail-type":"AWS API Call via CloudTrail"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","Type":"Notification"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","TYPE":"x"}`,
	`{"x":{"eventSource":"s3.amazonaws.com","eventName":"GetObject"},"eventSource":"kms.amazonaws.com"}`,
	`[{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}]`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","readOnly":"yes","eventTime":"2024-01-01T00:00:00Z","userIdentity":[]}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","EVENTTIME":"2024-01-01 10:00:00.5"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"yesterday"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":""}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":5}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":null}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"2024-01-01T00:00:00Z","eventtime":"2025-01-01T00:00:00Z"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"2024-01-01T00:00:00\u005a"}`,
	"{\"eventSource\":\"s3.amazonaws.com\xff\",\"eventName\":\"GetObject\"}",
	"{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Get\xc3\xa9\"}",
	"{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"Get\x7f\"}",
	"{\"even\xc5\xbfSource\":\"x\"}",
	"{\"eventSource\"  :  \"s3.amazonaws.com\" ,\n \"eventName\":\"GetObject\"}",
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","x":"` + strings.Repeat("a", 200) + `"}`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject"`,
	`{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}}`,
	`"eventSource"`,
}

// FuzzEventFilter checks the event filter's promise: whatever it reads from a record's raw bytes,
// both decoders decode to a record (possibly incomplete) with exactly that eventSource and
// eventName; and it reads the same whether the input comes whole or a byte at a time.
func FuzzEventFilter(f *testing.F) {
	for _, s := range eventFilterSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, e, ok := scanEvent(bytes.NewReader(b))
		_, e2, ok2 := scanEvent(iotest.OneByteReader(bytes.NewReader(b)))
		if ok != ok2 || !reflect.DeepEqual(e, e2) {
			t.Fatalf("%q: whole %v %q, a byte at a time %v %q", b, ok, e, ok2, e2)
		}
		if !ok {
			return
		}
		var wantTime time.Time
		if e.Time != nil {
			wantTime, _ = ParseTime(string(e.Time)) // zero if it does not parse, as in classify
		}
		for _, fast := range []bool{true, false} {
			fastDecode = fast
			rec, _, _, err := classify(raw, false, true)
			fastDecode = true
			if rec == nil || err != nil && !errors.Is(err, ErrIncomplete) {
				t.Fatalf("%q: the filter reads %q, the decoder (fast %v) gives %v", raw, e, fast, err)
			}
			if rec.EventSource != string(e.Source) || rec.EventName != string(e.Name) || !rec.EventTime.Equal(wantTime) {
				t.Fatalf("%q: the filter reads %q (%v), the decoder (fast %v) %q %q %v", raw, e, wantTime, fast, rec.EventSource, rec.EventName, rec.EventTime)
			}
		}
	})
}

// The seeds decide as they should: plain records are read, doubtful ones are not.
func TestEventFilterSeeds(t *testing.T) {
	for i, s := range eventFilterSeeds {
		_, _, ok := scanEvent(strings.NewReader(s))
		want := i < 4 || strings.Contains(s, `"readOnly":"yes"`) || strings.Contains(s, "EVENTTIME") || strings.Contains(s, `"yesterday"`) || strings.Contains(s, `"eventTime":""`) || strings.Contains(s, "\n") || strings.Contains(s, `"aaaa`) ||
			strings.Contains(s, "event_source") || strings.HasPrefix(s, `{"x":`) || strings.HasSuffix(s, `"GetObject"}}`)
		if ok != want {
			t.Errorf("%s: decided %v, want %v", s, ok, want)
		}
	}
}

// WithEventFilter skips only records its test rejects, and changes nothing else: over every test
// file and a benchmark trail, alone and with the raw prefilter, with 1 and 3 workers, an item is
// either the same as without the filter, or filtered where the unfiltered read gave a record
// (possibly incomplete) of an event the test rejects.
func TestReadWithEventFilter(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := writeBenchTrail(filepath.Join(dir, "trail"), 1); err != nil {
		t.Fatal(err)
	}
	for i, s := range eventFilterSeeds {
		writeFile(t, dir, fmt.Sprintf("seeds/%d.json", i), []byte(`{"Records":[`+s+`]}`))
		writeFile(t, dir, fmt.Sprintf("seeds/array%d.json", i), []byte(`[`+s+`,`+s+`]`))
	}
	paths := []string{filepath.Join("..", "testdata"), dir}
	keepEvent := func(e RawEvent) bool {
		return string(e.Source) == "secretsmanager.amazonaws.com" || string(e.Name) == "StopLogging"
	}
	var plain []Item // no filter at all
	for it := range Read(t.Context(), paths) {
		plain = append(plain, it)
	}
	for _, c := range []struct {
		base []Option // the same read without the event filter
		opts []Option
	}{
		{nil, []Option{WithEventFilter(keepEvent)}},
		{nil, []Option{WithEventFilter(keepEvent), WithWorkers(3)}},
		{[]Option{WithPrefilter(benchMayHandle)}, []Option{WithEventFilter(keepEvent), WithPrefilter(benchMayHandle), WithWorkers(2)}},
	} {
		var base []Item
		for it := range Read(t.Context(), paths, c.base...) {
			base = append(base, it)
		}
		var got []Item
		for it := range Read(t.Context(), paths, c.opts...) {
			got = append(got, it)
		}
		if len(got) != len(plain) || len(base) != len(plain) {
			t.Fatalf("%d items with the filter, %d without, %d with no filter at all", len(got), len(base), len(plain))
		}
		filtered := 0
		for i, it := range got {
			w := plain[i]
			switch {
			case !it.Filtered: // decoded: as without any filter
				if itemKey(it) != itemKey(w) {
					t.Fatalf("item %d:\n%.400s\nwant\n%.400s", i, itemKey(it), itemKey(w))
				}
			case it.Record != nil || it.Err != nil || it.Raw != nil:
				t.Fatalf("filtered item carries content: %+v", it)
			case it.Source != w.Source || it.Index != w.Index || it.Line != w.Line:
				t.Fatalf("filtered item %d at %s %d %d, want %s %d %d", i, it.Source, it.Index, it.Line, w.Source, w.Index, w.Line)
			case base[i].Filtered: // the raw prefilter's doing
			case w.Record == nil || w.Err != nil && !errors.Is(w.Err, ErrIncomplete):
				t.Fatalf("item %d filtered, but it is not a record: %v", i, w.Err)
			case keepEvent(RawEvent{Source: []byte(w.Record.EventSource), Name: []byte(w.Record.EventName)}):
				t.Fatalf("item %d filtered, but the test keeps %q %q", i, w.Record.EventSource, w.Record.EventName)
			default:
				filtered++
			}
		}
		if filtered == 0 {
			t.Fatal("nothing was filtered")
		}
		t.Logf("%d of %d items filtered by the event filter", filtered, len(plain))
	}
}

// FuzzDecodePlain checks decodePlain against encoding/json: whatever valid JSON it accepts,
// encoding/json decodes to the same wire, field for field, without error.
func FuzzDecodePlain(f *testing.F) {
	for _, b := range testdataFiles(f) {
		f.Add(b)
	}
	for _, s := range eventFilterSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"eventSource":"s","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"x"},"attributes":{"mfaAuthenticated":"true"},"webIdFederationData":{}},"onBehalfOf":{"userId":"u"}},"resources":[{"ARN":"a","accountId":"1","type":"t"}],"readOnly":true,"managementEvent":null,"requestParameters":{"a":[1,"\"",{}]},"responseElements":null}`,
		`{"eventSource":"s","resources":[],"userIdentity":null,"eventTime":"2024-01-01T00:00:00Z","sessionCredentialFromConsole":true}`,
		`{"eventSource":"s","resources":[null]}`, `{"eventSource":"s","resources":[{"arn":"x"}]}`, `{"eventSource":"s","userIdentity":{"Type":"x"}}`,
		`{"eventSource":"s","detail-type":null,"detail":{},"Type":"Notification","Records":[1]}`, `{"eventSource":"s","x":-1.5e3,"y":[true,false,null]}`,
		`{"eventSource":"s","userIdentity":{"sessionContext":{"attributes":null}}}`, `{"eventSource":"é","userAgent":"\u00e9"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var r1, r2 Record
		w1, w2 := wire{recordAlias: (*recordAlias)(&r1)}, wire{recordAlias: (*recordAlias)(&r2)}
		if !decodePlain(b, &w1) {
			return
		}
		if err := json.Unmarshal(b, &w2); err != nil {
			t.Fatalf("%q: decodePlain accepts it, encoding/json says %v", b, err)
		}
		if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(w1.EventTime, w2.EventTime) || !reflect.DeepEqual(w1.Records, w2.Records) ||
			!reflect.DeepEqual(w1.DetailType, w2.DetailType) || !reflect.DeepEqual(w1.Detail, w2.Detail) || w1.SNSType != w2.SNSType {
			t.Fatalf("%q:\ndecodePlain  %+v %+v\nencoding/json %+v %+v", b, r1, w1, r2, w2)
		}
	})
}

// FuzzReadEventFilter compares the two paths end to end: a stream read with the event filter
// yields the same items as without it, except that a filtered item stands where the unfiltered
// read yields a record (possibly incomplete) of an event the filter's test rejects.
func FuzzReadEventFilter(f *testing.F) {
	for _, s := range eventFilterSeeds {
		f.Add([]byte(`{"Records":[` + s + `,` + s + `]}`))
		f.Add([]byte(`[` + s + `]`))
	}
	keepEvent := func(e RawEvent) bool { return string(e.Name) == "GetSecretValue" }
	f.Fuzz(func(t *testing.T, b []byte) {
		collect := func(fl filters) []Item {
			var out []Item
			decodeStream(bytes.NewReader(b), "fuzz", fl, func(it Item) bool { out = append(out, it); return true })
			return out
		}
		want, got := collect(filters{}), collect(filters{keepEvent: keepEvent})
		if len(got) != len(want) {
			t.Fatalf("%q: %d items with the event filter, %d without", b, len(got), len(want))
		}
		for i, it := range got {
			w := want[i]
			switch {
			case !it.Filtered:
				if itemKey(it) != itemKey(w) {
					t.Fatalf("%q: item %d:\n%s\nwant\n%s", b, i, itemKey(it), itemKey(w))
				}
			case w.Record == nil || w.Err != nil && !errors.Is(w.Err, ErrIncomplete):
				t.Fatalf("%q: item %d filtered, but it is not a record: %v", b, i, w.Err)
			case keepEvent(RawEvent{Source: []byte(w.Record.EventSource), Name: []byte(w.Record.EventName)}):
				t.Fatalf("%q: item %d filtered, but the test keeps %q %q", b, i, w.Record.EventSource, w.Record.EventName)
			case it.Index != w.Index || it.Line != w.Line:
				t.Fatalf("%q: item %d filtered at %d:%d, want %d:%d", b, i, it.Index, it.Line, w.Index, w.Line)
			}
		}
	})
}
