package detector

import (
	"testing"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

func TestNormalisePrincipal(t *testing.T) {
	tests := []struct {
		name                      string
		ui                        *cloudtrail.UserIdentity
		wantARN, wantSess, wantPr string
		wantKnown                 bool
	}{
		{
			name: "assumed role uses the session issuer's role ARN, keeps the session",
			ui: &cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "111122223333",
				ARN:         "arn:aws:sts::111122223333:assumed-role/payments-api/i-0abc",
				PrincipalID: "AROAEXAMPLE:i-0abc",
				SessionContext: &cloudtrail.SessionContext{SessionIssuer: &cloudtrail.SessionIssuer{
					Type: "Role", ARN: "arn:aws:iam::111122223333:role/service/payments-api", AccountID: "111122223333"}}},
			wantARN: "arn:aws:iam::111122223333:role/service/payments-api", wantSess: "i-0abc", wantKnown: true,
		},
		{
			name: "assumed role without session context falls back to the session ARN",
			ui: &cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "111122223333",
				ARN: "arn:aws:sts::111122223333:assumed-role/ci/build-42"},
			wantARN: "arn:aws:iam::111122223333:role/ci", wantSess: "build-42", wantKnown: true,
		},
		{
			name: "SSO role: the session name is the person",
			ui: &cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "123123123123",
				ARN: "arn:aws:sts::123123123123:assumed-role/AWSReservedSSO_DevAdmin_635426549a280cc6/evil.genius",
				SessionContext: &cloudtrail.SessionContext{SessionIssuer: &cloudtrail.SessionIssuer{
					ARN: "arn:aws:iam::123123123123:role/aws-reserved/sso.amazonaws.com/us-west-2/AWSReservedSSO_DevAdmin_635426549a280cc6"}}},
			wantARN:  "arn:aws:sts::123123123123:assumed-role/AWSReservedSSO_DevAdmin_635426549a280cc6/evil.genius",
			wantSess: "evil.genius", wantPr: "evil.genius", wantKnown: true,
		},
		{
			name:    "IAM user",
			ui:      &cloudtrail.UserIdentity{Type: "IAMUser", AccountID: "903144391865", ARN: "arn:aws:iam::903144391865:user/christophe", UserName: "christophe"},
			wantARN: "arn:aws:iam::903144391865:user/christophe", wantKnown: true,
		},
		{
			name:    "IAM user without ARN",
			ui:      &cloudtrail.UserIdentity{Type: "IAMUser", AccountID: "111122223333", UserName: "bob"},
			wantARN: "arn:aws:iam::111122223333:user/bob", wantKnown: true,
		},
		{
			name:    "root",
			ui:      &cloudtrail.UserIdentity{Type: "Root", AccountID: "493859302102", ARN: "arn:aws:iam::493859302102:root"},
			wantARN: "arn:aws:iam::493859302102:root", wantKnown: true,
		},
		{
			name: "federated user",
			ui: &cloudtrail.UserIdentity{Type: "FederatedUser", AccountID: "742491224508", ARN: "arn:aws:sts::742491224508:federated-user/stratus_red_team",
				SessionContext: &cloudtrail.SessionContext{SessionIssuer: &cloudtrail.SessionIssuer{UserName: "fed-user"}}},
			wantARN: "arn:aws:sts::742491224508:federated-user/stratus_red_team", wantSess: "fed-user", wantPr: "stratus_red_team", wantKnown: true,
		},
		{
			name:    "AWS service",
			ui:      &cloudtrail.UserIdentity{Type: "AWSService", InvokedBy: "cloudformation.amazonaws.com"},
			wantARN: "cloudformation.amazonaws.com", wantKnown: true,
		},
		{
			name:    "cross-account caller becomes its account",
			ui:      &cloudtrail.UserIdentity{Type: "AWSAccount", AccountID: "444455556666", PrincipalID: "AROAXYZ:reporting"},
			wantARN: "arn:aws:iam::444455556666:root", wantSess: "reporting", wantKnown: true,
		},
		{
			name: "Identity Center user",
			ui: &cloudtrail.UserIdentity{Type: "IdentityCenterUser", AccountID: "111122223333",
				OnBehalfOf: &cloudtrail.OnBehalfOf{UserID: "9067-abcd", IdentityStoreARN: "arn:aws:identitystore::111122223333:identitystore/d-1234567890"}},
			wantARN: "arn:aws:identitystore::111122223333:identitystore/d-1234567890/user/9067-abcd", wantPr: "9067-abcd", wantKnown: true,
		},
		{
			name:    "unknown type is flagged, not dropped",
			ui:      &cloudtrail.UserIdentity{Type: "userIdentityType1", ARN: "userIdentityArn1", PrincipalID: "p1"},
			wantARN: "userIdentityArn1", wantKnown: false,
		},
		{
			name:    "empty identity type",
			ui:      &cloudtrail.UserIdentity{PrincipalID: "x"},
			wantARN: "unknown::x", wantKnown: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NormalisePrincipal(tt.ui)
			if err != nil {
				t.Fatal(err)
			}
			if p.ARN != tt.wantARN || p.Session != tt.wantSess || p.Person != tt.wantPr || p.Known != tt.wantKnown {
				t.Errorf("got ARN=%q session=%q person=%q known=%v; want %q %q %q %v",
					p.ARN, p.Session, p.Person, p.Known, tt.wantARN, tt.wantSess, tt.wantPr, tt.wantKnown)
			}
		})
	}
	if _, err := NormalisePrincipal(nil); err == nil {
		t.Error("nil identity: want error")
	}
}

// The identities of real records normalise as expected.
func TestNormalisePrincipalCorpus(t *testing.T) {
	tests := []struct {
		file string
		want map[string]bool
	}{
		{"stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json", map[string]bool{"arn:aws:iam::903144391865:user/christophe": true}},
		{"panther-analysis/scenario__compromised-root-creds__attacker_cloudtrail.json", map[string]bool{
			"arn:aws:iam::493859302102:root": true, "arn:aws:iam::493859302102:user/tracy_stone": true}},
		{"panther-analysis/aws_secretsmanager_retrieve_secrets__00_getsecretvalue-denied.json", map[string]bool{
			"arn:aws:sts::123123123123:assumed-role/AWSReservedSSO_DevAdmin_635426549a280cc6/evil.genius": true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := map[string]bool{}
			for _, r := range loadRecords(t, tt.file) {
				p, err := NormalisePrincipal(r.UserIdentity)
				if err != nil {
					t.Fatal(err)
				}
				got[p.ARN] = true
			}
			if len(got) != len(tt.want) {
				t.Fatalf("principals %v, want %v", got, tt.want)
			}
			for k := range tt.want {
				if !got[k] {
					t.Errorf("missing %s in %v", k, got)
				}
			}
		})
	}
}
