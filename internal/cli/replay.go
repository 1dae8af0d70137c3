package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/baseline/bolt"
	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// batchSize is how many records go to the detector (and the store) at once.
const batchSize = 4096

// maxProblems bounds the skipped-record positions the summary lists.
const maxProblems = 10

type replayFlags struct {
	config    string
	store     string
	format    string
	progress  string
	retention time.Duration
	window    time.Duration
	warmup    time.Duration
	spike     detector.SpikeConfig
	verbose   bool
	workers   int
}

func (e *env) replayFlagSet(name string, f *replayFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&f.config, "config", "", "allow-list YAML (default: ./allowlist.yaml if it exists)")
	fs.StringVar(&f.store, "store", "secretwatch.db", "baseline store file (bbolt); \":memory:\" keeps nothing")
	fs.StringVar(&f.format, "format", "text", "alert format on stdout: text or json (one object per line)")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (terminal and large input), always, never")
	fs.DurationVar(&f.retention, "retention", baseline.DefaultRetention, "baseline history kept")
	fs.DurationVar(&f.window, "window", time.Hour, "alert suppression window: identical alerts inside it become one")
	fs.DurationVar(&f.warmup, "warmup", 7*24*time.Hour, "history a secret needs before first-seen alerts")
	fs.Int64Var(&f.spike.MinCount, "spike-min-count", 20, "read-spike: minimum reads in the hour")
	fs.Float64Var(&f.spike.Sigmas, "spike-sigmas", 6, "read-spike: robust standard deviations above the median")
	fs.Float64Var(&f.spike.Ratio, "spike-ratio", 5, "read-spike: minimum multiple of the median")
	fs.IntVar(&f.spike.MinSamples, "spike-min-days", 3, "read-spike: prior same-kind days needed (warm-up)")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "log files decoded at once (output order is unchanged)")
	fs.BoolVar(&f.verbose, "v", false, "log skipped records (positions and reasons, never contents) to stderr")
	return fs
}

func (e *env) replay(ctx context.Context, args []string) error {
	var f replayFlags
	fs := e.replayFlagSet("replay", &f)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: secretwatch replay [flags] PATH...\n\nRuns the detector over CloudTrail logs; alerts on stdout, a summary on stderr.\n\nFlags:")
		fs.PrintDefaults()
	}
	if e.remote != nil {
		e.remote.Flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: replay needs at least one PATH", errUsage)
	}
	format, err := alerts.ParseFormat(f.format)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	al, err := loadAllowList(f.config)
	if err != nil {
		return err
	}
	files, err := cloudtrail.Files(fs.Args())
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	var remote Targets
	if e.remote != nil {
		if remote, err = e.remote.Open(ctx, f.retention, f.window); err != nil {
			return err
		}
		if remote.Close != nil {
			defer remote.Close()
		}
	}
	st := remote.Store
	closeStore := func() error { return nil }
	if st == nil {
		var local Store
		if local, closeStore, err = openStore(f.store, f.retention); err != nil {
			return err
		}
		defer closeStore()
		st = local
	}
	var notify detector.Notifier = alerts.NewTerminal(e.stdout, format)
	if remote.Notifier != nil {
		notify = notifiers{notify, remote.Notifier}
	}
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	d, err := detector.New(detector.Config{
		AllowList: al, Retention: f.retention, SuppressWindow: f.window, FirstSeenWarmup: f.warmup,
		Spike: f.spike, Logger: logger,
	}, st)
	if err != nil {
		return err
	}

	started := time.Now()
	prog := newProgress(e.stderr, f.progress, files)
	var (
		stats    detector.Stats
		agg      detector.Aggregator
		problems []string
		batch    = make([]*cloudtrail.Record, 0, batchSize)
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// A record the store refuses for good is a counted skip; it never fails its batch.
		res, failed, err := d.ProcessIsolated(ctx, batch)
		if err == nil && len(failed) > 0 {
			err = fmt.Errorf("%d records of a batch failed alone", len(failed))
		}
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		stats.Add(res.Stats)
		agg.Add(res.Alerts)
		batch = batch[:0]
		prog.update(stats.Records)
		return nil
	}
	for it := range cloudtrail.Read(ctx, files, cloudtrail.WithStdin(e.stdin), cloudtrail.WithWorkers(f.workers), cloudtrail.WithPrefilter(detector.MayHandle)) {
		prog.file(it.Source)
		if it.Filtered { // names no handled event source: not worth decoding
			stats.Records++
			stats.Skip(detector.SkipNotHandled)
			continue
		}
		if it.Err != nil && !(errors.Is(it.Err, cloudtrail.ErrIncomplete) && it.Record != nil) {
			if errors.Is(it.Err, cloudtrail.ErrUnreadable) || ctx.Err() != nil {
				prog.done()
				return fmt.Errorf("replay: %w", it.Err)
			}
			stats.Records++
			stats.Skip(skipReason(it.Err))
			if len(problems) < maxProblems {
				problems = append(problems, it.Err.Error())
			}
			logger.Warn("skipping malformed input", detector.LogSource, it.Source, "index", it.Index, "error", it.Err)
			continue
		}
		batch = append(batch, it.Record)
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				prog.done()
				return err
			}
		}
	}
	if err := flush(); err != nil {
		prog.done()
		return err
	}
	prog.done()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("replay: interrupted after %d records: %w", stats.Records, err)
	}
	delivered, err := detector.Deliver(ctx, agg.Alerts(), st, notify)
	stats.Alerts = delivered
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if remote.Metrics != nil {
		if err := remote.Metrics.RecordMetrics(ctx, stats, 0, time.Since(started)); err != nil {
			return fmt.Errorf("replay: metrics: %w", err)
		}
	}
	if err := closeStore(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	writeSummary(e.stderr, stats, len(files), time.Since(started), agg.Len(), problems)
	return nil
}

