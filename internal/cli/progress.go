package cli

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress draws a one-line progress bar on stderr when it is a terminal and the input is
// large (or when asked to). It never writes to stdout, so alerts stay machine-readable.
type progress struct {
	w          io.Writer
	on         bool
	sizes      map[string]int64
	total      int64
	doneBytes  int64
	files      int
	doneFiles  int
	current    string
	records    int64
	started    time.Time
	lastDrawn  time.Time
	drawnWidth int
}

const largeInput = 64 << 20 // bytes of log files before "auto" shows a bar

func newProgress(w io.Writer, mode string, files []string) *progress {
	p := &progress{w: w, sizes: map[string]int64{}, files: len(files), started: time.Now()}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			p.sizes[f] = fi.Size()
			p.total += fi.Size()
		}
	}
	switch mode {
	case "always":
		p.on = true
	case "never":
	default:
		p.on = isTerminal(w) && p.total >= largeInput
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// file notes that the reader is at source (a new file completes the previous one).
func (p *progress) file(source string) {
	if source == p.current {
		return
	}
	if p.current != "" {
		p.doneBytes += p.sizes[p.current]
		p.doneFiles++
	}
	p.current = source
}

func (p *progress) update(records int64) {
	p.records = records
	if !p.on || time.Since(p.lastDrawn) < 200*time.Millisecond {
		return
	}
	p.draw()
}

func (p *progress) draw() {
	p.lastDrawn = time.Now()
	el := time.Since(p.started).Seconds()
	pct := 0.0
	if p.total > 0 {
		pct = 100 * float64(p.doneBytes) / float64(p.total)
	}
	eta := ""
	if pct > 1 {
		eta = fmt.Sprintf("  ETA %s", time.Duration(el*(100-pct)/pct*float64(time.Second)).Round(time.Second))
	}
	const width = 30
	filled := int(pct / 100 * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '#'
		}
	}
	line := fmt.Sprintf("\r[%s] %3.0f%%  %d/%d files  %d records  %.0f records/s%s", bar, pct, p.doneFiles, p.files, p.records, float64(p.records)/max(el, 1e-9), eta)
	pad := p.drawnWidth - len(line)
	p.drawnWidth = len(line)
	for ; pad > 0; pad-- {
		line += " "
	}
	fmt.Fprint(p.w, line)
}

// done clears the bar.
func (p *progress) done() {
	if !p.on || p.drawnWidth == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%*s\r", p.drawnWidth, "")
	p.drawnWidth = 0
}
