package main

import (
	"bytes"
	"fmt"
	"github.com/secretwatch/secretwatch/internal/goawstest"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/internal/cli"
	"github.com/secretwatch/secretwatch/internal/testenv"
)

const stratus = "../../testdata/detector/stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"

// stratusAlerts is what the capture raises with an empty allow-list: one unexpected-principal
// alert per secret (20) and one bulk-retrieval (20 distinct secrets in 10 minutes).
const stratusAlerts = 21

// Backfill: replay real records into a DynamoDB table (dynalite), alerts to an SNS topic (goaws)
// and metrics to CloudWatch (decoded in an httptest server, no stand-in exists). A second replay
// changes nothing and pages nobody.
func TestReplayToAWSTargets(t *testing.T) {
	ddb, snsEP := os.Getenv("SECRETWATCH_TEST_DYNAMODB"), os.Getenv("SECRETWATCH_TEST_SNS")
	if ddb == "" || snsEP == "" {
		testenv.Unavailable(t, "SECRETWATCH_TEST_DYNAMODB and SECRETWATCH_TEST_SNS are not set: run through scripts/test.sh (it starts dynalite and goaws)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	ctx := t.Context()
	suffix := fmt.Sprint(time.Now().UnixNano())

	g := goawstest.New(t, snsEP, "backfill")
	queue := g.Queue(t, "backfill", map[string]string{"RawMessageDelivery": "true"})

	var cwRequests atomic.Int64
	cw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/operation/PutMetricData") {
			cwRequests.Add(1)
		}
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		w.Write([]byte{0xa0}) // an empty CBOR map
	}))
	defer cw.Close()

	allow := t.TempDir() + "/allow.yaml"
	if err := os.WriteFile(allow, []byte("version: 1\ndefaults:\n  allow: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"replay", "--config", allow, "--format", "json",
		"--dynamodb-table", "backfill-" + suffix, "--create-table", "--dynamodb-endpoint", ddb,
		"--sns-topic-arn", g.TopicARN, "--sns-endpoint", snsEP,
		"--cloudwatch-namespace", "SecretWatchTest", "--cloudwatch-endpoint", cw.URL, stratus}
	replay := func() (string, string) {
		var o, e bytes.Buffer
		if err := cli.Run(ctx, args, strings.NewReader(""), &o, &e, cli.WithRemote(&remote{stderr: &e})); err != nil {
			t.Fatalf("replay: %v\n%s", err, e.String())
		}
		return o.String(), e.String()
	}
	out, sum := replay()
	// One unexpected-principal alert per secret (20) and one bulk-retrieval (20 distinct secrets
	// in 10 minutes).
	if n := strings.Count(out, "\n"); n != stratusAlerts {
		t.Fatalf("%d alerts on stdout, want %d\n%s", n, stratusAlerts, sum)
	}
	received := map[string]bool{}
	for _, msg := range goawstest.Drain(t, g.SQS, stratusAlerts, queue)[0] {
		a, err := alerts.ParseMessage(aws.ToString(msg.Body))
		if err != nil {
			t.Fatalf("alert message: %v", err)
		}
		received[a.Rule+"|"+a.Secret] = true
	}
	if len(received) != stratusAlerts {
		t.Errorf("%d distinct alerts arrived through SNS, want %d", len(received), stratusAlerts)
	}
	if cwRequests.Load() == 0 {
		t.Error("no PutMetricData request reached CloudWatch")
	}

	out, sum = replay()
	if out != "" || !strings.Contains(sum, "0 new, 0 denied, 20 duplicates") {
		t.Errorf("second replay: alerts %q\n%s", out, sum)
	}
	if again := goawstest.Drain(t, g.SQS, 0, queue)[0]; len(again) != 0 {
		t.Errorf("second replay paged again: %d messages", len(again))
	}
}
