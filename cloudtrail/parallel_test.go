package cloudtrail

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func itemLine(it Item) string {
	id := ""
	if it.Record != nil {
		id = it.Record.EventID
	}
	e := ""
	if it.Err != nil {
		e = it.Err.Error()
	}
	return fmt.Sprintf("%s|%d|%d|%s|%s|%d", it.Source, it.Index, it.Line, id, e, len(it.Raw))
}

// WithWorkers yields exactly what a sequential Read yields, in the same order — good files, bad
// files, unreadable paths and all.
func TestReadWithWorkersSameOrder(t *testing.T) {
	paths := []string{filepath.Join("..", "testdata", "cloudtrail"), filepath.Join("..", "testdata", "example"), "no/such/path"}
	var want []string
	for it := range Read(t.Context(), paths) {
		want = append(want, itemLine(it))
	}
	if len(want) < 1000 {
		t.Fatalf("only %d items: the test needs a real tree", len(want))
	}
	for _, n := range []int{2, 3, 8} {
		var got []string
		for it := range Read(t.Context(), paths, WithWorkers(n)) {
			got = append(got, itemLine(it))
		}
		if len(got) != len(want) {
			t.Fatalf("workers %d: %d items, want %d", n, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("workers %d: item %d = %s, want %s", n, i, got[i], want[i])
			}
		}
	}
}

// Stopping early or cancelling leaves no goroutine behind.
func TestReadWithWorkersStops(t *testing.T) {
	tree := filepath.Join("..", "testdata", "example")
	before := runtime.NumGoroutine()
	n := 0
	for range Read(t.Context(), []string{tree}, WithWorkers(4)) {
		if n++; n == 10 {
			break
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var last Item
	m := 0
	for it := range Read(ctx, []string{tree}, WithWorkers(4)) {
		if m++; m == 5 {
			cancel()
		}
		last = it
	}
	if last.Err == nil || ctx.Err() == nil {
		t.Errorf("cancelled read ended with %v", last.Err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left behind (%d before)", g-before, before)
	}
}

// WithPrefilter skips exactly the elements its test rejects, keeps positions, and changes
// nothing for the rest — alone and with workers.
func TestReadWithPrefilter(t *testing.T) {
	paths := []string{filepath.Join("..", "testdata", "cloudtrail"), filepath.Join("..", "testdata", "example")}
	keep := func(raw []byte) bool { return bytes.Contains(raw, []byte(`"secretsmanager.amazonaws.com"`)) }
	type want struct {
		line string
		kept bool // the unfiltered item's raw JSON passes keep (or it is not a plain record)
	}
	var wants []want
	for it := range Read(t.Context(), paths) {
		wants = append(wants, want{itemLine(it), it.Raw == nil || keep(it.Raw)})
	}
	for _, opts := range [][]Option{{WithPrefilter(keep)}, {WithPrefilter(keep), WithWorkers(3)}} {
		var got []Item
		for it := range Read(t.Context(), paths, opts...) {
			got = append(got, it)
		}
		if len(got) != len(wants) {
			t.Fatalf("%d items with the prefilter, %d without", len(got), len(wants))
		}
		filtered := 0
		for i, it := range got {
			if it.Filtered {
				filtered++
				if it.Record != nil || it.Err != nil || it.Raw != nil {
					t.Fatalf("filtered item carries content: %+v", it)
				}
				if wants[i].kept {
					t.Fatalf("item %d filtered, but its JSON passes the test: %s", i, wants[i].line)
				}
				continue
			}
			if itemLine(it) != wants[i].line {
				t.Fatalf("item %d = %s, want %s", i, itemLine(it), wants[i].line)
			}
		}
		if filtered == 0 {
			t.Fatal("nothing was filtered")
		}
		t.Logf("%d of %d items filtered", filtered, len(wants))
	}
}
