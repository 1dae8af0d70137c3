// Package browsertest loads a page in a real browser for tests: headless Chromium (Debian's
// chromium package; .ci/standins.sh standins_install_chromium installs it and exports
// SECRETWATCH_TEST_CHROMIUM). Tests skip when the variable is unset.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Env names the Chromium binary.
const Env = "SECRETWATCH_TEST_CHROMIUM"

// Chromium returns the browser's path, or skips the test.
func Chromium(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		t.Skip(Env + " is not set (source .ci/standins.sh && standins_install_chromium)")
	}
	return bin
}

// consoleLine is how Chromium logs a page's console message or uncaught exception to stderr
// with --enable-logging=stderr (any level: a clean page logs nothing at all).
var consoleLine = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

// run starts a fresh browser (new empty profile, no network services) on the file with extra
// flags, and fails the test on any console message, uncaught error or browser failure.
func run(t testing.TB, bin, file string, extra ...string) []byte {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-extensions", "--user-data-dir=" + t.TempDir(),
		"--enable-logging=stderr", "--v=0",
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+abs)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	if msgs := consoleLine.FindAllString(stderr.String(), -1); len(msgs) > 0 {
		t.Errorf("the page logged to the console (errors, CSP violations or messages):\n%s", strings.Join(msgs, "\n"))
	}
	return stdout.Bytes()
}

// DOM loads the file and returns the DOM after its scripts ran (--dump-dom). The test fails on
// any console message.
func DOM(t testing.TB, file string) string {
	t.Helper()
	return string(run(t, Chromium(t), file, "--dump-dom"))
}

// Screenshot loads the file in a width×height window and writes a PNG of it to png.
func Screenshot(t testing.TB, file, png string, width, height int) {
	t.Helper()
	run(t, Chromium(t), file, "--hide-scrollbars", "--window-size="+itoa(width)+","+itoa(height), "--screenshot="+png)
	if fi, err := os.Stat(png); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", png, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
