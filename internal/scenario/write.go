package scenario

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// gzipLevel trades size for speed: CloudTrail's own files are smaller, but a 1 GB tree for
// benchmarks must not take an hour to write.
const gzipLevel = gzip.BestSpeed

// sink is where log files go.
type sink interface {
	create(fb *fileBatch) (io.WriteCloser, error)
}

// dirSink writes the CloudTrail S3 layout under root (…/AWSLogs/<account>/CloudTrail).
type dirSink struct {
	root string
	mu   sync.Mutex
	made map[string]bool
}

func (s *dirSink) create(fb *fileBatch) (io.WriteCloser, error) {
	day := time.Unix(fb.window, 0).UTC()
	dir := filepath.Join(s.root, regions[fb.region], day.Format("2006"), day.Format("01"), day.Format("02"))
	s.mu.Lock()
	made := s.made[dir]
	s.mu.Unlock()
	if !made {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.made[dir] = true
		s.mu.Unlock()
	}
	return os.Create(filepath.Join(dir, fb.name))
}

// discardSink counts without writing (calibration).
type discardSink struct{}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (discardSink) create(*fileBatch) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }

// volume is what a pump wrote.
type volume struct{ files, bytes, jsonBytes atomic.Int64 }

// write generates plan p into dir, feeding st.
func write(ctx context.Context, dir string, p *plan, st *stats) error {
	root := filepath.Join(dir, "AWSLogs", Account, "CloudTrail")
	if _, err := os.Stat(root); err == nil {
		return fmt.Errorf("scenario: %s already exists: remove it or choose another directory", root)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("scenario: %w", err)
	}
	g := newGenerator(p, st)
	var v volume
	if err := pump(ctx, g, allHours(g), &dirSink{root: root, made: map[string]bool{}}, &v); err != nil {
		return err
	}
	st.c.Files, st.c.Bytes, st.c.JSONBytes = v.files.Load(), v.bytes.Load(), v.jsonBytes.Load()
	return nil
}

func allHours(g *generator) []int {
	hs := make([]int, g.hours())
	for i := range hs {
		hs[i] = i
	}
	return hs
}

// pump draws the given hours in order on one goroutine and encodes their files on others.
// File contents depend only on the plan, never on scheduling.
func pump(ctx context.Context, g *generator, hours []int, out sink, v *volume) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	work := make(chan []fileBatch, 2*workers)
	go func() {
		defer close(work)
		for _, h := range hours {
			fbs := g.hour(h)
			select {
			case work <- fbs:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	m := newMaterialiser(g.p)
	for range workers {
		wg.Go(func() {
			enc := newEncoder(m)
			for fbs := range work {
				for i := range fbs {
					if ctx.Err() != nil {
						continue // drain
					}
					if err := enc.writeFile(out, &fbs[i], v); err != nil {
						cancel(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	return nil
}

// encoder writes log files; one per goroutine.
type encoder struct {
	m   *materialiser
	gz  *gzip.Writer
	bw  *bufio.Writer
	buf bytes.Buffer
	js  *json.Encoder
}

func newEncoder(m *materialiser) *encoder {
	gz, _ := gzip.NewWriterLevel(io.Discard, gzipLevel) // the level is a valid constant
	e := &encoder{m: m, gz: gz, bw: bufio.NewWriterSize(io.Discard, 64<<10)}
	e.js = json.NewEncoder(&e.buf)
	e.js.SetEscapeHTML(false)
	return e
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (e *encoder) writeFile(out sink, fb *fileBatch, v *volume) error {
	f, err := out.create(fb)
	if err != nil {
		return err
	}
	disk := &countingWriter{w: f}
	e.bw.Reset(disk)
	e.gz.Reset(e.bw)
	plain := &countingWriter{w: e.gz}
	err = e.encode(plain, fb)
	if err == nil {
		err = e.gz.Close()
	}
	if err == nil {
		err = e.bw.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", fb.name, err)
	}
	v.files.Add(1)
	v.bytes.Add(disk.n)
	v.jsonBytes.Add(plain.n)
	return nil
}

// encode writes {"Records":[...]} on one line, as CloudTrail does.
func (e *encoder) encode(w io.Writer, fb *fileBatch) error {
	if _, err := io.WriteString(w, `{"Records":[`); err != nil {
		return err
	}
	for i, ev := range fb.events {
		ent := e.m.record(fb.region, ev)
		e.buf.Reset()
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if err := e.js.Encode(toWire(&ent)); err != nil {
			return err
		}
		e.buf.Truncate(e.buf.Len() - 1) // Encode's newline
		if _, err := w.Write(e.buf.Bytes()); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}")
	return err
}

// calibrate finds the Scale at which the tree has about opt.TargetBytes bytes. The spike's
// hours, whose files compress far better than the rest, are encoded in full; for the other hours
// bytes per record (which improves as files fill up) is measured on a sample and the number of
// records follows from the plan's rates. Once two rounds agree within 10 % (bytes per record
// changes slowly with scale) the last estimate is within a few percent.
func calibrate(ctx context.Context, opt Options) (float64, error) {
	scale := 1.0
	for range 4 {
		o := opt
		o.Scale = scale
		p := o.plan()
		var spikeHours, sample []int
		for _, h := range sampleHours(p.days * 24) {
			if !p.isSpikeHour(h) {
				sample = append(sample, h)
			}
		}
		for h := range p.days * 24 {
			if p.isSpikeHour(h) {
				spikeHours = append(spikeHours, h)
			}
		}
		spikeBytes, _, err := encodeHours(ctx, p, spikeHours)
		if err != nil {
			return 0, err
		}
		b, n, err := encodeHours(ctx, p, sample)
		if err != nil {
			return 0, err
		}
		if b == 0 || n == 0 {
			return 0, errors.New("scenario: calibrate: the sample produced no records")
		}
		est := float64(spikeBytes) + float64(b)/float64(n)*p.expectedRecords(func(h int) bool { return !p.isSpikeHour(h) })
		next := scale * float64(opt.TargetBytes) / est
		if next < 1e-3 {
			return 0, fmt.Errorf("scenario: target of %d bytes is too small: scale 1 gives about %.0f bytes", opt.TargetBytes, est/scale)
		}
		if math.Abs(next/scale-1) < 0.1 {
			return next, nil
		}
		scale = next
	}
	return scale, nil
}

// encodeHours encodes the given hours without writing them and returns their bytes and records.
func encodeHours(ctx context.Context, p *plan, hours []int) (bytes, records int64, err error) {
	if len(hours) == 0 {
		return 0, 0, nil
	}
	st := newStats(p)
	g := newGenerator(p, st)
	var v volume
	if err := pump(ctx, g, hours, discardSink{}, &v); err != nil {
		return 0, 0, err
	}
	return v.bytes.Load(), st.c.Records, nil
}

// sampleHours picks about 24 hours or more, spread over the days and the hours of the day (a
// stride prime to 24 visits every hour of the day).
func sampleHours(n int) []int {
	stride := 1
	for _, s := range []int{13, 7, 5} {
		if n/s >= 24 {
			stride = s
			break
		}
	}
	var hs []int
	for h := stride / 2; h < n; h += stride {
		hs = append(hs, h)
	}
	return hs
}
