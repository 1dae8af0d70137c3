package detector

import (
	"context"
	"encoding/json"
	"os"
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

// Denied calls logged with requestParameters null (written records, AWS's formats): the secret is
// recovered from errorMessage or resources; an unrecoverable one is still a denied attempt.
func TestNormaliseDeniedNullParameters(t *testing.T) {
	recs := loadRecords(t, "written/getsecretvalue-denied-null-params.json")
	n := NewNormaliser(clock, 0)
	want := []string{"111122223333/us-east-1/prod/db", "111122223333/us-east-1/prod/api-key", ""}
	for i, rec := range recs {
		ev, reason := n.Normalise(rec)
		if reason != "" {
			t.Fatalf("%s: skipped as %s", rec.EventID, reason)
		}
		if !ev.Denied || ev.Name != "GetSecretValue" {
			t.Errorf("%s: not a denied read: %+v", rec.EventID, ev)
		}
		if got := ev.Read.Secret; got != want[i] || ev.Recorded != (want[i] != "") {
			t.Errorf("%s: secret %q recorded %v, want %q", rec.EventID, got, ev.Recorded, want[i])
		}
	}
}

// All forms of a secret whose name ends in "-" and six characters land on one key once the
// plain name has been seen; a full ARN keeps AWS's rule.
func TestNormaliseSuffixAmbiguity(t *testing.T) {
	n := NewNormaliser(clock, 0)
	at := fixedNow.Add(-time.Hour)
	key := func(id string) SecretRef {
		ev, reason := n.Normalise(gsv("e-"+id, at, `{"secretId":"`+id+`"}`))
		if reason != "" {
			t.Fatalf("%s: %s", id, reason)
		}
		return ev.Secret
	}
	const acct = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
	// Before the plain name is known, a partial ARN ending in -backup reads as a full ARN.
	if got := key(acct + "prod/ledger/db-backup"); got.Key() != "111122223333/us-east-1/prod/ledger/db" {
		t.Errorf("unknown partial ARN: %q", got.Key())
	}
	if got := key("prod/ledger/db-backup"); got.Key() != "111122223333/us-east-1/prod/ledger/db-backup" {
		t.Errorf("plain name: %q", got.Key())
	}
	// Now known by its name: the partial ARN is the same secret.
	if got := key(acct + "prod/ledger/db-backup"); got.Key() != "111122223333/us-east-1/prod/ledger/db-backup" {
		t.Errorf("partial ARN of a known name: %q", got.Key())
	}
	// A real full ARN of it (suffix after the last hyphen) keeps its name and ARN.
	if got := key(acct + "prod/ledger/db-backup-AbC123"); got.Key() != "111122223333/us-east-1/prod/ledger/db-backup" || got.ARN == "" {
		t.Errorf("full ARN: %+v", got)
	}
	// Both prod/ledger/db and prod/ledger/db-backup exist as plain names: the string names either
	// a full ARN of the first or a partial ARN of the second. AWS's rule decides; it is flagged.
	key("prod/ledger/db")
	if got := key(acct + "prod/ledger/db-backup"); !got.Ambiguous || got.Key() != "111122223333/us-east-1/prod/ledger/db" {
		t.Errorf("ambiguous id: %+v", got)
	}
	if got := key("prod/ledger/db"); got.Ambiguous {
		t.Errorf("a plain name is never ambiguous")
	}
}

func TestNormalisePrincipalDefects(t *testing.T) {
	tests := []struct {
		name       string
		ui         *cloudtrail.UserIdentity
		region     string
		wantARN    string
		wantPerson string
	}{
		{"SAML user in the allow-list's spelling (written, AWS userIdentity docs)",
			&cloudtrail.UserIdentity{Type: "SAMLUser", PrincipalID: "x", UserName: "alice", IdentityProvider: "okta"}, "us-east-1",
			"samlUser:okta/alice", "alice"},
		{"web identity user",
			&cloudtrail.UserIdentity{Type: "WebIdentityUser", UserName: "sub-1", IdentityProvider: "accounts.google.com"}, "us-east-1",
			"webIdentityUser:accounts.google.com/sub-1", "sub-1"},
		{"root of a GovCloud account keeps its partition",
			&cloudtrail.UserIdentity{Type: "Root", AccountID: "111122223333", ARN: "arn:aws-us-gov:iam::111122223333:root"}, "us-gov-west-1",
			"arn:aws-us-gov:iam::111122223333:root", ""},
		{"root of a China account without an ARN: the region says the partition",
			&cloudtrail.UserIdentity{Type: "Root", AccountID: "111122223333"}, "cn-north-1",
			"arn:aws-cn:iam::111122223333:root", ""},
		{"caller from another GovCloud account",
			&cloudtrail.UserIdentity{Type: "AWSAccount", AccountID: "444455556666", PrincipalID: "AROA:x"}, "us-gov-east-1",
			"arn:aws-us-gov:iam::444455556666:root", ""},
		{"assumed-role session on behalf of an Identity Center user",
			&cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/qbusiness/s",
				OnBehalfOf: &cloudtrail.OnBehalfOf{UserID: "u-123", IdentityStoreARN: "arn:aws:identitystore::111122223333:identitystore/d-1"}},
			"us-east-1", "arn:aws:iam::111122223333:role/qbusiness", "arn:aws:identitystore::111122223333:identitystore/d-1/user/u-123"},
	}
	n := NewNormaliser(clock, 0)
	for _, tt := range tests {
		rec := gsv("p", fixedNow.Add(-time.Hour), `{"secretId":"app/db"}`)
		rec.UserIdentity, rec.AWSRegion = tt.ui, tt.region
		ev, reason := n.Normalise(rec)
		if reason != "" {
			t.Fatalf("%s: %s", tt.name, reason)
		}
		if ev.Principal.ARN != tt.wantARN || ev.Principal.Person != tt.wantPerson {
			t.Errorf("%s: principal %q person %q, want %q %q", tt.name, ev.Principal.ARN, ev.Principal.Person, tt.wantARN, tt.wantPerson)
		}
		if !strings.HasPrefix(ev.Principal.ARN, "arn:") {
			continue
		}
		if err := checkPrincipalPattern(ev.Principal.ARN); err != nil {
			t.Errorf("%s: the allow-list cannot name this principal: %v", tt.name, err)
		}
	}
	if err := checkPrincipalPattern("samlUser:okta/alice"); err != nil {
		t.Error(err)
	}
}

