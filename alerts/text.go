package alerts

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// TextWidth is the column the human text wraps prose at. Identifiers (ARNs, user agents) are
// never broken, so a line holding a long one may be wider.
const TextWidth = 78

const (
	indent     = "  "
	labelWidth = 16 // indent + label column: values start in this column
	timeLayout = "2006-01-02 15:04:05 UTC"
	none       = "(none)"
	readBy     = " read by "
	unknown    = "(unknown)"
	// allPrincipals stands for the principal of a secret-wide alert.
	allPrincipals = "all principals"
	// MaxTextValue bounds one value (an ARN, a user agent, an event ID) in the human text, in
	// bytes before escaping; longer values are cut with a marker.
	MaxTextValue = 1024
	// maxProse bounds the reason and the next step.
	maxProse = 8 << 10
)

// bounded is s cut to max bytes, then escaped: what the human text shows of a CloudTrail value.
// boundedRaw is s cut to max bytes with a marker, not escaped.
func boundedRaw(s string, max int) string {
	if len(s) > max {
		return truncateUTF8(s, max-len(clipMarker)) + clipMarker
	}
	return s
}

// Invalid bytes stay visible as \xff escapes.
func bounded(s string, max int) string {
	return clean(boundedRaw(s, max))
}

// errNilAlert is returned by every function of the package that is handed a nil alert.
var errNilAlert = errors.New("nil alert")

// Text writes the human form of a to w: what the on-call engineer reads in a terminal, an email
// or on a phone. It is plain text, deterministic (times in UTC, lists in the order the alert
// holds them), and wraps prose at [TextWidth] columns. Values that come from CloudTrail are
// shown with control and bidirectional-formatting characters escaped (\x1b, \u202e), so a
// crafted user agent or session name cannot move the cursor or disguise itself.
func Text(w io.Writer, a *detector.Alert) error {
	if a == nil {
		return fmt.Errorf("alerts: text: %w", errNilAlert)
	}
	if _, err := io.WriteString(w, Render(a)); err != nil {
		return fmt.Errorf("alerts: text %s: %w", clean(a.Key()), err)
	}
	return nil
}

// Render returns the human form of a (see [Text]); "" for a nil alert.
func Render(a *detector.Alert) string {
	if a == nil {
		return ""
	}
	var b strings.Builder
	head := Headline(a)
	if runeLen(head) > TextWidth {
		if i := strings.Index(head, verb(a)); i > 0 {
			head = head[:i] + "\n" + indent + head[i+1:]
		}
	}
	b.WriteString(head)
	b.WriteString("\n")

	section(&b, "Who")
	if a.Principal == "" && a.Secret != "" {
		field(&b, "principal", "("+allPrincipals+": the secret as a whole; top readers under Why)")
	} else {
		field(&b, "principal", orDefault(a.Principal, unknown))
		field(&b, "type", orDefault(a.PrincipalType, unknown))
		field(&b, "session", orDefault(a.Session, none))
		if a.Workload != "" {
			field(&b, "workload", a.Workload)
		}
	}

	section(&b, "What")
	if a.Resource != "" {
		field(&b, "resource", a.Resource)
	}
	field(&b, "secret", orDefault(secretName(a), none))
	field(&b, "ARN", orDefault(a.SecretARN, "(not in the events)"))
	field(&b, "account", orDefault(a.Account, unknown))
	field(&b, "region", orDefault(a.Region, unknown))

	section(&b, "When (UTC)")
	field(&b, "first seen", formatTime(a.FirstSeen))
	last := formatTime(a.LastSeen)
	if !a.FirstSeen.IsZero() && a.LastSeen.After(a.FirstSeen) {
		last += " (+" + a.LastSeen.Sub(a.FirstSeen).String() + ")"
	}
	field(&b, "last seen", last)
	field(&b, "count", formatCount(a.Count)+" "+plural(a.Count, "event", "events"))
	if !a.Window.IsZero() {
		field(&b, "window", "from "+formatTime(a.Window)+" (repeats are counted, not paged)")
	}

	section(&b, "From where")
	field(&b, "source IPs", a.SourceIPs...)
	field(&b, "user agents", a.UserAgents...)
	field(&b, "VPC endpoints", a.VPCEndpointIDs...)

	section(&b, "Why")
	prose(&b, a.Reason)

	section(&b, "Next step")
	prose(&b, a.NextStep)

	switch n := int64(len(a.EventIDs)); {
	case n == 0:
		section(&b, "CloudTrail event IDs")
		b.WriteString(indent + none + "\n")
	case n < a.Count:
		section(&b, "CloudTrail event IDs (first "+formatCount(n)+" of "+formatCount(a.Count)+")")
	default:
		section(&b, "CloudTrail event IDs")
	}
	for _, id := range a.EventIDs {
		b.WriteString(indent + bounded(id, MaxTextValue) + "\n")
	}
	return b.String()
}

