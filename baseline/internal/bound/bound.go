// Package bound keeps attacker-controlled text inside fixed sizes for the stores: a readable
// value cut to a maximum length, with a digest of the whole so that two long values that share
// their beginning still read differently.
package bound

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"unicode/utf8"
)

// Text returns s when it is at most max bytes long (max ≥ 64); otherwise a valid UTF-8 prefix of s
// followed by "…[N bytes, sha256 XXXXXXXXXXXXXXXX]", max bytes at most in all.
func Text(s string, max int) string {
	if len(s) <= max {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	tail := "…[" + strconv.Itoa(len(s)) + " bytes, sha256 " + hex.EncodeToString(sum[:8]) + "]"
	cut := max - len(tail)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + tail
}
