package cloudtrail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/semaphore"
)

// Option configures Read.
type Option func(*readConfig)

type readConfig struct {
	stdin   io.Reader
	workers int
	filters
}

// WithPrefilter skips decoding the elements of a Records file or JSON array whose raw JSON keep
// rejects: they are yielded with Item.Filtered set, so they can still be counted. keep must be a
// conservative, cheap test on the bytes (for example: does the record mention an event source of
// interest at all); whatever it keeps is decoded and judged as usual. Top-level values (a single
// record, an NDJSON line, an EventBridge event) are always decoded.
func WithPrefilter(keep func(raw []byte) bool) Option {
	return func(c *readConfig) { c.keep = keep }
}

// WithEventFilter skips decoding the elements of a Records file or JSON array that are records
// keep rejects, given the record's top-level eventSource, eventName and eventTime strings (see
// RawEvent): they are yielded with Item.Filtered set. Only a record whose raw JSON leaves no doubt
// is shown to keep: one that every decoder of this package would decode to a record (not an
// error, not an envelope) with exactly that EventSource and EventName (not empty, not "aws:…") and
// that eventTime string (or none). Keys or values with escapes or non-ASCII bytes, duplicate keys
// and the like make a record undecided; an undecided record is handed to the WithPrefilter test,
// if any, and decoded if that keeps it. A record keep accepts is decoded without asking the
// WithPrefilter test. Top-level values are always decoded.
func WithEventFilter(keep func(RawEvent) bool) Option {
	return func(c *readConfig) { c.keepEvent = keep }
}

// WithWorkers decodes up to n files at once (n > 1), still yielding every item in the order a
// sequential Read would. Memory stays bounded: at most 2n+1 files are in flight (decoding, or
// decoded and waiting for their turn), each with at most a few thousand decoded items (and 8 MiB
// of records) waiting.
func WithWorkers(n int) Option {
	return func(c *readConfig) { c.workers = n }
}

// pendingItems bounds the decoded items one in-flight file may hold before its reader waits (a
// CloudTrail file of a busy account holds a few thousand records: a file decoded ahead of its
// turn should not wait half-way, holding its worker), and pendingBytes their size (itemWeight):
// records of up to MaxRecordBytes must not let (2·workers+1) × pendingItems of them pile up.
// Most items are filtered records of ~100 bytes.
const (
	pendingItems = 4096
	pendingBytes = 8 << 20
	chunkItems   = 64
)

// itemWeight is what an item waiting in a file's queue counts against pendingBytes: its raw JSON
// and about as much again for the decoded record.
func itemWeight(it Item) int64 { return min(2*int64(len(it.Raw)), pendingBytes) }

// fileQueue is one in-flight file of readParallel: its items and the budget they hold.
type fileQueue struct {
	chunks chan []Item // items in chunks of up to chunkItems: one channel operation per chunk
	budget *semaphore.Weighted
}

// WithStdin makes the path "-" read r instead of os.Stdin.
func WithStdin(r io.Reader) Option {
	return func(c *readConfig) { c.stdin = r }
}

// Read yields the records of every path in turn, as Decode does for each file. A path is a file
// (read whatever its name; gzip is recognised by its content), a directory (read as Files
// expands it), or "-" for standard input.
//
// Read never stops early on its own: a path that cannot be read yields one item with an error
// wrapping ErrUnreadable and Read goes on with the next. When ctx is done, Read yields one item
// whose error wraps ctx's error and stops.
func Read(ctx context.Context, paths []string, opts ...Option) iter.Seq[Item] {
	cfg := readConfig{stdin: os.Stdin}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.workers > 1 {
		return readParallel(ctx, pathUnits(paths, cfg), cfg)
	}
	return func(yield func(Item) bool) {
		done := false
		cancelled := func(source string) bool {
			if ctx.Err() == nil {
				return false
			}
			done = true
			yield(Item{Source: source, Err: fmt.Errorf("cloudtrail: %s: %w", source, context.Cause(ctx))})
			return true
		}
		y := func(it Item) bool {
			if cancelled(it.Source) {
				return false
			}
			if !yield(it) {
				done = true
			}
			return !done
		}
		for _, p := range paths {
			if cancelled(p) {
				return
			}
			files, errs := expand(p)
			for _, err := range errs {
				if !y(Item{Source: errorPath(err, p), Err: err}) {
					return
				}
			}
			for _, f := range files {
				if cancelled(f) {
					return
				}
				readFile(f, cfg, y)
				if done {
					return
				}
			}
		}
	}
}

// unit is one input of readParallel: an item to hand over as it is (an error found while
// listing), or a function that reads one file or stream and yields its items.
type unit struct {
	item *Item
	read func(ctx context.Context, yield func(Item) bool)
}

