package sns

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNS limits: a subject of at most 100 ASCII characters without line breaks, a message of at
// most 256 KB.
const (
	maxSubject  = 100
	maxTextBody = 250 << 10
)

// PublishText publishes a plain-text message (the weekly report's summary) to the topic, as
// email subscribers read it. The subject is reduced to printable ASCII and cut to 100
// characters; a body over 250 KB is cut on a UTF-8 boundary. Errors are wrapped, with
// ErrRejected when a retry cannot help.
func (p *Publisher) PublishText(ctx context.Context, subject, body string) error {
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
	out, err := p.client.Publish(ctx, &awssns.PublishInput{
		TopicArn: aws.String(p.topicARN), Subject: aws.String(subject), Message: aws.String(body),
	})
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
