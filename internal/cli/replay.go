package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	berrors "go.etcd.io/bbolt/errors"

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
	span      timeSpan
	s3        s3Flags
}

const replayHelp = `Usage: NAME replay [flags] PATH...

Runs the detector over CloudTrail logs. Text output starts with a summary table of the alerts,
most severe first, then each alert in full; --format json writes one object per line instead.
A summary (records, skips, alerts by severity, the store) goes to stderr.

Unreadable inputs are listed and skipped; the rest is processed and the exit status is 3.
No record read at all is exit status 1. A store is used by one run at a time.
`

func (e *env) replayFlagSet(f *replayFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.StringVar(&f.config, "config", "", "allow-list YAML `FILE` (default: ./allowlist.yaml if it exists)")
	fs.StringVar(&f.store, "store", "secretwatch.db", "baseline store `FILE` (bbolt); \":memory:\" keeps nothing")
	fs.StringVar(&f.format, "format", "text", "alert `FORMAT` on stdout: text or json (one object per line)")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr, `MODE`: auto (terminal and large input), always, never")
	fs.Var(&f.span.from, "from", "only events at or after `TIME` (RFC 3339, or a date: its start, UTC)")
	fs.Var(&f.span.to, "to", "only events before `TIME` (RFC 3339, or a date: that whole day is included)")
	fs.DurationVar(&f.retention, "retention", baseline.DefaultRetention, "baseline history kept")
	fs.DurationVar(&f.window, "window", time.Hour, "alert suppression window: identical alerts inside it become one")
	fs.DurationVar(&f.warmup, "warmup", 7*24*time.Hour, "history a secret needs before first-seen alerts")
	fs.Int64Var(&f.spike.MinCount, "spike-min-count", 20, "read-spike: minimum reads in the hour")
	fs.Float64Var(&f.spike.Sigmas, "spike-sigmas", 6, "read-spike: robust standard deviations above the median")
	fs.Float64Var(&f.spike.Ratio, "spike-ratio", 5, "read-spike: minimum multiple of the median")
	fs.IntVar(&f.spike.MinSamples, "spike-min-days", 3, "read-spike: prior same-kind days needed (warm-up)")
	fs.IntVar(&f.workers, "workers", 0, "log files decoded at once (0: one per CPU; output order is unchanged)")
	f.s3.register(fs)
	fs.BoolVar(&f.verbose, "v", false, "log skipped records (positions and reasons, never contents) to stderr")
	if e.remote != nil {
		e.remote.Flags(fs)
	}
	return fs
}

