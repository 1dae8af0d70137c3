package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/internal/storetest"
)

// A truncated or overwritten store file gives an error naming the file and what to do — never a
// panic (bbolt panics on a truncated file, in a goroutine no recover reaches).
func TestOpenDamagedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sw.db")
	s, err := Open(path, testRetention)
	if err != nil {
		t.Fatal(err)
	}
	reads := storetest.Mix(20000, 1, []string{"a/r/s", "b/r/s"}, []string{"p1", "p2", "p3"}, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), 48)
	if _, err := s.Record(t.Context(), reads); err != nil {
		t.Fatal(err)
	}
	s.Close()
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := readMeta(full)
	if !ok {
		t.Fatal("cannot read the store's own header")
	}
	need := int(m.highPage) * int(m.pageSize)
	garbage := []byte(strings.Repeat("not a store ", 1000))
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"10 bytes", full[:10]},
		{"one page", full[:4096]},
		{"two pages and a bit", full[:8192+100]},
		{"half", full[:need/2]},
		{"one page short", full[:need-int(m.pageSize)]},
		{"one byte short", full[:need-1]},
		{"garbage", garbage},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".db")
			if err := os.WriteFile(p, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(p, testRetention)
			if err == nil {
				s.Close()
				t.Fatalf("Open of a damaged file (%d of %d bytes): no error", len(c.data), need)
			}
			msg := err.Error()
			if !errors.Is(err, ErrDamaged) || strings.Count(msg, p) != 1 || !strings.Contains(msg, "replay") {
				t.Errorf("Open: %q; want ErrDamaged, naming the file once and what to do", msg)
			}
		})
	}
	// The intact file still opens and keeps its counts.
	s, err = Open(path, testRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Record(t.Context(), reads[:10])
	if err != nil || rec.Fresh[0] {
		t.Errorf("intact store after the checks: %v, fresh %v", err, rec.Fresh)
	}
}

// A second process on the same store is told so, not "timeout".
func TestOpenInUse(t *testing.T) {
	old := lockWait
	lockWait = 100 * time.Millisecond
	t.Cleanup(func() { lockWait = old })
	path := filepath.Join(t.TempDir(), "sw.db")
	s, err := Open(path, testRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(path, testRetention) // its own open file: the flock conflicts as with another process
	want := fmt.Sprintf("store %s is in use by another secretwatch process", path)
	if err == nil || !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("second Open: %v; want %q (ErrInUse), no 'timeout'", err, want)
	}
}

// File system errors name the file once: no "open … open …".
func TestOpenFileSystemErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o500); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		is   error
	}{
		{filepath.Join(notDir, "sw.db"), nil},
		{dir, nil}, // a directory
	}
	if os.Geteuid() != 0 { // root ignores permissions
		cases = append(cases, struct {
			path string
			is   error
		}{filepath.Join(locked, "sw.db"), fs.ErrPermission})
	}
	for _, c := range cases {
		_, err := Open(c.path, testRetention)
		if err == nil {
			t.Errorf("Open(%s): no error", c.path)
			continue
		}
		msg := err.Error()
		if strings.Count(msg, c.path) != 1 || strings.Count(msg, "open") > 0 {
			t.Errorf("Open(%s) = %q; want the file named once, no 'open … open …'", c.path, msg)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("Open(%s) = %v; want it to wrap %v", c.path, err, c.is)
		}
	}
}
