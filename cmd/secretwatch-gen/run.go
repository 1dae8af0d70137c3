package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/internal/scenario"
)

// config is the parsed command line.
type config struct {
	out   string
	truth string
	daily bool
	opt   scenario.Options
}

// parseArgs reads the flags and reports every problem at once.
func parseArgs(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("secretwatch-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: secretwatch-gen -out DIR [-days N] [-seed N] [-start YYYY-MM-DD] [-scale F | -target-bytes N] [-truth FILE] [-anomalies=false]")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.out, "out", "", "directory to write the CloudTrail tree into (`DIR`/AWSLogs/…); required")
	fs.StringVar(&c.truth, "truth", "", "write the ground truth JSON to `FILE` instead of stdout")
	days := fs.Int("days", scenario.DefaultDays, "days to simulate; anomalies go on the last one")
	seed := fs.Uint64("seed", 0, "seed of every random choice")
	start := fs.String("start", scenario.DefaultStart.Format(time.DateOnly), "first day (UTC)")
	scale := fs.Float64("scale", 0, "multiplier of the normal volume (default 1)")
	target := fs.String("target-bytes", "", "choose the scale for a tree of about `N` bytes on disk (suffixes K, M, G, KiB, MiB, GiB)")
	anomalies := fs.Bool("anomalies", true, "inject the last day's anomalies")
	fs.BoolVar(&c.daily, "daily", false, "write one log file per region and day instead of CloudTrail's 5-minute files (small examples)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var errs []error
	if c.out == "" {
		errs = append(errs, errors.New("-out is required"))
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	st, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		errs = append(errs, fmt.Errorf("-start %q: want YYYY-MM-DD", *start))
	}
	var tb int64
	if *target != "" {
		if tb, err = parseBytes(*target); err != nil {
			errs = append(errs, fmt.Errorf("-target-bytes: %w", err))
		}
	}
	if *scale != 0 && tb != 0 {
		errs = append(errs, errors.New("-scale and -target-bytes exclude each other"))
	}
	c.opt = scenario.Options{Days: *days, Seed: *seed, Start: st, Scale: *scale, TargetBytes: tb, InjectAnomalies: *anomalies}
	return c, errors.Join(errs...)
}

// parseBytes reads 1073741824, 1G, 1GB (powers of 1000) or 1GiB (powers of 1024).
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}}
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q: want a positive size such as 1073741824, 500M or 1GiB", s)
	}
	return int64(f * mult), nil
}

// run is the program: it writes the tree and the truth, and a one-line summary on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	dir := c.out
	if c.daily {
		tmp, err := os.MkdirTemp("", "secretwatch-gen-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "tree")
	}
	t, err := scenario.Generate(ctx, dir, c.opt)
	if err != nil {
		return err
	}
	if c.daily {
		if err := mergeDaily(ctx, dir, c.out); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("truth: %w", err)
	}
	b = append(b, '\n')
	if c.truth != "" {
		if err := os.WriteFile(c.truth, b, 0o644); err != nil {
			return fmt.Errorf("truth: %w", err)
		}
	} else if _, err := stdout.Write(b); err != nil {
		return fmt.Errorf("truth: %w", err)
	}
	fmt.Fprintf(stderr, "secretwatch-gen: %d records (%d duplicates) in %d files, %.1f MB on disk, scale %.3g, %d findings, %s\n",
		t.Counts.Records, t.Counts.Duplicates, t.Counts.Files, float64(t.Counts.Bytes)/1e6, t.Scale, len(t.Findings),
		time.Since(began).Round(time.Millisecond))
	return nil
}