func (e *env) replay(ctx context.Context, args []string) error {
	var f replayFlags
	fs := e.replayFlagSet(&f)
	paths, err := e.parseCommand("replay", fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: replay needs at least one PATH (run \"%s replay -h\" for help)", errUsage, e.name)
	}
	format, err := alerts.ParseFormat(f.format)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := f.span.check(); err != nil {
		return err
	}
	al, err := loadAllowList(f.config)
	if err != nil {
		return err
	}
	// What check-config warns about (allow: ['*'], expired suppressions, …) is repeated here: a
	// replay is where an over-broad entry silently hides reads.
	for _, w := range al.Warnings() {
		fmt.Fprintln(e.stderr, alerts.Clip(alerts.Escape(w), 1000))
	}
	var remote Targets
	if e.remote != nil {
		if remote, err = e.remote.Open(ctx, f.retention, f.window); err != nil {
			return err
		}
	}
	st := remote.Store
	storeName := "the remote store"
	closeStore := func() error { return nil }
	if st == nil {
		var local Store
		if local, closeStore, err = openStore(f.store, f.retention); err != nil {
			return err
		}
		defer closeStore()
		st = local
		storeName = f.store
		if f.store == ":memory:" {
			storeName = ":memory: (nothing kept)"
		}
	} else if rn, ok := e.remote.(interface{ StoreName() string }); ok {
		storeName = rn.StoreName()
	}
	in, err := openInputs(ctx, paths, f.s3, f.span, checkpointPath(f.store, remote.Store != nil))
	if err != nil {
		return err
	}
	defer in.close()
	files, unreadable := in.names, in.unreadable
	out := newAlertWriter(e.stdout, format)
	var notify detector.Notifier = out
	if remote.Notifier != nil {
		notify = notifiers{out, remote.Notifier}
	}
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = newLogger(e.stderr)
	}
	d, err := detector.New(detector.Config{
		AllowList: al, Retention: f.retention, SuppressWindow: f.window, FirstSeenWarmup: f.warmup,
		Spike: f.spike, Logger: logger,
	}, st)
	if err != nil {
		return err
	}

	started := time.Now()
	prog := in.progress(e.stderr, f.progress)
	var (
		stats      detector.Stats
		agg        detector.Aggregator
		problems   []string
		outOfRange int64
		batch      = make([]*cloudtrail.Record, 0, batchSize)
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
		return in.committed()
	}
	for it := range in.read(ctx, append(readFilters(f.span), cloudtrail.WithStdin(e.stdin), cloudtrail.WithWorkers(workers(f.workers)))...) {
		prog.file(it.Source)
		if ctx.Err() != nil {
			break
		}
		in.seen(it)
		if it.Filtered { // names no handled event source: not worth decoding
			stats.Records++
			stats.Skip(detector.SkipNotHandled)
			continue
		}
		if it.Err != nil && !(errors.Is(it.Err, cloudtrail.ErrIncomplete) && it.Record != nil) {
			if errors.Is(it.Err, cloudtrail.ErrUnreadable) {
				unreadable = append(unreadable, it.Err)
				logger.Warn("skipping unreadable input", detector.LogSource, it.Source, "error", it.Err)
				continue
			}
			stats.Records++
			stats.Skip(skipReason(it.Err))
			if len(problems) < maxProblems {
				problems = append(problems, it.Err.Error())
			}
			logger.Warn("skipping malformed input", detector.LogSource, it.Source, "index", it.Index, "error", it.Err)
			continue
		}
		if !f.span.contains(it.Record.EventTime.Time) {
			outOfRange++
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
	if err := ctx.Err(); err != nil {
		prog.done()
		return fmt.Errorf("replay: interrupted after %d records: %w", stats.Records, err)
	}
	if err := flush(); err != nil {
		prog.done()
		return err
	}
	if err := in.finished(); err != nil {
		prog.done()
		return err
	}
	prog.done()
	delivered, err := detector.Deliver(ctx, agg.Alerts(), st, notify)
	stats.Alerts = delivered
	if werr := out.Flush(); err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if remote.Metrics != nil {
		if err := remote.Metrics.RecordMetrics(ctx, stats, 0, time.Since(started)); err != nil {
			return fmt.Errorf("replay: metrics: %w", err)
		}
	}
	if err := closeStore(); err != nil {
		return fmt.Errorf("replay: store %s: %w", alerts.Escape(storeName), err)
	}
	writeSummary(e.stderr, summary{
		stats: stats, files: len(files), took: time.Since(started), distinct: agg.Len(),
		problems: problems, unreadable: unreadable, outOfRange: outOfRange, span: f.span,
		severities: out.Severities(), store: storeName,
	})
	in.note(e.stderr)
	if in.skipped > 0 && stats.Records+outOfRange == 0 && len(unreadable) == 0 {
		return nil // every object was replayed before: nothing new
	}
	return runOutcome("replay", stats.Records+outOfRange, paths, unreadable)
}

// runOutcome is a run's error from what it read: nothing read fails it (exit 1), unreadable
// inputs make it incomplete (exit 3).
func runOutcome(cmd string, records int64, paths []string, unreadable []error) error {
	if records == 0 {
		return fmt.Errorf("%s: no CloudTrail record read from %s: nothing was checked (is it the right path? CloudTrail logs are *.json.gz under AWSLogs/)", cmd, alerts.Escape(joinPaths(paths)))
	}
	if len(unreadable) > 0 {
		return fmt.Errorf("%s: %w: %d %s could not be read (listed above); the rest was processed", cmd, errIncomplete, len(unreadable), plural(len(unreadable), "input", "inputs"))
	}
	return nil
}

// listFiles expands the paths; what could not be listed is returned apart, to be reported.
func listFiles(paths []string) ([]string, []error) {
	files, err := cloudtrail.Files(paths)
	if err == nil {
		return files, nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return files, j.Unwrap()
	}
	return files, []error{err}
}

func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// skipReason classifies an input error for the summary.
func skipReason(err error) string {
	switch {
	case errors.Is(err, cloudtrail.ErrNotRecord):
		return detector.SkipUnknownEnvelope
	case errors.Is(err, cloudtrail.ErrOversize):
		return "oversize" // over cloudtrail.MaxRecordBytes or MaxStringBytes: skipped unread
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

// openStore opens the local store; its close function may be called more than once. A store
// that cannot be opened gets a message that names the file and says what to do.
func openStore(path string, retention time.Duration) (st Store, closeFn func() error, err error) {
	if path == ":memory:" {
		return baseline.NewMemoryStore(retention), func() error { return nil }, nil
	}
	defer func() {
		// A damaged file must never end in a stack trace.
		if r := recover(); r != nil {
			st, closeFn, err = nil, nil, storeError(path, fmt.Errorf("%w: %v", errDamaged, r))
		}
	}()
	bs, err := bolt.Open(path, retention, bolt.BulkLoad())
	if err != nil {
		return nil, nil, storeError(path, err)
	}
	return bs, sync.OnceValue(bs.Close), nil
}

// errDamaged marks a store file that is not a readable bbolt database.
var errDamaged = errors.New("damaged")

// storeError explains a store that could not be opened to the person at the terminal: which
// file, what is wrong, what to do (the wording of the store package's own errors, which pass
// through unchanged when they already say it).
func storeError(path string, err error) error {
	name := alerts.Escape(path)
	switch {
	case errors.Is(err, bolt.ErrInUse), errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("store %s is in use by another secretwatch process: wait for it to finish, or pass another --store", name)
	case errors.Is(err, bolt.ErrNotFile):
		return fmt.Errorf("%s: pass a file path to --store", alerts.Escape(err.Error()))
	case errors.Is(err, bolt.ErrDamaged):
		return fmt.Errorf("store %s is damaged or not a secretwatch store; it only caches what the logs say: move it away (or delete it) and replay the logs again to rebuild it", name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("store %s: permission denied: check the file's and its directory's permissions, or pass another --store", name)
	case errors.Is(err, errDamaged), errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), strings.Contains(err.Error(), "file size too small"):
		return fmt.Errorf("store %s is damaged (%s); it only caches what the logs say: move it away (or delete it) and replay the logs again to rebuild it", name, alerts.Clip(alerts.Escape(err.Error()), 300))
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// The operating system's error (a directory, a missing directory, a full disk).
		return fmt.Errorf("store %s: %s %s: %w", name, pe.Op, alerts.Escape(pe.Path), pe.Err)
	}
	return err
}

type summary struct {
	stats      detector.Stats
	files      int
	took       time.Duration
	distinct   int
	problems   []string
	unreadable []error
	outOfRange int64
	span       timeSpan
	severities map[string]int64
	store      string
}

// otherEvents is how the summary names records of events the detector does not act on.
const otherEvents = "other events:          %d (other services' events and Secrets Manager calls that are not reads or changes: not checked)\n"

func writeSummary(w io.Writer, s summary) {
	st := s.stats
	rate := float64(st.Records) / max(s.took.Seconds(), 1e-9)
	fmt.Fprintf(w, "\nsecretwatch replay: %d records from %d files in %s (%.0f records/s)\n", st.Records, s.files, s.took.Round(time.Millisecond), rate)
	fmt.Fprintf(w, "  Secrets Manager:       %d records\n", st.SecretsManager)
	fmt.Fprintf(w, "  handled events:        %d (Secrets Manager reads and changes, monitoring tampering)\n", st.Handled)
	fmt.Fprintf(w, "  secret reads:          %d new, %d denied, %d duplicates not counted again\n", st.Reads, st.Denied, st.Duplicates)
	fmt.Fprintf(w, "  unexpected reads:      %d\n", st.Unexpected)
	if st.UnknownIdentity > 0 {
		fmt.Fprintf(w, "  unknown identity type: %d (processed with a best-effort principal)\n", st.UnknownIdentity)
	}
	skipped := maps.Clone(st.Skipped)
	fmt.Fprintf(w, "  "+otherEvents, skipped[detector.SkipNotHandled])
	delete(skipped, detector.SkipNotHandled)
	if s.outOfRange > 0 {
		fmt.Fprintf(w, "  outside %s: %d records (not checked)\n", s.span, s.outOfRange)
	}
	fmt.Fprintf(w, "  skipped:               %s\n", countsLine(skipped))
	for _, p := range s.problems {
		fmt.Fprintf(w, "    %s\n", alerts.Clip(alerts.Escape(p), 500))
	}
	if len(s.unreadable) > 0 {
		fmt.Fprintf(w, "  unreadable inputs:     %d (skipped)\n", len(s.unreadable))
		for i, err := range s.unreadable {
			if i == maxProblems {
				fmt.Fprintf(w, "    and %d more\n", len(s.unreadable)-maxProblems)
				break
			}
			fmt.Fprintf(w, "    %s\n", alerts.Clip(alerts.Escape(err.Error()), 500))
		}
	}
	var total int64
	for _, n := range st.Alerts {
		total += n
	}
	fmt.Fprintf(w, "  alerts:                %d", total)
	if total > 0 {
		fmt.Fprintf(w, " (%s; %s)", severityLine(s.severities), strings.Trim(countsLine(st.Alerts), "()"))
	}
	if already := int64(s.distinct) - total; already > 0 {
		fmt.Fprintf(w, "; %d more already delivered by an earlier run", already)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  store:                 %s\n", alerts.Escape(s.store))
}

// severityLine is "critical 1, high 3" (most severe first).
func severityLine(m map[string]int64) string {
	var parts []string
	for _, sev := range alerts.Severities {
		if n := m[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", sev, n))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(alerts.Severities, k) && m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", alerts.Escape(k), m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func countsLine(m map[string]int64) string {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", alerts.Escape(k), m[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
