package detector

import (
	"strings"
	"testing"
)

// check-config never accepts a principal pattern that cannot match anything a record normalises
// to; where it rejects one, it names the pattern to write instead.
func TestPrincipalPatternChecks(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // "" = accepted; otherwise a substring of the error
	}{
		{"arn:aws:iam::111122223333:role/app", ""},
		{"arn:aws:iam::111122223333:role/*", ""},
		{"arn:aws:iam::*:role/app", ""},
		{"arn:aws:iam::*", ""},
		{"*", ""},
		{"arn:aws:sts::111122223333:assumed-role/app/*", ""}, // understood as the role
		{"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/*", ""},
		{"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice", ""},
		{"arn:aws-us-gov:iam::111122223333:root", ""},
		{"arn:aws-cn:iam::111122223333:user/bob", ""},
		{"samlUser:okta/alice", ""},
		{"lambda.amazonaws.com", ""},
		{"arn:aws:sts::111122223333:assumed-role/app/i-0abc", `write "arn:aws:iam::111122223333:role/app"`},
		{"arn:aws:sts::111122223333:assumed-role/app", `write "arn:aws:iam::111122223333:role/app"`},
		{"arn:aws:sts::111122223333:role/x", `write "arn:aws:iam::111122223333:role/x"`},
		{"arn:aws:sts::111122223333:user/x", `write "arn:aws:iam::111122223333:user/x"`},
		{"arn:aws:iam::11112222333:role/x", `account "11112222333" is not a 12-digit`},
		{"arn:aws:iam:::role/x", `account "" is not a 12-digit`},
		{"arn:aws:iam::111122223333:user", "user with no name"},
		{"arn:aws:iam::111122223333:user/", "user with no name"},
		{"arn:aws:iam::111122223333:role/", "role with no name"},
		{"arn:aws:iam:us-east-1:111122223333:role/x", `no region (write "arn:aws:iam::111122223333:role/x")`},
		{"arn:aws:iam::111122223333:assumed-role/x/y", "assumed-role ARNs are sts ARNs"},
		{"arn:amazon:iam::111122223333:role/x", "not an AWS partition"},
		{"arn:aws:s3:::bucket", `service "s3"`},
		{"sAMLUser:okta/alice", `write "samlUser:okta/alice"`},
		{"samlUser:", "names no provider"},
		{"arn:aws:iam::111122223333", "not a complete ARN"},
	}
	for _, tt := range tests {
		err := checkPrincipalPattern(tt.pattern)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: rejected: %v", tt.pattern, err)
		case tt.want != "" && err == nil:
			t.Errorf("%s: accepted; want an error with %q", tt.pattern, tt.want)
		case tt.want != "" && !strings.Contains(err.Error(), tt.want):
			t.Errorf("%s: error %q lacks %q", tt.pattern, err, tt.want)
		}
	}
}

// A role-session pattern copied from CloudTrail means its role, with or without a path.
func TestAssumedRolePatternMeansTheRole(t *testing.T) {
	al := mustAllowList(t, "version: 1\ndefaults:\n  allow: ['arn:aws:sts::111122223333:assumed-role/app/*']\n")
	ref := SecretRef{Account: "111122223333", Region: "us-east-1", Name: "x"}
	for _, tt := range []struct {
		principal string
		want      bool
	}{
		{"arn:aws:iam::111122223333:role/app", true},
		{"arn:aws:iam::111122223333:role/service/app", true},
		{"arn:aws:iam::111122223333:role/app2", false},
		{"arn:aws:iam::444455556666:role/app", false},
	} {
		if got, _ := al.Allowed(ref, tt.principal); got != tt.want {
			t.Errorf("%s: allowed %v, want %v", tt.principal, got, tt.want)
		}
	}
}

// Warnings are kept on the allow-list, so replay can repeat what check-config said.
func TestAllowListWarningsKept(t *testing.T) {
	al, warns, err := ParseAllowList("w.yaml", []byte("version: 1\ndefaults:\n  allow: ['*']\nsecrets:\n  - secret: '*'\n    allow: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := al.Warnings()
	if len(got) != 2 || len(warns) != 2 || got[0] != warns[0] || !strings.Contains(got[0], "w.yaml:3: warning") {
		t.Errorf("Warnings() = %q, parse warnings %q", got, warns)
	}
	got[0] = "changed"
	if al.Warnings()[0] == "changed" {
		t.Error("Warnings returns the allow-list's own slice")
	}
}
