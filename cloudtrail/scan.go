package cloudtrail

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// Size limits. Every value this package decodes passes through the scanner below, which enforces
// them as the bytes stream past: an over-size value is skipped without being held in memory (its
// structure is still checked, so that the next value is found) and yielded as one ErrOversize item
// at its position. Records next to it are read as usual.
const (
	// MaxRecordBytes bounds one record, or one top-level value that is not streamed (a single record,
	// an EventBridge event, a log file whose first key is not "Records"). CloudTrail records are at
	// most a few hundred KB (CloudTrail truncates large request and response elements); EventBridge
	// events are at most 256 KB.
	MaxRecordBytes = 1 << 20
	// MaxStringBytes bounds one JSON string (a key or a value, as written, escapes included)
	// anywhere in a record.
	MaxStringBytes = 512 << 10
)

// maxDepth is encoding/json's nesting limit: deeper input is a syntax error there too.
const maxDepth = 10000

// scanBufSize is the scanner's initial buffer; it grows up to about MaxRecordBytes+scanBufSize
// while a kept value is longer than the buffer.
const scanBufSize = 128 << 10

var scanBufPool = sync.Pool{New: func() any { b := make([]byte, scanBufSize); return &b }}

// strPlain marks the bytes that need no attention inside a JSON string.
var strPlain = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// Scanner errors that are not syntax errors.
var (
	errTruncated = errors.New("unexpected end of input (truncated?)")
	errLineEnd   = errors.New("the line ends inside a JSON value")
	errReadFail  = errors.New("read error") // the reader failed: see scanner.err
)

// syntaxError is a JSON syntax error at an offset in the (decompressed) stream.
type syntaxError struct {
	msg string
	off int64
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at byte %d)", e.msg, e.off) }

// scanner finds the boundaries of JSON values in a stream without tokenising them: it checks their
// syntax as encoding/json does (so a value it accepts, encoding/json accepts and ends at the same
// byte) but builds nothing. A value is kept in the buffer while it is scanned so that it can be
// handed out whole, unless it grows over the limits.
type scanner struct {
	r        io.Reader
	pooled   *[]byte
	buf      []byte
	pos, end int
	off      int64 // stream offset of buf[0]
	mark     int   // start of the value being kept, or -1
	err      error // the first error from r (io.EOF at the end)
	lineMode bool  // a newline ends a value: NDJSON
	stack    []byte

	// capture: note the top-level eventSource and eventName of the object scanned (topfields.go)
	capture bool
	top     topFields

	// limits; over is set when the value being scanned broke one of them
	maxValue, maxString int
	over                bool
	overWhat            string
	overSize            int64
}

func newScanner(r io.Reader, lineMode bool) *scanner {
	p := scanBufPool.Get().(*[]byte)
	return &scanner{r: r, pooled: p, buf: (*p)[:cap(*p)], mark: -1, lineMode: lineMode,
		maxValue: MaxRecordBytes, maxString: MaxStringBytes}
}

// release returns the buffer to the pool; the scanner must not be used afterwards.
func (sc *scanner) release() {
	if cap(sc.buf) <= 2*scanBufSize {
		*sc.pooled = sc.buf[:cap(sc.buf)]
		scanBufPool.Put(sc.pooled)
	}
	sc.buf = nil
}

// offset is the stream offset of the current position.
func (sc *scanner) offset() int64 { return sc.off + int64(sc.pos) }

