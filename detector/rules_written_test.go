package detector_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// Written cases (not captured): records built from AWS's documented CloudTrail formats for what
// the corpus lacks. Each test table's name says "written".

var writtenAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func roleIdentity(role string) *cloudtrail.UserIdentity {
	return &cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "111122223333",
		ARN: "arn:aws:sts::111122223333:assumed-role/" + role + "/s",
		SessionContext: &cloudtrail.SessionContext{SessionIssuer: &cloudtrail.SessionIssuer{
			ARN: "arn:aws:iam::111122223333:role/" + role}}}
}

// call builds a record of any event.
func call(id, source, name, params string, ui *cloudtrail.UserIdentity) *cloudtrail.Record {
	r := &cloudtrail.Record{
		EventID: id, EventTime: cloudtrail.Time{Time: writtenAt}, EventSource: source, EventName: name,
		AWSRegion: "us-east-1", RecipientAccountID: "111122223333", SourceIPAddress: "203.0.113.9",
		UserAgent: "aws-cli/2.15.0", UserIdentity: ui, EventType: "AwsApiCall",
	}
	if params != "" {
		r.RequestParameters = json.RawMessage(params)
	}
	return r
}

type writtenCase struct {
	name string
	rec  *cloudtrail.Record
	want map[string]string // rule → severity
}

func runWritten(t *testing.T, allow string, cases []writtenCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newDetector(t, allow)
			res, err := d.Process(t.Context(), []*cloudtrail.Record{tt.rec})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, a := range res.Alerts {
				got[a.Rule] = a.Severity
			}
			if fmt.Sprint(got) != fmt.Sprint(orEmpty(tt.want)) {
				t.Errorf("alerts %v, want %v", got, tt.want)
				for _, a := range res.Alerts {
					t.Logf("  %s: %s", a.Rule, a.Reason)
				}
			}
		})
	}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

const sm = "secretsmanager.amazonaws.com"

const allowAppWrite = `version: 1
secrets:
  - secret: app/db
    allow: ['arn:aws:iam::111122223333:role/app-*']
  - secret: app/signing-key
    allow: ['arn:aws:iam::111122223333:role/app-*']
    write: ['arn:aws:iam::111122223333:role/rotator']
`

func TestRootAccessWritten(t *testing.T) {
	root := func(partition, region string) *cloudtrail.Record {
		r := call("root-"+partition, sm, "GetSecretValue", `{"secretId":"app/db"}`,
			&cloudtrail.UserIdentity{Type: "Root", AccountID: "111122223333", ARN: "arn:" + partition + ":iam::111122223333:root"})
		r.AWSRegion = region
		return r
	}
	listByRoot := call("root-list", sm, "ListSecrets", `{}`, &cloudtrail.UserIdentity{Type: "Root", AccountID: "111122223333"})
	denied := call("root-denied", sm, "DescribeSecret", `{"secretId":"app/db"}`, &cloudtrail.UserIdentity{Type: "Root", AccountID: "111122223333"})
	denied.ErrorCode = "AccessDenied"
	runWritten(t, allowAppWrite, []writtenCase{
		{"written: root reads a secret (also unexpected)", root("aws", "us-east-1"),
			map[string]string{"root-access": "critical", "unexpected-principal": "critical"}},
		{"written: GovCloud root keeps its partition", root("aws-us-gov", "us-gov-west-1"),
			map[string]string{"root-access": "critical", "unexpected-principal": "critical"}},
		{"written: root lists secrets", listByRoot, map[string]string{"root-access": "critical"}},
		{"written: root's denied call still counts", denied, map[string]string{"root-access": "critical"}},
		{"written: a role's read is not root", call("r", sm, "GetSecretValue", `{"secretId":"app/db"}`, roleIdentity("app-api")), nil},
		{"written: root outside Secrets Manager (StopLogging is trail-tampering's)",
			call("rt", "cloudtrail.amazonaws.com", "StopLogging", `{"name":"t"}`, &cloudtrail.UserIdentity{Type: "Root", AccountID: "111122223333"}),
			map[string]string{"trail-tampering": "critical"}},
	})
}

