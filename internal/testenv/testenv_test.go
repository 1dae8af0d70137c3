package testenv

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Under SECRETWATCH_TEST_REQUIRE=1 Unavailable fails; otherwise it skips. Checked in a child
// process, as a test cannot observe its own failure.
func TestUnavailable(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Unavailable(t, "no %s here", "dynalite")
		return
	}
	for _, tc := range []struct {
		require  string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP: TestUnavailable"},
		{"0", false, "--- SKIP: TestUnavailable"},
		{"1", true, "required but unavailable (SECRETWATCH_TEST_REQUIRE=1): no dynalite here"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailable$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", RequireEnv+"="+tc.require)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s=%q: failed %v, want %v; output:\n%s", RequireEnv, tc.require, failed, tc.wantFail, out)
		}
	}
}

// No test skips on its own: every skip for want of something goes through Unavailable, so that
// make test cannot pass by skipping (only "if testing.Short() {" may skip on the next line).
func TestNoDirectSkips(t *testing.T) {
	root := filepath.Join("..", "..")
	skip := regexp.MustCompile(`\b(t|tb|b)\.Skip(f|Now)?\(`)
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") || strings.HasPrefix(path, filepath.Join(root, "internal", "testenv")) {
			return nil
		}
		n++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			// A benchmark may skip under -short: a choice, not a missing piece.
			if skip.MatchString(line) && !(i > 0 && strings.Contains(lines[i-1], "testing.Short()")) {
				t.Errorf("%s:%d skips directly; call testenv.Unavailable: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil || n < 20 {
		t.Fatalf("walked %d test files: %v", n, err)
	}
}