// The rule IDs documented as the contract (docs/contracts.md, the Terraform dashboard's
// alert_rules) are exactly the registered rules, in order.
func TestRuleIDsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/contracts.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(b), "## Alert rules")
	_, sec, _ = strings.Cut(sec, "\n")
	line, _, _ := strings.Cut(sec, "\n")
	var got []string
	for _, f := range strings.Split(line, "`")[1:] {
		if strings.Contains(f, " ") || f == "" || strings.ContainsAny(f, "().;") {
			continue
		}
		got = append(got, f)
	}
	if want := RuleIDs(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("docs/contracts.md lists %v; registered %v", got, want)
	}
}

func TestLocalTally(t *testing.T) {
	var lt localTally
	lt.keep = 48 * time.Hour
	w := fixedNow.Truncate(time.Hour)
	if n := lt.add("k", w, []string{"a", "b", "a"}, 10); n != 2 {
		t.Errorf("distinct: %d", n)
	}
	if n := lt.add("k", w, []string{"b", "c", "d"}, 3); n != 3 {
		t.Errorf("limit: %d", n)
	}
	if n := lt.add("k", w, nil, 10); n != 3 || lt.members != 3 {
		t.Errorf("read: %d, %d members", n, lt.members)
	}
	if n := lt.add("other", w.Add(time.Hour), nil, 10); n != 0 || len(lt.sets) != 1 {
		t.Errorf("a read creates no set: %d sets", len(lt.sets))
	}
}
