package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/cloudtrail"
	cts3 "github.com/secretwatch/secretwatch/cloudtrail/s3"
)

// s3Flags are the flags of a run that may read s3://bucket/prefix paths.
type s3Flags struct {
	endpoint string
}

func (f *s3Flags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "s3-endpoint", "", "S3 endpoint `URL` for s3:// paths (a stand-in; path-style addressing). Default: AWS, with the default credential chain")
}

// inputs is what a run reads: local paths (files, trees, -) or the CloudTrail objects under
// s3:// paths, never both at once.
type inputs struct {
	names      []string         // files or s3://bucket/key, in reading order
	sizes      map[string]int64 // for S3 objects: their sizes (files are stat'ed by the progress bar)
	unreadable []error
	read       func(ctx context.Context, opts ...cloudtrail.Option) iter.Seq[cloudtrail.Item]
	ckpt       *checkpoint // S3 with a local store file only
	skipped    int         // objects left out: already in the checkpoint
}

// openInputs lists the paths. For s3:// paths the default AWS credential chain is loaded (only
// then) and the listing narrowed to the span's delivery days; ckptPath, when not empty, names
// the checkpoint of finished objects (beside the store): they are not downloaded again.
func openInputs(ctx context.Context, paths []string, s3f s3Flags, span timeSpan, ckptPath string) (*inputs, error) {
	nS3 := 0
	for _, p := range paths {
		if cts3.IsURI(p) {
			nS3++
		}
	}
	if nS3 == 0 {
		files, unreadable := listFiles(paths)
		return &inputs{names: files, unreadable: unreadable, read: func(ctx context.Context, opts ...cloudtrail.Option) iter.Seq[cloudtrail.Item] {
			return cloudtrail.Read(ctx, files, opts...)
		}}, nil
	}
	if nS3 != len(paths) {
		return nil, fmt.Errorf("%w: s3:// paths and local paths cannot be read in one run", errUsage)
	}
	var uris []cts3.URI
	for _, p := range paths {
		u, err := cts3.ParseURI(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", errUsage, alerts.Escape(err.Error()))
		}
		uris = append(uris, u)
	}
	// The default credential chain (environment, shared config and SSO, instance or task
	// role), loaded only when an s3:// path is given.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3: AWS configuration: %w", err)
	}
	client, err := cts3.NewFromConfig(cfg, s3f.endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: --s3-endpoint: %v", errUsage, err)
	}
	var window cts3.Span
	if span.from.raw != "" {
		window.From = span.start()
	}
	if span.to.raw != "" {
		window.To = span.end()
	}
	in := &inputs{sizes: map[string]int64{}}
	if ckptPath != "" {
		if in.ckpt, err = openCheckpoint(ckptPath); err != nil {
			return nil, err
		}
	}
	var objs []cts3.Object
	seen := map[string]bool{}
	for _, u := range uris {
		found, err := cts3.List(ctx, client, u, window)
		if err != nil {
			in.close()
			return nil, err
		}
		for _, o := range found {
			name := o.Name()
			if seen[name] {
				continue
			}
			seen[name] = true
			if in.ckpt != nil && in.ckpt.done[name] {
				in.skipped++
				continue
			}
			objs = append(objs, o)
			in.names = append(in.names, name)
			in.sizes[name] = o.Size
		}
	}
	in.read = func(ctx context.Context, opts ...cloudtrail.Option) iter.Seq[cloudtrail.Item] {
		return cloudtrail.ReadStreams(ctx, cts3.Streams(cts3.SDKGetter{API: client}, objs), opts...)
	}
	return in, nil
}

func (in *inputs) progress(w io.Writer, mode string) *progress {
	p := newProgress(w, mode, in.names)
	if in.sizes != nil {
		p.total = 0
		for _, n := range in.names {
			p.sizes[n] = in.sizes[n]
			p.total += in.sizes[n]
		}
		p.on = mode == "always" || mode != "never" && isTerminal(w) && p.total >= largeInput
	}
	return p
}

