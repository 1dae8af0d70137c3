// Package sns publishes secretwatch alerts to an SNS topic (the on-call engineer's pager).
// The message format is alerts.Message; see the alerts package documentation for why it is a plain
// String message with attributes.
package sns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/detector"
)

// Log attribute keys.
const (
	logKeyRule      = "rule"
	logKeySeverity  = "severity"
	logKeySecret    = "secret"
	logKeyPrincipal = "principal"
	logKeyCount     = "count"
	logKeyTopic     = "topicArn"
	logKeyMessageID = "messageId"
	logKeyBytes     = "bytes"
	logKeyError     = "error"
)

// ErrRejected marks a publish that SNS refused for a reason a plain retry will not fix: no
// permission, no such topic, a KMS key that is disabled, a parameter it finds invalid even in
// the fallback form. Notify still returns such errors (an alert must not be dropped silently;
// the invocation fails, is retried and ends in the dead-letter queue); test with errors.Is to
// tell a configuration problem from an outage. Throttling, 5xx and network errors do not
// carry it.
var ErrRejected = errors.New("rejected by SNS")

// snsPublishAPI is the part of *awssns.Client the publisher uses.
type snsPublishAPI interface {
	Publish(ctx context.Context, in *awssns.PublishInput, optFns ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

// Publisher is a [detector.Notifier] that publishes each alert to an SNS topic as a
// [Message]: plain String message structure, the subject of [Subject], a body holding the human
// text and the alert as a last JSON line, and String message attributes rule, severity, secret
// and account for subscription filter policies. See the package documentation for why.
type Publisher struct {
	client   snsPublishAPI
	topicARN string
	logger   *slog.Logger
}

var _ detector.Notifier = (*Publisher)(nil)

// New returns a publisher to the standard (not FIFO) topic topicARN through client
// (an *awssns.Client). A nil logger discards.
func New(client snsPublishAPI, topicARN string, logger *slog.Logger) (*Publisher, error) {
	if client == nil {
		return nil, errors.New("alerts: sns publisher: nil client")
	}
	if !strings.HasPrefix(topicARN, "arn:") || !strings.Contains(topicARN, ":sns:") {
		return nil, fmt.Errorf("alerts: sns publisher: topic %q is not an SNS topic ARN", topicARN)
	}
	if strings.HasSuffix(topicARN, ".fifo") {
		return nil, fmt.Errorf("alerts: sns publisher: topic %q is a FIFO topic; alerts go to a standard topic (email, SMS and HTTPS subscribers need one)", topicARN)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Publisher{client: client, topicARN: topicARN, logger: logger}, nil
}

// Notify publishes a. If SNS rejects the message as invalid, it publishes once more in a
// conservative fallback form (ASCII only, fixed subject, the contract's two attributes) and
// logs a warning; an error means the alert was not delivered: transient errors (throttling,
// 5xx, network, ctx) are returned wrapped, permanent ones wrapped with [ErrRejected] too.
func (p *Publisher) Notify(ctx context.Context, a *detector.Alert) error {
	if a == nil {
		return fmt.Errorf("alerts: sns publish: %w", errors.New("nil alert"))
	}
	m, err := alerts.NewMessage(a)
	if err != nil {
		return fmt.Errorf("alerts: sns publish %s: %w: %w", alerts.Clean(a.Key()), ErrRejected, err)
	}
	out, err := p.client.Publish(ctx, p.input(m))
	if err == nil {
		p.logger.DebugContext(ctx, "alert published", p.attrs(a, out, len(m.Body))...)
		return nil
	}
	if !invalidParameter(err) {
		return p.wrap(a, err, err)
	}

	fb := alerts.FallbackMessage(a)
	out, fbErr := p.client.Publish(ctx, p.input(fb))
	if fbErr != nil {
		// The fallback's error decides: if it was throttled, a retry may deliver.
		return p.wrap(a, fbErr, fmt.Errorf("%w; fallback message: %w", err, fbErr))
	}
	p.logger.WarnContext(ctx, "alert published in fallback form after SNS rejected the full message",
		append(p.attrs(a, out, len(fb.Body)), slog.String(logKeyError, err.Error()))...)
	return nil
}

func (p *Publisher) input(m alerts.Message) *awssns.PublishInput {
	in := &awssns.PublishInput{
		TopicArn: aws.String(p.topicARN),
		Subject:  aws.String(m.Subject),
		Message:  aws.String(m.Body),
	}
	if len(m.Attributes) > 0 {
		in.MessageAttributes = make(map[string]types.MessageAttributeValue, len(m.Attributes))
		for k, v := range m.Attributes {
			in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	return in
}

func (p *Publisher) attrs(a *detector.Alert, out *awssns.PublishOutput, size int) []any {
	id := ""
	if out != nil {
		id = aws.ToString(out.MessageId)
	}
	return []any{
		slog.String(logKeyRule, a.Rule),
		slog.String(logKeySeverity, a.Severity),
		slog.String(logKeySecret, a.Secret),
		slog.String(logKeyPrincipal, a.Principal),
		slog.Int64(logKeyCount, a.Count),
		slog.String(logKeyTopic, p.topicARN),
		slog.String(logKeyMessageID, id),
		slog.Int(logKeyBytes, size),
	}
}

// wrap wraps err, adding ErrRejected unless last (the error of the last attempt) is transient.
func (p *Publisher) wrap(a *detector.Alert, last, err error) error {
	if transient(last) {
		return fmt.Errorf("alerts: sns publish %s to %s: %w", alerts.Clean(a.Key()), p.topicARN, err)
	}
	return fmt.Errorf("alerts: sns publish %s to %s: %w: %w", alerts.Clean(a.Key()), p.topicARN, ErrRejected, err)
}

// transient reports whether err is worth retrying as it is: throttling, a 5xx, a network
// error, a cancelled or expired context. Any other API error (4xx) is permanent.
func transient(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return true
	}
	switch apiErr.ErrorCode() {
	case "Throttled", "Throttling", "ThrottlingException", "RequestLimitExceeded", "KMSThrottling",
		"InternalError", "InternalFailure", "ServiceUnavailable", "RequestTimeout":
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		code := status.HTTPStatusCode()
		return code == 429 || code >= 500
	}
	return apiErr.ErrorFault() != smithy.FaultClient
}

// invalidParameter reports whether SNS refused the request's content, which a different
// message may fix.
func invalidParameter(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "InvalidParameter", "ParameterValueInvalid", "ValidationException", "ValidationError":
		return true
	}
	return false
}