// fill reads more input. It reports whether at least one byte more than before is buffered past
// pos; when it returns false, sc.err says why.
func (sc *scanner) fill() bool {
	if sc.err != nil {
		return false
	}
	keep := sc.pos
	if sc.mark >= 0 {
		keep = sc.mark
	}
	if keep > 0 && (sc.end == len(sc.buf) || keep >= len(sc.buf)/2) {
		n := copy(sc.buf, sc.buf[keep:sc.end])
		sc.off += int64(keep)
		sc.pos -= keep
		sc.end = n
		if sc.mark >= 0 {
			sc.mark -= keep
		}
	}
	if sc.end == len(sc.buf) {
		// Full, and everything in it belongs to the value being kept.
		if sc.end-sc.mark > sc.maxValue {
			sc.overflow("a value")
			return sc.fill()
		}
		nb := make([]byte, min(2*len(sc.buf), sc.maxValue+scanBufSize))
		sc.end = copy(nb, sc.buf[:sc.end])
		sc.buf = nb
	}
	for range 100 {
		n, err := sc.r.Read(sc.buf[sc.end:])
		sc.end += n
		if err != nil {
			sc.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	sc.err = io.ErrNoProgress
	return false
}

// overflow marks the value being scanned as over-size and stops keeping it.
func (sc *scanner) overflow(what string) {
	if !sc.over {
		sc.over = true
		sc.overWhat = what
	}
	sc.mark = -1
}

// stopErr is the error for input that ended (or failed) where more was needed.
func (sc *scanner) stopErr() error {
	if sc.err != io.EOF {
		return errReadFail
	}
	if sc.lineMode {
		return errLineEnd
	}
	return errTruncated
}

func (sc *scanner) syntax(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), off: sc.offset()}
}

// peek returns the byte at pos, reading if needed; ok is false at the end of input or on error.
func (sc *scanner) peek() (byte, bool) {
	if sc.pos == sc.end && !sc.fill() {
		return 0, false
	}
	return sc.buf[sc.pos], true
}

// peekN returns up to n buffered bytes from pos (fewer only at the end of input or on error).
func (sc *scanner) peekN(n int) []byte {
	for sc.end-sc.pos < n && sc.fill() {
	}
	return sc.buf[sc.pos:min(sc.end, sc.pos+n)]
}

// skipTop skips white space between top-level values, counting lines in line mode. It returns the
// next byte; ok is false at the end of input or on error.
func (sc *scanner) skipTop(line *int) (byte, bool) {
	for {
		for sc.pos < sc.end {
			switch c := sc.buf[sc.pos]; c {
			case '\n':
				if sc.lineMode {
					*line++
				}
				fallthrough
			case ' ', '\t', '\r':
				sc.pos++
			default:
				return c, true
			}
		}
		if !sc.fill() {
			return 0, false
		}
	}
}

// skipSpace skips white space inside a value; in line mode a newline ends the value (errLineEnd).
func (sc *scanner) skipSpace() (byte, error) {
	for {
		for sc.pos < sc.end {
			switch c := sc.buf[sc.pos]; c {
			case '\n':
				if sc.lineMode {
					return 0, errLineEnd
				}
				sc.pos++
			case ' ', '\t', '\r':
				sc.pos++
			default:
				return c, nil
			}
		}
		if !sc.fill() {
			return 0, sc.stopErr()
		}
	}
}

// skipLine skips to just after the next newline; false at the end of input or on error.
func (sc *scanner) skipLine() bool {
	for {
		for sc.pos < sc.end {
			c := sc.buf[sc.pos]
			sc.pos++
			if c == '\n' {
				return true
			}
		}
		if !sc.fill() {
			return false
		}
	}
}

// begin starts a value at pos: it is kept (for bytes) unless discard.
func (sc *scanner) begin(discard bool) {
	sc.over, sc.overWhat, sc.overSize = false, "", 0
	sc.mark = -1
	if !discard {
		sc.mark = sc.pos
	}
}

// finish ends the value begun at start (a stream offset). It returns the kept bytes, valid until
// the scanner reads again, or nil if the value was discarded or over-size (then sc.over is set).
func (sc *scanner) finish(start int64) []byte {
	sc.overSize = sc.offset() - start
	if sc.mark >= 0 && sc.overSize > int64(sc.maxValue) {
		sc.overflow("a value")
	}
	if sc.over || sc.mark < 0 {
		sc.mark = -1
		return nil
	}
	b := sc.buf[sc.mark:sc.pos]
	sc.mark = -1
	return b
}

// value scans one JSON value starting at pos (white space already skipped) and leaves pos just
// after it. It returns the value's bytes unless discard is set or the value is over-size (sc.over).
// A number or literal ends at the first byte that cannot continue it, as in encoding/json's Decoder
// ("1x" is 1, then an error).
func (sc *scanner) value(discard bool) ([]byte, error) {
	start := sc.offset()
	sc.begin(discard)
	err := sc.scan()
	if err != nil {
		sc.mark = -1
		return nil, err
	}
	return sc.finish(start), nil
}