// pathUnits lists paths as Read does, one unit per file or listing error.
func pathUnits(paths []string, cfg readConfig) iter.Seq[unit] {
	return func(yield func(unit) bool) {
		for _, p := range paths {
			files, errs := expand(p)
			for _, err := range errs {
				if !yield(unit{item: &Item{Source: errorPath(err, p), Err: err}}) {
					return
				}
			}
			for _, f := range files {
				if !yield(unit{read: func(_ context.Context, y func(Item) bool) { readFile(f, cfg, y) }}) {
					return
				}
			}
		}
	}
}

// Stream is an input of ReadStreams that is not a local file: an object in S3, say.
type Stream struct {
	// Name is the Source of its items (for example s3://bucket/key).
	Name string
	// Open opens the stream; it is called once, when a worker is free to read it, and the
	// stream is closed when read. An error is yielded as one item wrapping ErrUnreadable.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// ReadStreams is Read over streams instead of paths: each stream is decoded as Decode does, up
// to WithWorkers of them at once with the same bounded memory, and the items come out in the
// order of streams, whatever the parallelism. When ctx is done, ReadStreams yields one item
// whose error wraps ctx's error and stops.
func ReadStreams(ctx context.Context, streams []Stream, opts ...Option) iter.Seq[Item] {
	cfg := readConfig{stdin: os.Stdin}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.workers = max(cfg.workers, 1)
	units := func(yield func(unit) bool) {
		for _, s := range streams {
			read := func(ctx context.Context, y func(Item) bool) {
				rc, err := s.Open(ctx)
				if err != nil {
					y(Item{Source: s.Name, Err: unreadable(err)})
					return
				}
				defer rc.Close()
				decodeStream(rc, s.Name, cfg.filters, y)
			}
			if !yield(unit{read: read}) {
				return
			}
		}
	}
	return readParallel(ctx, units, cfg)
}

// readParallel reads units with cfg.workers of them decoded at once. A dispatcher walks the
// inputs in order and hands each to a goroutine that decodes it into its own bounded channel;
// the channels are queued in input order (at most 2·cfg.workers ahead of the consumer), so items
// come out exactly as a sequential Read would yield them. A worker slot is taken in input order
// before a unit is queued and given back when it is decoded: the units ahead of the consumer
// keep the workers busy while it is slower than they are (with only cfg.workers ahead, the
// workers that finished their files waited for the consumer, one core idle), and the unit the
// consumer waits for always holds a slot.
func readParallel(ctx context.Context, units iter.Seq[unit], cfg readConfig) iter.Seq[Item] {
	return func(yield func(Item) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		order := make(chan fileQueue, 2*cfg.workers)
		slots := semaphore.NewWeighted(int64(cfg.workers))
		go func() {
			defer close(order)
			queue := func(q fileQueue) bool {
				select {
				case order <- q:
					return true
				case <-ctx.Done():
					return false
				}
			}
			for u := range units {
				if u.item != nil {
					q := fileQueue{chunks: make(chan []Item, 1), budget: semaphore.NewWeighted(pendingBytes)}
					q.chunks <- []Item{*u.item}
					close(q.chunks)
					if !queue(q) {
						return
					}
					continue
				}
				q := fileQueue{chunks: make(chan []Item, pendingItems/chunkItems), budget: semaphore.NewWeighted(pendingBytes)}
				if slots.Acquire(ctx, 1) != nil {
					return
				}
				if !queue(q) {
					slots.Release(1)
					return
				}
				go func() {
					defer close(q.chunks)
					defer slots.Release(1) // after the last send: a unit holds its slot while it waits to hand over
					var chunk []Item
					send := func() bool {
						if len(chunk) == 0 {
							return true
						}
						select {
						case q.chunks <- chunk:
							chunk = nil
							return true
						case <-ctx.Done():
							return false
						}
					}
					u.read(ctx, func(it Item) bool {
						if w := itemWeight(it); w > 0 && !q.budget.TryAcquire(w) {
							// Hand over what is held first: the consumer frees the budget.
							if !send() || q.budget.Acquire(ctx, w) != nil {
								return false
							}
						}
						if chunk == nil {
							chunk = make([]Item, 0, chunkItems)
						}
						chunk = append(chunk, it)
						return len(chunk) < chunkItems || send()
					})
					send()
				}()
			}
		}()
	consume:
		for q := range order {
			for chunk := range q.chunks {
				for _, it := range chunk {
					if ctx.Err() != nil {
						break consume
					}
					ok := yield(it)
					if w := itemWeight(it); w > 0 {
						q.budget.Release(w)
					}
					if !ok {
						return
					}
				}
			}
			if ctx.Err() != nil {
				break
			}
		}
		if err := ctx.Err(); err != nil {
			yield(Item{Source: "", Err: fmt.Errorf("cloudtrail: %w", context.Cause(ctx))})
		}
	}
}

func readFile(path string, cfg readConfig, yield func(Item) bool) {
	if path == "-" {
		decodeStream(cfg.stdin, "-", cfg.filters, yield)
		return
	}
	// O_NONBLOCK: should the path have become a named pipe since it was listed, opening it must
	// not wait for a writer. It changes nothing for a regular file.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		yield(Item{Source: path, Err: unreadable(err)})
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		yield(Item{Source: path, Err: unreadable(err)})
		return
	} else if !fi.Mode().IsRegular() {
		yield(Item{Source: path, Err: refused(path, fi.Mode())})
		return
	}
	decodeStream(f, path, cfg.filters, yield)
}

