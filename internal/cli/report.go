package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/baseline/bolt"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/report"
)

// WithClock sets the clock commands use for "now" (tests); the default is time.Now.
func WithClock(now func() time.Time) Option { return func(e *env) { e.now = now } }

func (e *env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

const reportHelp = `Usage: NAME report [flags] [PATH...]

Who accessed which secret: per secret, each principal with its reads, denied attempts, first and
last seen, source IPs, VPC endpoints and user agents; principals new this period; allow-list
patterns no read matched (grants to remove); secrets with no reads (candidates to retire); the
alerts raised, by rule; and the change against the previous period of the same length.

It reads the store "NAME replay" writes. With PATHs, it first replays those CloudTrail logs
into the store (alerts are not printed; the replay summary goes to stderr) — with --store :memory:
into a temporary one — so one command reports on a pile of logs.

The period is whole UTC days: --from (inclusive) to --to (exclusive), each RFC 3339 or YYYY-MM-DD
(an instant inside a day starts the next one). Without --to it ends at the midnight after the
latest event in the store (or after now when the store is empty); without --from it is the
--since before its end.
`

// reportFlags are the report command's settings.
type reportFlags struct {
	since, from, to, secret, format, store, config, out string
}

func reportFlagSet(f *reportFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.StringVar(&f.since, "since", "7d", "period length ending at --to: days (7d), weeks (2w) or a Go duration (36h)")
	fs.StringVar(&f.from, "from", "", "period start, inclusive: RFC 3339 or YYYY-MM-DD (UTC)")
	fs.StringVar(&f.to, "to", "", "period end, exclusive: RFC 3339 or YYYY-MM-DD (default: see above)")
	fs.StringVar(&f.secret, "secret", "", "only the secrets whose name, account/region/name key or ARN matches this glob")
	fs.StringVar(&f.format, "format", "text", "text, markdown, html, csv or json")
	fs.StringVar(&f.store, "store", "secretwatch.db", "the store to report from (the bbolt file replay writes)")
	fs.StringVar(&f.config, "config", "", "allow-list YAML (default: ./allowlist.yaml if it exists; without one there are no\nallowed-but-unused patterns and no unread secrets)")
	fs.StringVar(&f.out, "o", "-", "write the report to this file (- for stdout)")
	return fs
}

func (e *env) report(ctx context.Context, args []string) error {
	var f reportFlags
	fs := reportFlagSet(&f)
	paths, err := e.parseCommand("report", fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	since, fromS, toS, secret, format, store, config, out := &f.since, &f.from, &f.to, &f.secret, &f.format, &f.store, &f.config, &f.out
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["since"] && set["from"] {
		return fmt.Errorf("%w: report: --since and --from both set the period's start; pass one", errUsage)
	}
	if !slices.Contains(report.Formats, *format) {
		return fmt.Errorf("%w: report: unknown --format %q (want %s)", errUsage, *format, strings.Join(report.Formats, ", "))
	}
	sinceD, err := parseSince(*since)
	if err != nil {
		return fmt.Errorf("%w: report: --since: %v", errUsage, err)
	}
	var from, to time.Time
	if *fromS != "" {
		if from, err = parseDay(*fromS); err != nil {
			return fmt.Errorf("%w: report: --from: %v", errUsage, err)
		}
	}
	if *toS != "" {
		if to, err = parseDay(*toS); err != nil {
			return fmt.Errorf("%w: report: --to: %v", errUsage, err)
		}
	}
	var al *detector.AllowList
	if *config != "" || fileExists("allowlist.yaml") {
		if al, err = loadAllowList(*config); err != nil {
			return err
		}
	}

	path := *store
	if len(paths) > 0 {
		if path == ":memory:" {
			dir, err := os.MkdirTemp("", "secretwatch-report-")
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			defer os.RemoveAll(dir)
			path = filepath.Join(dir, "store.db")
		}
		rargs := []string{"--store", path, "--progress", "never"}
		if *config != "" {
			rargs = append(rargs, "--config", *config)
		}
		sub := *e
		sub.stdout = io.Discard
		if err := sub.replay(ctx, append(append(rargs, "--"), paths...)); err != nil {
			return err
		}
	} else if path == ":memory:" {
		return fmt.Errorf("%w: report: --store :memory: keeps nothing: pass the log PATHs to report on", errUsage)
	}
	if !fileExists(path) {
		return fmt.Errorf("report: no store at %s: run \"%s replay --store %s …\" first, or pass the log PATHs", path, e.name, path)
	}
	st, err := bolt.Open(path, 0)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer st.Close()

	from, to, end, err := report.Period(ctx, st, sinceD, from, to, e.clock())
	if err != nil {
		return err
	}
	rep, err := report.Build(ctx, st, report.Options{From: from, To: to, PeriodEnd: end, AllowList: al, Secret: *secret, Generated: e.clock()})
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return writeOutput(*out, e.stdout, func(w io.Writer) error { return report.Write(w, rep, *format) })
}

// writeOutput runs write on stdout ("-") or on a new file, which is removed if writing fails.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}

// parseSince reads 7d, 2w or a Go duration.
func parseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	var d time.Duration
	if unit > 0 {
		n, err := strconv.Atoi(strings.TrimSpace(s[:len(s)-1]))
		if err != nil {
			return 0, fmt.Errorf("%q: want a number of days (7d), weeks (2w) or a duration (36h)", s)
		}
		if n <= 0 || n > int(report.MaxPeriod/unit) { // before multiplying: no overflow
			return 0, fmt.Errorf("%q: want more than 0 and at most %d days", s, report.MaxPeriod/(24*time.Hour))
		}
		d = time.Duration(n) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: want a number of days (7d), weeks (2w) or a duration (36h)", s)
		}
	}
	if d <= 0 || d > report.MaxPeriod {
		return 0, fmt.Errorf("%q: want more than 0 and at most %d days", s, report.MaxPeriod/(24*time.Hour))
	}
	return d, nil
}

// parseDay reads RFC 3339 or YYYY-MM-DD (midnight UTC).
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 (2026-03-09T00:00:00Z) or YYYY-MM-DD")
	}
	return t.UTC(), nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
