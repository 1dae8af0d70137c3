package cloudtrail

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readWithin reads paths (sequentially and with workers) and fails the test instead of hanging.
func readWithin(t *testing.T, paths []string, opts ...Option) []Item {
	t.Helper()
	done := make(chan []Item, 1)
	go func() { done <- collect(Read(t.Context(), paths, opts...)) }()
	select {
	case items := <-done:
		return items
	case <-time.After(20 * time.Second):
		t.Fatalf("Read(%v) hangs", paths)
		return nil
	}
}

// Special files are refused without being opened (a FIFO would hang the run); symbolic link loops
// and paths that cannot be read are reported; everything else is still read.
func TestReadSpecialAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", logFileOf("good"))
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	writeFile(t, tree, "a.json", logFileOf("a"))
	writeFile(t, tree, "z.json", logFileOf("z"))
	if err := syscall.Mkfifo(filepath.Join(tree, "m-fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(tree, "n-sock.json")
	if l, err := net.Listen("unix", sock); err == nil {
		defer l.Close()
	} else {
		t.Fatal(err)
	}
	// A loop of symbolic links, and a link to the FIFO, in the tree.
	for _, l := range [][2]string{{"loop-b.json", "loop-a.json"}, {"loop-a.json", "loop-b.json"}, {"m-fifo.json", "p-tofifo.json"}} {
		if err := os.Symlink(l[0], filepath.Join(tree, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	loop := filepath.Join(tree, "loop-a.json")
	notDir := filepath.Join(good, "x.json") // fails for root too: a file is not a directory

	paths := []string{fifo, good, "/dev/zero", loop, tree, notDir, "/dev/null"}
	type want struct {
		source, text string
	}
	wants := []want{
		{fifo, "named pipe (FIFO), not a regular file: refused, not opened"},
		{good, ""},
		{"/dev/zero", "character device"},
		{loop, "too many levels of symbolic links"},
		// a tree's problems come before its files
		{filepath.Join(tree, "loop-a.json"), "too many levels of symbolic links"},
		{filepath.Join(tree, "loop-b.json"), "too many levels of symbolic links"},
		{filepath.Join(tree, "m-fifo.json"), "named pipe"},
		{filepath.Join(tree, "n-sock.json"), "socket"},
		{filepath.Join(tree, "p-tofifo.json"), "named pipe"},
		{tree, ""}, // a.json
		{tree, ""}, // z.json
		{notDir, "not a directory"},
		{"/dev/null", "character device"},
	}
	for _, workers := range []int{1, 3} {
		items := readWithin(t, paths, WithWorkers(workers))
		var got []string
		for _, it := range items {
			got = append(got, it.Source+" "+kindOf(it.Err))
		}
		if len(items) != len(wants) {
			t.Fatalf("workers %d: %d items, want %d:\n%s", workers, len(items), len(wants), strings.Join(got, "\n"))
		}
		for i, w := range wants {
			it := items[i]
			if w.text == "" {
				if it.Err != nil || it.Record == nil || !strings.HasPrefix(it.Source, w.source) {
					t.Errorf("workers %d: item %d: %s %v, want a record from %s", workers, i, it.Source, it.Err, w.source)
				}
				continue
			}
			if it.Source != w.source || !errors.Is(it.Err, ErrUnreadable) || !strings.Contains(it.Err.Error(), w.text) {
				t.Errorf("workers %d: item %d: %s %v, want unreadable %s: …%s…", workers, i, it.Source, it.Err, w.source, w.text)
			}
		}
	}
	// A FIFO that becomes the file after it was listed is refused at open, not waited for.
	race := filepath.Join(dir, "race.json")
	if err := syscall.Mkfifo(race, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan []Item, 1)
	go func() {
		var items []Item
		readFile(race, readConfig{}, func(it Item) bool { items = append(items, it); return true })
		done <- items
	}()
	select {
	case items := <-done:
		if len(items) != 1 || !errors.Is(items[0].Err, ErrUnreadable) || !strings.Contains(items[0].Err.Error(), "named pipe") {
			t.Errorf("opening a FIFO: %s", summary(items))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("opening a FIFO hangs")
	}
}
