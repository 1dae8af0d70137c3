package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/baseline/bolt"
)

// An unreadable input does not stop the run: the rest is processed, the alerts are raised, the
// input is listed, and the exit status is 3 (completed, incomplete).
func TestUnreadableInputsGoOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	allow := allowNone(t)
	good, err := os.ReadFile(stratus)
	if err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "logs")
	writeFile(t, tree, "a/good.json", string(good))
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(tree, "b-dangling.json")); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing\x1b[2Jname")
	for _, cmd := range [][]string{
		{"replay", "--store", ":memory:", "--config", allow, "--format", "json", missing, tree},
		{"learn", missing, tree},
	} {
		out, errOut, err := runCLI(t, cmd...)
		if ExitCode(err) != ExitIncomplete {
			t.Fatalf("%s: exit %d (%v), want %d\n%s", cmd[0], ExitCode(err), err, ExitIncomplete, errOut)
		}
		if cmd[0] == "replay" {
			if n := len(decodeAlerts(t, out)); n != stratusAlerts {
				t.Errorf("replay: %d alerts from the readable file, want %d", n, stratusAlerts)
			}
		} else if !strings.Contains(out, "stratus-red-team-retrieve-secret-18") {
			t.Errorf("learn: no proposal from the readable file:\n%s", out)
		}
		for _, want := range []string{`missing\x1b[2Jname`, "b-dangling.json"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr does not name %q:\n%s", cmd[0], want, errOut)
			}
		}
		if strings.Contains(errOut, "\x1b") {
			t.Errorf("%s: a raw control character reached stderr", cmd[0])
		}
	}
}

// A damaged store, one in use by another run, or a directory: a clear message naming the file
// and what to do, exit status 1 (never 2, never a stack trace).
func TestStoreProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	allow := allowNone(t)
	junk := writeFile(t, dir, "junk.db", strings.Repeat("not a bbolt file\n", 300))
	zero := writeFile(t, dir, "zero.db", string(make([]byte, 16<<10)))
	inUse := filepath.Join(dir, "in-use.db")
	held, err := bolt.Open(inUse, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, tc := range []struct {
		store string
		want  []string
	}{
		{junk, []string{"junk.db is damaged", "move it away"}},
		{zero, []string{"zero.db is damaged", "move it away"}},
		{inUse, []string{"in-use.db is in use by another secretwatch process", "--store"}},
		{dir, []string{"is a directory"}},
	} {
		_, _, err := runCLI(t, "replay", "--store", tc.store, "--config", allow, stratus)
		if ExitCode(err) != ExitFailed {
			t.Errorf("%s: exit %d (%v), want 1", filepath.Base(tc.store), ExitCode(err), err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", filepath.Base(tc.store), err, w)
			}
		}
	}
	// Permission (not testable as root): the mapping.
	perm := fmt.Errorf("baseline: open x: %w", &fs.PathError{Op: "open", Path: "x", Err: fs.ErrPermission})
	if err := storeError("x.db", perm); !strings.Contains(err.Error(), "permission denied: check the file") || strings.Count(err.Error(), "open") > 0 {
		t.Errorf("permission: %v", err)
	}
	if !errors.Is(storeError("x", &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}), fs.ErrNotExist) {
		t.Error("OS errors are not kept")
	}
}
