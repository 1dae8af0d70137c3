package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

func clock() time.Time { return testNow }

// validUnits are the units the EMF specification's schema allows.
var validUnits = map[string]bool{}

func init() {
	for _, u := range strings.Split("Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|"+
		"Bits|Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|Megabytes/Second|"+
		"Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|Megabits/Second|Gigabits/Second|"+
		"Terabits/Second|Count/Second|None", "|") {
		validUnits[u] = true
	}
}

// series is one extracted metric value: "Name" or "Name{Dim=value}" → value and unit.
type series map[string]point

type point struct {
	value float64
	unit  string
}

// validateEMF checks one line against the Embedded Metric Format specification and returns the
// metrics CloudWatch would extract from it, and the document's timestamp.
func validateEMF(t *testing.T, line string, namespace string) (series, int64) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, line)
	}
	if dec.More() {
		t.Fatalf("data after the JSON object: %s", line)
	}
	aws, ok := root["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws object: %s", line)
	}
	onlyKeys(t, "_aws", aws, "Timestamp", "CloudWatchMetrics")
	tsNum, ok := aws["Timestamp"].(json.Number)
	if !ok {
		t.Fatalf("_aws.Timestamp is not a number: %v", aws["Timestamp"])
	}
	ts, err := tsNum.Int64()
	if err != nil || ts <= 0 {
		t.Fatalf("_aws.Timestamp %v is not epoch milliseconds", tsNum)
	}
	directives, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics is not a non-empty array: %v", aws["CloudWatchMetrics"])
	}
	out := series{}
	for _, d := range directives {
		dir, ok := d.(map[string]any)
		if !ok {
			t.Fatalf("directive is not an object: %v", d)
		}
		onlyKeys(t, "directive", dir, "Namespace", "Dimensions", "Metrics")
		if ns, _ := dir["Namespace"].(string); ns != namespace || len(ns) > 1024 {
			t.Errorf("Namespace %v, want %q", dir["Namespace"], namespace)
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok || len(sets) == 0 {
			t.Fatalf("Dimensions is not a non-empty array of dimension sets: %v", dir["Dimensions"])
		}
		metrics, ok := dir["Metrics"].([]any)
		if !ok || len(metrics) == 0 || len(metrics) > 100 {
			t.Fatalf("Metrics must be an array of 1..100 definitions: %v", dir["Metrics"])
		}
		for _, s := range sets {
			set, ok := s.([]any)
			if !ok || len(set) > 30 {
				t.Fatalf("dimension set %v is not an array of at most 30 keys", s)
			}
			var dims []string
			for _, k := range set {
				key, ok := k.(string)
				if !ok || key == "" || len(key) > 250 {
					t.Fatalf("dimension key %v", k)
				}
				v, ok := root[key].(string)
				if !ok || v == "" || len(v) > 1024 {
					t.Fatalf("dimension %q: target member %v is not a string of 1..1024 characters", key, root[key])
				}
				dims = append(dims, key+"="+v)
			}
			for _, m := range metrics {
				def, ok := m.(map[string]any)
				if !ok {
					t.Fatalf("metric definition %v", m)
				}
				onlyKeys(t, "metric definition", def, "Name", "Unit", "StorageResolution")
				name, _ := def["Name"].(string)
				if name == "" || len(name) > 1024 {
					t.Fatalf("metric name %v", def["Name"])
				}
				unit, _ := def["Unit"].(string)
				if !validUnits[unit] {
					t.Errorf("metric %s: unit %q is not a CloudWatch unit", name, unit)
				}
				var value float64
				switch v := root[name].(type) {
				case json.Number:
					value, err = v.Float64()
					if err != nil {
						t.Fatalf("metric %s: %v", name, err)
					}
				case []any:
					t.Fatalf("metric %s: value arrays are not expected here", name)
				default:
					t.Fatalf("metric %s: target member %v is not a number", name, root[name])
				}
				key := name
				if len(dims) > 0 {
					key += "{" + strings.Join(dims, ",") + "}"
				}
				if _, dup := out[key]; dup {
					t.Errorf("series %s twice in one document", key)
				}
				out[key] = point{value, unit}
			}
		}
	}
	return out, ts
}