// scan states after a token, inside a container.
const (
	stValue      = iota // a value must follow (after ':' or ',' in an array)
	stValueOrEnd        // after '[': a value or ']'
	stKey               // after ',' in an object: a key
	stKeyOrEnd          // after '{': a key or '}'
	stColon             // after a key
	stCommaOrEnd        // after a value in a container
)

func (sc *scanner) scan() error {
	// The loop works on local copies of buf, pos and end and handles every token that lies whole
	// in the buffer and is well formed; anything else (a token cut by the end of the buffer, white
	// space, a syntax error) goes to the byte-at-a-time methods from the token's first byte, which
	// read more input and make the errors. sync stores pos before such a call; load reloads after.
	stack := sc.stack[:0]
	capture := sc.capture
	if capture {
		sc.top.reset()
	}
	state := stValue
	buf, pos, end := sc.buf, sc.pos, sc.end
	for {
		var c byte
		if pos < end && buf[pos] > ' ' { // no white space: the usual case
			c = buf[pos]
		} else {
			sc.pos = pos
			var err error
			if c, err = sc.skipSpace(); err != nil {
				return err
			}
			buf, pos, end = sc.buf, sc.pos, sc.end
		}
		switch state {
		case stValue, stValueOrEnd:
			top := capture && len(stack) == 1 && stack[0] == '{'
			switch {
			case c == ']' && state == stValueOrEnd:
				pos++
				stack = stack[:len(stack)-1]
			case c == '{' || c == '[':
				if len(stack) >= maxDepth {
					sc.pos = pos
					return sc.syntax("exceeded max depth")
				}
				if top {
					sc.top.value(false, nil, 0)
				}
				pos++
				stack = append(stack, c)
				sc.stack = stack
				if c == '{' {
					state = stKeyOrEnd
				} else {
					state = stValueOrEnd
				}
				continue
			case c == '"':
				from := pos
				if p, ok := strEnd(buf, pos, end); ok {
					if p-pos-2 > sc.maxString {
						sc.overflow("a string")
					}
					pos = p
					if top {
						sc.top.value(true, buf[from+1:p-1], sc.off+int64(from+1))
					}
					break
				}
				fromOff := sc.off + int64(from)
				sc.pos = pos
				if err := sc.str(); err != nil {
					return err
				}
				buf, pos, end = sc.buf, sc.pos, sc.end
				if top {
					if sc.over {
						sc.top.undecided = true
					} else {
						sc.top.value(true, buf[fromOff-sc.off+1:pos-1], fromOff+1)
					}
				}
			case c == '-' || c >= '0' && c <= '9':
				if top {
					sc.top.value(false, nil, 0)
				}
				if p, ok := numberEnd(buf, pos, end); ok {
					pos = p
					break
				}
				sc.pos = pos
				if err := sc.number(); err != nil {
					return err
				}
				buf, pos, end = sc.buf, sc.pos, sc.end
			case c == 't' || c == 'f' || c == 'n':
				if top {
					sc.top.value(false, nil, 0)
				}
				word := "null"
				if c == 't' {
					word = "true"
				} else if c == 'f' {
					word = "false"
				}
				if end-pos >= len(word) && string(buf[pos:pos+len(word)]) == word {
					pos += len(word)
					break
				}
				sc.pos = pos
				if err := sc.literal(word); err != nil {
					return err
				}
				buf, pos, end = sc.buf, sc.pos, sc.end
			default:
				sc.pos = pos
				return sc.syntax("invalid character %s looking for beginning of value", quoteChar(c))
			}
		case stKey, stKeyOrEnd:
			switch {
			case c == '}' && state == stKeyOrEnd:
				pos++
				stack = stack[:len(stack)-1]
			case c == '"':
				top := capture && len(stack) == 1
				from := pos
				if p, ok := strEnd(buf, pos, end); ok {
					if p-pos-2 > sc.maxString {
						sc.overflow("a string")
					}
					pos = p
					if top {
						sc.top.key(buf[from+1 : p-1])
					}
				} else {
					fromOff := sc.off + int64(from)
					sc.pos = pos
					if err := sc.str(); err != nil {
						return err
					}
					buf, pos, end = sc.buf, sc.pos, sc.end
					if top {
						if sc.over {
							sc.top.undecided = true
						} else {
							sc.top.key(buf[fromOff-sc.off+1 : pos-1])
						}
					}
				}
				if pos < end && buf[pos] == ':' { // the usual case: no white space
					pos++
					state = stValue
					continue
				}
				state = stColon
				continue
			default:
				sc.pos = pos
				return sc.syntax("invalid character %s looking for beginning of object key string", quoteChar(c))
			}
		case stColon:
			if c != ':' {
				sc.pos = pos
				return sc.syntax("invalid character %s after object key", quoteChar(c))
			}
			pos++
			state = stValue
			continue
		case stCommaOrEnd:
			top := stack[len(stack)-1]
			switch {
			case c == ',':
				pos++
				if top == '{' {
					state = stKey
				} else {
					state = stValue
				}
				continue
			case c == '}' && top == '{', c == ']' && top == '[':
				pos++
				stack = stack[:len(stack)-1]
			case top == '{':
				sc.pos = pos
				return sc.syntax("invalid character %s after object key:value pair", quoteChar(c))
			default:
				sc.pos = pos
				return sc.syntax("invalid character %s after array element", quoteChar(c))
			}
		}
		// A value (or a container) just ended.
		if len(stack) == 0 {
			sc.pos = pos
			return nil
		}
		if pos < end && buf[pos] == ',' { // the usual case: no white space
			pos++
			if stack[len(stack)-1] == '{' {
				state = stKey
			} else {
				state = stValue
			}
			continue
		}
		state = stCommaOrEnd
	}
}

