package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/secretwatch/secretwatch/detector"
)

// SNS message attribute names set on every published alert (see the package documentation).
const (
	AttrRule     = "rule"     // detector.Rule*; the contract's attribute
	AttrSeverity = "severity" // critical, high, medium, low; the contract's attribute
	AttrSecret   = "secret"   // the secret's name
	AttrAccount  = "account"  // the account that owns the secret
)

// MaxMessageBytes is SNS's limit for one message: body plus message attributes (names, data
// types and values), 256 KiB.
const MaxMessageBytes = 256 * 1024

// messageBudget is what a message is kept under: half of [MaxMessageBytes], so that the copy SNS
// delivers to an SQS queue or HTTPS endpoint inside its JSON envelope (which escapes every
// newline and quote of the body, and adds its own fields) fits as well. A real alert is a few
// KiB; only an alert with absurdly long fields is ever shortened.
const messageBudget = MaxMessageBytes / 2

// maxAttrValue bounds one message attribute value (bytes).
const maxAttrValue = 256

// JSONMarker is the line between the human text and the JSON line in a message body.
const JSONMarker = "-- the same alert as JSON (one line) --"

const clipMarker = "...[truncated]"

// Message is what [github.com/secretwatch/secretwatch/alerts/sns.Publisher] publishes for one alert.
type Message struct {
	Subject    string            // [Subject]
	Body       string            // the human text, JSONMarker, and the alert as one JSON line, last
	Attributes map[string]string // String message attributes, empty values left out
}

// NewMessage builds the SNS message for a. The body is the human form ([Render]), then a line
// holding [JSONMarker], then the alert as one line of JSON ([JSONLine]) with no newline after
// it, so a machine finds the JSON as the body's last line ([ParseMessage]). Body and attributes
// together stay under half of [MaxMessageBytes]: if they would not, every string of the alert is
// clipped (at a UTF-8 boundary, marked "...[truncated]") in both forms, more and more tightly,
// so the JSON stays valid.
func NewMessage(a *detector.Alert) (Message, error) {
	if a == nil {
		return Message{}, fmt.Errorf("alerts: message: %w", errNilAlert)
	}
	m := Message{Subject: Subject(a), Attributes: attributes(a)}
	attrBytes := 0
	for k, v := range m.Attributes {
		attrBytes += len(k) + len("String") + len(v)
	}
	budget := messageBudget - attrBytes
	for _, limit := range []int{0, 8 << 10, 2 << 10, 512, 128} {
		c := a
		if limit > 0 {
			c = clipAlert(a, limit)
		}
		line, err := marshalLine(c)
		if err != nil {
			return Message{}, err
		}
		text := Render(c)
		js := strings.TrimRight(string(line), "\n")
		if len(text)+len(JSONMarker)+len(js)+2 <= budget || limit == 128 {
			room := budget - len(JSONMarker) - len(js) - 2
			if len(text) > room { // cannot happen with fields of 128 bytes; kept as a guarantee
				text = truncateUTF8(text, room-len(clipMarker)-1) + clipMarker + "\n"
			}
			m.Body = text + "\n" + JSONMarker + "\n" + js
			return m, nil
		}
	}
	return m, nil // not reached: the last limit always returns
}

// ParseMessage returns the alert carried by the body of a message built by [NewMessage]: the
// JSON object on its last line. A subscriber (an SQS consumer, a Lambda, a SIEM pipeline)
// uses this, or the same one-liner in its own language.
func ParseMessage(body string) (*detector.Alert, error) {
	body = strings.TrimRight(body, "\r\n ")
	line := body[strings.LastIndexByte(body, '\n')+1:]
	var a detector.Alert
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		return nil, fmt.Errorf("alerts: parse message: last line: %w", err)
	}
	if a.Rule == "" {
		return nil, errors.New("alerts: parse message: last line is not an alert (no rule)")
	}
	return &a, nil
}

// attributes returns the message attributes of a: printable ASCII, bounded, none empty (SNS
// rejects empty values).
func attributes(a *detector.Alert) map[string]string {
	attrs := map[string]string{}
	for k, v := range map[string]string{
		AttrRule:     a.Rule,
		AttrSeverity: strings.ToLower(a.Severity),
		AttrSecret:   secretName(a),
		AttrAccount:  a.Account,
	} {
		if v = clipUTF8(asciiLine(v), maxAttrValue, ""); v != "" {
			attrs[k] = v
		}
	}
	return attrs
}

// clipAlert returns a copy of a with every string clipped to limit bytes and every list cut to
// the bounds of detector.Alert.Merge.
func clipAlert(a *detector.Alert, limit int) *detector.Alert {
	c := *a
	for _, p := range []*string{
		&c.Rule, &c.Severity, &c.Secret, &c.SecretName, &c.SecretARN, &c.Principal,
		&c.PrincipalType, &c.Session, &c.Account, &c.Region, &c.Reason, &c.NextStep,
	} {
		*p = clipUTF8(*p, limit, clipMarker)
	}
	c.EventIDs = clipAll(c.EventIDs, detector.MaxAlertEventIDs, limit)
	c.SourceIPs = clipAll(c.SourceIPs, detector.MaxAlertValues, limit)
	c.UserAgents = clipAll(c.UserAgents, detector.MaxAlertValues, limit)
	c.VPCEndpointIDs = clipAll(c.VPCEndpointIDs, detector.MaxAlertValues, limit)
	return &c
}

// clipAll returns the first n values of s, each clipped to limit bytes.
func clipAll(s []string, n, limit int) []string {
	if s == nil {
		return nil
	}
	out := make([]string, min(len(s), n))
	for i := range out {
		out[i] = clipUTF8(s[i], limit, clipMarker)
	}
	return out
}