// onlyKeys fails if obj has members the specification does not define for it.
func onlyKeys(t *testing.T, what string, obj map[string]any, allowed ...string) {
	t.Helper()
	for k := range obj {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s has member %q, which the specification does not allow", what, k)
		}
	}
}

// record runs one RecordMetrics and validates every line; it returns the lines and all series.
func record(t *testing.T, cfg Config, st detector.Stats, storeErrors int64, latency time.Duration) ([]string, series) {
	t.Helper()
	var buf bytes.Buffer
	if cfg.Now == nil {
		cfg.Now = clock
	}
	e, err := NewEMF(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.RecordMetrics(t.Context(), st, storeErrors, latency); err != nil {
		t.Fatal(err)
	}
	ns := cmp(cfg.Namespace, DefaultNamespace)
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("output does not end in a newline: %q", buf.String())
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	all := series{}
	for _, l := range lines {
		s, ts := validateEMF(t, l, ns)
		if ts != testNow.UnixMilli() {
			t.Errorf("timestamp %d, want %d", ts, testNow.UnixMilli())
		}
		for k, v := range s {
			if _, dup := all[k]; dup {
				t.Errorf("series %s on two lines", k)
			}
			all[k] = v
		}
	}
	return lines, all
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sampleStats() detector.Stats {
	return detector.Stats{
		Records:    120,
		Handled:    100,
		Reads:      80,
		Denied:     7,
		Duplicates: 5,
		Unexpected: 3,
		Skipped:    map[string]int64{detector.SkipMalformed: 2, detector.SkipNotHandled: 15, detector.SkipNoEventID: 1},
	}
}

func TestEMFOneLine(t *testing.T) {
	lines, got := record(t, Config{}, sampleStats(), 0, 1234500*time.Microsecond)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	want := series{
		"EventsProcessed":   {120, "Count"},
		"SecretReads":       {80, "Count"},
		"DeniedReads":       {7, "Count"},
		"UnexpectedReads":   {3, "Count"},
		"ParseFailures":     {3, "Count"},
		"StoreErrors":       {0, "Count"},
		"ProcessingLatency": {1234.5, "Milliseconds"},
		"Heartbeat":         {1, "Count"},
	}
	if !maps.Equal(got, want) {
		t.Errorf("series\n got %v\nwant %v", got, want)
	}
	if !strings.HasPrefix(lines[0], `{"_aws":{"Timestamp":1741064767890,"CloudWatchMetrics":[{"Namespace":"SecretWatch","Dimensions":[[]],`) {
		t.Errorf("line starts %.160s", lines[0])
	}
}

func TestEMFRulesAndSecrets(t *testing.T) {
	st := sampleStats()
	st.Alerts = map[string]int64{detector.RuleReadSpike: 2, detector.RuleUnexpectedPrincipal: 5, detector.RuleFirstSeenPrincipal: 1, "never-fired": 0}
	st.SecretReads = map[string]int64{"prod/db": 50, "prod/api-key": 20, "dev/x": 9, "other": 1}
	cfg := Config{Namespace: "SecretWatch/test", Secrets: []string{"prod/db", "prod/api-key", "dev/x", "quiet/secret"}}
	lines, got := record(t, cfg, st, 1, 0)

	// 3 rules and 3 secrets with reads: the first line takes the first rule, then
	// max(2 rules, 3 secrets) more lines.
	if len(lines) != 4 {
		t.Errorf("%d lines, want 4:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for k, v := range map[string]point{
		"Alerts{Rule=first-seen-principal}": {1, "Count"},
		"Alerts{Rule=read-spike}":           {2, "Count"},
		"Alerts{Rule=unexpected-principal}": {5, "Count"},
		"SecretReads{Secret=prod/db}":       {50, "Count"},
		"SecretReads{Secret=prod/api-key}":  {20, "Count"},
		"SecretReads{Secret=dev/x}":         {9, "Count"},
		"SecretReads":                       {80, "Count"},
		"StoreErrors":                       {1, "Count"},
		"ProcessingLatency":                 {0, "Milliseconds"},
		"Heartbeat":                         {1, "Count"},
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for _, k := range []string{"SecretReads{Secret=other}", "SecretReads{Secret=quiet/secret}", "Alerts{Rule=never-fired}"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s published (not configured, or zero)", k)
		}
	}
	if len(got) != 8+3+3 {
		t.Errorf("%d series, want 14: %v", len(got), got)
	}
}

func TestEMFManySecrets(t *testing.T) {
	st := detector.Stats{SecretReads: map[string]int64{}}
	var names []string
	for i := range 250 {
		name := fmt.Sprintf("app/%03d/%s", i, strings.Repeat("n", 400))
		names = append(names, name)
		st.SecretReads[name] = int64(i + 1)
	}
	lines, got := record(t, Config{Secrets: names}, st, 0, time.Millisecond)
	if len(lines) != 251 || len(got) != 8+250 {
		t.Errorf("%d lines and %d series, want 251 and 258", len(lines), len(got))
	}
	for _, l := range lines {
		if len(l) > 256<<10 {
			t.Errorf("line of %d bytes is over the CloudWatch Logs event limit", len(l))
		}
	}
}

func TestEMFConfig(t *testing.T) {
	many := make([]string, MaxSecretSeries+1)
	for i := range many {
		many[i] = fmt.Sprint("s", i)
	}
	for name, cfg := range map[string]Config{
		"AWS namespace":     {Namespace: "AWS/Lambda"},
		"unicode namespace": {Namespace: "Sécret"},
		"long namespace":    {Namespace: strings.Repeat("n", 256)},
		"empty secret":      {Secrets: []string{""}},
		"unicode secret":    {Secrets: []string{"prod/grüße"}},
		"newline secret":    {Secrets: []string{"a\nb"}},
		"long secret":       {Secrets: []string{strings.Repeat("s", 1025)}},
		"too many secrets":  {Secrets: many},
	} {
		if _, err := NewEMF(io.Discard, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := NewEMF(io.Discard, Config{Namespace: "AWS/x", Secrets: []string{"", "b\x00"}})
	if err == nil || strings.Count(err.Error(), "\n") < 2 {
		t.Errorf("want every problem reported at once, got %v", err)
	}
	if _, err := NewEMF(nil, Config{}); err == nil {
		t.Error("nil writer accepted")
	}
	if _, err := NewEMF(io.Discard, Config{Secrets: many[:MaxSecretSeries]}); err != nil {
		t.Errorf("%d secrets: %v", MaxSecretSeries, err)
	}
}

type lineWriter struct {
	mu     sync.Mutex
	writes [][]byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func TestEMFConcurrent(t *testing.T) {
	var w lineWriter
	e, err := NewEMF(&w, Config{Now: clock, Secrets: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	st := sampleStats()
	st.SecretReads = map[string]int64{"a": 1, "b": 2}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := e.RecordMetrics(t.Context(), st, 0, time.Second); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(w.writes) != 20 {
		t.Fatalf("%d writes, want one per call", len(w.writes))
	}
	for _, p := range w.writes {
		lines := strings.Split(strings.TrimSuffix(string(p), "\n"), "\n")
		if len(lines) != 3 { // the base line, then one per secret (SecretReads is on the base line)
			t.Errorf("write of %d lines, want 3", len(lines))
		}
		for _, l := range lines {
			validateEMF(t, l, DefaultNamespace)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestEMFWriteError(t *testing.T) {
	werr := errors.New("stdout closed")
	e, err := NewEMF(failWriter{werr}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.RecordMetrics(t.Context(), detector.Stats{}, 0, 0); !errors.Is(err, werr) {
		t.Errorf("error %v does not wrap the write error", err)
	}
}

func TestEMFZeroStats(t *testing.T) {
	lines, got := record(t, Config{}, detector.Stats{}, 0, -time.Second)
	if len(lines) != 1 || got["Heartbeat"].value != 1 || got["EventsProcessed"].value != 0 || got["ProcessingLatency"].value != 0 {
		t.Errorf("zero stats: %d lines, %v", len(lines), got)
	}
}
