package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// The reader's filters change no count: with and without --from/--to, replay's summary counts
// the records in the span and outside it exactly as a read without any filter says (every record
// decoded, the span applied to its event time).
func TestFiltersKeepCounts(t *testing.T) {
	allow := example + "/allowlist.yaml"
	for _, span := range [][]string{
		nil,
		{"--from", "2026-03-05"},
		{"--to", "2026-03-04T12:00:00Z"},
		{"--from", "2026-03-03T06:00:00Z", "--to", "2026-03-08"},
	} {
		var ts timeSpan
		for i := 0; i < len(span); i += 2 {
			v := &ts.from
			if span[i] == "--to" {
				v = &ts.to
			}
			if err := v.Set(span[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		var in, out int64
		for it := range cloudtrail.Read(t.Context(), []string{example}) {
			switch {
			case errors.Is(it.Err, cloudtrail.ErrUnreadable):
			case it.Record != nil && (it.Err == nil || errors.Is(it.Err, cloudtrail.ErrIncomplete)) && !ts.contains(it.Record.EventTime.Time):
				out++
			default:
				in++
			}
		}
		if span != nil && (out == 0 || in == 0) {
			t.Fatalf("%q: %d records in the span, %d outside: not a test", span, in, out)
		}
		_, errOut, err := runCLI(t, append([]string{"replay", "--store", ":memory:", "--config", allow, "--format", "json", example}, span...)...)
		if err != nil {
			t.Fatalf("%q: %v\n%s", span, err, errOut)
		}
		if want := fmt.Sprintf("replay: %d records from ", in); !strings.Contains(errOut, want) {
			t.Errorf("%q: want %q in the summary:\n%s", span, want, errOut)
		}
		if want := fmt.Sprintf(": %d records (not checked)", out); out > 0 && !strings.Contains(errOut, want) {
			t.Errorf("%q: want %q in the summary:\n%s", span, want, errOut)
		}
	}
}
