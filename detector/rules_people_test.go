package detector_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// An admin role allowed everywhere; people and network paths are what the rules judge.
const allowPeople = `version: 1
defaults:
  allow: ['arn:aws:iam::111122223333:role/*', 'arn:aws:iam::111122223333:user/*',
          'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/*', 'samlUser:*']
secrets:
  - secret: prod/db
    workload-only: true
    allow: ['arn:aws:iam::111122223333:role/*', 'arn:aws:iam::111122223333:user/*',
            'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/*', 'samlUser:*']
    network:
      vpce: [vpce-0aaa]
      via: [cloudformation.amazonaws.com]
      cidrs: [10.0.0.0/8]
`

func gsvBy(id string, ui *cloudtrail.UserIdentity, secret string) *cloudtrail.Record {
	r := call(id, sm, "GetSecretValue", `{"secretId":"`+secret+`"}`, ui)
	r.SourceIPAddress, r.VPCEndpointID = "10.1.2.3", "vpce-0aaa"
	return r
}

func TestHumanAccessWritten(t *testing.T) {
	console := gsvBy("h1", roleIdentity("admin"), "prod/db")
	console.SessionCredentialFromConsole = json.RawMessage(`"true"`)
	sso := &cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "111122223333",
		ARN: "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com",
		SessionContext: &cloudtrail.SessionContext{SessionIssuer: &cloudtrail.SessionIssuer{
			ARN: "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"}}}
	runWritten(t, allowPeople, []writtenCase{
		{"written: console session of an allowed admin role", console, map[string]string{"human-access": "high"}},
		{"written: IAM user", gsvBy("h2", &cloudtrail.UserIdentity{Type: "IAMUser", AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/bob"}, "prod/db"),
			map[string]string{"human-access": "high"}},
		{"written: Identity Center permission set", gsvBy("h3", sso, "prod/db"), map[string]string{"human-access": "high"}},
		{"written: SAML user", gsvBy("h4", &cloudtrail.UserIdentity{Type: "SAMLUser", UserName: "carol", IdentityProvider: "okta"}, "prod/db"),
			map[string]string{"human-access": "high"}},
		{"written: the workload itself", gsvBy("h5", roleIdentity("app"), "prod/db"), nil},
		{"written: a person on a secret that is not workload-only", gsvBy("h6", &cloudtrail.UserIdentity{Type: "IAMUser", AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/bob"}, "dev/db"), nil},
	})
}

func TestUnexpectedNetworkPathWritten(t *testing.T) {
	at := func(id, ip, vpce string, ui *cloudtrail.UserIdentity) *cloudtrail.Record {
		r := gsvBy(id, ui, "prod/db")
		r.SourceIPAddress, r.VPCEndpointID = ip, vpce
		return r
	}
	viaCFN := roleIdentity("app")
	viaCFN.InvokedBy = "cloudformation.amazonaws.com"
	stranger := at("n5", "198.51.100.9", "", roleIdentity("intruder"))
	runWritten(t, strings.Replace(allowPeople, "'arn:aws:iam::111122223333:role/*', 'arn:aws:iam::111122223333:user/*',\n            ", "'arn:aws:iam::111122223333:role/app', ", 1), []writtenCase{
		{"written: through the expected endpoint", at("n1", "10.1.2.3", "vpce-0aaa", roleIdentity("app")), nil},
		{"written: a stolen session from the internet", at("n2", "198.51.100.9", "", roleIdentity("app")), map[string]string{"unexpected-network-path": "high"}},
		{"written: another endpoint, outside the ranges", at("n3", "172.16.0.1", "vpce-0bbb", roleIdentity("app")), map[string]string{"unexpected-network-path": "high"}},
		{"written: by CloudFormation for the role", at("n4", "cloudformation.amazonaws.com", "", viaCFN), nil},
		{"written: from the office range without an endpoint", at("n6", "10.200.0.1", "", roleIdentity("app")), nil},
		{"written: a principal that is not allowed is unexpected-principal's", stranger, map[string]string{"unexpected-principal": "high"}},
	})
}

func TestSuppressions(t *testing.T) {
	al, warns, err := detector.ParseAllowList("s.yaml", []byte(allowNobody+`suppressions:
  - rule: unexpected-principal
    principal: arn:aws:iam::111122223333:role/migration
    reason: one-off data migration, CHG-1234
    expires: 2026-03-05
  - rule: read-spike
    secret: app/*
    reason: load test
    expires: 2020-01-01
`))
	if err != nil {
		t.Fatal(err)
	}
	// check-config lists the suppressions expired at the wall clock (both, once 2026-03-05 is past).
	if !strings.Contains(strings.Join(warns, "\n"), "s.yaml:9: warning: suppression of read-spike (load test) expired on 2020-01-01") {
		t.Errorf("expired suppression not listed: %q", warns)
	}
	if got := al.Expired(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)); len(got) != 1 {
		t.Errorf("Expired before the first date: %q", got)
	}
	if got := al.Expired(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)); len(got) != 2 {
		t.Errorf("Expired after both dates: %q", got)
	}
	d, err := detector.New(detector.Config{AllowList: al}, newMem())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	res, err := d.Process(t.Context(), []*cloudtrail.Record{
		read("s1", before, "migration", "app/db"),                   // suppressed
		read("s2", before.Add(48*time.Hour), "migration", "app/db"), // after the expiry: alerts
		read("s3", before, "other", "app/db"),                       // another principal: alerts
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Suppressed != 1 || len(res.Alerts) != 2 {
		t.Errorf("suppressed %d, alerts %d", res.Stats.Suppressed, len(res.Alerts))
	}
	for _, bad := range []string{
		"suppressions:\n  - rule: no-such-rule\n    reason: x\n    expires: 2030-01-01\n",
		"suppressions:\n  - rule: read-spike\n    expires: 2030-01-01\n",
		"suppressions:\n  - rule: read-spike\n    reason: x\n",
		"suppressions:\n  - rule: read-spike\n    reason: x\n    expires: soon\n",
		"suppressions:\n  - rule: '*'\n    reason: x\n    expires: 2030-01-01\n",
	} {
		if _, _, err := detector.ParseAllowList("s.yaml", []byte(allowNobody+bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestWorkloadAttribution(t *testing.T) {
	for _, tt := range []struct {
		session, ua, invokedBy, want string
	}{
		{"i-0123456789abcdef0", "aws-sdk-go-v2", "", "EC2 instance i-0123456789abcdef0"},
		{"orders-api", "aws-sdk-java/2.20 exec-env/AWS_Lambda_java17", "", "Lambda function orders-api"},
		{"0123456789abcdef0123456789abcdef", "aws-sdk-go-v2 exec-env/AWS_ECS_FARGATE", "", "ECS task 0123456789abcdef0123456789abcdef"},
		{"deploy", "aws-cli", "cloudformation.amazonaws.com", "via cloudformation.amazonaws.com"},
		{"alice", "Mozilla/5.0", "", ""},
	} {
		ui := roleIdentity("app")
		ui.ARN = "arn:aws:sts::111122223333:assumed-role/app/" + tt.session
		ui.InvokedBy = tt.invokedBy
		r := call("w-"+tt.session, sm, "GetSecretValue", `{"secretId":"app/db"}`, ui)
		r.UserAgent = tt.ua
		d, _ := newDetector(t, allowNobody)
		res, err := d.Process(t.Context(), []*cloudtrail.Record{r})
		if err != nil || len(res.Alerts) != 1 {
			t.Fatalf("%v %d alerts", err, len(res.Alerts))
		}
		if got := res.Alerts[0].Workload; got != tt.want {
			t.Errorf("session %q ua %q: workload %q, want %q", tt.session, tt.ua, got, tt.want)
		}
	}
}