// seen notes an item (in reading order) for the checkpoint.
func (in *inputs) seen(it cloudtrail.Item) {
	if in.ckpt != nil {
		in.ckpt.seen(it)
	}
}

// committed is called after the store committed every record yielded so far: the objects
// finished before now are checkpointed.
func (in *inputs) committed() error {
	if in.ckpt == nil {
		return nil
	}
	return in.ckpt.commit(false)
}

// finished is called after the last batch was committed: the last object is checkpointed too.
func (in *inputs) finished() error {
	if in.ckpt == nil {
		return nil
	}
	return in.ckpt.commit(true)
}

func (in *inputs) close() error {
	if in.ckpt == nil {
		return nil
	}
	return in.ckpt.close()
}

// note is the line the summary adds about objects the checkpoint left out.
func (in *inputs) note(w io.Writer) {
	if in.skipped > 0 {
		fmt.Fprintf(w, "  already replayed:      %d S3 objects (in %s; delete it to read them again)\n", in.skipped, alerts.Escape(in.ckpt.path))
	}
}

// checkpointPath is the checkpoint of a local store file, or "" when there is none to keep.
func checkpointPath(store string, remoteStore bool) string {
	if remoteStore || store == ":memory:" {
		return ""
	}
	return store + ".s3-checkpoint"
}

// checkpoint is the file of S3 objects whose every record a store has committed, one quoted
// s3://bucket/key a line, appended as batches commit. It only saves downloads: the store counts
// each record once anyway, so an object read twice (after an interruption in its middle) changes
// no count. It is written, like the store in bulk-load mode, without fsync: after a crash of the
// machine (not of the process), delete it.
type checkpoint struct {
	path    string
	done    map[string]bool
	f       *os.File
	cur     string // the object being read
	curBad  bool   // it could not be read whole
	pending []string
}

// maxCheckpointLine bounds a line of the file: a quoted s3://bucket/key (keys are at most
// 1024 bytes, quoted at most 4 times that).
const maxCheckpointLine = 8 << 10

func openCheckpoint(path string) (*checkpoint, error) {
	c := &checkpoint{path: path, done: map[string]bool{}}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("s3 checkpoint: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, maxCheckpointLine)
	for n := 1; sc.Scan(); n++ {
		name, err := strconv.Unquote(sc.Text())
		if err != nil || !strings.HasPrefix(name, cts3.Scheme) {
			// A line cut short by a crash is only an object read again.
			continue
		}
		c.done[name] = true
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("s3 checkpoint %s: %w (delete it to read every object again)", alerts.Escape(path), err)
	}
	c.f = f
	return c, nil
}

func (c *checkpoint) seen(it cloudtrail.Item) {
	if it.Source == "" { // the reader's own error (an interruption): no object finished
		c.curBad = true
		return
	}
	if it.Source != c.cur {
		c.finish()
		c.cur = it.Source
	}
	if it.Err != nil && (errors.Is(it.Err, cloudtrail.ErrUnreadable) || errors.Is(it.Err, context.Canceled) || errors.Is(it.Err, context.DeadlineExceeded)) {
		c.curBad = true
	}
}

// finish closes the current object: read whole, it waits for the next commit.
func (c *checkpoint) finish() {
	if c.cur != "" && !c.curBad && cts3.IsURI(c.cur) {
		c.pending = append(c.pending, c.cur)
	}
	c.cur, c.curBad = "", false
}

func (c *checkpoint) commit(last bool) error {
	if last {
		c.finish()
	}
	if len(c.pending) == 0 {
		return nil
	}
	var b strings.Builder
	for _, name := range c.pending {
		b.WriteString(strconv.Quote(name))
		b.WriteByte('\n')
		c.done[name] = true
	}
	c.pending = c.pending[:0]
	if _, err := io.WriteString(c.f, b.String()); err != nil {
		return fmt.Errorf("s3 checkpoint %s: %w", alerts.Escape(c.path), err)
	}
	return nil
}

func (c *checkpoint) close() error {
	if err := c.f.Close(); err != nil {
		return fmt.Errorf("s3 checkpoint %s: %w", alerts.Escape(c.path), err)
	}
	return nil
}
