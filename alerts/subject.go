package alerts

import (
	"strconv"
	"strings"

	"github.com/secretwatch/secretwatch/detector"
)

// MaxSubjectLen is the longest subject [Subject] returns. SNS wants subjects "less than 100
// characters long", ASCII-safe and without line breaks or control characters; the email
// subscriber shows it as the mail's subject, so it is what a phone shows first.
const MaxSubjectLen = 99

// minPart is the fewest characters the secret or the principal is shortened to before the
// count suffix is dropped.
const minPart = 16

// Subject returns a one-line, printable-ASCII summary of a of at most [MaxSubjectLen]
// characters: "[CRITICAL] unexpected-principal: prod/db/password read by role/ci-deploy x42".
// Long secret names and principals are shortened in the middle ("prod/pay...stripe/api-key"),
// which keeps both the leading context and the trailing name; non-ASCII characters become '?'.
func Subject(a *detector.Alert) string {
	if a == nil {
		return "[ALERT] secretwatch"
	}
	prefix := "[" + strings.ToUpper(orDefault(asciiLine(a.Severity), "alert")) + "] " +
		orDefault(asciiLine(a.Rule), "alert") + ": "
	const by = readBy
	secret := orDefault(asciiLine(target(a)), "unknown secret")
	principal := orDefault(asciiLine(shortPrincipal(a)), "unknown principal")
	suffix := ""
	if a.Count > 1 {
		suffix = " x" + strconv.FormatInt(a.Count, 10)
	}

	budget := MaxSubjectLen - len(prefix) - len(by) - len(suffix)
	if budget < 2*minPart && len(secret)+len(principal) > budget {
		budget += len(suffix)
		suffix = ""
	}
	if len(secret)+len(principal) > budget {
		secretLen, principalLen := split(len(secret), len(principal), budget)
		secret = middle(secret, secretLen)
		principal = middle(principal, principalLen)
	}
	s := prefix + secret + by + principal + suffix
	if len(s) > MaxSubjectLen {
		s = s[:MaxSubjectLen] // only when severity and rule alone are absurdly long
	}
	return strings.TrimRight(s, " ")
}

// split shares budget between two strings of lengths x and y (x+y > budget): a short one keeps
// its length and the long one takes the rest; two long ones get half each.
func split(x, y, budget int) (int, int) {
	budget = max(budget, 0)
	half := budget / 2
	switch {
	case x <= half:
		return x, budget - x
	case y <= half:
		return budget - y, y
	default:
		return budget - half, half
	}
}
