package terraform_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

const (
	acct   = "111122223333"
	region = "eu-west-1"
	arnP   = "arn:aws:"
)

var (
	lambdaRole   = arnP + "iam::" + acct + ":role/secretwatch-lambda"
	backfillRole = arnP + "iam::" + acct + ":role/secretwatch-backfill"
	opsRole      = arnP + "iam::" + acct + ":role/ops"
	tableARN     = arnP + "dynamodb:" + region + ":" + acct + ":table/secretwatch"
	keyARN       = arnP + "kms:" + region + ":" + acct + ":key/0b7e5c55-7ae2-4d3e-9b2b-000000000000"
	alertsTopic  = arnP + "sns:" + region + ":" + acct + ":secretwatch-alerts"
	alarmsTopic  = arnP + "sns:" + region + ":" + acct + ":secretwatch-alarms"
	dlqARN       = arnP + "sqs:" + region + ":" + acct + ":secretwatch-dlq"
	onFailARN    = arnP + "sqs:" + region + ":" + acct + ":secretwatch-on-failure"
	batchARN     = arnP + "sqs:" + region + ":" + acct + ":secretwatch-batch"
	ruleARN      = arnP + "events:" + region + ":" + acct + ":rule/secretwatch"
	centralRule  = arnP + "events:" + region + ":" + acct + ":rule/secretwatch-central/secretwatch"
	busARN       = arnP + "events:" + region + ":" + acct + ":event-bus/secretwatch-central"
	trailARN     = arnP + "cloudtrail:" + region + ":" + acct + ":trail/secretwatch-trail"
	bucketARN    = "arn:aws:s3:::secretwatch-trail-20260101"
	reportBucket = "arn:aws:s3:::secretwatch-report-20260101"
	functionARN  = arnP + "lambda:" + region + ":" + acct + ":function:secretwatch"
	logGroupARN  = arnP + "logs:" + region + ":" + acct + ":log-group:/aws/lambda/secretwatch"
	fanoutBucket = "org-trail-bucket"
	fanoutPrefix = "AWSLogs/o-abcdefghij/"
	machineARN   = arnP + "states:" + region + ":" + acct + ":stateMachine:secretwatch-backfill"
)

// docScenario is one set of inputs of the main documents module, as the main module passes them.
type docScenario struct {
	name          string
	inputs        map[string]cty.Value
	batch         bool
	awsOwnedTable bool
	fanout        bool
	report        bool // the weekly report: bucket and schedule
}

func mainDocScenarios() []docScenario {
	base := func() map[string]cty.Value {
		return map[string]cty.Value{
			"partition":         str("aws"),
			"region":            str(region),
			"account_id":        str(acct),
			"name":              str("secretwatch"),
			"lambda_role_arn":   str(lambdaRole),
			"table_arn":         str(tableARN),
			"kms_key_arn":       str(keyARN),
			"alerts_topic_arn":  str(alertsTopic),
			"alarms_topic_arn":  str(alarmsTopic),
			"dlq_arn":           str(dlqARN),
			"log_group_name":    str("/aws/lambda/secretwatch"),
			"rule_arns":         strList(ruleARN),
			"metrics_namespace": str("SecretWatch"),
		}
	}
	direct := base()
	direct["on_failure_queue_arn"] = str(onFailARN)

	full := base()
	full["batch_queue_arn"] = str(batchARN)
	full["backfill_role_arn"] = str(backfillRole)
	full["backfill_principal_arns"] = strList(opsRole)
	full["kms_key_user_arns"] = strList(opsRole)
	full["kms_key_administrator_arns"] = strList(arnP + "iam::" + acct + ":role/terraform")
	full["trail_arn"] = str(trailARN)
	full["trail_bucket_arn"] = str(bucketARN)
	full["central_event_bus_arn"] = str(busARN)
	full["source_account_ids"] = strList("444455556666", "777788889999")
	full["source_organization_id"] = str("o-abcdefghij")
	full["rule_arns"] = strList(ruleARN, centralRule)
	full["lambda_function_arn"] = str(functionARN)
	full["fanout_bucket_name"] = str(fanoutBucket)
	full["fanout_prefix"] = str(fanoutPrefix)

	owned := base()
	owned["on_failure_queue_arn"] = str(onFailARN)
	owned["table_encrypted_with_key"] = cty.False

	withReport := base()
	withReport["on_failure_queue_arn"] = str(onFailARN)
	withReport["report_bucket_arn"] = str(reportBucket)
	withReport["report_prefix"] = str("weekly/")
	withReport["report_function_arn"] = str(functionARN)

	return []docScenario{
		{name: "direct-minimal", inputs: direct},
		{name: "direct-weekly-report", inputs: withReport, report: true},
		{name: "direct-aws-owned-table-key", inputs: owned, awsOwnedTable: true},
		{name: "batch-everything", inputs: full, batch: true, fanout: true},
	}
}

