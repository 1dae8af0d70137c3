// Package cloudtrail reads CloudTrail records in every shape users have them: log files as
// CloudTrail delivers them to S3 (gzip or plain), directory trees of those files, single records,
// JSON arrays, NDJSON and EventBridge events. Field names follow CloudTrail's spelling exactly.
// Polymorphic parts stay raw until a rule needs a typed view.
package cloudtrail

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Record is one CloudTrail event record.
type Record struct {
	EventVersion        string          `json:"eventVersion"`
	EventTime           Time            `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	EventID             string          `json:"eventID"`
	EventType           string          `json:"eventType"`
	EventCategory       string          `json:"eventCategory"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"` // an IP, or an AWS service's DNS name
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	RequestID           string          `json:"requestID"`
	ReadOnly            *bool           `json:"readOnly"`
	ManagementEvent     *bool           `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID"`
	VPCEndpointID       string          `json:"vpcEndpointId"`
	VPCEndpointAccount  string          `json:"vpcEndpointAccountId"`
	UserIdentity        *UserIdentity   `json:"userIdentity"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	Resources           []Resource      `json:"resources"`

	// SessionCredentialFromConsole is "true" (a string, or a boolean in some exports) when the
	// call used an AWS Management Console session.
	SessionCredentialFromConsole json.RawMessage `json:"sessionCredentialFromConsole"`
}

// Resource is an entry of Record.Resources.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	Type             string          `json:"type"`
	PrincipalID      string          `json:"principalId"`
	ARN              string          `json:"arn"`
	AccountID        string          `json:"accountId"`
	AccessKeyID      string          `json:"accessKeyId"`
	UserName         string          `json:"userName"`
	InvokedBy        string          `json:"invokedBy"`
	IdentityProvider string          `json:"identityProvider"`
	SessionContext   *SessionContext `json:"sessionContext"`
	OnBehalfOf       *OnBehalfOf     `json:"onBehalfOf"`
	CredentialID     string          `json:"credentialId"`
}

// SessionContext is userIdentity.sessionContext.
type SessionContext struct {
	SessionIssuer       *SessionIssuer  `json:"sessionIssuer"`
	WebIDFederationData json.RawMessage `json:"webIdFederationData"`
	Attributes          struct {
		CreationDate     string `json:"creationDate"`
		MFAAuthenticated string `json:"mfaAuthenticated"`
	} `json:"attributes"`
	SourceIdentity string `json:"sourceIdentity"`
}

// SessionIssuer is userIdentity.sessionContext.sessionIssuer.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// OnBehalfOf is userIdentity.onBehalfOf (IAM Identity Center users).
type OnBehalfOf struct {
	UserID           string `json:"userId"`
	IdentityStoreARN string `json:"identityStoreArn"`
}

// Time is CloudTrail's eventTime. It accepts RFC 3339 (what CloudTrail writes) and the
// "2006-01-02 15:04:05.000000000" form found in vendor test data (taken as UTC).
type Time struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
}

// ParseTime parses an eventTime value in any of the accepted forms.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cloudtrail: eventTime %q: not RFC 3339 nor \"2006-01-02 15:04:05.000000000\"", s)
}

// UnmarshalJSON implements json.Unmarshaler. null and "" leave the zero time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("cloudtrail: eventTime: %w", err)
	}
	if s == "" {
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON writes RFC 3339 with nanoseconds when present.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}
