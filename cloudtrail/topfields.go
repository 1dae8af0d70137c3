package cloudtrail

import (
	"bytes"
	"encoding/binary"
)

// The event filter (WithEventFilter) decides from a record's eventSource, eventName and eventTime,
// read off its raw bytes while the scanner finds its end, whether it is worth decoding. It must
// never change a result: it may only skip a value that would decode to a record (not an error, not
// an envelope) whose EventSource and EventName are exactly the strings it was shown, and whose
// eventTime is the string it was shown (then parsed as ParseTime does), or absent. So it
// reads them only when the raw bytes leave no doubt about what the decoders (encoding/json, and
// the fast one, which match names the same way) would make of them:
//
//   - the value is an object; its top-level keys that could match eventSource or eventName are
//     plain ASCII without escapes (encoding/json matches keys ignoring case, with Unicode folding:
//     "ſ" is "s", "K" is "k"; and "\u0073" is "s"): any key holding a backslash or a byte ≥ 0x80
//     makes the record undecided;
//   - eventSource occurs once (ignoring case), eventName and eventTime at most once (a duplicate:
//     the last one wins in encoding/json, the fast decoders refuse it; undecided either way);
//   - the values are strings of printable ASCII without escapes (eventTime null: undecided), eventSource not empty (an
//     object without one may not be a record) and not "aws:…" (an S3 or SQS notification);
//   - no top-level key makes it an envelope or a notification: Records, detail, detail-type,
//     Type (ignoring case).
//
// Anything else is undecided: the record goes to the raw prefilter (WithPrefilter), if any, and
// is decoded when that keeps it.

// topFields is what the scanner notes about the top-level keys of the object it scans (only when
// scanner.capture is set). Offsets are stream offsets of a string's content (between its quotes).
type topFields struct {
	undecided             bool
	want                  int8 // the field the next top-level value belongs to: wantNone, wantSource, …
	nSource, nName, nTime int
	source, name, time    [2]int64
}

const (
	wantNone = iota
	wantSource
	wantName
	wantTime
)

func (t *topFields) reset() { *t = topFields{} }

// maxFoldKey bounds the top-level keys looked at: longer ones cannot fold to a name of interest
// (the longest, "eventsource" or "detail-type", is 11 ASCII bytes; its Unicode look-alikes at most
// 3 bytes a letter).
const maxFoldKey = 40

// key notes a top-level key (its raw content, between the quotes).
func (t *topFields) key(k []byte) {
	t.want = wantNone
	switch string(k) {
	case "eventSource":
		t.want = wantSource
		t.nSource++
		return
	case "eventName":
		t.want = wantName
		t.nName++
		return
	case "eventTime":
		t.want = wantTime
		t.nTime++
		return
	case "eventVersion", "userIdentity", "awsRegion", "sourceIPAddress", "userAgent", "requestParameters",
		"responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources", "eventType",
		"managementEvent", "recipientAccountId", "eventCategory", "tlsDetails", "sharedEventID", "vpcEndpointId",
		"vpcEndpointAccountId", "errorCode", "errorMessage", "apiVersion", "serviceEventDetails", "sessionCredentialFromConsole":
		return // CloudTrail's own keys, spelt exactly: none folds to a key of interest
	}
	if len(k) > maxFoldKey {
		return
	}
	if !plainKey(k) {
		t.undecided = true
		return
	}
	switch len(k) { // ASCII: folding keeps the length
	case len("eventsource"), len("eventname"), len("records"), len("detail"), len("type"):
	default:
		return
	}
	switch {
	case asciiFoldEq(k, "eventsource"):
		t.want = wantSource
		t.nSource++
	case asciiFoldEq(k, "eventname"):
		t.want = wantName
		t.nName++
	case asciiFoldEq(k, "eventtime"):
		t.want = wantTime
		t.nTime++
	case asciiFoldEq(k, "records"), asciiFoldEq(k, "detail"), asciiFoldEq(k, "detail-type"), asciiFoldEq(k, "type"):
		t.undecided = true
	}
}

// value notes the top-level value that follows a key: str reports whether it is a string, whose
// content (between the quotes) is s, at stream offset off.
func (t *topFields) value(str bool, s []byte, off int64) {
	w := t.want
	t.want = wantNone
	if w == wantNone {
		return
	}
	if !str || !plainASCII(s) {
		t.undecided = true
		return
	}
	span := [2]int64{off, off + int64(len(s))}
	switch w {
	case wantSource:
		t.source = span
	case wantName:
		t.name = span
	default:
		t.time = span
	}
}

// RawEvent is what WithEventFilter's test is shown of a record: the contents of its top-level
// eventSource, eventName and eventTime strings, exactly as the decoders would read them (Name and
// Time nil when the record has no such key). The slices are only valid during the call.
type RawEvent struct {
	Source, Name, Time []byte
}

// event returns the RawEvent of the object raw, which began at stream offset start, when the raw
// bytes decide it (see above); ok is false otherwise.
func (t *topFields) event(raw []byte, start int64) (e RawEvent, ok bool) {
	if t.undecided || t.nSource != 1 || t.nName > 1 || t.nTime > 1 {
		return RawEvent{}, false
	}
	e.Source = raw[t.source[0]-start : t.source[1]-start]
	if len(e.Source) == 0 || bytes.HasPrefix(e.Source, []byte("aws:")) {
		return RawEvent{}, false
	}
	if t.nName == 1 {
		e.Name = raw[t.name[0]-start : t.name[1]-start]
	}
	if t.nTime == 1 {
		e.Time = raw[t.time[0]-start : t.time[1]-start]
	}
	return e, true
}

// plainKey reports whether k holds neither a backslash nor a byte ≥ 0x80, 8 bytes at a time.
func plainKey(k []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(k); i += 8 {
		x := binary.LittleEndian.Uint64(k[i:])
		bs := x ^ (ones * '\\')
		if (x|(bs-ones)&^bs)&highs != 0 {
			return false
		}
	}
	for ; i < len(k); i++ {
		if k[i] == '\\' || k[i] >= 0x80 {
			return false
		}
	}
	return true
}

// asciiFoldEq reports whether k equals lower, an ASCII lower-case name, ignoring ASCII case.
func asciiFoldEq(k []byte, lower string) bool {
	if len(k) != len(lower) {
		return false
	}
	for i := range len(k) {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// plainASCII reports whether s holds only printable ASCII and no backslash.
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
