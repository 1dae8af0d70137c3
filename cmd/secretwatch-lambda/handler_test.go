package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/metrics"
)

const stratusFile = "../../testdata/detector/stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"

// stratusEvents wraps the real Stratus records as EventBridge events.
func stratusEvents(t *testing.T) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(stratusFile)
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	out := make([]json.RawMessage, 0, len(recs))
	for i, r := range recs {
		var head struct {
			EventSource string `json:"eventSource"`
			Region      string `json:"awsRegion"`
			Account     string `json:"recipientAccountId"`
			Time        string `json:"eventTime"`
		}
		if err := json.Unmarshal(r, &head); err != nil {
			t.Fatal(err)
		}
		ev := map[string]any{
			"version": "0", "id": fmt.Sprintf("eb-%d", i), "detail-type": "AWS API Call via CloudTrail",
			"source": "aws." + strings.Split(head.EventSource, ".")[0], "account": head.Account,
			"time": head.Time, "region": head.Region, "resources": []string{}, "detail": r,
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

type recordingNotifier struct {
	mu     sync.Mutex
	alerts []*detector.Alert
	fail   error
}

func (n *recordingNotifier) Notify(_ context.Context, a *detector.Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	c := *a
	n.alerts = append(n.alerts, &c)
	return nil
}

// failingStore fails Record while fail is set, and otherwise delegates.
type failingStore struct {
	*baseline.MemoryStore
	fail bool
}

func (s *failingStore) Record(ctx context.Context, r []detector.Read) (detector.Recorded, error) {
	if s.fail {
		return detector.Recorded{}, errors.New("endpoint down")
	}
	return s.MemoryStore.Record(ctx, r)
}

func newTestHandler(t *testing.T) (*handler, *failingStore, *recordingNotifier, *bytes.Buffer) {
	t.Helper()
	al, _, err := detector.ParseAllowList("allow.yaml", []byte("version: 1\ndefaults:\n  allow: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := &failingStore{MemoryStore: baseline.NewMemoryStore(0)}
	det, err := detector.New(detector.Config{AllowList: al}, st)
	if err != nil {
		t.Fatal(err)
	}
	var emfOut bytes.Buffer
	emf, err := metrics.NewEMF(&emfOut, metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	n := &recordingNotifier{}
	return &handler{det: det, sup: st, notify: n, metrics: emf, log: slog.New(slog.DiscardHandler), now: time.Now}, st, n, &emfOut
}

func TestHandleEventBridgeOneByOne(t *testing.T) {
	h, _, n, emf := newTestHandler(t)
	evs := stratusEvents(t)
	for _, ev := range evs {
		if _, err := h.Handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	// Every event delivered a second time: nothing new.
	for _, ev := range evs {
		if _, err := h.Handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(n.alerts) != 21 { // 20 unexpected-principal, 1 bulk-retrieval (20 distinct secrets in 10 min)
		t.Fatalf("%d alerts, want 21", len(n.alerts))
	}
	// One EMF document per invocation, plus one for the invocation whose event raised alerts of
	// two rules (unexpected-principal and bulk-retrieval: one Rule dimension per document).
	if lines := strings.Count(emf.String(), "\n"); lines != 2*len(evs)+1 {
		t.Errorf("%d EMF lines, want one per invocation and one more (%d)", lines, 2*len(evs)+1)
	}
}

func TestHandleSQSBatch(t *testing.T) {
	h, st, n, _ := newTestHandler(t)
	evs := stratusEvents(t)
	var batch events.SQSEvent
	for i, ev := range evs {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: string(ev), EventSource: "aws:sqs"})
	}
	batch.Records = append(batch.Records,
		events.SQSMessage{MessageId: "bad-json", Body: `{"detail-type":`, EventSource: "aws:sqs"},
		events.SQSMessage{MessageId: "foreign", Body: `{"detail-type":"EC2 Instance State-change Notification","detail":{}}`, EventSource: "aws:sqs"})
	raw, _ := json.Marshal(batch)

	// The store is down: every message carrying a record is reported failed; bad ones are not.
	st.fail = true
	resp, err := h.Handle(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	failed := resp.(events.SQSEventResponse).BatchItemFailures
	if len(failed) != len(evs) {
		t.Fatalf("%d failures, want %d", len(failed), len(evs))
	}
	if len(n.alerts) != 0 {
		t.Fatal("alerts delivered although the store failed")
	}
	// Redelivery after the outage, twice: exact counts, one alert per secret.
	st.fail = false
	for range 2 {
		resp, err = h.Handle(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if f := resp.(events.SQSEventResponse).BatchItemFailures; len(f) != 0 {
			t.Fatalf("failures after recovery: %v", f)
		}
	}
	if len(n.alerts) != 21 { // 20 unexpected-principal, 1 bulk-retrieval (20 distinct secrets in 10 min)
		t.Fatalf("%d alerts, want 21", len(n.alerts))
	}
	s := st.Series(detector.SeriesKey{Secret: "903144391865/cn-centraleast-1r/stratus-red-team-retrieve-secret-3",
		Principal: "arn:aws:iam::903144391865:user/christophe"})
	if s == nil || s.Reads != 1 {
		t.Errorf("series after outage and redeliveries: %+v, want 1 read", s)
	}
}

// A delivery failure fails the invocation; the retry delivers the alert exactly once.
func TestHandleNotifyFailureRetried(t *testing.T) {
	h, _, n, _ := newTestHandler(t)
	ev := stratusEvents(t)[0]
	n.fail = errors.New("sns throttled")
	if _, err := h.Handle(t.Context(), ev); err == nil {
		t.Fatal("want the invocation to fail")
	}
	n.fail = nil
	for range 2 {
		if _, err := h.Handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(n.alerts) != 1 || n.alerts[0].Count != 1 {
		t.Fatalf("alerts after retry: %d (count %d), want exactly one with count 1", len(n.alerts), n.alerts[0].Count)
	}
}

func TestHandleMalformedEventIsSkipped(t *testing.T) {
	h, _, n, emf := newTestHandler(t)
	for _, body := range []string{`{"detail-type":"AWS API Call via CloudTrail","detail":"nope"}`, `[1,2]`, `{}`} {
		if _, err := h.Handle(t.Context(), json.RawMessage(body)); err != nil {
			t.Errorf("%s: malformed events are skipped, not retried: %v", body, err)
		}
	}
	if len(n.alerts) != 0 || !strings.Contains(emf.String(), `"ParseFailures":1`) {
		t.Errorf("alerts %d; EMF %s", len(n.alerts), emf.String())
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := loadConfig(env(map[string]string{
		envTable: "t", envTopicARN: "arn:aws:sns:us-east-1:111122223333:alerts", envTaskRoot: "/var/task",
		envMetricSecrets: "a, b", envSuppressWindow: "30m", envLogLevel: "debug",
		envEventRule: "sw-prod", envFunctionName: "sw-prod-fn",
	}))
	if err != nil {
		t.Fatal(err)
	}
	// monitor-tampering knows this deployment's own resources, not just the Terraform defaults.
	if m := c.Monitor; !slices.Equal(m.RuleNames, []string{"sw-prod"}) || !slices.Equal(m.FunctionNames, []string{"sw-prod-fn"}) ||
		!slices.Equal(m.TableNames, []string{"t"}) || !slices.Equal(m.TopicNames, []string{"alerts"}) {
		t.Errorf("monitor names %+v", m)
	}
	if c.AllowList != "/var/task/allowlist.yaml" || c.Namespace != "SecretWatch" || len(c.MetricSecrets) != 2 ||
		c.SuppressWindow != 30*time.Minute || c.LogLevel != slog.LevelDebug {
		t.Errorf("config %+v", c)
	}
	_, err = loadConfig(env(map[string]string{envTopicARN: "nope", envRetention: "1h", envLogLevel: "loud"}))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{envTable + " is required", envTopicARN + `="nope"`, envRetention, envLogLevel} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
