package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/internal/scenario"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		truthFile bool
	}{
		{"truth on stdout", false},
		{"truth in a file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"-out", filepath.Join(dir, "tree"), "-days", "2", "-seed", "9", "-scale", "0.05"}
			truthPath := filepath.Join(dir, "truth.json")
			if tt.truthFile {
				args = append(args, "-truth", truthPath)
			}
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), args, &stdout, &stderr); err != nil {
				t.Fatalf("run: %v (stderr %s)", err, stderr.String())
			}
			out := stdout.Bytes()
			if tt.truthFile {
				if stdout.Len() != 0 {
					t.Errorf("stdout not empty with -truth: %q", stdout.String())
				}
				var err error
				if out, err = os.ReadFile(truthPath); err != nil {
					t.Fatal(err)
				}
			}
			var tr scenario.Truth
			if err := json.Unmarshal(out, &tr); err != nil {
				t.Fatalf("truth is not JSON: %v", err)
			}
			if tr.Days != 2 || tr.Seed != 9 || len(tr.Findings) == 0 || tr.Counts.Files == 0 {
				t.Errorf("truth %+v", tr)
			}
			var files int64
			filepath.WalkDir(filepath.Join(dir, "tree"), func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files++
				}
				return err
			})
			if files != tr.Counts.Files {
				t.Errorf("%d files written, truth says %d", files, tr.Counts.Files)
			}
			if !strings.Contains(stderr.String(), "records") {
				t.Errorf("no summary on stderr: %q", stderr.String())
			}
		})
	}
}

func TestParseArgsReportsEveryProblem(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseArgs([]string{"-start", "March", "-scale", "2", "-target-bytes", "1G", "extra"}, &stderr)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"-out is required", "-start", "exclude each other", "unexpected arguments"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := parseArgs([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1073741824", 1 << 30, true},
		{"1GiB", 1 << 30, true},
		{"1G", 1e9, true},
		{"1GB", 1e9, true},
		{"500M", 5e8, true},
		{"1.5MiB", 3 << 19, true},
		{"64K", 64e3, true},
		{"0", 0, false},
		{"-1G", 0, false},
		{"lots", 0, false},
	}
	for _, tt := range tests {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
