package detector

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

var fixedNow = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

func gsv(id string, at time.Time, params string) *cloudtrail.Record {
	return &cloudtrail.Record{
		EventID: id, EventTime: cloudtrail.Time{Time: at}, EventSource: "secretsmanager.amazonaws.com",
		EventName: "GetSecretValue", AWSRegion: "us-east-1", RecipientAccountID: "111122223333",
		SourceIPAddress: "10.0.0.1", UserAgent: "aws-sdk-go-v2",
		UserIdentity: &cloudtrail.UserIdentity{Type: "IAMUser", AccountID: "111122223333",
			ARN: "arn:aws:iam::111122223333:user/bob"},
		RequestParameters: json.RawMessage(params),
	}
}

// The read carries the report fields, each bounded, and no key carries a control character.
func TestNormaliseReadFields(t *testing.T) {
	n := NewNormaliser(clock, 0)
	rec := gsv("e1", fixedNow.Add(-time.Hour), `{"secretId":"arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbC123"}`)
	rec.UserAgent = strings.Repeat("é", 1000)
	rec.VPCEndpointID = "vpce-0abc\n[CRITICAL] all clear"
	ev, reason := n.Normalise(rec)
	if reason != "" {
		t.Fatal(reason)
	}
	r := ev.Read
	if r.SourceIP != "10.0.0.1" || r.PrincipalType != "IAMUser" || r.SecretARN != "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbC123" {
		t.Errorf("read %+v", r)
	}
	if len(r.UserAgent) > MaxFieldBytes || !strings.HasPrefix(r.UserAgent, "éé") || strings.ContainsRune(r.UserAgent, '\uFFFD') {
		t.Errorf("user agent not bounded on a rune boundary: %d bytes", len(r.UserAgent))
	}
	if strings.ContainsAny(r.VPCEndpointID, "\n\r") {
		t.Errorf("control character kept: %q", r.VPCEndpointID)
	}
	rec = gsv("e2", fixedNow.Add(-time.Hour), `{"secretId":"app/db\nforged"}`)
	rec.UserIdentity.ARN = "arn:aws:iam::111122223333:user/bob\x1b[31m"
	ev, _ = n.Normalise(rec)
	if strings.ContainsAny(ev.Read.Secret+ev.Read.Principal, "\n\x1b") {
		t.Errorf("keys keep control characters: %q %q", ev.Read.Secret, ev.Read.Principal)
	}
}

// Records dated after the wall clock plus the skew are refused with their own reason; a record
// inside the skew is accepted.
func TestNormaliseFutureDated(t *testing.T) {
	n := NewNormaliser(clock, 15*time.Minute)
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{fixedNow.Add(14 * time.Minute), ""},
		{fixedNow.Add(16 * time.Minute), SkipFutureDated},
		{time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), SkipFutureDated},
		{fixedNow.Add(-30 * 24 * time.Hour), ""},
	} {
		_, got := n.Normalise(gsv("e", tt.at, `{"secretId":"app/db"}`))
		if got != tt.want {
			t.Errorf("%s: reason %q, want %q", tt.at, got, tt.want)
		}
	}
}

func TestRuleRegistry(t *testing.T) {
	ids := RuleIDs()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] || id == "" || strings.ToLower(id) != id || strings.ContainsAny(id, " |") {
			t.Errorf("rule id %q: duplicate or not a lower-case token", id)
		}
		seen[id] = true
	}
	for _, want := range []string{RuleUnexpectedPrincipal, RuleFirstSeenPrincipal, RuleReadSpike} {
		if !seen[want] {
			t.Errorf("rule %s not registered", want)
		}
	}
	d, err := New(Config{AllowList: &AllowList{}}, storeFunc(nil))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range d.rules {
		if r.ID() != ids[i] {
			t.Errorf("rule %d: ID %q, registered as %q", i, r.ID(), ids[i])
		}
	}
}

type storeFunc func([]Read) (Recorded, error)

func (f storeFunc) Record(_ context.Context, rs []Read) (Recorded, error) {
	if f == nil {
		return Recorded{Fresh: make([]bool, len(rs))}, nil
	}
	return f(rs)
}
