package cloudwatch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/metrics"
)

// putRequest is one PutMetricData request as the server decoded it.
type putRequest struct {
	gzipped   bool
	size      int // decompressed body bytes
	namespace string
	data      []putDatum
}

type putDatum struct {
	name       string
	unit       string
	value      float64
	timestamp  time.Time
	dimensions map[string]string
}

// cloudWatchServer decodes the SDK's real PutMetricData requests (Smithy RPC v2 CBOR) and answers
// like CloudWatch: 200 with an empty CBOR map, or an error (fail, for the requests it names).
type cloudWatchServer struct {
	t    *testing.T
	mu   sync.Mutex
	reqs []putRequest
	fail func(n int) (status int, code string) // n counts requests from 1; status 0: succeed
}

func (s *cloudWatchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := s.t
	if r.Method != http.MethodPost || r.URL.Path != "/service/GraniteServiceVersion20100801/operation/PutMetricData" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.Header.Get("Content-Type") != "application/cbor" {
		t.Errorf("headers Smithy-Protocol %q, Content-Type %q", r.Header.Get("Smithy-Protocol"), r.Header.Get("Content-Type"))
	}
	var body io.Reader = r.Body
	gzipped := false
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("gzip: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, gzipped = zr, true
	default:
		t.Errorf("Content-Encoding %q", enc)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		t.Errorf("read body: %v", err)
	}
	req := decodePut(t, raw)
	req.gzipped, req.size = gzipped, len(raw)

	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	n := len(s.reqs)
	s.mu.Unlock()

	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	if s.fail != nil {
		if status, code := s.fail(n); status != 0 {
			w.WriteHeader(status)
			_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + code), "message": cbor.String("test failure")}))
			return
		}
	}
	_, _ = w.Write(cbor.Encode(cbor.Map{}))
}

func decodePut(t *testing.T, raw []byte) putRequest {
	t.Helper()
	v, err := cbor.Decode(raw)
	if err != nil {
		t.Fatalf("CBOR: %v", err)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		t.Fatalf("body is %T, want a map", v)
	}
	var req putRequest
	for k, v := range m {
		switch k {
		case "Namespace":
			req.namespace = str(t, v)
		case "MetricData":
			list, ok := v.(cbor.List)
			if !ok {
				t.Fatalf("MetricData is %T", v)
			}
			for _, item := range list {
				dm, ok := item.(cbor.Map)
				if !ok {
					t.Fatalf("datum is %T", item)
				}
				req.data = append(req.data, decodeDatum(t, dm))
			}
		default:
			t.Errorf("unexpected member %s", k)
		}
	}
	return req
}

