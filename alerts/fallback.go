package alerts

import (
	"fmt"
	"strings"

	"github.com/secretwatch/secretwatch/detector"
)

// FallbackMessage is the form published when SNS refused the full one: printable ASCII only
// (the JSON line escapes non-ASCII as \uXXXX), a subject from severity and rule alone, the
// body clipped to 64 KiB, and only the rule and severity attributes.
func FallbackMessage(a *detector.Alert) Message {
	full, err := NewMessage(clipAlert(a, 512))
	if err != nil {
		full = Message{Body: Render(a)}
	}
	text, js, _ := strings.Cut(full.Body, "\n"+JSONMarker+"\n")
	text = clipUTF8(asciiText(text), 64<<10, clipMarker)
	attrs := map[string]string{}
	for _, k := range []string{AttrRule, AttrSeverity} {
		if v, ok := full.Attributes[k]; ok {
			attrs[k] = v
		}
	}
	return Message{
		Subject:    "[" + strings.ToUpper(orDefault(asciiLine(a.Severity), "alert")) + "] secretwatch " + clipUTF8(asciiLine(a.Rule), 64, ""),
		Body:       text + "\n" + JSONMarker + "\n" + asciiJSON(js),
		Attributes: attrs,
	}
}

// asciiJSON escapes every non-ASCII rune of the JSON text js as \uXXXX (a surrogate pair above
// U+FFFF). Outside strings JSON is ASCII, so the result is the same JSON value.
func asciiJSON(js string) string {
	var b strings.Builder
	for _, r := range js {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// Clean escapes control and bidi characters of s (values that come from CloudTrail) so that
// they cannot spoof lines in a terminal, a log or an error message.
func Clean(s string) string { return clean(s) }
