package scenario

import (
	"encoding/json"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// wireRecord is a record as CloudTrail writes it: its field order, absent fields left out, and
// tlsDetails (which cloudtrail.Record does not model). A test decodes every written record back
// into cloudtrail.Record and compares it with the record it came from, so nothing is lost here.
type wireRecord struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        *wireIdentity   `json:"userIdentity,omitempty"`
	EventTime           cloudtrail.Time `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            *bool           `json:"readOnly,omitempty"`
	Resources           []wireResource  `json:"resources,omitempty"`
	EventType           string          `json:"eventType"`
	ManagementEvent     *bool           `json:"managementEvent,omitempty"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID,omitempty"`
	VPCEndpointID       string          `json:"vpcEndpointId,omitempty"`
	VPCEndpointAccount  string          `json:"vpcEndpointAccountId,omitempty"`
	EventCategory       string          `json:"eventCategory"`
	TLSDetails          *tlsDetails     `json:"tlsDetails,omitempty"`
}

type wireResource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

type wireIdentity struct {
	Type             string                 `json:"type"`
	PrincipalID      string                 `json:"principalId,omitempty"`
	ARN              string                 `json:"arn,omitempty"`
	AccountID        string                 `json:"accountId,omitempty"`
	AccessKeyID      string                 `json:"accessKeyId,omitempty"`
	UserName         string                 `json:"userName,omitempty"`
	SessionContext   *wireSessionContext    `json:"sessionContext,omitempty"`
	InvokedBy        string                 `json:"invokedBy,omitempty"`
	IdentityProvider string                 `json:"identityProvider,omitempty"`
	OnBehalfOf       *cloudtrail.OnBehalfOf `json:"onBehalfOf,omitempty"`
	CredentialID     string                 `json:"credentialId,omitempty"`
}

type wireSessionContext struct {
	SessionIssuer       *cloudtrail.SessionIssuer `json:"sessionIssuer,omitempty"`
	WebIDFederationData json.RawMessage           `json:"webIdFederationData,omitempty"`
	Attributes          struct {
		CreationDate     string `json:"creationDate"`
		MFAAuthenticated string `json:"mfaAuthenticated"`
	} `json:"attributes"`
	SourceIdentity string `json:"sourceIdentity,omitempty"`
}

func toWire(e *entry) wireRecord {
	r := &e.Record
	w := wireRecord{
		EventVersion:        r.EventVersion,
		EventTime:           r.EventTime,
		EventSource:         r.EventSource,
		EventName:           r.EventName,
		AWSRegion:           r.AWSRegion,
		SourceIPAddress:     r.SourceIPAddress,
		UserAgent:           r.UserAgent,
		ErrorCode:           r.ErrorCode,
		ErrorMessage:        r.ErrorMessage,
		RequestParameters:   r.RequestParameters,
		ResponseElements:    r.ResponseElements,
		AdditionalEventData: r.AdditionalEventData,
		RequestID:           r.RequestID,
		EventID:             r.EventID,
		ReadOnly:            r.ReadOnly,
		EventType:           r.EventType,
		ManagementEvent:     r.ManagementEvent,
		RecipientAccountID:  r.RecipientAccountID,
		SharedEventID:       r.SharedEventID,
		VPCEndpointID:       r.VPCEndpointID,
		VPCEndpointAccount:  r.VPCEndpointAccount,
		EventCategory:       r.EventCategory,
		TLSDetails:          e.TLS,
	}
	for _, res := range r.Resources {
		w.Resources = append(w.Resources, wireResource{AccountID: res.AccountID, Type: res.Type, ARN: res.ARN})
	}
	if u := r.UserIdentity; u != nil {
		wi := &wireIdentity{
			Type: u.Type, PrincipalID: u.PrincipalID, ARN: u.ARN, AccountID: u.AccountID, AccessKeyID: u.AccessKeyID,
			UserName: u.UserName, InvokedBy: u.InvokedBy, IdentityProvider: u.IdentityProvider, OnBehalfOf: u.OnBehalfOf,
			CredentialID: u.CredentialID,
		}
		if sc := u.SessionContext; sc != nil {
			wi.SessionContext = &wireSessionContext{SessionIssuer: sc.SessionIssuer, WebIDFederationData: sc.WebIDFederationData,
				Attributes: sc.Attributes, SourceIdentity: sc.SourceIdentity}
		}
		w.UserIdentity = wi
	}
	return w
}
