// Package testenv is how a test says it cannot run here: a stand-in (dynalite, goaws, the
// Lambda runtime emulator), a tool (terraform) or an OS feature is missing. Every such test
// calls Unavailable instead of t.Skip, so one switch decides what a missing piece means:
// with SECRETWATCH_TEST_REQUIRE=1 (scripts/test.sh, make test sets it) the test FAILS, so the
// suite cannot pass by quietly skipping; without it (a bare go test ./...) the test skips and
// says what it needs.
package testenv

import (
	"os"
	"testing"
)

// RequireEnv is the environment variable that turns Unavailable from a skip into a failure.
const RequireEnv = "SECRETWATCH_TEST_REQUIRE"

// Required reports whether missing stand-ins and tools fail tests (RequireEnv is 1 or true).
func Required() bool {
	switch os.Getenv(RequireEnv) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// Unavailable ends the test because something it needs is missing, explained by the message:
// a failure under RequireEnv, a skip otherwise.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if Required() {
		tb.Fatalf("required but unavailable ("+RequireEnv+"=1): "+format, args...)
	}
	tb.Skipf(format, args...)
}