func forwarderDocInputs() map[string]cty.Value {
	rules := map[string]string{}
	dlqs := map[string]string{}
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		rules[r] = arnP + "events:" + r + ":444455556666:rule/secretwatch-forward"
		dlqs[r] = arnP + "sqs:" + r + ":444455556666:secretwatch-forward-dlq"
	}
	return map[string]cty.Value{
		"partition":             str("aws"),
		"central_event_bus_arn": str(busARN),
		"rule_arns":             strMap(rules),
		"dlq_arns":              strMap(dlqs),
	}
}

// ---------------------------------------------------------------------------------------------------
// Policy documents
// ---------------------------------------------------------------------------------------------------

type policyKind int

const (
	identityPolicy policyKind = iota
	trustPolicy
	keyPolicy
	resourcePolicy
	notAPolicy
)

// Every output of the documents modules is classified here; a new output must be added, so that no
// policy escapes the checks.
var documentOutputs = map[string]map[string]policyKind{
	mainDocuments: {
		"event_pattern":                notAPolicy,
		"handled_events":               notAPolicy,
		"lambda_assume_role_policy":    trustPolicy,
		"lambda_role_policy":           identityPolicy,
		"backfill_assume_role_policy":  trustPolicy,
		"backfill_role_policy":         identityPolicy,
		"kms_key_policy":               keyPolicy,
		"alerts_topic_policy":          resourcePolicy,
		"alarms_topic_policy":          resourcePolicy,
		"dlq_policy":                   resourcePolicy,
		"batch_queue_policy":           resourcePolicy,
		"on_failure_queue_policy":      resourcePolicy,
		"trail_bucket_policy":          resourcePolicy,
		"central_bus_policy":           resourcePolicy,
		"fanout_assume_role_policy":    trustPolicy,
		"fanout_role_policy":           identityPolicy,
		"fanout_definition":            notAPolicy,
		"scheduler_assume_role_policy": trustPolicy,
		"scheduler_role_policy":        identityPolicy,
		"report_bucket_policy":         resourcePolicy,
	},
	forwarderDocuments: {
		"event_pattern":      notAPolicy,
		"assume_role_policy": trustPolicy,
		"role_policy":        identityPolicy,
		"dlq_policies":       resourcePolicy,
	},
}

type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    []string
	Resource  []string
	Condition map[string]map[string]any
	raw       map[string]any
}

type policyDoc struct {
	name       string
	Version    string
	Statements []statement
}

func parsePolicy(t *testing.T, name, js string) policyDoc {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	doc := policyDoc{name: name}
	doc.Version, _ = raw["Version"].(string)
	for k := range raw {
		if k != "Version" && k != "Statement" && k != "Id" {
			t.Errorf("%s: unexpected top-level key %q", name, k)
		}
	}
	sts, ok := raw["Statement"].([]any)
	if !ok || len(sts) == 0 {
		t.Fatalf("%s: no Statement array", name)
	}
	for i, s := range sts {
		m := s.(map[string]any)
		st := statement{raw: m, Principal: m["Principal"]}
		st.Sid, _ = m["Sid"].(string)
		st.Effect, _ = m["Effect"].(string)
		st.Action = stringOrList(t, name, m["Action"])
		st.Resource = stringOrList(t, name, m["Resource"])
		if c, ok := m["Condition"].(map[string]any); ok {
			st.Condition = map[string]map[string]any{}
			for op, kv := range c {
				st.Condition[op] = kv.(map[string]any)
			}
		}
		for k := range m {
			switch k {
			case "Sid", "Effect", "Principal", "Action", "Resource", "Condition":
			default:
				t.Errorf("%s: statement %d uses %q (NotAction, NotResource and NotPrincipal invert grants; not allowed)", name, i, k)
			}
		}
		doc.Statements = append(doc.Statements, st)
	}
	return doc
}

