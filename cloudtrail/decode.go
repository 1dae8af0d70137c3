package cloudtrail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Item is one result of Read or Decode. Exactly one of three cases holds:
//
//   - Record != nil, Err == nil: a record.
//   - Record != nil, Err != nil: a record with defects (errors.Is(Err, ErrIncomplete)). Use the
//     record — nothing is dropped — and count the defect.
//   - Record == nil, Err != nil: nothing usable at this position (ErrUnreadable, ErrMalformed,
//     ErrNotRecord, ErrOversize, or the context's error for Read).
type Item struct {
	Record *Record
	// Raw is the record's JSON exactly as read (for an EventBridge event, its detail), or the value
	// that is not a record. It is nil when nothing could be decoded.
	Raw json.RawMessage
	// Source is the file's path, "-" for standard input, or the name given to Decode.
	Source string
	// Index is the 0-based position of the item in its source: for a {"Records":[…]} file or a
	// JSON array, the index in that array; for NDJSON, a count across lines.
	Index int
	// Line is the 1-based line for input read line by line (NDJSON, or a file whose first line is
	// a whole JSON value); 0 otherwise.
	Line int
	// Err is set for an error, or a record's defects; see the cases above.
	Err error
	// Filtered is set when a WithPrefilter test rejected the value: it was not decoded, and only
	// Source, Index and Line are set. Count it; it is not an error.
	Filtered bool
}

// Decode reads one stream and yields its records in order. The stream may be gzip-compressed
// (recognised by its magic bytes) and may hold, at top level:
//
//   - a CloudTrail log file, {"Records":[…]}, decoded one record at a time when "Records" is the
//     object's first key (as CloudTrail writes it), so files of any size use bounded memory;
//   - a single record, or a JSON array of records;
//   - an EventBridge event whose detail-type ends in "via CloudTrail" (such as "AWS API Call via
//     CloudTrail"): the record is its detail;
//   - NDJSON: one of the above per line; or any sequence of such values.
//
// Decode never stops at bad input: a value that is not a record, or a record with defects, is
// yielded with Err set and decoding goes on. After a JSON syntax error Decode goes on with the next
// line when the input is read line by line, and otherwise stops: the rest of the stream cannot be
// trusted. An empty stream yields one ErrMalformed item.
//
// Memory stays bounded whatever the input: a record (or any value read whole) over MaxRecordBytes,
// or holding a string over MaxStringBytes, is skipped as it streams past, never held, and yielded
// as one ErrOversize item; decoding goes on with the next value.
func Decode(r io.Reader, source string) iter.Seq[Item] {
	return func(yield func(Item) bool) {
		decodeStream(r, source, filters{}, yield)
	}
}

// DecodeRecord decodes one JSON value that is a CloudTrail record or an EventBridge event
// carrying one. When the error wraps ErrIncomplete the record is returned too and should be used.
func DecodeRecord(b []byte) (*Record, error) {
	if err := json.Unmarshal(b, new(skipValue)); err != nil {
		return nil, fmt.Errorf("cloudtrail: decode record: %w: %s", ErrMalformed, describeJSONError(err))
	}
	rec, _, records, err := classify(b, true, true)
	if records != nil {
		return nil, fmt.Errorf("cloudtrail: decode record: %w: a log file ({\"Records\": […]}), not one record", ErrNotRecord)
	}
	if err != nil {
		return rec, fmt.Errorf("cloudtrail: decode record: %w", err)
	}
	return rec, nil
}