// skipReason classifies an input error for the summary.
func skipReason(err error) string {
	if errors.Is(err, cloudtrail.ErrNotRecord) {
		return detector.SkipUnknownEnvelope
	}
	return detector.SkipMalformed
}

// loadAllowList loads the allow-list; with no path, ./allowlist.yaml if it exists.
func loadAllowList(path string) (*detector.AllowList, error) {
	if path == "" {
		if _, err := os.Stat("allowlist.yaml"); err != nil {
			return nil, fmt.Errorf("%w: no allow-list: pass --config FILE (\"secretwatch learn\" proposes one from history)", errUsage)
		}
		path = "allowlist.yaml"
	}
	al, err := detector.LoadAllowList(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return al, nil
}

// openStore opens the local store; its close function may be called more than once.
func openStore(path string, retention time.Duration) (Store, func() error, error) {
	if path == ":memory:" {
		return baseline.NewMemoryStore(retention), func() error { return nil }, nil
	}
	st, err := bolt.Open(path, retention, bolt.BulkLoad())
	if err != nil {
		return nil, nil, err // names the file and what to do (bolt.ErrDamaged, bolt.ErrInUse)
	}
	return st, sync.OnceValue(st.Close), nil
}

func writeSummary(w io.Writer, s detector.Stats, files int, took time.Duration, distinct int, problems []string) {
	rate := float64(s.Records) / max(took.Seconds(), 1e-9)
	fmt.Fprintf(w, "\nsecretwatch replay: %d records from %d files in %s (%.0f records/s)\n", s.Records, files, took.Round(time.Millisecond), rate)
	fmt.Fprintf(w, "  Secrets Manager:       %d records\n", s.SecretsManager)
	fmt.Fprintf(w, "  handled events:        %d (Secrets Manager reads and changes, monitoring tampering)\n", s.Handled)
	fmt.Fprintf(w, "  secret reads:          %d new, %d denied, %d duplicates not counted again\n", s.Reads, s.Denied, s.Duplicates)
	fmt.Fprintf(w, "  unexpected reads:      %d\n", s.Unexpected)
	if s.UnknownIdentity > 0 {
		fmt.Fprintf(w, "  unknown identity type: %d (processed with a best-effort principal)\n", s.UnknownIdentity)
	}
	fmt.Fprintf(w, "  skipped:               %s\n", countsLine(s.Skipped))
	for _, p := range problems {
		fmt.Fprintf(w, "    %s\n", p)
	}
	var total int64
	for _, n := range s.Alerts {
		total += n
	}
	fmt.Fprintf(w, "  alerts:                %d", total)
	if total > 0 {
		fmt.Fprintf(w, " %s", countsLine(s.Alerts))
	}
	if already := int64(distinct) - total; already > 0 {
		fmt.Fprintf(w, "; %d more already delivered by an earlier run", already)
	}
	fmt.Fprintln(w)
}

func countsLine(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
