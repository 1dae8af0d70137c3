package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// EMF is a [detector.MetricsRecorder] that writes CloudWatch Embedded Metric Format documents,
// one JSON object per line, to an io.Writer: stdout in Lambda, where CloudWatch Logs extracts the
// metrics without any API call on the hot path.
//
// A call writes one line in the common case. The first line carries every dimensionless metric
// (one directive with the empty dimension set) and the Alerts of the first rule that alerted
// (a second directive with the dimension Rule). EMF takes a dimension's value from a top-level
// member, so one document holds one value per dimension: each further rule that alerted, and
// each configured secret with reads, goes on a further line (a rule and a secret share a line).
// All lines of a call are written with a single Write; EMF is safe for concurrent use.
type EMF struct {
	mu sync.Mutex
	w  io.Writer
	s  settings
}

var _ detector.MetricsRecorder = (*EMF)(nil)

// NewEMF returns an EMF recorder writing to w. It fails on an invalid Config.
func NewEMF(w io.Writer, cfg Config) (*EMF, error) {
	if w == nil {
		return nil, fmt.Errorf("metrics: emf: nil writer")
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	return &EMF{w: w, s: s}, nil
}

// RecordMetrics writes the metrics of one invocation (the mapping is in the package
// documentation). It writes even when ctx is done: the metrics of an invocation that timed out
// matter most. An error means the write failed.
func (e *EMF) RecordMetrics(ctx context.Context, st detector.Stats, storeErrors int64, latency time.Duration) error {
	lines, err := e.lines(st, storeErrors, latency)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write(lines); err != nil {
		return fmt.Errorf("metrics: emf: write: %w", err)
	}
	return nil
}

// EMF document parts, in the names of the specification.
type (
	emfMetadata struct {
		Timestamp         int64          `json:"Timestamp"`
		CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
	}
	emfDirective struct {
		Namespace  string      `json:"Namespace"`
		Dimensions [][]string  `json:"Dimensions"`
		Metrics    []emfMetric `json:"Metrics"`
	}
	emfMetric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
)

// emfDoc is one EMF document: the metadata, then the target members in the order added.
type emfDoc struct {
	meta    emfMetadata
	members []member
}

type member struct {
	key   string
	value any
}

func (d *emfDoc) add(namespace string, group []datum) {
	if len(group) == 0 {
		return
	}
	dims := []string{}
	if group[0].dim != nil {
		dims = []string{group[0].dim.name}
		d.members = append(d.members, member{group[0].dim.name, group[0].dim.value})
	}
	dir := emfDirective{Namespace: namespace, Dimensions: [][]string{dims}}
	for _, x := range group {
		dir.Metrics = append(dir.Metrics, emfMetric{Name: x.name, Unit: x.unit})
		d.members = append(d.members, member{x.name, x.value})
	}
	d.meta.CloudWatchMetrics = append(d.meta.CloudWatchMetrics, dir)
}

// MarshalJSON writes _aws first and the members in order (encoding/json would sort a map).
func (d *emfDoc) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	meta, err := json.Marshal(d.meta)
	if err != nil {
		return nil, err
	}
	b.WriteString(`{"_aws":`)
	b.Write(meta)
	for _, m := range d.members {
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// lines renders the EMF documents of one call, newline-terminated.
func (e *EMF) lines(st detector.Stats, storeErrors int64, latency time.Duration) ([]byte, error) {
	var base, rules, secrets []datum
	for _, x := range e.s.data(st, storeErrors, latency) {
		switch {
		case x.dim == nil:
			base = append(base, x)
		case x.dim.name == DimensionRule:
			rules = append(rules, x)
		default:
			secrets = append(secrets, x)
		}
	}
	ts := e.s.now().UnixMilli()
	first := &emfDoc{meta: emfMetadata{Timestamp: ts}}
	first.add(e.s.namespace, base)
	if len(rules) > 0 {
		first.add(e.s.namespace, rules[:1])
		rules = rules[1:]
	}
	docs := []*emfDoc{first}
	for i := 0; i < max(len(rules), len(secrets)); i++ {
		d := &emfDoc{meta: emfMetadata{Timestamp: ts}}
		if i < len(rules) {
			d.add(e.s.namespace, rules[i:i+1])
		}
		if i < len(secrets) {
			d.add(e.s.namespace, secrets[i:i+1])
		}
		docs = append(docs, d)
	}
	var out bytes.Buffer
	for _, d := range docs {
		line, err := d.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("metrics: emf: encode: %w", err)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}