func TestPolicyChangeWritten(t *testing.T) {
	put := func(id, policy, extra string) *cloudtrail.Record {
		p, _ := json.Marshal(policy)
		return call(id, sm, "PutResourcePolicy", `{"secretId":"app/db","resourcePolicy":`+string(p)+extra+`}`, roleIdentity("admin"))
	}
	stmt := func(principal, cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal +
			`,"Action":"secretsmanager:GetSecretValue","Resource":"*"` + cond + `}]}`
	}
	deleted := call("del", sm, "DeleteResourcePolicy", `{"secretId":"app/db"}`, roleIdentity("admin"))
	failed := put("fail", stmt(`"*"`, ""), "")
	failed.ErrorCode = "PublicPolicyException"
	runWritten(t, allowAppWrite, []writtenCase{
		{"written: public to everybody", put("p1", stmt(`{"AWS":"*"}`, ""), ""), map[string]string{"policy-change": "critical"}},
		{"written: public but only the organisation", put("p2", stmt(`"*"`, `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}`), ""), nil},
		{"written: Null condition does not restrict", put("p3", stmt(`"*"`, `,"Condition":{"Null":{"aws:PrincipalOrgID":"false"}}`), ""),
			map[string]string{"policy-change": "critical"}},
		{"written: another account", put("p4", stmt(`{"AWS":["arn:aws:iam::444455556666:root"]}`, ""), ""), map[string]string{"policy-change": "high"}},
		{"written: another account by bare id", put("p5", stmt(`{"AWS":"444455556666"}`, ""), ""), map[string]string{"policy-change": "high"}},
		{"written: same account only", put("p6", stmt(`{"AWS":"arn:aws:iam::111122223333:role/app-api"}`, ""), ""), nil},
		{"written: BlockPublicPolicy false", put("p7", stmt(`{"AWS":"arn:aws:iam::111122223333:role/app-api"}`, ""), `,"blockPublicPolicy":false`),
			map[string]string{"policy-change": "high"}},
		{"written: unparsable policy", put("p8", "{not json", ""), map[string]string{"policy-change": "high"}},
		{"written: policy deleted", deleted, map[string]string{"policy-change": "medium"}},
		{"written: refused by Secrets Manager (error)", failed, nil},
		{"written: a service principal", put("p9", stmt(`{"Service":"lambda.amazonaws.com"}`, ""), ""), nil},
		{"written: Deny to everybody is no grant", put("p10", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`, ""), nil},
	})
}

func TestSecretLifecycleWritten(t *testing.T) {
	c := func(id, name, params string, ui *cloudtrail.UserIdentity) *cloudtrail.Record {
		return call(id, sm, name, params, ui)
	}
	rotationService := &cloudtrail.UserIdentity{Type: "AWSService", InvokedBy: "secretsmanager.amazonaws.com"}
	failedDelete := c("fd", "DeleteSecret", `{"secretId":"app/db","forceDeleteWithoutRecovery":true}`, roleIdentity("admin"))
	failedDelete.ErrorCode = "AccessDenied"
	runWritten(t, allowAppWrite, []writtenCase{
		{"written: force delete", c("l1", "DeleteSecret", `{"secretId":"app/db","forceDeleteWithoutRecovery":true}`, roleIdentity("admin")),
			map[string]string{"secret-lifecycle": "critical"}},
		{"written: delete with a recovery window", c("l2", "DeleteSecret", `{"secretId":"app/db","recoveryWindowInDays":7}`, roleIdentity("admin")),
			map[string]string{"secret-lifecycle": "high"}},
		{"written: denied delete", failedDelete, nil},
		{"written: cancel rotation", c("l3", "CancelRotateSecret", `{"secretId":"app/db"}`, roleIdentity("admin")),
			map[string]string{"secret-lifecycle": "medium"}},
		{"written: restore", c("l4", "RestoreSecret", `{"secretId":"app/db"}`, roleIdentity("admin")),
			map[string]string{"secret-lifecycle": "medium"}},
		{"written: KMS key changed", c("l5", "UpdateSecret", `{"secretId":"app/db","kmsKeyId":"arn:aws:kms:us-east-1:444455556666:key/x"}`, roleIdentity("app-api")),
			map[string]string{"secret-lifecycle": "high"}},
		{"written: replicated", c("l6", "ReplicateSecretToRegions", `{"secretId":"app/db","addReplicaRegions":[{"region":"ap-southeast-2"}]}`, roleIdentity("admin")),
			map[string]string{"secret-lifecycle": "high"}},
		{"written: created with replicas", c("l7", "CreateSecret", `{"name":"app/new","addReplicaRegions":[{"region":"eu-west-1"}]}`, roleIdentity("admin")),
			map[string]string{"secret-lifecycle": "high"}},
		{"written: created plainly", c("l8", "CreateSecret", `{"name":"app/new"}`, roleIdentity("admin")), nil},
		{"written: value written by a reader (no write: list)", c("l9", "PutSecretValue", `{"secretId":"app/db","clientRequestToken":"t"}`, roleIdentity("app-api")), nil},
		{"written: value written by a stranger", c("l10", "PutSecretValue", `{"secretId":"app/db"}`, roleIdentity("intruder")),
			map[string]string{"secret-lifecycle": "high"}},
		{"written: write: list excludes a reader", c("l11", "PutSecretValue", `{"secretId":"app/signing-key"}`, roleIdentity("app-api")),
			map[string]string{"secret-lifecycle": "high"}},
		{"written: the rotator may write", c("l12", "UpdateSecretVersionStage", `{"secretId":"app/signing-key","versionStage":"AWSCURRENT"}`, roleIdentity("rotator")), nil},
		{"written: Secrets Manager's own rotation", c("l13", "PutSecretValue", `{"secretId":"app/signing-key"}`, rotationService), nil},
		{"written: description update by a stranger", c("l14", "UpdateSecret", `{"secretId":"app/db","description":"x"}`, roleIdentity("intruder")),
			map[string]string{"secret-lifecycle": "high"}},
	})
}

func TestTrailSelectorsWritten(t *testing.T) {
	adv := func(id, selectors string) *cloudtrail.Record {
		return call(id, "cloudtrail.amazonaws.com", "PutAdvancedEventSelectors", `{"trailName":"org","advancedEventSelectors":`+selectors+`}`, roleIdentity("admin"))
	}
	basic := func(id, selectors string) *cloudtrail.Record {
		return call(id, "cloudtrail.amazonaws.com", "PutEventSelectors", `{"trailName":"org","eventSelectors":`+selectors+`}`, roleIdentity("admin"))
	}
	runWritten(t, allowNobody, []writtenCase{
		{"written: advanced, all management events", adv("a1", `[{"name":"m","fieldSelectors":[{"field":"eventCategory","equals":["Management"]}]}]`), nil},
		{"written: advanced, write-only management", adv("a2", `[{"name":"m","fieldSelectors":[{"field":"eventCategory","equals":["Management"]},{"field":"readOnly","equals":["false"]}]}]`),
			map[string]string{"trail-tampering": "high"}},
		{"written: advanced, Secrets Manager excluded", adv("a3", `[{"name":"m","fieldSelectors":[{"field":"eventCategory","equals":["Management"]},{"field":"eventSource","notEquals":["secretsmanager.amazonaws.com"]}]}]`),
			map[string]string{"trail-tampering": "high"}},
		{"written: advanced, data events only", adv("a4", `[{"name":"d","fieldSelectors":[{"field":"eventCategory","equals":["Data"]},{"field":"resources.type","equals":["AWS::S3::Object"]}]}]`),
			map[string]string{"trail-tampering": "high"}},
		{"written: basic, write-only", basic("b1", `[{"readWriteType":"WriteOnly","includeManagementEvents":true}]`), map[string]string{"trail-tampering": "high"}},
		{"written: basic, Secrets Manager excluded", basic("b2", `[{"readWriteType":"All","includeManagementEvents":true,"excludeManagementEventSources":["secretsmanager.amazonaws.com"]}]`),
			map[string]string{"trail-tampering": "high"}},
		{"written: basic, KMS excluded only", basic("b3", `[{"readWriteType":"All","includeManagementEvents":true,"excludeManagementEventSources":["kms.amazonaws.com"]}]`), nil},
	})
}

func TestMonitorTamperingWritten(t *testing.T) {
	ev := func(id, name, params string) *cloudtrail.Record {
		return call(id, "events.amazonaws.com", name, params, roleIdentity("admin"))
	}
	pattern := func(p string) string { b, _ := json.Marshal(p); return string(b) }
	smPattern := pattern(`{"source":["aws.secretsmanager"],"detail-type":["AWS API Call via CloudTrail"]}`)
	ours := pattern(`{"source":["aws.secretsmanager"],"detail":{"eventName":["GetSecretValue"]}}`)
	lambda := func(id, name, params string) *cloudtrail.Record {
		return call(id, "lambda.amazonaws.com", name, params, roleIdentity("admin"))
	}
	runWritten(t, allowNobody, []writtenCase{
		{"written: our rule disabled", ev("m1", "DisableRule", `{"name":"secretwatch"}`), map[string]string{"monitor-tampering": "critical"}},
		{"written: our rule deleted", ev("m2", "DeleteRule", `{"name":"secretwatch","eventBusName":"default"}`), map[string]string{"monitor-tampering": "critical"}},
		{"written: our targets removed", ev("m3", "RemoveTargets", `{"rule":"secretwatch","ids":["secretwatch"]}`), map[string]string{"monitor-tampering": "critical"}},
		{"written: another rule disabled", ev("m4", "DisableRule", `{"name":"nightly-report"}`), nil},
		{"written: our rule set to ENABLED", ev("m5", "PutRule", `{"name":"secretwatch","state":"ENABLED","eventPattern":`+ours+`}`),
			map[string]string{"monitor-tampering": "critical"}},
		{"written: our rule rewritten without reads", ev("m6", "PutRule", `{"name":"secretwatch","state":"ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS","eventPattern":`+smPattern+`}`),
			map[string]string{"monitor-tampering": "critical"}},
		{"written: our rule re-applied as deployed", ev("m7", "PutRule", `{"name":"secretwatch","state":"ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS","eventPattern":`+ours+`}`),
			map[string]string{"monitor-tampering": "high"}},
		{"written: any Secrets Manager rule without the state (default ENABLED)", ev("m8", "PutRule", `{"name":"audit-copy","eventPattern":`+smPattern+`}`),
			map[string]string{"monitor-tampering": "high"}},
		{"written: a Secrets Manager rule with the right state", ev("m9", "PutRule", `{"name":"audit-copy","state":"ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS","eventPattern":`+smPattern+`}`), nil},
		{"written: an EC2 rule", ev("m10", "PutRule", `{"name":"ec2","eventPattern":`+pattern(`{"source":["aws.ec2"]}`)+`}`), nil},
		{"written: our function deleted", lambda("m11", "DeleteFunction20150331", `{"functionName":"secretwatch"}`), map[string]string{"monitor-tampering": "critical"}},
		{"written: our function's code replaced (by ARN)", lambda("m12", "UpdateFunctionCode20150331v2", `{"functionName":"arn:aws:lambda:us-east-1:111122223333:function:secretwatch"}`),
			map[string]string{"monitor-tampering": "high"}},
		{"written: our concurrency set to 0", lambda("m13", "PutFunctionConcurrency20171031", `{"functionName":"secretwatch","reservedConcurrentExecutions":0}`),
			map[string]string{"monitor-tampering": "critical"}},
		{"written: another function's code", lambda("m14", "UpdateFunctionCode20150331v2", `{"functionName":"billing"}`), nil},
		{"written: our table deleted", call("m15", "dynamodb.amazonaws.com", "DeleteTable", `{"tableName":"secretwatch"}`, roleIdentity("admin")),
			map[string]string{"monitor-tampering": "critical"}},
		{"written: our topic deleted", call("m16", "sns.amazonaws.com", "DeleteTopic", `{"topicArn":"arn:aws:sns:us-east-1:111122223333:secretwatch-alerts"}`, roleIdentity("admin")),
			map[string]string{"monitor-tampering": "critical"}},
		{"written: our subscriber removed", call("m17", "sns.amazonaws.com", "Unsubscribe", `{"subscriptionArn":"arn:aws:sns:us-east-1:111122223333:secretwatch-alerts:0b1c"}`, roleIdentity("admin")),
			map[string]string{"monitor-tampering": "high"}},
		{"written: another topic deleted", call("m18", "sns.amazonaws.com", "DeleteTopic", `{"topicArn":"arn:aws:sns:us-east-1:111122223333:builds"}`, roleIdentity("admin")), nil},
	})
}

// Names come from the configuration: a deployment named "sw-prod" is watched under that name.
func TestMonitorNamesFromConfig(t *testing.T) {
	al, _, _ := detector.ParseAllowList("a.yaml", []byte(allowNobody))
	d, err := detector.New(detector.Config{AllowList: al, Monitor: detector.MonitorConfig{RuleNames: []string{"sw-prod"}}}, newMem())
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Process(t.Context(), []*cloudtrail.Record{
		call("n1", "events.amazonaws.com", "DisableRule", `{"name":"sw-prod"}`, roleIdentity("admin")),
		call("n2", "events.amazonaws.com", "DisableRule", `{"name":"secretwatch"}`, roleIdentity("admin")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 1 || res.Alerts[0].Resource != "rule sw-prod" {
		t.Errorf("alerts %+v", res.Alerts)
	}
}

func newMem() *baseline.MemoryStore { return baseline.NewMemoryStore(0) }
