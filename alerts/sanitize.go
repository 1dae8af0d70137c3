package alerts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secretwatch/secretwatch/internal/textsafe"
)

// clean makes s safe to print (textsafe.Escape): control and invisible formatting characters and
// invalid bytes become visible escapes; everything else is kept.
func clean(s string) string { return textsafe.Escape(s) }

func unsafeRune(r rune) bool { return textsafe.Unsafe(r) }

// asciiLine maps s to printable ASCII on one line: control characters and whitespace become a
// single space, every other non-ASCII rune (or invalid byte) becomes '?'. Leading and trailing
// spaces are dropped.
func asciiLine(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r < 0x20 || r == 0x7f ||
			(r != utf8.RuneError && unicode.IsSpace(r)):
			space = true
			continue
		case r > 0x7e:
			r = '?'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// asciiText maps s to printable ASCII keeping its layout: newlines stay, other control
// characters become spaces, every other non-ASCII rune (or invalid byte) becomes '?'.
func asciiText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f:
			r = ' '
		case r > 0x7e:
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clipUTF8 returns s cut to at most n bytes at a rune boundary, ending in marker when it was
// cut (marker counts towards n). Invalid UTF-8 in s is replaced by U+FFFD first, so the result
// is always valid UTF-8.
func clipUTF8(s string, n int, marker string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	if n <= len(marker) {
		marker = ""
	}
	return truncateUTF8(s, n-len(marker)) + marker
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that does not end inside a
// multi-byte rune.
func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// middle shortens the ASCII string s to at most n bytes by cutting out its middle: the head
// gives the context, the tail, which is usually the name, gets two thirds. Cuts prefer path
// separators: "team-payments/.../stripe-api-key", "role/...deploy-production".
func middle(s string, n int) string {
	const dots = "..."
	if len(s) <= n {
		return s
	}
	if n <= len(dots)+2 {
		return s[:max(n, 0)]
	}
	keep := n - len(dots)
	head := keep / 3
	// End the head just after a separator: the one before the cut if that keeps at least half of
	// the head, else the next one if it is near; the tail gets what the head gives up or takes.
	if i := strings.LastIndexAny(s[:head], "/:"); i >= 0 && i+1 >= head/2 {
		head = i + 1
	} else if j := strings.IndexAny(s[head:], "/:"); j >= 0 && j < head/2 && head+j+1 < keep {
		head += j + 1
	}
	tail := s[len(s)-(keep-head):]
	// Start the tail at a separator if that keeps at least half of it.
	if i := strings.IndexAny(tail, "/:"); i > 0 && i <= len(tail)/2 {
		tail = tail[i:]
	}
	return s[:head] + dots + tail
}

// Escape makes s safe to show to people on one line: invalid UTF-8, control characters
// (newlines included), bidirectional and other invisible formatting characters become visible
// escapes (\x0a, \u202e). For every text that reaches a terminal, a log or a file name on stderr.
func Escape(s string) string { return clean(s) }

// Clip bounds s to at most n bytes, at a rune boundary, ending in a marker when it was cut.
func Clip(s string, n int) string { return clipUTF8(s, n, clipMarker) }