// strEnd finds the end of the string that begins at b[pos] (its opening quote) when the whole
// string lies in b[:end] and is well formed: it returns the index just past the closing quote.
// ok is false otherwise (cut by end, or malformed: scanner.str decides).
func strEnd(b []byte, pos, end int) (int, bool) {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	b = b[:end]
	p := pos + 1
	for {
		// plainPrefix, inline: 8 bytes at a time while they are in b, then byte by byte.
		for p+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[p : p+8])
			q := x ^ (ones * '"')
			bs := x ^ (ones * '\\')
			if m := ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x) & highs; m != 0 {
				p += bits.TrailingZeros64(m) >> 3
				goto special
			}
			p += 8
		}
		for p < len(b) && strPlain[b[p]] {
			p++
		}
		if p >= len(b) {
			return 0, false
		}
	special:
		switch b[p] {
		case '"':
			return p + 1, true
		case '\\':
			if p+1 >= len(b) {
				return 0, false
			}
			switch b[p+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p += 2
			case 'u':
				if p+6 > len(b) || !isHex(b[p+2]) || !isHex(b[p+3]) || !isHex(b[p+4]) || !isHex(b[p+5]) {
					return 0, false
				}
				p += 6
			default:
				return 0, false
			}
		default: // a control character
			return 0, false
		}
	}
}

// numberEnd finds the end of the number that begins at b[pos] when it is well formed and ends
// (at a byte that cannot continue it) before end; ok is false otherwise (scanner.number decides).
func numberEnd(b []byte, pos, end int) (int, bool) {
	p := pos
	if b[p] == '-' {
		p++
	}
	if p >= end {
		return 0, false
	}
	switch c := b[p]; {
	case c == '0':
		p++
	case c >= '1' && c <= '9':
		p++
		for p < end && b[p] >= '0' && b[p] <= '9' {
			p++
		}
	default:
		return 0, false
	}
	if p >= end {
		return 0, false
	}
	if b[p] == '.' {
		p++
		d := p
		for p < end && b[p] >= '0' && b[p] <= '9' {
			p++
		}
		if p == d || p >= end {
			return 0, false
		}
	}
	if b[p] == 'e' || b[p] == 'E' {
		p++
		if p < end && (b[p] == '+' || b[p] == '-') {
			p++
		}
		d := p
		for p < end && b[p] >= '0' && b[p] <= '9' {
			p++
		}
		if p == d || p >= end {
			return 0, false
		}
	}
	return p, true
}