func decodeDatum(t *testing.T, m cbor.Map) putDatum {
	t.Helper()
	var d putDatum
	for k, v := range m {
		var err error
		switch k {
		case "MetricName":
			d.name = str(t, v)
		case "Unit":
			d.unit = str(t, v)
		case "Value":
			d.value, err = cbor.AsFloat64(v)
		case "Timestamp":
			d.timestamp, err = cbor.AsTime(v)
		case "Dimensions":
			d.dimensions = map[string]string{}
			list, _ := v.(cbor.List)
			for _, item := range list {
				dim, _ := item.(cbor.Map)
				d.dimensions[str(t, dim["Name"])] = str(t, dim["Value"])
			}
		default:
			t.Errorf("unexpected datum member %s", k)
		}
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	return d
}

func str(t *testing.T, v cbor.Value) string {
	t.Helper()
	s, ok := v.(cbor.String)
	if !ok {
		t.Fatalf("%v is %T, want a string", v, v)
	}
	return string(s)
}

// key names a datum like the EMF tests do: "Name" or "Name{Dim=value}".
func (d putDatum) key() string {
	if len(d.dimensions) == 0 {
		return d.name
	}
	var parts []string
	for k, v := range d.dimensions {
		parts = append(parts, k+"="+v)
	}
	return d.name + "{" + strings.Join(parts, ",") + "}"
}

func newCloudWatch(t *testing.T, cfg metrics.Config, fail func(int) (int, string)) (*Recorder, *cloudWatchServer) {
	t.Helper()
	srv := &cloudWatchServer{t: t, fail: fail}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := awscw.New(awscw.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:     aws.String(ts.URL),
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig sets (cloudwatch.New alone would gzip every body).
		RequestMinCompressSizeBytes: 10 << 10,
	})
	if cfg.Now == nil {
		cfg.Now = clock
	}
	c, err := New(client, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// TestCloudWatchSameAsEMF checks names, values, units and dimensions against what the EMF
// recorder publishes for the same call.
func TestCloudWatchSameAsEMF(t *testing.T) {
	st := sampleStats()
	st.Alerts = map[string]int64{detector.RuleReadSpike: 2, detector.RuleUnexpectedPrincipal: 5}
	st.SecretReads = map[string]int64{"prod/db": 50, "other": 1}
	cfg := metrics.Config{Namespace: "SecretWatch/test", Secrets: []string{"prod/db"}}
	c, srv := newCloudWatch(t, cfg, nil)
	if err := c.RecordMetrics(t.Context(), st, 1, 2500*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if len(srv.reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(srv.reqs))
	}
	req := srv.reqs[0]
	if req.namespace != "SecretWatch/test" || req.gzipped {
		t.Errorf("namespace %q, gzipped %v", req.namespace, req.gzipped)
	}
	_, want := record(t, cfg, st, 1, 2500*time.Microsecond)
	got := series{}
	for _, d := range req.data {
		if !d.timestamp.Equal(testNow.Truncate(time.Millisecond)) {
			t.Errorf("%s: timestamp %v, want %v", d.key(), d.timestamp, testNow)
		}
		got[d.key()] = point{d.value, d.unit}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("PutMetricData and EMF differ:\n cw %v\nemf %v", got, want)
	}
	if got["ProcessingLatency"] != (point{2.5, "Milliseconds"}) || got["Alerts{Rule=unexpected-principal}"] != (point{5, "Count"}) ||
		got["SecretReads{Secret=prod/db}"] != (point{50, "Count"}) {
		t.Errorf("unexpected values: %v", got)
	}
}

// TestCloudWatchBatching publishes 1,508 data (the 8 dimensionless ones and 1,500 configured
// secrets): two requests, the first with the maximum of 1,000, gzip'd by the SDK.
func TestCloudWatchBatching(t *testing.T) {
	st := detector.Stats{SecretReads: map[string]int64{}}
	var names []string
	for i := range 1500 {
		name := fmt.Sprintf("team-%02d/service-%04d/database-password", i%20, i)
		names = append(names, name)
		st.SecretReads[name] = int64(i + 1)
	}
	c, srv := newCloudWatch(t, metrics.Config{Secrets: names}, nil)
	if err := c.RecordMetrics(t.Context(), st, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	if len(srv.reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(srv.reqs))
	}
	if n0, n1 := len(srv.reqs[0].data), len(srv.reqs[1].data); n0 != MaxDatumsPerRequest || n1 != 508 {
		t.Errorf("batches of %d and %d, want 1000 and 508", n0, n1)
	}
	seen := map[string]float64{}
	for _, r := range srv.reqs {
		if !r.gzipped {
			t.Errorf("request of %d bytes not gzip'd", r.size)
		}
		if r.size > 1<<20 {
			t.Errorf("request of %d bytes is over 1 MB", r.size)
		}
		for _, d := range r.data {
			if _, dup := seen[d.key()]; dup {
				t.Errorf("%s sent twice", d.key())
			}
			seen[d.key()] = d.value
		}
	}
	for i, name := range names {
		if v := seen["SecretReads{Secret="+name+"}"]; v != float64(i+1) {
			t.Fatalf("%s = %v, want %d", name, v, i+1)
		}
	}
}

// TestCloudWatchRequestSize fills data with the longest dimension values: the byte bound, not
// the count, splits them, and no request exceeds 1 MB.
func TestCloudWatchRequestSize(t *testing.T) {
	st := detector.Stats{SecretReads: map[string]int64{}}
	var names []string
	for i := range 1990 {
		name := fmt.Sprintf("%04d-", i) + strings.Repeat("s", metrics.MaxDimensionValue-5)
		names = append(names, name)
		st.SecretReads[name] = 1
	}
	c, srv := newCloudWatch(t, metrics.Config{Secrets: names}, nil)
	if err := c.RecordMetrics(t.Context(), st, 0, 0); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range srv.reqs {
		total += len(r.data)
		if r.size > 1<<20 || len(r.data) > MaxDatumsPerRequest {
			t.Errorf("request of %d data, %d bytes", len(r.data), r.size)
		}
	}
	for _, r := range srv.reqs {
		t.Logf("request: %d data, %d bytes", len(r.data), r.size)
	}
	if total != 8+1990 || len(srv.reqs) < 3 {
		t.Errorf("%d data in %d requests, want 1998 in at least 3", total, len(srv.reqs))
	}
}

func TestBatches(t *testing.T) {
	mk := func(n int) []metrics.Datum {
		d := make([]metrics.Datum, n)
		for i := range d {
			d[i] = metrics.Datum{Name: "M", Unit: metrics.UnitCount}
		}
		return d
	}
	size := datumSize(metrics.Datum{Name: "M", Unit: metrics.UnitCount})
	for _, tc := range []struct {
		n, maxCount, maxBytes int
		want                  []int
	}{
		{0, 1000, 1 << 20, nil},
		{1, 1000, 1 << 20, []int{1}},
		{1000, 1000, 1 << 20, []int{1000}},
		{1001, 1000, 1 << 20, []int{1000, 1}},
		{2500, 1000, 1 << 20, []int{1000, 1000, 500}},
		{10, 1000, 3 * size, []int{3, 3, 3, 1}},
		{2, 1000, size / 2, []int{1, 1}}, // a datum larger than the bound still goes, alone
	} {
		var got []int
		for _, b := range batches(mk(tc.n), tc.maxCount, tc.maxBytes) {
			got = append(got, len(b))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("batches(%d, %d, %d) = %v, want %v", tc.n, tc.maxCount, tc.maxBytes, got, tc.want)
		}
	}
}

func TestCloudWatchErrors(t *testing.T) {
	st := detector.Stats{SecretReads: map[string]int64{}}
	var names []string
	for i := range 1200 {
		names = append(names, fmt.Sprint("s", i))
		st.SecretReads[names[i]] = 1
	}
	// The first of two requests fails: the second is still sent, the error names the first.
	c, srv := newCloudWatch(t, metrics.Config{Secrets: names}, func(n int) (int, string) {
		if n == 1 {
			return http.StatusBadRequest, "InvalidParameterValueException"
		}
		return 0, ""
	})
	err := c.RecordMetrics(t.Context(), st, 0, 0)
	if len(srv.reqs) != 2 {
		t.Errorf("%d requests, want 2", len(srv.reqs))
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidParameterValueException" {
		t.Fatalf("error %v does not wrap the API error", err)
	}
	if !strings.Contains(err.Error(), "request 1 of 2") {
		t.Errorf("error does not say which request failed: %v", err)
	}

	// Throttling comes back (after the SDK's retries, one attempt here) as an error.
	c, _ = newCloudWatch(t, metrics.Config{}, func(int) (int, string) { return http.StatusBadRequest, "Throttling" })
	if err := c.RecordMetrics(t.Context(), sampleStats(), 0, 0); err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Errorf("throttled: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c, _ = newCloudWatch(t, metrics.Config{}, nil)
	if err := c.RecordMetrics(ctx, sampleStats(), 0, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestNew(t *testing.T) {
	client := awscw.New(awscw.Options{Region: "us-east-1"})
	if _, err := New(nil, metrics.Config{}, nil); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := New(client, metrics.Config{Namespace: "AWS/EC2"}, nil); err == nil {
		t.Error("AWS/ namespace accepted")
	}
	var logs bytes.Buffer
	c, _ := newCloudWatch(t, metrics.Config{}, nil)
	c.logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := c.RecordMetrics(t.Context(), sampleStats(), 0, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "datums=8") {
		t.Errorf("log: %s", logs.String())
	}
}

// Helpers shared with the EMF tests' way of naming series: "Name" or "Name{Dim=value}".

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

func clock() time.Time { return testNow }

type series map[string]point

type point struct {
	value float64
	unit  string
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

// record returns the series the EMF recorder writes for the same call (the EMF tests check
// those documents against the specification; here they are only read).
func record(t *testing.T, cfg metrics.Config, st detector.Stats, storeErrors int64, latency time.Duration) ([]string, series) {
	t.Helper()
	var buf bytes.Buffer
	if cfg.Now == nil {
		cfg.Now = clock
	}
	e, err := metrics.NewEMF(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.RecordMetrics(t.Context(), st, storeErrors, latency); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	all := series{}
	for _, l := range lines {
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("EMF line: %v", err)
		}
		var meta struct {
			CloudWatchMetrics []struct {
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		b, _ := json.Marshal(doc["_aws"])
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatalf("EMF _aws: %v", err)
		}
		for _, d := range meta.CloudWatchMetrics {
			for _, set := range d.Dimensions {
				var dims []string
				for _, k := range set {
					dims = append(dims, k+"="+fmt.Sprint(doc[k]))
				}
				for _, m := range d.Metrics {
					key := m.Name
					if len(dims) > 0 {
						key += "{" + strings.Join(dims, ",") + "}"
					}
					v, _ := doc[m.Name].(float64)
					all[key] = point{v, m.Unit}
				}
			}
		}
	}
	return lines, all
}
