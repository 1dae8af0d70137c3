package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/secretwatch/secretwatch/internal/alerttest"
	"strings"
	"sync"
	"testing"

	"github.com/secretwatch/secretwatch/detector"
)

// syncBuffer records each Write separately, so the test can tell interleaving apart.
type syncBuffer struct {
	mu     sync.Mutex
	writes []string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes = append(b.writes, string(p))
	return len(p), nil
}

func (b *syncBuffer) String() string { return strings.Join(b.writes, "") }

func TestTerminalConcurrent(t *testing.T) {
	for _, f := range []Format{FormatText, FormatJSON} {
		t.Run(string(f), func(t *testing.T) {
			var out syncBuffer
			term := NewTerminal(&out, f)
			const n = 40
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					a := alerttest.Fixture(detector.RuleReadSpike)
					a.Count = int64(1000 + i)
					errs <- term.Notify(t.Context(), a)
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(out.writes) != n {
				t.Fatalf("%d writes, want one per alert (%d)", len(out.writes), n)
			}
			seen := map[int64]bool{}
			for _, w := range out.writes {
				switch f {
				case FormatJSON:
					var a detector.Alert
					if err := json.Unmarshal([]byte(w), &a); err != nil || strings.Count(w, "\n") != 1 {
						t.Fatalf("bad JSON line %q: %v", w, err)
					}
					seen[a.Count] = true
				default:
					if !strings.HasSuffix(w, "\n\n") || strings.Count(w, "[MEDIUM]") != 1 {
						t.Fatalf("bad text block %q", w)
					}
					var c int64
					head, _, _ := strings.Cut(w, "\n")
					if _, err := fmt.Sscanf(head[strings.LastIndex(head, ", ")+2:], "1,%d times", &c); err != nil {
						t.Fatalf("headline %q: %v", head, err)
					}
					seen[1000+c] = true
				}
			}
			if len(seen) != n {
				t.Errorf("%d distinct alerts written, want %d", len(seen), n)
			}
		})
	}
}

func TestTerminalErrors(t *testing.T) {
	var buf bytes.Buffer
	term := NewTerminal(&buf, FormatText)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := term.Notify(ctx, alerttest.Sparse()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if err := term.Notify(t.Context(), nil); err == nil {
		t.Error("nil alert: no error")
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
	werr := errors.New("broken pipe")
	if err := NewTerminal(failWriter{werr}, FormatJSON).Notify(t.Context(), alerttest.Sparse()); !errors.Is(err, werr) {
		t.Errorf("write error: %v", err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "json"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("ParseFormat(yaml): no error")
	}
	if NewTerminal(&bytes.Buffer{}, "").format != FormatText {
		t.Error("unknown format does not default to text")
	}
}

// A 5 MB user agent (or principal, or secret) makes a bounded alert in either format, and the
// caller's alert is not modified.
func TestTerminalBoundsHugeValues(t *testing.T) {
	huge := strings.Repeat("A", 5<<20)
	a := &detector.Alert{Rule: detector.RuleUnexpectedPrincipal, Severity: detector.SeverityHigh, Secret: "111122223333/us-east-1/" + huge,
		Principal: "arn:aws:iam::111122223333:user/" + huge, UserAgents: []string{"ok", huge}, EventIDs: []string{huge}, Reason: huge, Count: 1}
	for _, f := range []Format{FormatText, FormatJSON} {
		var buf bytes.Buffer
		if err := NewTerminal(&buf, f).Notify(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		if buf.Len() > 64<<10 {
			t.Errorf("%s: a 5 MB value made a %d-byte alert", f, buf.Len())
		}
		if !strings.Contains(buf.String(), "...[truncated]") {
			t.Errorf("%s: cut values are not marked", f)
		}
	}
	if len(a.UserAgents[1]) != 5<<20 || len(a.Principal) < 5<<20 {
		t.Error("the caller's alert was modified")
	}
}
