package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

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

// snsPublishAPI is the part of *sns.Client the publisher uses.
type snsPublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSPublisher is a [detector.Notifier] that publishes each alert to an SNS topic as a
// [Message]: plain String message structure, the subject of [Subject], a body holding the human
// text and the alert as a last JSON line, and String message attributes rule, severity, secret
// and account for subscription filter policies. See the package documentation for why.
type SNSPublisher struct {
	client   snsPublishAPI
	topicARN string
	logger   *slog.Logger
}

var _ detector.Notifier = (*SNSPublisher)(nil)

// NewSNSPublisher returns a publisher to the standard (not FIFO) topic topicARN through client
// (an *sns.Client). A nil logger discards.
func NewSNSPublisher(client snsPublishAPI, topicARN string, logger *slog.Logger) (*SNSPublisher, error) {
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
	return &SNSPublisher{client: client, topicARN: topicARN, logger: logger}, nil
}

// Notify publishes a. If SNS rejects the message as invalid, it publishes once more in a
// conservative fallback form (ASCII only, fixed subject, the contract's two attributes) and
// logs a warning; an error means the alert was not delivered: transient errors (throttling,
// 5xx, network, ctx) are returned wrapped, permanent ones wrapped with [ErrRejected] too.
func (p *SNSPublisher) Notify(ctx context.Context, a *detector.Alert) error {
	if a == nil {
		return fmt.Errorf("alerts: sns publish: %w", errNilAlert)
	}
	m, err := NewMessage(a)
	if err != nil {
		return fmt.Errorf("alerts: sns publish %s: %w: %w", clean(a.Key()), ErrRejected, err)
	}
	out, err := p.client.Publish(ctx, p.input(m))
	if err == nil {
		p.logger.DebugContext(ctx, "alert published", p.attrs(a, out, len(m.Body))...)
		return nil
	}
	if !invalidParameter(err) {
		return p.wrap(a, err, err)
	}

	fb := fallbackMessage(a)
	out, fbErr := p.client.Publish(ctx, p.input(fb))
	if fbErr != nil {
		// The fallback's error decides: if it was throttled, a retry may deliver.
		return p.wrap(a, fbErr, fmt.Errorf("%w; fallback message: %w", err, fbErr))
	}
	p.logger.WarnContext(ctx, "alert published in fallback form after SNS rejected the full message",
		append(p.attrs(a, out, len(fb.Body)), slog.String(logKeyError, err.Error()))...)
	return nil
}

func (p *SNSPublisher) input(m Message) *sns.PublishInput {
	in := &sns.PublishInput{
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

func (p *SNSPublisher) attrs(a *detector.Alert, out *sns.PublishOutput, size int) []any {
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
func (p *SNSPublisher) wrap(a *detector.Alert, last, err error) error {
	if transient(last) {
		return fmt.Errorf("alerts: sns publish %s to %s: %w", clean(a.Key()), p.topicARN, err)
	}
	return fmt.Errorf("alerts: sns publish %s to %s: %w: %w", clean(a.Key()), p.topicARN, ErrRejected, err)
}

// fallbackMessage is the form published when SNS refused the full one: printable ASCII only
// (the JSON line escapes non-ASCII as \uXXXX), a subject from severity and rule alone, the
// body clipped to 64 KiB, and only the rule and severity attributes.
func fallbackMessage(a *detector.Alert) Message {
	full, err := NewMessage(clipAlert(a, 512))
	if err != nil {
		full = Message{Body: Render(a)}
	}
	text, js, _ := strings.Cut(full.Body, "\n"+JSONMarker+"\n")
	text = clipUTF8(asciiText(text), 64<<10, clipMarker)
	attrs := map[string]string{}
	for _, k := range []string{AttrRule, AttrSeverity} {
		if v, ok := full.Attributes[k]; ok {
			attrs[k] = v
		}
	}
	return Message{
		Subject:    "[" + strings.ToUpper(orDefault(asciiLine(a.Severity), "alert")) + "] secretwatch " + clipUTF8(asciiLine(a.Rule), 64, ""),
		Body:       text + "\n" + JSONMarker + "\n" + asciiJSON(js),
		Attributes: attrs,
	}
}

// asciiJSON escapes every non-ASCII rune of the JSON text js as \uXXXX (a surrogate pair above
// U+FFFF). Outside strings JSON is ASCII, so the result is the same JSON value.
func asciiJSON(js string) string {
	var b strings.Builder
	for _, r := range js {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
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