// Files expands paths into the list of inputs Read reads, in order. Each path keeps its place: a
// file or "-" stands for itself; a directory stands for the log files in its tree, sorted by the
// time in their CloudTrail names (…_20171211T1505Z_…), then by path; files without such a time
// come first, sorted by path. Pass the common parent (e.g. AWSLogs/) to get one time order across
// accounts and regions.
//
// In a tree, Files keeps regular files named *.json, *.jsonl or *.ndjson, optionally followed by
// .gz, and skips hidden files and directories (.*), CloudTrail-Digest directories and digest files,
// and symbolic links to directories. A named pipe, socket or device (given as a path, or met in a
// tree under a log file's name) is never opened: it is reported as unreadable. It returns what it found and, joined, an error wrapping
// ErrUnreadable for each path it could not read.
func Files(paths []string) ([]string, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		fs, es := expand(p)
		files = append(files, fs...)
		errs = append(errs, es...)
	}
	return files, errors.Join(errs...)
}

type logFile struct {
	path string
	time time.Time // from the name; zero if none
}

var nameTime = regexp.MustCompile(`_(\d{8}T\d{4})Z_`)

// expand lists one path as Files does.
func expand(p string) ([]string, []error) {
	if p == "-" {
		return []string{p}, nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, []error{unreadable(err)}
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, []error{refused(p, fi.Mode())}
		}
		return []string{p}, nil
	}
	root := p
	if li, err := os.Lstat(p); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		root = p + string(filepath.Separator) // WalkDir does not follow a symbolic link at the root
	}
	var found []logFile
	var errs []error
	walk := func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, unreadable(err))
			return nil // WalkDir goes on with what it could read
		}
		if path == root {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if strings.HasPrefix(name, ".") || name == "CloudTrail-Digest" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || !isLogName(name) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				errs = append(errs, unreadable(err))
				return nil
			}
			if st.IsDir() {
				return nil // symbolic links to directories are not followed
			}
			if !st.Mode().IsRegular() {
				errs = append(errs, refused(path, st.Mode()))
				return nil
			}
		} else if !d.Type().IsRegular() {
			errs = append(errs, refused(path, d.Type()))
			return nil
		}
		found = append(found, logFile{path: path, time: timeInName(name)})
		return nil
	}
	if err := filepath.WalkDir(root, walk); err != nil {
		errs = append(errs, unreadable(err))
	}
	slices.SortFunc(found, func(a, b logFile) int {
		return cmp.Or(a.time.Compare(b.time), strings.Compare(a.path, b.path))
	})
	files := make([]string, len(found))
	for i, f := range found {
		files[i] = f.path
	}
	return files, errs
}

// IsLogName reports whether a file (or object) of this base name is one Read reads in a tree:
// *.json, *.jsonl or *.ndjson, optionally .gz, and not a CloudTrail digest file.
func IsLogName(name string) bool { return isLogName(name) }

// LogTime is the delivery time in a CloudTrail log file name (…_20171211T1505Z_…), or the
// zero time: Files sorts by it.
func LogTime(name string) time.Time { return timeInName(name) }

// isLogName reports whether a file in a tree is one Read should read.
func isLogName(name string) bool {
	n := strings.ToLower(name)
	if strings.Contains(n, "_cloudtrail-digest_") {
		return false
	}
	n = strings.TrimSuffix(n, ".gz")
	return strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".ndjson")
}

// timeInName returns the delivery time in a CloudTrail log file name, or the zero time.
func timeInName(name string) time.Time {
	m := nameTime.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}
	}
	t, err := time.Parse("20060102T1504", m[1])
	if err != nil {
		return time.Time{}
	}
	return t
}

// refused is the error for a path that is neither a regular file nor a directory: it is never
// opened, since opening a named pipe waits for a writer and a device may never end.
func refused(path string, mode fs.FileMode) error {
	kind := "a special file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode&fs.ModeCharDevice != 0:
		kind = "a character device"
	case mode&fs.ModeDevice != 0:
		kind = "a block device"
	}
	return unreadable(&fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%s, not a regular file: refused, not opened", kind)})
}

func unreadable(err error) error {
	return fmt.Errorf("cloudtrail: %w: %w", ErrUnreadable, err)
}

// errorPath is the path an error is about, or def.
func errorPath(err error, def string) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Path
	}
	return def
}
