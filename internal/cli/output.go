package cli

import (
	"context"
	"io"
	"log/slog"
	"sync"

	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/detector"
)

// alertWriter is replay's stdout. JSON alerts stream as they are delivered; text alerts are
// kept until Flush, which writes the summary table (most severe first) and then each alert in
// full in the same order, so the worst news is on the first screen.
type alertWriter struct {
	mu     sync.Mutex
	w      io.Writer
	format alerts.Format
	term   *alerts.Terminal
	held   []*detector.Alert
	sev    map[string]int64
}

func newAlertWriter(w io.Writer, f alerts.Format) *alertWriter {
	return &alertWriter{w: w, format: f, term: alerts.NewTerminal(w, f), sev: map[string]int64{}}
}

func (o *alertWriter) Notify(ctx context.Context, a *detector.Alert) error {
	if o.format == alerts.FormatJSON {
		if err := o.term.Notify(ctx, a); err != nil {
			return err
		}
	} else {
		c := *a
		o.mu.Lock()
		o.held = append(o.held, &c)
		o.mu.Unlock()
	}
	o.mu.Lock()
	o.sev[a.Severity]++
	o.mu.Unlock()
	return nil
}

// Flush writes the text alerts held (nothing in JSON).
func (o *alertWriter) Flush() error {
	o.mu.Lock()
	held := o.held
	o.held = nil
	o.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	alerts.SortBySeverity(held)
	if err := alerts.Table(o.w, held); err != nil {
		return err
	}
	if _, err := io.WriteString(o.w, "\n"); err != nil {
		return err
	}
	for _, a := range held {
		if err := o.term.Notify(context.Background(), a); err != nil {
			return err
		}
	}
	return nil
}

// Severities counts the alerts delivered by severity.
func (o *alertWriter) Severities() map[string]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sev
}

// newLogger is the -v log on stderr: every string value escaped and bounded, whatever a record
// or a file name holds.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: safeAttr}))
}

// maxLogValue bounds one logged value, in bytes.
const maxLogValue = 1024

func safeAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(alerts.Clip(alerts.Escape(a.Value.String()), maxLogValue))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(alerts.Clip(alerts.Escape(err.Error()), maxLogValue))
		}
	}
	return a
}