// IsEnvelope reports whether b is a JSON object that wraps records rather than being one: a
// CloudTrail log file ({"Records":[…]}) or an EventBridge event. It does not check that the
// envelope holds anything usable.
func IsEnvelope(b []byte) bool {
	var probe struct {
		Records    json.RawMessage `json:"Records"`
		DetailType *string         `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	if i := skipSpace(b, 0); i == len(b) || b[i] != '{' {
		return false
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return false
		}
	}
	return probe.Records != nil || probe.DetailType != nil || probe.Detail != nil
}

const (
	bufSize   = 64 << 10 // bufio size; also how far the first line is looked at
	lookAhead = 4 << 10  // how far to look for the first key of a top-level object
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	utf8BOM   = []byte{0xef, 0xbb, 0xbf}
	bufPool   = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}
	// gzipPool holds inflaters (github.com/klauspost/compress/gzip: ~30 % less CPU than
	// compress/gzip on CloudTrail files, see BenchmarkInflate).
	gzipPool sync.Pool
)

func getBuf(r io.Reader) *bufio.Reader {
	br := bufPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putBuf(br *bufio.Reader) {
	br.Reset(nil)
	bufPool.Put(br)
}

// stream holds the state of one Decode.
// stream holds the state of one Decode.
type stream struct {
	filters
	source  string
	yield   func(Item) bool
	src     *trackReader // the raw input: its errors are ErrUnreadable
	sc      *scanner
	index   int
	line    int // current line in line mode; 0 in stream mode
	stopped bool
}

// filters are the tests that spare decoding the elements of a Records file or JSON array that
// cannot matter: WithEventFilter's and WithPrefilter's. Zero: everything is decoded.
type filters struct {
	keepEvent func(RawEvent) bool
	keep      func(raw []byte) bool
}

// decodeStream decodes r and reports whether the consumer wants more.
func decodeStream(r io.Reader, source string, f filters, yield func(Item) bool) bool {
	s := &stream{source: source, filters: f, yield: yield, src: &trackReader{r: r}}
	s.run()
	return !s.stopped
}

func (s *stream) run() {
	raw := getBuf(s.src)
	defer putBuf(raw)
	br := raw
	if m, _ := raw.Peek(len(gzipMagic)); bytes.Equal(m, gzipMagic) {
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		if err := zr.Reset(raw); err != nil {
			s.readFailure(err)
			return
		}
		defer gzipPool.Put(zr)
		br = getBuf(zr)
		defer putBuf(br)
	}
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	lineMode, empty, err := sniff(br)
	switch {
	case err != nil:
		s.readFailure(err)
		return
	case empty:
		s.fail(ErrMalformed, "empty input")
		return
	}
	s.sc = newScanner(br, lineMode)
	defer s.sc.release()
	if lineMode {
		s.line = 1
	}
	s.top()
}

// sniff decides how to read: line by line (NDJSON, or one long line) unless the first line that
// is not blank ends in the middle of a JSON value, which means pretty-printed JSON that must be
// read as one stream, or holds control characters, which means binary data: reading that line by
// line would give an error per line. empty reports input holding only white space.
func sniff(br *bufio.Reader) (lineMode, empty bool, err error) {
	want := 1
	for {
		b, err := peekAtLeast(br, want)
		start := skipSpace(b, 0)
		if start < len(b) {
			if i := bytes.IndexByte(b[start:], '\n'); i >= 0 {
				line := b[start : start+i]
				return !isBinary(line) && !endsInsideValue(line), false, nil
			}
		}
		switch {
		case err == bufio.ErrBufferFull: // a first line longer than the buffer: not pretty-printed
			return !isBinary(b), false, nil
		case err == io.EOF:
			if start == len(b) {
				return false, true, nil
			}
			return !isBinary(b), false, nil // one line, no newline
		case err != nil:
			return false, false, err
		}
		want = len(b) + 1
	}
}

// isBinary reports whether b holds a control character JSON text cannot hold.
func isBinary(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return true
		}
	}
	return false
}

// endsInsideValue reports whether line is the beginning of a JSON value that goes on past it.
func endsInsideValue(line []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(line))
	for {
		err := dec.Decode(new(skipValue))
		switch {
		case err == nil:
			continue
		case err == io.ErrUnexpectedEOF:
			return true
		default: // io.EOF: whole values only; a syntax error: garbage, read it line by line
			return false
		}
	}
}

// top reads the top-level values of the stream. In line mode an error skips the rest of its line;
// in stream mode it ends the stream.
func (s *stream) top() {
	sc := s.sc
	for {
		if _, ok := sc.skipTop(&s.line); !ok {
			if sc.err != io.EOF {
				s.readFailure(sc.err)
			}
			return
		}
		err := s.element(true, true)
		if s.stopped {
			return
		}
		if err == nil {
			continue
		}
		if err == errReadFail || sc.err != nil && sc.err != io.EOF {
			s.readFailure(sc.err)
			return
		}
		s.fail(ErrMalformed, err.Error())
		if !sc.lineMode || s.stopped || !sc.skipLine() {
			if sc.err != nil && sc.err != io.EOF && !s.stopped {
				s.readFailure(sc.err)
			}
			return
		}
		s.line++
	}
}

// element reads one value at pos (white space skipped): a top-level array or a log file whose
// first key is "Records" (if logFile allows one) is read element by element; anything else is
// scanned whole, within the size limits, and decoded.
func (s *stream) element(logFile, top bool) error {
	sc := s.sc
	c, _ := sc.peek()
	switch {
	case c == '[' && top:
		return s.array()
	case c == '{' && logFile && s.recordsFirst():
		return s.recordsObject()
	}
	start := sc.offset()
	capture := s.keepEvent != nil && !logFile
	sc.capture = capture
	raw, err := sc.value(false)
	sc.capture = false
	if err != nil {
		return err
	}
	if sc.over {
		s.oversize(start)
		return nil
	}
	if capture {
		if e, ok := sc.top.event(raw, start); ok {
			if !s.keepEvent(e) {
				// An element of a Records file or array that decodes to a record of an event the
				// caller's test rejects: not decoded, only counted.
				s.emit(Item{Filtered: true}, nil)
				return nil
			}
			s.decode(raw, logFile) // decided: the raw prefilter is not asked
			return nil
		}
	}
	s.value(raw, logFile)
	return nil
}

// oversize yields an ErrOversize item for the value that began at stream offset start.
func (s *stream) oversize(start int64) bool {
	sc := s.sc
	what := fmt.Sprintf("a value of %d bytes at byte %d (limit %d)", sc.overSize, start, sc.maxValue)
	if sc.overWhat == "a string" {
		what = fmt.Sprintf("a value of %d bytes at byte %d holding a string over %d bytes", sc.overSize, start, sc.maxString)
	}
	return s.fail(ErrOversize, what)
}

// recordsFirst reports whether the object at pos has "Records" as its first key.
func (s *stream) recordsFirst() bool {
	b := s.sc.peekN(lookAhead)
	i := skipSpace(b, 1)
	const key = `"Records"`
	return len(b)-i >= len(key) && string(b[i:i+len(key)]) == key
}

// array reads a top-level array, one element at a time; elements may be log files.
func (s *stream) array() error {
	sc := s.sc
	sc.pos++ // [
	c, err := sc.skipSpace()
	if err != nil {
		return err
	}
	if c == ']' {
		sc.pos++
		return nil
	}
	return s.elements(true)
}

// elements reads array elements from the first one (pos at it) up to and including the ']'.
// logFile allows elements that are log files.
func (s *stream) elements(logFile bool) error {
	sc := s.sc
	for {
		if err := s.element(logFile, false); err != nil || s.stopped {
			return err
		}
		c, err := sc.skipSpace()
		if err != nil {
			return err
		}
		switch c {
		case ',':
			sc.pos++
			if _, err := sc.skipSpace(); err != nil {
				return err
			}
		case ']':
			sc.pos++
			return nil
		default:
			return sc.syntax("invalid character %s after array element", quoteChar(c))
		}
	}
}

// recordsObject reads an object whose first key is "Records", one record at a time. The other keys
// are checked and ignored.
func (s *stream) recordsObject() error {
	sc := s.sc
	sc.pos++ // {
	if _, err := sc.skipSpace(); err != nil {
		return err
	}
	sc.pos += len(`"Records"`)
	c, err := sc.skipSpace()
	if err != nil {
		return err
	}
	if c != ':' {
		return sc.syntax("invalid character %s after object key", quoteChar(c))
	}
	sc.pos++
	if c, err = sc.skipSpace(); err != nil {
		return err
	}
	if c == '[' {
		sc.pos++
		if c, err = sc.skipSpace(); err != nil {
			return err
		}
		if c == ']' {
			sc.pos++
		} else if err := s.elements(false); err != nil || s.stopped {
			return err
		}
	} else {
		b, err := sc.value(false)
		if err != nil {
			return err
		}
		kind := "a value"
		if b != nil {
			kind = jsonKind(b)
		}
		if !s.fail(ErrNotRecord, fmt.Sprintf(`"Records" is %s, not an array`, kind)) {
			return nil
		}
	}
	for {
		c, err := sc.skipSpace()
		if err != nil {
			return err
		}
		switch c {
		case '}':
			sc.pos++
			return nil
		case ',':
			sc.pos++
		default:
			return sc.syntax("invalid character %s after object key:value pair", quoteChar(c))
		}
		if c, err = sc.skipSpace(); err != nil {
			return err
		}
		if c != '"' {
			return sc.syntax("invalid character %s looking for beginning of object key string", quoteChar(c))
		}
		if err := sc.str(); err != nil {
			return err
		}
		if c, err = sc.skipSpace(); err != nil {
			return err
		}
		if c != ':' {
			return sc.syntax("invalid character %s after object key", quoteChar(c))
		}
		sc.pos++
		if _, err = sc.skipSpace(); err != nil {
			return err
		}
		if _, err := sc.value(true); err != nil {
			return err
		}
	}
}

// value yields the record(s) in one complete JSON value. logFile allows a {"Records":[…]}
// envelope (not nested in another one). raw may be the scanner's buffer: it is copied if kept. It
// reports whether the consumer wants more.
func (s *stream) value(raw []byte, logFile bool) bool {
	if s.keep != nil && !logFile && !s.keep(raw) {
		// An element of a Records file or array that the caller's test says cannot matter: not
		// decoded, only counted.
		return s.emit(Item{Filtered: true}, nil)
	}
	return s.decode(raw, logFile)
}

// decode is value without the prefilter.
func (s *stream) decode(raw []byte, logFile bool) bool {
	raw = bytes.Clone(raw)
	rec, body, records, err := classify(raw, logFile, true)
	if records != nil {
		var elems []json.RawMessage
		if err := json.Unmarshal(records, &elems); err != nil || elems == nil {
			return s.emit(Item{Raw: raw}, fmt.Errorf("%w: \"Records\" is %s, not an array", ErrNotRecord, jsonKind(records)))
		}
		for _, e := range elems {
			if !s.value(e, false) {
				return false
			}
		}
		return true
	}
	return s.emit(Item{Record: rec, Raw: body}, err)
}

// emit yields an item at the current position; err, if any, is wrapped with the position.
func (s *stream) emit(it Item, err error) bool {
	if s.stopped {
		return false
	}
	it.Source, it.Index, it.Line = s.source, s.index, s.line
	if err != nil {
		it.Err = fmt.Errorf("cloudtrail: %s: %w", s.pos(), err)
	}
	s.index++
	if !s.yield(it) {
		s.stopped = true
	}
	return !s.stopped
}

func (s *stream) pos() string {
	if s.line > 0 {
		return fmt.Sprintf("%s:%d: record %d", s.source, s.line, s.index)
	}
	return fmt.Sprintf("%s: record %d", s.source, s.index)
}

// fail yields an error item of the given kind.
func (s *stream) fail(kind error, detail string) bool {
	return s.emit(Item{}, fmt.Errorf("%w: %s", kind, detail))
}

// readFailure yields an error met while reading: ErrUnreadable when the input itself failed,
// ErrMalformed when it was readable but not valid gzip, or ended in the middle of a value.
func (s *stream) readFailure(err error) {
	if s.src.err != nil {
		s.emit(Item{}, fmt.Errorf("%w: %w", ErrUnreadable, s.src.err))
		return
	}
	s.fail(ErrMalformed, describeJSONError(err))
}

// describeJSONError says what went wrong without quoting the input (beyond the one character a
// syntax error names).
func describeJSONError(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input (truncated?)"
	}
	return err.Error() // gzip and flate errors name no content
}

// fastDecode decodes records first with decodePlain (decode_plain.go: records as CloudTrail writes
// them, about half the CPU of the next one, see BenchmarkDecoders), then with fastUnmarshal —
// github.com/go-json-experiment/json (encoding/json v2: about half the CPU of encoding/json) —
// and falls back to encoding/json for anything either refuses. Tests turn it off to check that
// results are the same. Built with the tag cloudtrail_stdjson (the Lambda, which decodes one event
// at a time and counts its megabytes), no second JSON library is linked (decode_std.go):
// decodePlain, then encoding/json.
var fastDecode = true

// wire is Record as it is decoded: eventTime is kept raw so that a bad one does not lose the
// record, and the keys of the envelopes this package knows are picked up on the way.
type wire struct {
	*recordAlias
	EventTime  json.RawMessage `json:"eventTime"`
	Records    json.RawMessage `json:"Records"`
	DetailType *string         `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
	SNSType    string          `json:"Type"`
}

// recordAlias is Record without its methods, so that wire's fields shadow Record's.
type recordAlias Record

const eventBridgeSuffix = "via CloudTrail"

// classify decodes one complete JSON value. It returns the record (nil if the value is not one),
// the JSON the record came from (the detail of an EventBridge event), the raw "Records" array when
// the value is a log file and logFile allows one, and an error wrapping ErrNotRecord, ErrIncomplete
// or ErrMalformed. event allows an EventBridge event.
func classify(raw json.RawMessage, logFile, event bool) (rec *Record, body, records json.RawMessage, err error) {
	i := skipSpace(raw, 0)
	if i == len(raw) || raw[i] != '{' {
		return nil, raw, nil, fmt.Errorf("%w: %s, not an object", ErrNotRecord, jsonKind(raw))
	}
	rec = new(Record)
	w := wire{recordAlias: (*recordAlias)(rec)}
	var typeErr *json.UnmarshalTypeError
	if !fastDecode || !decodePlain(raw, &w) && !retry(rec, &w, func() bool { return fastUnmarshal(raw, &w) == nil }) {
		// encoding/json decides every case the fast decoder refuses (a field of the wrong type,
		// a duplicate key, invalid UTF-8, a syntax error), so the result never depends on it.
		*rec = Record{}
		w = wire{recordAlias: (*recordAlias)(rec)}
		if err := json.Unmarshal(raw, &w); err != nil && !errors.As(err, &typeErr) {
			return nil, raw, nil, fmt.Errorf("%w: %s", ErrMalformed, describeJSONError(err))
		}
	}
	switch {
	case w.DetailType != nil || w.Detail != nil:
		dt := ""
		if w.DetailType != nil {
			dt = *w.DetailType
		}
		switch {
		case !event:
			return nil, raw, nil, fmt.Errorf("%w: an EventBridge event inside an EventBridge event", ErrNotRecord)
		case !strings.HasSuffix(dt, eventBridgeSuffix):
			return nil, raw, nil, fmt.Errorf("%w: an EventBridge event whose detail-type does not end in %q", ErrNotRecord, eventBridgeSuffix)
		case jsonKind(w.Detail) != "an object":
			return nil, raw, nil, fmt.Errorf("%w: an EventBridge event whose detail is %s", ErrNotRecord, jsonKind(w.Detail))
		}
		return classify(w.Detail, false, false)
	case w.Records != nil:
		if !logFile {
			return nil, raw, nil, fmt.Errorf("%w: a log file inside an envelope", ErrNotRecord)
		}
		return nil, raw, w.Records, nil
	case w.SNSType == "Notification":
		return nil, raw, nil, fmt.Errorf("%w: an SNS notification", ErrNotRecord)
	}
	hasTime := len(w.EventTime) > 0 && string(w.EventTime) != "null"
	if rec.EventVersion == "" && rec.EventSource == "" && rec.EventName == "" && rec.EventID == "" && !hasTime {
		return nil, raw, nil, fmt.Errorf("%w: an object without eventVersion, eventSource, eventName, eventID or eventTime", ErrNotRecord)
	}
	if strings.HasPrefix(rec.EventSource, "aws:") {
		return nil, raw, nil, fmt.Errorf("%w: an AWS event notification (eventSource aws:…)", ErrNotRecord)
	}

	var defects []string
	if typeErr != nil {
		defects = append(defects, fmt.Sprintf("%s is %s", fieldName(typeErr), typeErr.Value))
	}
	if hasTime {
		var s string
		var err error
		if t := w.EventTime; len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' && plainASCII(t[1:len(t)-1]) {
			s = string(t[1 : len(t)-1]) // what encoding/json makes of it, without the detour
		} else {
			err = json.Unmarshal(w.EventTime, &s)
		}
		if err != nil {
			defects = append(defects, "eventTime is "+jsonKind(w.EventTime)+", not a string")
		} else if s != "" {
			if t, err := ParseTime(s); err != nil {
				defects = append(defects, "eventTime is neither RFC 3339 nor \"2006-01-02 15:04:05.000000000\"")
			} else {
				rec.EventTime = Time{t}
			}
		}
	}
	if rec.EventType != "AwsCloudTrailInsight" { // Insights events have neither
		if rec.UserIdentity == nil {
			defects = append(defects, "no userIdentity")
		}
		if rec.RequestParameters == nil {
			defects = append(defects, "no requestParameters")
		}
	}
	if len(defects) > 0 {
		return rec, raw, nil, fmt.Errorf("%w: %s", ErrIncomplete, strings.Join(defects, "; "))
	}
	return rec, raw, nil, nil
}

// retry zeroes the record and wire that a refusing decoder left partly filled, then runs dec.
func retry(rec *Record, w *wire, dec func() bool) bool {
	*rec = Record{}
	*w = wire{recordAlias: (*recordAlias)(rec)}
	return dec()
}

// fieldName is the JSON path of the field a type error is about, without the Go type names.
func fieldName(e *json.UnmarshalTypeError) string {
	f := strings.TrimPrefix(e.Field, "recordAlias.")
	if f == "" {
		return "a field"
	}
	return f
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(b []byte) string {
	i := skipSpace(b, 0)
	if i == len(b) {
		return "empty"
	}
	switch b[i] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue is decoded into to check or skip a JSON value without keeping it.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// trackReader remembers the first error (other than io.EOF) its reader returned and returns it
// again on every later call.
type trackReader struct {
	r   io.Reader
	err error
}

func (t *trackReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// lineReader reads one line (with its newline) from br, then returns io.EOF.

// peekAtLeast returns everything buffered if that is at least n bytes, else reads until it is.
func peekAtLeast(br *bufio.Reader, n int) ([]byte, error) {
	if k := br.Buffered(); k >= n {
		return br.Peek(k)
	}
	return br.Peek(n)
}