func stringOrList(t *testing.T, name string, v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				t.Fatalf("%s: non-string element %v", name, e)
			}
			out[i] = s
		}
		return out
	}
	t.Fatalf("%s: unexpected %T", name, v)
	return nil
}

// principals flattens a Principal ("*" or {AWS|Service: string|list}) into "AWS:x", "Service:y", "*".
func principals(t *testing.T, p any) []string {
	switch x := p.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case map[string]any:
		var out []string
		for typ, v := range x {
			for _, s := range stringOrList(t, "principal", v) {
				if s == "*" {
					out = append(out, "*")
				} else {
					out = append(out, typ+":"+s)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	t.Fatalf("unexpected principal %T", p)
	return nil
}

var arnRE = regexp.MustCompile(`^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):([0-9]{12})?:(.+)$`)

// checkCommon applies to every document: version, statement shape, unique Sids, no Secrets Manager
// action at all, no wildcard in an Allow's actions.
func checkCommon(t *testing.T, doc policyDoc) {
	t.Helper()
	if doc.Version != "2012-10-17" {
		t.Errorf("%s: Version %q", doc.name, doc.Version)
	}
	sids := map[string]bool{}
	for _, st := range doc.Statements {
		if st.Sid == "" || sids[st.Sid] {
			t.Errorf("%s: missing or duplicate Sid %q", doc.name, st.Sid)
		}
		sids[st.Sid] = true
		if st.Effect != "Allow" && st.Effect != "Deny" {
			t.Errorf("%s/%s: Effect %q", doc.name, st.Sid, st.Effect)
		}
		if len(st.Action) == 0 {
			t.Errorf("%s/%s: no Action", doc.name, st.Sid)
		}
		for _, a := range st.Action {
			if strings.HasPrefix(strings.ToLower(a), "secretsmanager:") {
				t.Errorf("%s/%s: Secrets Manager action %q (the monitor never needs one)", doc.name, st.Sid, a)
			}
			if st.Effect == "Allow" && strings.Contains(a, "*") {
				t.Errorf("%s/%s: wildcard action %q in an Allow", doc.name, st.Sid, a)
			}
		}
	}
}

// checkIdentity: every statement names its resources. The one "*" allowed is cloudwatch:PutMetricData
// (the action has no resource type) and only with a cloudwatch:namespace condition. Each resource is an
// ARN of the action's own service; "*" inside an ARN only as the log-stream suffix of a named log group.
func checkIdentity(t *testing.T, doc policyDoc, namespace string) {
	t.Helper()
	for _, st := range doc.Statements {
		if st.Effect != "Allow" {
			t.Errorf("%s/%s: identity policies here only allow", doc.name, st.Sid)
		}
		if st.Principal != nil {
			t.Errorf("%s/%s: identity policy statement with a Principal", doc.name, st.Sid)
		}
		if len(st.Resource) == 0 {
			t.Errorf("%s/%s: no Resource", doc.name, st.Sid)
		}
		services := map[string]bool{}
		for _, a := range st.Action {
			services[strings.SplitN(a, ":", 2)[0]] = true
		}
		for _, r := range st.Resource {
			if r == "*" {
				want := map[string]map[string]any{"StringEquals": {"cloudwatch:namespace": namespace}}
				if !reflect.DeepEqual(st.Action, []string{"cloudwatch:PutMetricData"}) || !reflect.DeepEqual(st.Condition, want) {
					t.Errorf("%s/%s: Resource \"*\" for %v with condition %v: only cloudwatch:PutMetricData conditioned on cloudwatch:namespace=%s may use it", doc.name, st.Sid, st.Action, st.Condition, namespace)
				}
				continue
			}
			m := arnRE.FindStringSubmatch(r)
			if m == nil {
				t.Errorf("%s/%s: resource %q is not an ARN", doc.name, st.Sid, r)
				continue
			}
			if len(services) != 1 || !services[m[1]] {
				t.Errorf("%s/%s: resource %q (service %s) for actions %v", doc.name, st.Sid, r, m[1], st.Action)
			}
			if strings.Contains(r, "*") && fanoutWildcard(st.Action, r) {
				continue
			}
			if strings.Contains(r, "*") {
				logStreams := m[1] == "logs" && strings.HasSuffix(r, ":*") && !strings.Contains(strings.TrimSuffix(r, ":*"), "*") && strings.Contains(r, ":log-group:/aws/lambda/")
				// Objects under a key prefix of a named bucket (the weekly report's files).
				objectPrefix := m[1] == "s3" && strings.HasSuffix(r, "/*") && !strings.Contains(strings.TrimSuffix(r, "/*"), "*") &&
					strings.Count(r, "/") >= 2 && reflect.DeepEqual(st.Action, []string{"s3:PutObject"})
				if !logStreams && !objectPrefix {
					t.Errorf("%s/%s: wildcard in resource %q", doc.name, st.Sid, r)
				}
			}
		}
		if services["kms"] {
			if _, ok := st.Condition["StringEquals"]["kms:ViaService"]; !ok {
				t.Errorf("%s/%s: KMS use without a kms:ViaService condition", doc.name, st.Sid)
			}
		}
	}
}

// grants flattens an identity policy into action => sorted resources (and conditions by action).
func grants(doc policyDoc) map[string][]string {
	out := map[string][]string{}
	for _, st := range doc.Statements {
		for _, a := range st.Action {
			out[a] = append(out[a], st.Resource...)
		}
	}
	for a := range out {
		sort.Strings(out[a])
	}
	return out
}

func checkTrust(t *testing.T, doc policyDoc, want []string) {
	t.Helper()
	var got []string
	for _, st := range doc.Statements {
		if st.Effect != "Allow" || !reflect.DeepEqual(st.Action, []string{"sts:AssumeRole"}) || len(st.Resource) > 0 {
			t.Errorf("%s/%s: trust statements allow sts:AssumeRole only, without Resource", doc.name, st.Sid)
		}
		got = append(got, principals(t, st.Principal)...)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: trusted principals %v, want %v", doc.name, got, want)
	}
}

// checkKey: in a key policy "Resource" must be "*" (it means this key). Nobody is trusted as "*";
// the account root (i.e. IAM policies) never gets encrypt/decrypt; every service or role that may
// use the key is pinned by a condition, except CloudWatch alarms publishing to the encrypted alarms
// topic, for which AWS documents no condition.
func checkKey(t *testing.T, doc policyDoc, root string) {
	t.Helper()
	crypto := map[string]bool{"kms:Decrypt": true, "kms:Encrypt": true, "kms:GenerateDataKey": true, "kms:GenerateDataKeyWithoutPlaintext": true, "kms:ReEncryptFrom": true, "kms:ReEncryptTo": true, "kms:CreateGrant": true}
	for _, st := range doc.Statements {
		if !reflect.DeepEqual(st.Resource, []string{"*"}) {
			t.Errorf("%s/%s: key policy Resource must be \"*\", got %v", doc.name, st.Sid, st.Resource)
		}
		ps := principals(t, st.Principal)
		usesCrypto := false
		for _, a := range st.Action {
			if !strings.HasPrefix(a, "kms:") {
				t.Errorf("%s/%s: non-KMS action %q", doc.name, st.Sid, a)
			}
			usesCrypto = usesCrypto || crypto[a]
		}
		for _, p := range ps {
			if p == "*" {
				t.Errorf("%s/%s: principal \"*\" in a key policy", doc.name, st.Sid)
			}
			if p == "AWS:"+root && usesCrypto && st.Condition == nil {
				t.Errorf("%s/%s: the account root gets %v without condition", doc.name, st.Sid, st.Action)
			}
		}
		if usesCrypto && st.Condition == nil && !(st.Sid == "CloudWatchAlarmsPublishToEncryptedTopic" && reflect.DeepEqual(ps, []string{"Service:cloudwatch.amazonaws.com"})) {
			t.Errorf("%s/%s: %v for %v without condition", doc.name, st.Sid, st.Action, ps)
		}
	}
}

// checkResource: Allow statements name ARNs, never trust "*" unless pinned to an organization, and a
// service principal is pinned to its source by aws:SourceArn. Deny statements may be broad.
func checkResource(t *testing.T, doc policyDoc) {
	t.Helper()
	for _, st := range doc.Statements {
		if st.Effect != "Allow" {
			continue
		}
		for _, r := range st.Resource {
			if arnRE.FindStringSubmatch(r) == nil {
				t.Errorf("%s/%s: resource %q is not an ARN", doc.name, st.Sid, r)
			}
		}
		if len(st.Resource) == 0 {
			t.Errorf("%s/%s: no Resource", doc.name, st.Sid)
		}
		for _, p := range principals(t, st.Principal) {
			switch {
			case p == "*":
				if _, ok := st.Condition["StringEquals"]["aws:PrincipalOrgID"]; !ok {
					t.Errorf("%s/%s: Allow to \"*\" without aws:PrincipalOrgID", doc.name, st.Sid)
				}
			case strings.HasPrefix(p, "Service:"):
				found := false
				for _, kv := range st.Condition {
					if _, ok := kv["aws:SourceArn"]; ok {
						found = true
					}
				}
				if !found {
					t.Errorf("%s/%s: service principal %s without aws:SourceArn", doc.name, st.Sid, p)
				}
			}
		}
	}
}

func TestPolicyDocuments(t *testing.T) {
	root := arnP + "iam::" + acct + ":root"
	m := loadModule(t, mainDocuments)
	checkOutputsClassified(t, m)
	for _, sc := range mainDocScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			out := evalModule(t, m, sc.inputs)
			docs := map[string]policyDoc{}
			for name, v := range out {
				kind := documentOutputs[mainDocuments][name]
				if kind == notAPolicy || v.IsNull() {
					continue
				}
				doc := parsePolicy(t, name, v.AsString())
				docs[name] = doc
				checkCommon(t, doc)
				switch kind {
				case identityPolicy:
					checkIdentity(t, doc, "SecretWatch")
				case keyPolicy:
					checkKey(t, doc, root)
				case resourcePolicy:
					checkResource(t, doc)
				}
			}

			// The Lambda role: exactly these grants, each on its resource.
			want := map[string][]string{
				"logs:CreateLogStream": {logGroupARN + ":*"},
				"logs:PutLogEvents":    {logGroupARN + ":*"},
				"sns:Publish":          {alertsTopic},
				"kms:Decrypt":          {keyARN},
				"kms:GenerateDataKey":  {keyARN},
			}
			// The table grants are what the store calls (TestTableGrantsMatchStoreCalls); the
			// table has no index.
			storeOps, _ := storeOperations(t)
			for _, op := range storeOps {
				want[op] = []string{tableARN}
			}
			via := []any{"dynamodb." + region + ".amazonaws.com", "sns." + region + ".amazonaws.com", "sqs." + region + ".amazonaws.com"}
			if sc.awsOwnedTable {
				via = via[1:] // nobody needs the key through DynamoDB
			}
			if sc.report {
				// The Lambda writes the report files (encrypted with the key) under the prefix only.
				want["s3:PutObject"] = []string{reportBucket + "/weekly/*"}
				via = append(via, "s3."+region+".amazonaws.com")
				if got := grants(docs["scheduler_role_policy"]); !reflect.DeepEqual(got, map[string][]string{"lambda:InvokeFunction": {functionARN}}) {
					t.Errorf("scheduler role grants %v, want lambda:InvokeFunction on the function only", got)
				}
				checkTrust(t, docs["scheduler_assume_role_policy"], []string{"Service:scheduler.amazonaws.com"})
				if _, ok := docs["report_bucket_policy"]; !ok {
					t.Errorf("report_bucket_policy is null with a report bucket")
				}
			} else {
				for _, none := range []string{"scheduler_role_policy", "scheduler_assume_role_policy", "report_bucket_policy"} {
					if _, ok := docs[none]; ok {
						t.Errorf("%s set without a report", none)
					}
				}
			}
			hasTableGrant := false
			for _, st := range docs["kms_key_policy"].Statements {
				hasTableGrant = hasTableGrant || st.Sid == "DynamoDBGrantsForTheTable"
			}
			if hasTableGrant == sc.awsOwnedTable {
				t.Errorf("key policy statement DynamoDBGrantsForTheTable present = %v with table key = %v", hasTableGrant, !sc.awsOwnedTable)
			}
			if sc.batch {
				for _, a := range []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"} {
					want[a] = []string{batchARN}
				}
			} else {
				want["sqs:SendMessage"] = []string{onFailARN}
			}
			if sc.fanout {
				want["s3:GetObject"] = []string{"arn:aws:s3:::" + fanoutBucket + "/" + fanoutPrefix + "*"}
				checkFanout(t, docs, out["fanout_definition"])
			} else if !out["fanout_definition"].IsNull() || docs["fanout_role_policy"].name != "" || docs["fanout_assume_role_policy"].name != "" {
				t.Errorf("fan-out documents set without fan-out")
			}
			lambda := docs["lambda_role_policy"]
			if got := grants(lambda); !reflect.DeepEqual(got, want) {
				t.Errorf("Lambda role grants\n  %v\nwant\n  %v", got, want)
			}
			for _, st := range lambda.Statements {
				if st.Sid == "UseModuleKeyThroughItsServices" && !reflect.DeepEqual(st.Condition["StringEquals"]["kms:ViaService"], via) {
					t.Errorf("Lambda kms:ViaService = %v, want %v", st.Condition["StringEquals"]["kms:ViaService"], via)
				}
			}
			checkTrust(t, docs["lambda_assume_role_policy"], []string{"Service:lambda.amazonaws.com"})

			// The bouncer: only the monitor's roles may publish alerts, everyone else is denied.
			publishers := []string{"AWS:" + lambdaRole}
			if sc.batch {
				publishers = append(publishers, "AWS:"+backfillRole)
			}
			sort.Strings(publishers)
			topic := docs["alerts_topic_policy"]
			var allowed []string
			denied := false
			for _, st := range topic.Statements {
				if st.Effect == "Allow" {
					allowed = append(allowed, principals(t, st.Principal)...)
				}
				if st.Effect == "Deny" && reflect.DeepEqual(st.Action, []string{"sns:Publish"}) {
					if ne, ok := st.Condition["StringNotEquals"]["aws:PrincipalArn"]; ok {
						denied = true
						var got []string
						for _, p := range stringOrList(t, "aws:PrincipalArn", ne) {
							got = append(got, "AWS:"+p)
						}
						sort.Strings(got)
						if !reflect.DeepEqual(got, publishers) {
							t.Errorf("alerts topic deny exempts %v, want %v", got, publishers)
						}
					}
				}
			}
			if !reflect.DeepEqual(allowed, publishers) || !denied {
				t.Errorf("alerts topic: allowed publishers %v (want %v), explicit deny of others: %v", allowed, publishers, denied)
			}

			if sc.batch {
				g := grants(docs["backfill_role_policy"])
				if !reflect.DeepEqual(g["cloudwatch:PutMetricData"], []string{"*"}) {
					t.Errorf("backfill role: PutMetricData on %v", g["cloudwatch:PutMetricData"])
				}
				checkTrust(t, docs["backfill_assume_role_policy"], []string{"AWS:" + opsRole})
				for _, need := range []string{"batch_queue_policy", "trail_bucket_policy", "central_bus_policy", "backfill_role_policy"} {
					if _, ok := docs[need]; !ok {
						t.Errorf("%s is null in the full scenario", need)
					}
				}
				if _, ok := docs["on_failure_queue_policy"]; ok {
					t.Errorf("on_failure_queue_policy set in batch mode")
				}
			} else {
				for _, none := range []string{"batch_queue_policy", "trail_bucket_policy", "central_bus_policy", "backfill_role_policy", "backfill_assume_role_policy"} {
					if _, ok := docs[none]; ok {
						t.Errorf("%s set in the minimal scenario", none)
					}
				}
			}
		})
	}

	t.Run("forwarder", func(t *testing.T) {
		fm := loadModule(t, forwarderDocuments)
		checkOutputsClassified(t, fm)
		out := evalModule(t, fm, forwarderDocInputs())
		role := parsePolicy(t, "role_policy", out["role_policy"].AsString())
		checkCommon(t, role)
		checkIdentity(t, role, "")
		if got, want := grants(role), map[string][]string{"events:PutEvents": {busARN}}; !reflect.DeepEqual(got, want) {
			t.Errorf("forwarder role grants %v, want %v", got, want)
		}
		trust := parsePolicy(t, "assume_role_policy", out["assume_role_policy"].AsString())
		checkCommon(t, trust)
		checkTrust(t, trust, []string{"Service:events.amazonaws.com"})
		n := 0
		for it := out["dlq_policies"].ElementIterator(); it.Next(); {
			k, v := it.Element()
			doc := parsePolicy(t, "dlq_policies["+k.AsString()+"]", v.AsString())
			checkCommon(t, doc)
			checkResource(t, doc)
			if !strings.Contains(v.AsString(), ":"+k.AsString()+":") {
				t.Errorf("dlq policy of %s names another region: %s", k.AsString(), v.AsString())
			}
			n++
		}
		if n != 2 {
			t.Errorf("%d DLQ policies, want one per region (2)", n)
		}
	})
}