// str scans a string; pos is at its opening quote.
func (sc *scanner) str() error {
	sc.pos++
	n := 0
	for {
		b := sc.buf[sc.pos:sc.end]
		i := plainPrefix(b)
		sc.pos += i
		n += i
		if i == len(b) {
			if n > sc.maxString {
				sc.overflow("a string")
			}
			if !sc.fill() {
				return sc.stopErr()
			}
			continue
		}
		switch c := b[i]; c {
		case '"':
			sc.pos++
			if n > sc.maxString {
				sc.overflow("a string")
			}
			return nil
		case '\\':
			sc.pos++
			e, ok := sc.peek()
			if !ok {
				return sc.stopErr()
			}
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				sc.pos++
				n += 2
			case 'u':
				sc.pos++
				for range 4 {
					h, ok := sc.peek()
					if !ok {
						return sc.stopErr()
					}
					if !isHex(h) {
						return sc.syntax("invalid character %s in \\u hexadecimal character escape", quoteChar(h))
					}
					sc.pos++
				}
				n += 6
			default:
				return sc.syntax("invalid character %s in string escape code", quoteChar(e))
			}
		default:
			if c == '\n' && sc.lineMode {
				return errLineEnd
			}
			return sc.syntax("invalid character %s in string literal", quoteChar(c))
		}
	}
}

// plainPrefix returns the length of the prefix of b that needs no attention inside a string: no
// quote, backslash or control character. It looks at 8 bytes at a time.
func plainPrefix(b []byte) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ (ones * '"')
		bs := x ^ (ones * '\\')
		// A byte is zero in q or bs, or below 0x20 in x. The lowest flagged byte is exact (a
		// borrow only flags bytes above a flagged one): it is the first that needs attention.
		if m := ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && strPlain[b[i]] {
		i++
	}
	return i
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// number scans a number; pos is at its first byte.
func (sc *scanner) number() error {
	c, _ := sc.peek()
	if c == '-' {
		sc.pos++
		var ok bool
		if c, ok = sc.peek(); !ok {
			return sc.stopErr()
		}
		if c < '0' || c > '9' {
			return sc.syntax("invalid character %s in numeric literal", quoteChar(c))
		}
	}
	sc.pos++
	if c != '0' {
		if _, err := sc.digits(false); err != nil {
			return err
		}
	}
	c, ok := sc.peek()
	if !ok {
		return nil
	}
	if c == '.' {
		sc.pos++
		if _, err := sc.digits(true); err != nil {
			return err
		}
		if c, ok = sc.peek(); !ok {
			return nil
		}
	}
	if c == 'e' || c == 'E' {
		sc.pos++
		c, ok = sc.peek()
		if !ok {
			return sc.stopErr()
		}
		if c == '+' || c == '-' {
			sc.pos++
		}
		if _, err := sc.digits(true); err != nil {
			return err
		}
	}
	return nil
}

// digits skips decimal digits; need says at least one is required.
func (sc *scanner) digits(need bool) (int, error) {
	n := 0
	for {
		c, ok := sc.peek()
		if !ok {
			if need && n == 0 {
				return 0, sc.stopErr()
			}
			return n, nil
		}
		if c < '0' || c > '9' {
			if need && n == 0 {
				return 0, sc.syntax("invalid character %s in numeric literal", quoteChar(c))
			}
			return n, nil
		}
		sc.pos++
		n++
	}
}

// literal scans true, false or null; pos is at its first byte.
func (sc *scanner) literal(word string) error {
	for i := 0; i < len(word); i++ {
		c, ok := sc.peek()
		if !ok {
			return sc.stopErr()
		}
		if c != word[i] {
			return sc.syntax("invalid character %s in literal %s (expecting %s)", quoteChar(c), word, quoteChar(word[i]))
		}
		sc.pos++
	}
	return nil
}

// quoteChar formats c as encoding/json does in its syntax errors.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := fmt.Sprintf("%q", string(rune(c)))
	if c >= 0x80 {
		s = fmt.Sprintf("%q", string([]byte{c}))
	}
	return "'" + s[1:len(s)-1] + "'"
}