// Headline is the first line of the human text: severity, rule, secret, principal and, for a
// merged alert, how many events it stands for. Unlike [Subject] it is not shortened; [Render]
// breaks it before "read by" when it is wider than [TextWidth].
func Headline(a *detector.Alert) string {
	if a == nil {
		return ""
	}
	h := "[" + strings.ToUpper(bounded(orDefault(a.Severity, "alert"), 64)) + "] " +
		bounded(orDefault(a.Rule, "alert"), 128) + ": " +
		bounded(orDefault(target(a), unknown), MaxTextValue) + verb(a) +
		bounded(orDefault(shortPrincipal(a), unknown), MaxTextValue)
	if a.Count > 1 {
		h += ", " + formatCount(a.Count) + " times"
	}
	return h
}

func section(b *strings.Builder, title string) {
	b.WriteString("\n")
	b.WriteString(title)
	b.WriteString("\n")
}

// field writes "  label       value", one value per line with the later ones aligned under the
// first; "(none)" when there is none.
func field(b *strings.Builder, label string, values ...string) {
	head := indent + label
	if len(head) < labelWidth {
		head += strings.Repeat(" ", labelWidth-len(head))
	} else {
		head += " "
	}
	pad := strings.Repeat(" ", len(head))
	if len(values) == 0 {
		values = []string{none}
	}
	for i, v := range values {
		if i == 0 {
			b.WriteString(head)
		} else {
			b.WriteString(pad)
		}
		b.WriteString(bounded(v, MaxTextValue))
		b.WriteString("\n")
	}
}

// prose writes s indented and wrapped at word boundaries; words (and numbers) are never split.
// Line breaks in s are escaped like every control character (\x0a): a reason quotes CloudTrail
// values (secret ids, principals), and a newline in one must not start a line of its own.
func prose(b *strings.Builder, s string) {
	if strings.TrimSpace(s) == "" {
		b.WriteString(indent + none + "\n")
		return
	}
	for _, line := range wrap(boundedRaw(s, maxProse), TextWidth-len(indent)) {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + line + "\n")
	}
}

// wrap splits s, escaped, into lines of at most width runes, breaking at spaces only.
func wrap(s string, width int) []string {
	var lines []string
	para := clean(strings.Trim(s, " \t\r\n"))
	for longer(para, width) {
		cut := breakAt(para, width)
		if cut <= 0 {
			break // one word longer than the line: keep it whole
		}
		lines = append(lines, strings.TrimRight(para[:cut], " "))
		para = strings.TrimLeft(para[cut:], " ")
	}
	return append(lines, para)
}

// breakAt returns the byte index of the last space within the first width+1 runes of s (so
// the line before it is at most width runes), or of the first space at all when a word is
// longer than width; 0 when s has no space to break at.
func breakAt(s string, width int) int {
	last, n := 0, 0
	for i, r := range s {
		if n > width {
			break
		}
		if r == ' ' && i > 0 {
			last = i
		}
		n++
	}
	if last > 0 {
		return last
	}
	if i := strings.IndexByte(s, ' '); i > 0 {
		return i
	}
	return 0
}

// longer reports whether s has more than width runes, looking at no more than width+1 of them.
func longer(s string, width int) bool {
	n := 0
	for range s {
		if n++; n > width {
			return true
		}
	}
	return false
}

func runeLen(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return unknown
	}
	return t.UTC().Format(timeLayout)
}

// formatCount writes n with thousands separators (10,000).
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// secretName is the secret's name: SecretName, else the name part of the canonical key
// (account/region/name), else the name in the ARN (without the random suffix), else the ARN.
// verb joins target and principal in a headline: " read by " for a read, " by " for a call
// that acted on a resource (a trail stopped, a policy changed).
func verb(a *detector.Alert) string {
	if a.Resource != "" {
		return " by "
	}
	return readBy
}

// target is what an alert is about, for headlines and tables: the secret, or for an alert about
// something else (a trail, an EventBridge rule, a ListSecrets call) its resource.
func target(a *detector.Alert) string {
	if n := secretName(a); n != "" {
		return n
	}
	return a.Resource
}

func secretName(a *detector.Alert) string {
	if a.SecretName != "" {
		return a.SecretName
	}
	if parts := strings.SplitN(a.Secret, "/", 3); len(parts) == 3 && parts[2] != "" {
		return parts[2]
	}
	if a.Secret != "" {
		return a.Secret
	}
	parts := strings.SplitN(a.SecretARN, ":", 7)
	if len(parts) == 7 && parts[0] == "arn" && parts[5] == "secret" && parts[6] != "" {
		name := parts[6]
		// Secrets Manager appends "-" and six random characters to the name in the ARN.
		if i := len(name) - 7; i > 0 && name[i] == '-' && isAlnum(name[i+1:]) {
			name = name[:i]
		}
		return name
	}
	return a.SecretARN
}

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// shortPrincipal is the principal as people say it: the resource part of its ARN
// ("role/ci-deploy"), prefixed with the principal's account when that is not the secret's
// account (a cross-account read is worth seeing at a glance). Anything that is not an ARN is
// returned as it is.
func shortPrincipal(a *detector.Alert) string {
	p := a.Principal
	if p == "" && a.Secret != "" {
		return allPrincipals // a secret-wide alert (read-spike of the whole secret)
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[5] == "" {
		return p
	}
	if parts[4] != "" && a.Account != "" && parts[4] != a.Account {
		return parts[4] + ":" + parts[5]
	}
	return parts[5]
}