func checkOutputsClassified(t *testing.T, m *tfModule) {
	t.Helper()
	for name := range m.Outputs {
		if _, ok := documentOutputs[m.Rel][name]; !ok {
			t.Errorf("%s: output %q is not classified in documentOutputs (policy kind unknown)", m.Rel, name)
		}
	}
	for name := range documentOutputs[m.Rel] {
		if _, ok := m.Outputs[name]; !ok {
			t.Errorf("%s: documentOutputs lists %q, which the module does not output", m.Rel, name)
		}
	}
}

// TestPoliciesOnlyFromDocuments: every policy attached anywhere comes from a documents module output
// (so the checks above cover all of them), no AWS managed policy is attached, no inline jsonencode or
// aws_iam_policy_document bypasses the documents module, and no .tf file mentions a Secrets Manager
// action.
func TestPoliciesOnlyFromDocuments(t *testing.T) {
	policyAttrs := map[string]bool{"policy": true, "assume_role_policy": true, "inline_policy": true, "access_policy": true}
	forbiddenResources := map[string]bool{
		"aws_iam_role_policy_attachment": true, "aws_iam_policy_attachment": true, "aws_iam_policy": true,
		"aws_iam_user": true, "aws_iam_user_policy": true, "aws_iam_group_policy": true, "aws_iam_access_key": true,
		"aws_lambda_function_url": true,
	}
	used := map[string]map[string]bool{mainDocuments: {}, forwarderDocuments: {}}
	for _, rel := range allModuleDirs(t) {
		m := loadModule(t, rel)
		for name, src := range m.Src {
			if strings.Contains(strings.ToLower(string(src)), "secretsmanager:") {
				t.Errorf("%s/%s mentions a secretsmanager: action", rel, name)
			}
		}
		if _, isDocs := documentOutputs[rel]; isDocs {
			continue
		}
		for key := range m.Data {
			if strings.HasPrefix(key, "aws_iam_policy_document.") {
				t.Errorf("%s: data %s: build policies in the documents module", rel, key)
			}
		}
		for key, b := range m.Resources {
			if forbiddenResources[b.Labels[0]] {
				t.Errorf("%s: resource %s is not allowed (managed or unscoped permissions)", rel, key)
			}
			if a := attr(b, "managed_policy_arns"); a != nil {
				t.Errorf("%s: %s attaches managed policies", rel, key)
			}
			for name, a := range b.Body.Attributes {
				if !policyAttrs[name] {
					continue
				}
				ref, ok := traversalString(a.Expr)
				if !ok || !strings.HasPrefix(ref, "module.documents.") {
					t.Errorf("%s: %s.%s must be a module.documents output, not an inline document", pos(a.SrcRange), key, name)
					continue
				}
				out := strings.TrimSuffix(strings.TrimPrefix(ref, "module.documents."), "[]")
				docsRel := strings.TrimSuffix(rel, "/") + "/modules/documents"
				kind, known := documentOutputs[docsRel][out]
				if !known || kind == notAPolicy {
					t.Errorf("%s: %s.%s = %s, not a policy output of %s", pos(a.SrcRange), key, name, ref, docsRel)
					continue
				}
				used[docsRel][out] = true
			}
		}
	}
	for docsRel, outs := range documentOutputs {
		for name, kind := range outs {
			if kind != notAPolicy && !used[docsRel][name] {
				t.Errorf("%s output %s is attached nowhere", docsRel, name)
			}
		}
	}
	// Lambda permissions for EventBridge are pinned to the rule and the account.
	main := loadModule(t, mainModule)
	for name, b := range main.resourcesOfType("aws_lambda_permission") {
		if attr(b, "source_arn") == nil || attr(b, "source_account") == nil {
			t.Errorf("aws_lambda_permission.%s without source_arn and source_account", name)
		}
	}
}
