package alerts

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/secretwatch/secretwatch/detector"
)

// Format is the form a [Terminal] writes alerts in.
type Format string

// Formats of [Terminal].
const (
	FormatText Format = "text" // the human form of [Text], alerts separated by a blank line
	FormatJSON Format = "json" // one JSON object per line ([JSONLine])
)

// ParseFormat returns the Format named s ("text" or "json").
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatJSON:
		return f, nil
	default:
		return "", fmt.Errorf("alerts: unknown format %q (want %q or %q)", s, FormatText, FormatJSON)
	}
}

// Terminal is a [detector.Notifier] that writes each alert to an io.Writer (a terminal, a
// file, a pipe). It is safe for concurrent use: each alert is rendered first and written with
// a single Write under a lock, so alerts never interleave.
type Terminal struct {
	mu     sync.Mutex
	w      io.Writer
	format Format
}

var _ detector.Notifier = (*Terminal)(nil)

// NewTerminal returns a Terminal writing to w in format f; an unknown f means [FormatText].
func NewTerminal(w io.Writer, f Format) *Terminal {
	if f != FormatJSON {
		f = FormatText
	}
	return &Terminal{w: w, format: f}
}

// Notify writes a. It fails when ctx is done or the write fails.
func (t *Terminal) Notify(ctx context.Context, a *detector.Alert) error {
	if a == nil {
		return fmt.Errorf("alerts: terminal: %w", errNilAlert)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("alerts: terminal %s: %w", clean(a.Key()), err)
	}
	var out []byte
	switch t.format {
	case FormatJSON:
		line, err := marshalLine(a)
		if err != nil {
			return err
		}
		out = line
	default:
		out = []byte(Render(a) + "\n")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.w.Write(out); err != nil {
		return fmt.Errorf("alerts: terminal %s: write: %w", clean(a.Key()), err)
	}
	return nil
}
