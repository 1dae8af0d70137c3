// Package textsafe makes attacker-controlled values safe to show to people: the one escaper that
// alert text, terminal output and the report's human formats (HTML included) share.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape replaces invalid UTF-8 bytes, control characters (C0, DEL, C1) and invisible formatting
// characters (category Cf: bidi overrides, zero-width joiners; line and paragraph separators) by
// visible escapes (\x1b, \u202e). Everything else, including ordinary non-ASCII letters, is kept.
func Escape(s string) string { return escape(s, false, false) }

// EscapeStrict is Escape that also doubles every backslash, so that an escape in the output
// cannot have been forged by the input (the report's formats, which people search and diff).
func EscapeStrict(s string) string { return escape(s, true, false) }

// EscapeHTML is EscapeStrict for HTML: it also replaces the characters that mean something in
// HTML text, in RCDATA (<title>) and in a quoted attribute value — & < > " ' — by character
// references, and + (which UTF-7 sniffing once read as markup) too, as html/template does
// (&amp; &lt; &gt; &#34; &#39; &#43;). The result can be placed in any of those contexts and
// shows the value as EscapeStrict would print it. It is not safe inside <script> or <style>, a
// comment, an unquoted attribute value or a URL (those contexts need their own escaping).
func EscapeHTML(s string) string { return escape(s, true, true) }

// htmlEntity is the character reference EscapeHTML writes for b, or "".
func htmlEntity(b byte) string {
	switch b {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '"':
		return "&#34;"
	case '\'':
		return "&#39;"
	case '+':
		return "&#43;"
	}
	return ""
}

func escape(s string, backslash, html bool) string {
	if !needsEscape(s, backslash, html) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case html && r < utf8.RuneSelf && htmlEntity(byte(r)) != "":
			b.WriteString(htmlEntity(byte(r)))
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case backslash && r == '\\':
			b.WriteString(`\\`)
		case Unsafe(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string, backslash, html bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || backslash && r == '\\' || Unsafe(r) || html && r < utf8.RuneSelf && htmlEntity(byte(r)) != "" {
			return true
		}
		i += size
	}
	return false
}

// Unsafe reports whether r is a rune Escape replaces.
func Unsafe(r rune) bool {
	if r < utf8.RuneSelf { // ASCII: C0 and DEL (no ASCII character is in Cf)
		return r < 0x20 || r == 0x7f
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
