package sns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/internal/alerttest"
	"github.com/secretwatch/secretwatch/internal/goawstest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/testenv"
)

const testTopicARN = "arn:aws:sns:us-east-1:100010001000:secretwatch-alerts"

func testSNSClient(endpoint string) *awssns.Client {
	return awssns.New(awssns.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1, // the test decides what is retried
	})
}

func TestNewSNSPublisher(t *testing.T) {
	c := testSNSClient("http://127.0.0.1:1")
	for _, arn := range []string{"", "secretwatch-alerts", "arn:aws:sqs:us-east-1:1:q", "arn:aws:sns:us-east-1:1:alerts.fifo"} {
		if _, err := New(c, arn, nil); err == nil {
			t.Errorf("topic %q accepted", arn)
		}
	}
	if _, err := New(nil, testTopicARN, nil); err == nil {
		t.Error("nil client accepted")
	}
	p, err := New(c, testTopicARN, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(t.Context(), nil); err == nil {
		t.Error("nil alert: no error")
	}
}

// snsServer answers SNS query-protocol Publish calls: with the given errors first (code and
// HTTP status), then with success. It records the form of every request.
type snsServer struct {
	mu       sync.Mutex
	failures []snsFailure
	requests []url.Values
}

type snsFailure struct {
	status int
	code   string
}

func (s *snsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, r.PostForm)
	var fail *snsFailure
	if len(s.failures) > 0 {
		fail = &s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if fail != nil {
		w.WriteHeader(fail.status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>`+
			`<Code>%s</Code><Message>test failure</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, fail.code)
		return
	}
	fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>`+
		`<MessageId>msg-1</MessageId></PublishResult><ResponseMetadata><RequestId>req-2</RequestId>`+
		`</ResponseMetadata></PublishResponse>`)
}

func TestSNSPublisherRequest(t *testing.T) {
	srv := &snsServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var logs bytes.Buffer
	p, err := New(testSNSClient(ts.URL), testTopicARN, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	a := alerttest.Storm()
	if err := p.Notify(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if len(srv.requests) != 1 {
		t.Fatalf("%d requests, want 1", len(srv.requests))
	}
	f := srv.requests[0]
	m, _ := alerts.NewMessage(a)
	for k, want := range map[string]string{
		"Action": "Publish", "TopicArn": testTopicARN, "Subject": m.Subject, "Message": m.Body, "MessageStructure": "",
	} {
		if got := f.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	attrs := map[string]string{}
	for i := 1; f.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i)) != ""; i++ {
		p := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		if dt := f.Get(p + "Value.DataType"); dt != "String" {
			t.Errorf("attribute %s has data type %q", f.Get(p+"Name"), dt)
		}
		attrs[f.Get(p+"Name")] = f.Get(p + "Value.StringValue")
	}
	if fmt.Sprint(attrs) != fmt.Sprint(m.Attributes) {
		t.Errorf("attributes %v, want %v", attrs, m.Attributes)
	}
	if !strings.Contains(logs.String(), `"messageId":"msg-1"`) {
		t.Errorf("publish not logged with its message ID: %s", logs.String())
	}
}

func TestSNSPublisherErrors(t *testing.T) {
	tests := []struct {
		name     string
		failures []snsFailure
		rejected bool
		requests int
		ok       bool // delivered (in the fallback form)
	}{
		{"throttled", []snsFailure{{400, "Throttled"}}, false, 1, false},
		{"kms throttled", []snsFailure{{400, "KMSThrottling"}}, false, 1, false},
		{"internal error", []snsFailure{{500, "InternalError"}}, false, 1, false},
		{"unavailable", []snsFailure{{503, "ServiceUnavailable"}}, false, 1, false},
		{"unknown 5xx", []snsFailure{{502, "BadGateway"}}, false, 1, false},
		{"too many requests", []snsFailure{{429, "TooManyRequests"}}, false, 1, false},
		{"not authorized", []snsFailure{{403, "AuthorizationError"}}, true, 1, false},
		{"no topic", []snsFailure{{404, "NotFound"}}, true, 1, false},
		{"kms disabled", []snsFailure{{400, "KMSDisabled"}}, true, 1, false},
		{"invalid, fallback delivered", []snsFailure{{400, "InvalidParameter"}}, false, 2, true},
		{"invalid twice", []snsFailure{{400, "InvalidParameter"}, {400, "InvalidParameter"}}, true, 2, false},
		{"invalid, fallback throttled", []snsFailure{{400, "InvalidParameter"}, {400, "Throttled"}}, false, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &snsServer{failures: tc.failures}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var logs bytes.Buffer
			p, err := New(testSNSClient(ts.URL), testTopicARN, slog.New(slog.NewJSONHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			a := alerttest.Hostile()
			err = p.Notify(t.Context(), a)
			if len(srv.requests) != tc.requests {
				t.Errorf("%d requests, want %d", len(srv.requests), tc.requests)
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("not delivered: %v", err)
				}
				fb := srv.requests[1]
				if got := fb.Get("Message"); strings.ContainsFunc(got, func(r rune) bool { return r > 0x7e }) {
					t.Errorf("fallback body is not ASCII")
				}
				if !strings.Contains(logs.String(), "fallback") || !strings.Contains(logs.String(), "InvalidParameter") {
					t.Errorf("fallback not logged: %s", logs.String())
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrRejected); got != tc.rejected {
				t.Errorf("errors.Is(err, ErrRejected) = %v, want %v: %v", got, tc.rejected, err)
			}
			if !strings.Contains(err.Error(), tc.failures[len(tc.failures)-1].code) || !strings.Contains(err.Error(), alerts.Clean(a.Key())) {
				t.Errorf("error lacks the code or the alert key: %v", err)
			}
			if logs.Len() != 0 {
				t.Errorf("logged and returned: %s", logs.String())
			}
		})
	}
}

func TestSNSPublisherTransport(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there any more
	p, err := New(testSNSClient(url), testTopicARN, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Notify(t.Context(), alerttest.Sparse()); err == nil || errors.Is(err, ErrRejected) {
		t.Errorf("connection refused: %v (want a transient error)", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Notify(ctx, alerttest.Sparse()); !errors.Is(err, context.Canceled) || errors.Is(err, ErrRejected) {
		t.Errorf("cancelled: %v", err)
	}
}

// The tests below run against goaws (see the package documentation) when SECRETWATCH_TEST_SNS
// names its endpoint.

func goawsEndpoint(t *testing.T) string {
	t.Helper()
	ep := os.Getenv("SECRETWATCH_TEST_SNS")
	if ep == "" {
		testenv.Unavailable(t, "SECRETWATCH_TEST_SNS is not set: start goaws (.ci/standins.sh does) and set it to its endpoint, e.g. http://127.0.0.1:4100, to run the SNS tests against it")
	}
	return ep
}

type goawsFixture struct {
	sns      *awssns.Client
	sqs      *sqs.Client
	topicARN string
	raw      string // queue URL: raw delivery
	envelope string // queue URL: SNS JSON envelope
	paging   string // queue URL: raw delivery, filter policy severity critical/high
}

func newGoaws(t *testing.T) *goawsFixture {
	g := goawstest.New(t, goawsEndpoint(t), "secretwatch-alerts")
	return &goawsFixture{
		sns: g.SNS, sqs: g.SQS, topicARN: g.TopicARN,
		raw:      g.Queue(t, "raw", map[string]string{"RawMessageDelivery": "true"}),
		envelope: g.Queue(t, "envelope", nil),
		paging:   g.Queue(t, "paging", map[string]string{"RawMessageDelivery": "true", "FilterPolicy": `{"severity":["critical","high"]}`}),
	}
}

// receive returns the messages of queue: want of them, and any beyond (see goawstest.Drain).
func (f *goawsFixture) receive(t *testing.T, queue string, want int) []sqstypes.Message {
	t.Helper()
	return goawstest.Drain(t, f.sqs, want, queue)[0]
}

func TestSNSPublisherGoaws(t *testing.T) {
	f := newGoaws(t)
	p, err := New(f.sns, f.topicARN, nil)
	if err != nil {
		t.Fatal(err)
	}
	critical := alerttest.Storm()
	low := alerttest.Sparse()
	for _, a := range []*detector.Alert{critical, low} {
		if err := p.Notify(t.Context(), a); err != nil {
			t.Fatalf("publish %s: %v", a.Severity, err)
		}
	}
	want := map[string]*detector.Alert{detector.SeverityCritical: critical, detector.SeverityLow: low}

	t.Run("raw delivery", func(t *testing.T) {
		msgs := f.receive(t, f.raw, 2)
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want 2", len(msgs))
		}
		for _, msg := range msgs {
			sev := msg.MessageAttributes[alerts.AttrSeverity]
			a := want[aws.ToString(sev.StringValue)]
			if a == nil || aws.ToString(sev.DataType) != "String" {
				t.Fatalf("severity attribute %+v", sev)
			}
			m, _ := alerts.NewMessage(a)
			if aws.ToString(msg.Body) != m.Body {
				t.Errorf("body differs from the published one:\n%s", aws.ToString(msg.Body))
			}
			for k, v := range m.Attributes {
				if got := aws.ToString(msg.MessageAttributes[k].StringValue); got != v {
					t.Errorf("attribute %s = %q, want %q", k, got, v)
				}
			}
			got, err := alerts.ParseMessage(aws.ToString(msg.Body))
			if err != nil || got.Count != a.Count || got.Principal != a.Principal {
				t.Errorf("parsed %+v, %v", got, err)
			}
		}
	})

	t.Run("envelope", func(t *testing.T) {
		msgs := f.receive(t, f.envelope, 2)
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want 2", len(msgs))
		}
		for _, msg := range msgs {
			var env struct {
				Type, Subject, Message, TopicArn string
				MessageAttributes                map[string]struct{ Type, Value string }
			}
			if err := json.Unmarshal([]byte(aws.ToString(msg.Body)), &env); err != nil {
				t.Fatalf("envelope: %v", err)
			}
			a := want[env.MessageAttributes[alerts.AttrSeverity].Value]
			if a == nil {
				t.Fatalf("envelope attributes %+v", env.MessageAttributes)
			}
			m, _ := alerts.NewMessage(a)
			if env.Type != "Notification" || env.TopicArn != f.topicARN || env.Subject != m.Subject || env.Message != m.Body {
				t.Errorf("envelope %+v does not carry the message", env)
			}
			if r := env.MessageAttributes[alerts.AttrRule]; r.Type != "String" || r.Value != a.Rule {
				t.Errorf("rule attribute %+v", r)
			}
		}
	})

	t.Run("filter policy on severity", func(t *testing.T) {
		msgs := f.receive(t, f.paging, 1)
		if len(msgs) != 1 {
			t.Fatalf("%d messages on the paging queue, want only the critical one", len(msgs))
		}
		if got := aws.ToString(msgs[0].MessageAttributes[alerts.AttrSeverity].StringValue); got != detector.SeverityCritical {
			t.Errorf("paged a %s alert", got)
		}
	})
}

func TestSNSPublisherGoawsHuge(t *testing.T) {
	f := newGoaws(t)
	p, err := New(f.sns, f.topicARN, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := alerttest.Storm()
	a.Reason = strings.Repeat("ü", 300_000)
	for i := range a.UserAgents {
		a.UserAgents[i] = strings.Repeat("x", 100_000)
	}
	if err := p.Notify(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	msgs := f.receive(t, f.raw, 1)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	body := aws.ToString(msgs[0].Body)
	if len(body) > alerts.MaxMessageBytes/2 {
		t.Errorf("delivered body of %d bytes", len(body))
	}
	if got, err := alerts.ParseMessage(body); err != nil || got.Count != a.Count {
		t.Errorf("parsed %+v, %v", got, err)
	}
}

func TestSNSPublisherGoawsNoTopic(t *testing.T) {
	ep := goawsEndpoint(t)
	p, err := New(testSNSClient(ep), "arn:aws:sns:us-east-1:100010001000:no-such-topic-"+fmt.Sprint(time.Now().UnixNano()), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Notify(t.Context(), alerttest.Sparse())
	if !errors.Is(err, ErrRejected) {
		t.Errorf("publish to a missing topic: %v (want ErrRejected)", err)
	}
	t.Logf("goaws answers a missing topic with: %v", err)
}
