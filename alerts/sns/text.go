package sns

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNS limits: a subject of at most 100 ASCII characters without line breaks, a message of at
// most 256 KB.
const (
	maxSubject  = 100
	maxTextBody = 250 << 10
)

// PublishText publishes a plain-text message (the weekly report's summary) to the topic, as
// email subscribers read it. The subject is reduced to printable ASCII and cut to 100
// characters; a body over 250 KB is cut on a UTF-8 boundary. attrs become String message
// attributes (e.g. rule=weekly-report, so that a subscriber parsing alerts can filter it out).
// Errors are wrapped, with ErrRejected when a retry cannot help.
func (p *Publisher) PublishText(ctx context.Context, subject, body string, attrs map[string]string) error {
	subject = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, subject)
	subject = strings.TrimSpace(subject[:min(len(subject), maxSubject)])
	if subject == "" {
		subject = "secretwatch"
	}
	if len(body) > maxTextBody {
		i := maxTextBody
		for i > 0 && !utf8.RuneStart(body[i]) {
			i--
		}
		body = body[:i]
	}
	in := &awssns.PublishInput{TopicArn: aws.String(p.topicARN), Subject: aws.String(subject), Message: aws.String(body)}
	if len(attrs) > 0 {
		in.MessageAttributes = make(map[string]types.MessageAttributeValue, len(attrs))
		for k, v := range attrs {
			in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	out, err := p.client.Publish(ctx, in)
	if err != nil {
		if transient(err) {
			return fmt.Errorf("alerts: sns publish text to %s: %w", p.topicARN, err)
		}
		return fmt.Errorf("alerts: sns publish text to %s: %w: %w", p.topicARN, ErrRejected, err)
	}
	p.logger.DebugContext(ctx, "text published", slog.String(logKeyTopic, p.topicARN),
		slog.String(logKeyMessageID, aws.ToString(out.MessageId)), slog.Int(logKeyBytes, len(body)))
	return nil
}
