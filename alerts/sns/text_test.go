package sns

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/secretwatch/secretwatch/internal/goawstest"
)

func TestPublishTextGoaws(t *testing.T) {
	g := goawstest.New(t, goawsEndpoint(t), "secretwatch-text")
	raw := g.Queue(t, "raw", map[string]string{"RawMessageDelivery": "true"})
	p, err := New(g.SNS, g.TopicARN, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := "secretwatch weekly report: 2026-03-09 to 2026-03-15\nReads: 40\n"
	if err := p.PublishText(t.Context(), "secretwatch weekly report\n"+strings.Repeat("é", 200), body, map[string]string{"rule": "weekly-report"}); err != nil {
		t.Fatal(err)
	}
	msgs := goawstest.Drain(t, g.SQS, 1, raw)[0]
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != body {
		t.Fatalf("messages %d, body %q; want 1, %q", len(msgs), aws.ToString(msgs[0].Body), body)
	}
	if got := aws.ToString(msgs[0].MessageAttributes["rule"].StringValue); got != "weekly-report" {
		t.Errorf("rule attribute %q, want weekly-report", got)
	}
}
