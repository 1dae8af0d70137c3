package terraform_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// TestCanonicalFormatting: every .tf file is formatted as `terraform fmt` would (hclwrite.Format is
// the formatter terraform fmt uses).
func TestCanonicalFormatting(t *testing.T) {
	n := 0
	for _, rel := range allModuleDirs(t) {
		m := loadModule(t, rel)
		for name, src := range m.Src {
			n++
			if got := hclwrite.Format(src); !bytes.Equal(got, src) {
				t.Errorf("%s/%s is not canonically formatted (run terraform fmt -recursive terraform)", rel, name)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d .tf files found", n)
	}
}

// TestRuleState: every EventBridge rule receives read-only management events (GetSecretValue is one)
// and uses the pattern from the documents module, i.e. from event-pattern.json.
func TestRuleState(t *testing.T) {
	rules := 0
	for _, rel := range allModuleDirs(t) {
		m := loadModule(t, rel)
		for name, b := range m.resourcesOfType("aws_cloudwatch_event_rule") {
			rules++
			where := rel + ": aws_cloudwatch_event_rule." + name
			if a := attr(b, "is_enabled"); a != nil {
				t.Errorf("%s uses is_enabled", where)
			}
			st, ok := "", false
			if a := attr(b, "state"); a != nil {
				st, ok = literalString(a.Expr)
			}
			if !ok || st != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" {
				t.Errorf("%s: state = %q, want the literal ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", where, st)
			}
			ref, _ := "", false
			if a := attr(b, "event_pattern"); a != nil {
				ref, _ = traversalString(a.Expr)
			}
			if ref != "module.documents.event_pattern" {
				t.Errorf("%s: event_pattern = %q, want module.documents.event_pattern", where, ref)
			}
			if attr(b, "schedule_expression") != nil {
				t.Errorf("%s: a scheduled rule cannot use this state", where)
			}
		}
	}
	if rules < 2 {
		t.Errorf("found %d event rules, want the monitor's and the forwarder's", rules)
	}
}

// ---------------------------------------------------------------------------------------------------
// Environment variables: Terraform sets exactly what the Lambda reads.
// ---------------------------------------------------------------------------------------------------

var envNameRE = regexp.MustCompile(`^SECRETWATCH_[A-Z0-9_]+$`)

// lambdaEnvLiterals collects the "SECRETWATCH_..." string literals of the non-test Go files of
// cmd/secretwatch-lambda; hasGo reports whether there is any such file.
func lambdaEnvLiterals(t *testing.T) (names map[string]bool, hasGo bool) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "cmd", "secretwatch-lambda")
	names = map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		hasGo = true
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && envNameRE.MatchString(s) {
					names[s] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names, hasGo
}

// contractEnv reads the variable names of the table in docs/contracts.md.
func contractEnv(t *testing.T) map[string]bool {
	t.Helper()
	sec := contractSection(t, "## Lambda environment variables")
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(SECRETWATCH_[A-Z0-9_]+)` \\|").FindAllStringSubmatch(sec, -1) {
		out[m[1]] = true
	}
	if len(out) == 0 {
		t.Fatal("docs/contracts.md: no environment variables found")
	}
	return out
}

func contractSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "contracts.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, heading)
	if i < 0 {
		t.Fatalf("docs/contracts.md: no %q", heading)
	}
	s = s[i+len(heading):]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

func terraformEnv(t *testing.T) map[string]bool {
	t.Helper()
	m := loadModule(t, mainModule)
	fns := m.resourcesOfType("aws_lambda_function")
	if len(fns) != 1 {
		t.Fatalf("want one aws_lambda_function, got %d", len(fns))
	}
	var fn *hclsyntax.Block
	for _, b := range fns {
		fn = b
	}
	envs := nestedBlocks(fn, "environment")
	if len(envs) != 1 || attr(envs[0], "variables") == nil {
		t.Fatal("the Lambda has no environment { variables = {...} }")
	}
	obj, ok := attr(envs[0], "variables").Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		t.Fatal("environment variables must be an object literal, so the names can be checked")
	}
	out := map[string]bool{}
	for _, item := range obj.Items {
		k, ok := literalString(item.KeyExpr)
		if !ok {
			if kc, isKey := item.KeyExpr.(*hclsyntax.ObjectConsKeyExpr); isKey {
				k = hcl.ExprAsKeyword(kc.Wrapped)
				ok = k != ""
			}
		}
		if !ok {
			t.Fatalf("%s: environment variable name is not a literal", pos(item.KeyExpr.Range()))
		}
		if !envNameRE.MatchString(k) {
			t.Errorf("environment variable %q does not match %s", k, envNameRE)
		}
		out[k] = true
	}
	return out
}

// expectedEnv is what Terraform must set: the Lambda's own literals once cmd/secretwatch-lambda has Go
// files (strict), and until then the contract's table plus any literal.
func expectedEnv(literals map[string]bool, hasGo bool, contract map[string]bool) (map[string]bool, string) {
	want := map[string]bool{}
	if hasGo {
		for k := range literals {
			want[k] = true
		}
		return want, "the SECRETWATCH_* literals of cmd/secretwatch-lambda"
	}
	for k := range contract {
		want[k] = true
	}
	for k := range literals {
		want[k] = true
	}
	return want, "docs/contracts.md (cmd/secretwatch-lambda has no Go files yet)"
}

func TestExpectedEnvModes(t *testing.T) {
	set := func(ks ...string) map[string]bool {
		m := map[string]bool{}
		for _, k := range ks {
			m[k] = true
		}
		return m
	}
	contract := set("SECRETWATCH_TABLE", "SECRETWATCH_TOPIC_ARN")
	if got, _ := expectedEnv(set(), false, contract); !reflect.DeepEqual(got, contract) {
		t.Errorf("no Lambda code yet: want the contract, got %v", got)
	}
	if got, _ := expectedEnv(set("SECRETWATCH_X"), false, contract); !reflect.DeepEqual(got, set("SECRETWATCH_TABLE", "SECRETWATCH_TOPIC_ARN", "SECRETWATCH_X")) {
		t.Errorf("no Go files but literals: want contract + literals, got %v", got)
	}
	if got, _ := expectedEnv(set("SECRETWATCH_TABLE"), true, contract); !reflect.DeepEqual(got, set("SECRETWATCH_TABLE")) {
		t.Errorf("Lambda code present: want exactly its literals, got %v", got)
	}
}

func TestLambdaEnvironmentMatchesTheLambda(t *testing.T) {
	tf := terraformEnv(t)
	literals, hasGo := lambdaEnvLiterals(t)
	contract := contractEnv(t)
	want, source := expectedEnv(literals, hasGo, contract)
	if hasGo {
		for k := range contract {
			if !literals[k] {
				t.Logf("note: docs/contracts.md documents %s but cmd/secretwatch-lambda never names it", k)
			}
		}
	}
	for k := range want {
		if !tf[k] {
			t.Errorf("the Lambda reads %s (per %s) but Terraform does not set it", k, source)
		}
	}
	for k := range tf {
		if !want[k] {
			t.Errorf("Terraform sets %s, which nobody reads (per %s)", k, source)
		}
	}
	t.Logf("checked %d variables against %s", len(tf), source)
}

// ---------------------------------------------------------------------------------------------------
// Variables and outputs
// ---------------------------------------------------------------------------------------------------

// Public modules: every variable that is not a plain bool has a validation.
var publicModules = []string{mainModule, forwarderModule, mainDocuments, forwarderDocuments}

func TestVariablesAndOutputsAreDocumented(t *testing.T) {
	public := map[string]bool{}
	for _, p := range publicModules {
		public[p] = true
	}
	for _, rel := range allModuleDirs(t) {
		m := loadModule(t, rel)
		for name, b := range m.Variables {
			where := rel + ": variable " + name
			if d := attr(b, "description"); d == nil {
				t.Errorf("%s has no description", where)
			} else if s, ok := literalString(d.Expr); !ok || len(strings.TrimSpace(s)) < 10 {
				t.Errorf("%s: description %q is too short", where, s)
			}
			ta := attr(b, "type")
			if ta == nil {
				t.Errorf("%s has no type", where)
				continue
			}
			isBool := hcl.ExprAsKeyword(ta.Expr) == "bool"
			if public[rel] && !isBool && len(nestedBlocks(b, "validation")) == 0 {
				t.Errorf("%s has no validation", where)
			}
		}
		for name, b := range m.Outputs {
			if d := attr(b, "description"); d == nil {
				t.Errorf("%s: output %s has no description", rel, name)
			} else if s, ok := literalString(d.Expr); !ok || len(strings.TrimSpace(s)) < 5 {
				t.Errorf("%s: output %s: description %q is too short", rel, name, s)
			}
		}
	}
}

// validationCases: inputs each module needs, and values its validations must reject.
type validationCase struct {
	module   string
	required map[string]cty.Value
	bad      map[string]map[string]cty.Value // variable expected to fail => inputs that make it fail
}

func subscription(protocol, endpoint string, severities ...string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"protocol": str(protocol), "endpoint": str(endpoint), "severities": strList(severities...)})
}

func validationCases() []validationCase {
	one := func(k string, v cty.Value) map[string]cty.Value { return map[string]cty.Value{k: v} }
	return []validationCase{
		{
			module:   mainModule,
			required: map[string]cty.Value{"lambda_zip_path": str("dist/secretwatch-lambda-arm64.zip")},
			bad: map[string]map[string]cty.Value{
				"name":                               one("name", str("Secret_Watch")),
				"lambda_zip_path":                    one("lambda_zip_path", str("dist/bootstrap")),
				"allowlist_path":                     one("allowlist_path", str("allowlist.json")),
				"lambda_memory_size":                 one("lambda_memory_size", cty.NumberIntVal(64)),
				"lambda_timeout":                     one("lambda_timeout", cty.NumberIntVal(901)),
				"reserved_concurrent_executions":     one("reserved_concurrent_executions", cty.NumberIntVal(0)),
				"log_retention_days":                 one("log_retention_days", cty.NumberIntVal(10)),
				"log_level":                          one("log_level", str("verbose")),
				"metrics_namespace":                  one("metrics_namespace", str("AWS/Lambda")),
				"suppress_window":                    one("suppress_window", str("30s")),
				"baseline_retention":                 one("baseline_retention", str("24h")),
				"metric_secrets":                     one("metric_secrets", strList("a,b")),
				"delivery_mode":                      one("delivery_mode", str("stream")),
				"batch_size":                         {"batch_size": cty.NumberIntVal(100), "batch_max_window_seconds": cty.NumberIntVal(0)},
				"batch_max_concurrency":              one("batch_max_concurrency", cty.NumberIntVal(1)),
				"monitor_default_bus":                one("monitor_default_bus", cty.False),
				"central_bus_source_account_ids":     one("central_bus_source_account_ids", strList("1234")),
				"central_bus_source_organization_id": one("central_bus_source_organization_id", str("org-1")),
				"kms_key_administrator_arns":         one("kms_key_administrator_arns", strList("alice")),
				"alert_subscriptions":                one("alert_subscriptions", cty.ListVal([]cty.Value{subscription("email", "a@example.com", "urgent")})),
				"alarm_subscriptions":                one("alarm_subscriptions", cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"protocol": str("https"), "endpoint": str("http://example.com")})})),
				"dead_man_hours":                     one("dead_man_hours", cty.NumberIntVal(0)),
				"backfill_principal_arns":            one("backfill_principal_arns", strList("bob")),
				"tags":                               one("tags", strMap(map[string]string{"aws:x": "y"})),
				"central_event_bus_name":             one("central_event_bus_name", str("default")),
				"trail_log_retention_days":           one("trail_log_retention_days", cty.NumberIntVal(0)),
				"batch_max_window_seconds":           one("batch_max_window_seconds", cty.NumberIntVal(301)),
				"batch_max_receive_count":            one("batch_max_receive_count", cty.NumberIntVal(0)),
				"async_max_retry_attempts":           one("async_max_retry_attempts", cty.NumberIntVal(3)),
				"async_max_event_age_seconds":        one("async_max_event_age_seconds", cty.NumberIntVal(30)),
				"dlq_retention_seconds":              one("dlq_retention_seconds", cty.NumberIntVal(1209601)),
				"table_name":                         one("table_name", str("a b")),
				"kms_key_user_arns":                  one("kms_key_user_arns", strList("arn:aws:s3:::bucket")),
				"alarm_actions":                      one("alarm_actions", strList("oncall@example.com")),
				"target_retry_attempts":              one("target_retry_attempts", cty.NumberIntVal(186)),
				"target_max_event_age_seconds":       one("target_max_event_age_seconds", cty.NumberIntVal(59)),
				"parse_failure_threshold":            one("parse_failure_threshold", cty.NumberIntVal(-1)),
				"batch_queue_age_threshold_seconds":  one("batch_queue_age_threshold_seconds", cty.NumberIntVal(10)),
				"kms_deletion_window_days":           one("kms_deletion_window_days", cty.NumberIntVal(6)),
				"read_anomaly_band_width":            one("read_anomaly_band_width", cty.NumberIntVal(0)),
				"backfill_fanout_bucket":             one("backfill_fanout_bucket", str("Trail_Bucket")),
				"backfill_fanout_prefix":             one("backfill_fanout_prefix", str("AWSLogs/*")),
				"backfill_fanout_batch_size":         one("backfill_fanout_batch_size", cty.NumberIntVal(1001)),
				"backfill_fanout_max_concurrency":    one("backfill_fanout_max_concurrency", cty.NumberIntVal(0)),
				"report_schedule_expression":         one("report_schedule_expression", str("every monday")),
				"report_schedule_timezone":           one("report_schedule_timezone", str("")),
				"report_days":                        one("report_days", cty.NumberIntVal(0)),
				"report_prefix":                      one("report_prefix", str("reports")),
				"report_retention_days":              one("report_retention_days", cty.NumberIntVal(0)),
			},
		},
		{
			module:   forwarderModule,
			required: map[string]cty.Value{"central_event_bus_arn": str(busARN)},
			bad: map[string]map[string]cty.Value{
				"central_event_bus_arn":        one("central_event_bus_arn", str(alertsTopic)),
				"regions":                      one("regions", strList("eu-west-1", "eu-west-1")),
				"name":                         one("name", str("-x")),
				"target_retry_attempts":        one("target_retry_attempts", cty.NumberIntVal(-1)),
				"target_max_event_age_seconds": one("target_max_event_age_seconds", cty.NumberIntVal(86401)),
				"dlq_retention_seconds":        one("dlq_retention_seconds", cty.NumberIntVal(59)),
				"alarm_actions_by_region":      one("alarm_actions_by_region", cty.MapVal(map[string]cty.Value{"eu-west-1": strList("topic")})),
				"tags":                         one("tags", strMap(map[string]string{"": "y"})),
			},
		},
	}
}

// TestVariableValidations evaluates every validation of the public modules: the defaults (plus the
// required inputs) pass, and each bad value is rejected by its own variable's validation.
func TestVariableValidations(t *testing.T) {
	for _, vc := range validationCases() {
		m := loadModule(t, vc.module)
		good := variableValues(t, m, vc.required)
		if failed := failedValidations(t, m, good); len(failed) > 0 {
			t.Errorf("%s: defaults rejected: %v", vc.module, failed)
		}
		// A value that exercises the optional paths must pass too.
		if vc.module == mainModule {
			in := map[string]cty.Value{
				"lambda_zip_path":                    str("dist/secretwatch-lambda-arm64.zip"),
				"allowlist_path":                     str("../../allowlist.yaml"),
				"delivery_mode":                      str("batch"),
				"batch_size":                         cty.NumberIntVal(500),
				"batch_max_window_seconds":           cty.NumberIntVal(10),
				"batch_max_concurrency":              cty.NumberIntVal(10),
				"suppress_window":                    str("30m"),
				"baseline_retention":                 str("48h"),
				"alert_subscriptions":                cty.ListVal([]cty.Value{subscription("email", "a@example.com", "critical", "high"), subscription("https", "https://siem.example.com/hook")}),
				"central_bus_source_organization_id": str("o-abcdefghij"),
				"create_central_event_bus":           cty.True,
				"monitor_default_bus":                cty.False,
				"backfill_principal_arns":            strList(opsRole),
			}
			if failed := failedValidations(t, m, variableValues(t, m, in)); len(failed) > 0 {
				t.Errorf("%s: full example rejected: %v", vc.module, failed)
			}
		}
		for name := range m.Variables {
			if _, ok := vc.bad[name]; !ok && len(nestedBlocks(m.Variables[name], "validation")) > 0 {
				t.Errorf("%s: variable %s has a validation but no bad-value case here", vc.module, name)
			}
		}
		for name, over := range vc.bad {
			in := map[string]cty.Value{}
			for k, v := range vc.required {
				in[k] = v
			}
			for k, v := range over {
				in[k] = v
			}
			failed := failedValidations(t, m, variableValues(t, m, in))
			if _, ok := failed[name]; !ok {
				t.Errorf("%s: variable %s accepted %v", vc.module, name, over)
			}
			for other := range failed {
				if other != name {
					t.Errorf("%s: the bad %s also failed %s: %s", vc.module, name, other, failed[other])
				}
			}
		}
	}
}

// ---------------------------------------------------------------------------------------------------
// References: a poor man's `terraform validate` for the modules that need the AWS provider.
// ---------------------------------------------------------------------------------------------------

var typeKeywords = map[string]bool{"string": true, "number": true, "bool": true, "list": true, "map": true, "set": true, "object": true, "tuple": true, "any": true, "optional": true}

var moduleMeta = map[string]bool{"source": true, "version": true, "providers": true, "count": true, "for_each": true, "depends_on": true}

func TestReferencesResolve(t *testing.T) {
	for _, rel := range allModuleDirs(t) {
		m := loadModule(t, rel)
		children := map[string]*tfModule{}
		for name, b := range m.Modules {
			src, ok := literalString(attr(b, "source").Expr)
			if !ok || !strings.HasPrefix(src, ".") {
				t.Errorf("%s: module %s: source must be a local path", rel, name)
				continue
			}
			child := loadModule(t, filepath.ToSlash(filepath.Clean(filepath.Join(rel, src))))
			children[name] = child
			given := map[string]bool{}
			for arg := range b.Body.Attributes {
				if moduleMeta[arg] {
					continue
				}
				given[arg] = true
				if _, ok := child.Variables[arg]; !ok {
					t.Errorf("%s: module %s: argument %q is not a variable of %s", rel, name, arg, child.Rel)
				}
			}
			for v, vb := range child.Variables {
				if attr(vb, "default") == nil && !given[v] {
					t.Errorf("%s: module %s: required variable %q of %s not set", rel, name, v, child.Rel)
				}
			}
		}
		for file, body := range m.Files {
			dynamicNames := map[string]bool{}
			hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
				if b, ok := n.(*hclsyntax.Block); ok && b.Type == "dynamic" && len(b.Labels) == 1 {
					dynamicNames[b.Labels[0]] = true
					if it := attr(b, "iterator"); it != nil {
						dynamicNames[hcl.ExprAsKeyword(it.Expr)] = true
					}
				}
				return nil
			})
			hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
				a, ok := n.(*hclsyntax.Attribute)
				if !ok {
					return nil
				}
				for _, tr := range a.Expr.Variables() {
					if (a.Name == "type" && typeKeywords[tr.RootName()]) || a.Name == "providers" {
						continue
					}
					checkReference(t, m, children, dynamicNames, file, a, tr)
				}
				return nil
			})
		}
	}
}

func checkReference(t *testing.T, m *tfModule, children map[string]*tfModule, dynamicNames map[string]bool, file string, a *hclsyntax.Attribute, tr hcl.Traversal) {
	t.Helper()
	step := func(i int) string {
		if i < len(tr) {
			if s, ok := tr[i].(hcl.TraverseAttr); ok {
				return s.Name
			}
		}
		return ""
	}
	where := pos(a.SrcRange)
	switch root := tr.RootName(); root {
	case "var":
		if _, ok := m.Variables[step(1)]; !ok {
			t.Errorf("%s: undeclared var.%s", where, step(1))
		}
	case "local":
		if _, ok := m.Locals[step(1)]; !ok {
			t.Errorf("%s: undeclared local.%s", where, step(1))
		}
	case "data":
		if _, ok := m.Data[step(1)+"."+step(2)]; !ok {
			t.Errorf("%s: undeclared data.%s.%s", where, step(1), step(2))
		}
	case "module":
		child, ok := children[step(1)]
		if !ok {
			t.Errorf("%s: undeclared module.%s", where, step(1))
			return
		}
		if out := step(2); out != "" {
			if _, ok := child.Outputs[out]; !ok {
				t.Errorf("%s: module.%s has no output %q", where, step(1), out)
			}
		}
	case "path", "terraform", "count", "each", "self":
	default:
		if dynamicNames[root] {
			return
		}
		if _, ok := m.Resources[root+"."+step(1)]; !ok {
			t.Errorf("%s: unknown reference %s.%s", where, root, step(1))
		}
	}
}

// ---------------------------------------------------------------------------------------------------
// The rest of the contract with the Lambda: metric names, alert rules, table keys, runtime, batching.
// ---------------------------------------------------------------------------------------------------

func objectLiteral(t *testing.T, a *hclsyntax.Attribute) map[string]string {
	t.Helper()
	obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		t.Fatalf("%s: want an object literal", pos(a.SrcRange))
	}
	out := map[string]string{}
	for _, it := range obj.Items {
		k := hcl.ExprAsKeyword(it.KeyExpr.(*hclsyntax.ObjectConsKeyExpr).Wrapped)
		v, ok := literalString(it.ValueExpr)
		if !ok {
			t.Fatalf("%s: value of %s is not a literal", pos(a.SrcRange), k)
		}
		out[k] = v
	}
	return out
}

func TestMetricsAndRulesMatchContract(t *testing.T) {
	m := loadModule(t, mainModule)
	metrics := objectLiteral(t, m.Locals["metric"])
	var got []string
	for _, v := range metrics {
		got = append(got, v)
	}
	sort.Strings(got)
	var want []string
	for _, mm := range regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\|").FindAllStringSubmatch(contractSection(t, "## CloudWatch metrics"), -1) {
		want = append(want, mm[1])
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("local.metric = %v, docs/contracts.md metrics = %v", got, want)
	}

	rulesAttr := m.Locals["alert_rules"]
	rv, diags := rulesAttr.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var rules []string
	for it := rv.ElementIterator(); it.Next(); {
		_, v := it.Element()
		rules = append(rules, v.AsString())
	}
	var wantRules []string
	for _, mm := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(strings.SplitN(contractSection(t, "## Alert rules"), "\n", 3)[1], -1) {
		wantRules = append(wantRules, mm[1])
	}
	if !reflect.DeepEqual(rules, wantRules) {
		t.Errorf("local.alert_rules = %v, docs/contracts.md rules = %v", rules, wantRules)
	}

	// Custom metrics are named only through local.metric: no literal metric name elsewhere.
	contractNames := map[string]bool{}
	for _, n := range want {
		contractNames[n] = true
	}
	for file, body := range m.Files {
		if file == "metrics.tf" {
			continue
		}
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if lit, ok := n.(*hclsyntax.TemplateExpr); ok {
				for _, part := range lit.Parts {
					if s, ok := literalString(part); ok && contractNames[s] {
						t.Errorf("%s: literal metric name %q: use local.metric", pos(lit.SrcRange), s)
					}
				}
			}
			return nil
		})
	}
	// Alarms on the custom namespace use local.metric.
	for name, b := range m.resourcesOfType("aws_cloudwatch_metric_alarm") {
		if !strings.HasPrefix(mustTemplate(t, attr(b, "alarm_name")), "${var.name}-") {
			t.Errorf("alarm %s: alarm_name must start with \"${var.name}-\" (the alarms topic policy admits only those)", name)
		}
		if ns := attr(b, "namespace"); ns != nil {
			if ref, _ := traversalString(ns.Expr); ref == "var.metrics_namespace" {
				mref, _ := traversalString(attr(b, "metric_name").Expr)
				if !strings.HasPrefix(mref, "local.metric.") || metrics[strings.TrimPrefix(mref, "local.metric.")] == "" {
					t.Errorf("alarm %s: metric_name %q is not a local.metric entry", name, mref)
				}
			}
		}
	}
}

// mustTemplate renders a template expression back to source form: literals and ${...} references.
func mustTemplate(t *testing.T, a *hclsyntax.Attribute) string {
	t.Helper()
	if a == nil {
		return ""
	}
	tpl, ok := a.Expr.(*hclsyntax.TemplateExpr)
	if !ok {
		s, _ := literalString(a.Expr)
		return s
	}
	var sb strings.Builder
	for _, p := range tpl.Parts {
		if s, ok := literalString(p); ok {
			sb.WriteString(s)
		} else if ref, ok := traversalString(p); ok {
			sb.WriteString("${" + ref + "}")
		} else {
			sb.WriteString("${?}")
		}
	}
	return sb.String()
}

func literalAttr(t *testing.T, b *hclsyntax.Block, name string) string {
	t.Helper()
	a := attr(b, name)
	if a == nil {
		return ""
	}
	if s, ok := literalString(a.Expr); ok {
		return s
	}
	if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.Bool {
		return strconv.FormatBool(v.True())
	}
	if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.Number {
		return v.AsBigFloat().String()
	}
	if ref, ok := traversalString(a.Expr); ok {
		return ref
	}
	if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.CanIterateElements() {
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, e.AsString())
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return "<expr>"
}

func TestResourceShapes(t *testing.T) {
	m := loadModule(t, mainModule)
	expect := func(b *hclsyntax.Block, what string, want map[string]string) {
		t.Helper()
		if b == nil {
			t.Errorf("%s missing", what)
			return
		}
		for k, v := range want {
			if got := literalAttr(t, b, k); got != v {
				t.Errorf("%s.%s = %s, want %s", what, k, got, v)
			}
		}
	}
	fn := m.Resources["aws_lambda_function.this"]
	expect(fn, "aws_lambda_function.this", map[string]string{
		"runtime": "provided.al2023", "handler": "bootstrap", "architectures": "[arm64]",
		"filename": "var.lambda_zip_path", "reserved_concurrent_executions": "var.reserved_concurrent_executions",
	})
	if attr(fn, "source_code_hash") == nil {
		t.Error("the Lambda has no source_code_hash: a new zip would not redeploy")
	}
	if lc := nestedBlocks(fn, "logging_config"); len(lc) != 1 || literalAttr(t, lc[0], "log_format") != "JSON" {
		t.Error("the Lambda must log in JSON format")
	}
	expect(m.Resources["aws_cloudwatch_log_group.lambda"], "log group", map[string]string{"retention_in_days": "var.log_retention_days"})
	if def, _ := m.Variables["log_retention_days"].Body.Attributes["default"].Expr.Value(nil); !def.Equals(cty.NumberIntVal(14)).True() {
		t.Errorf("log_retention_days default = %s, want 14", def.AsBigFloat().String())
	}

	esm := m.Resources["aws_lambda_event_source_mapping.batch"]
	expect(esm, "event source mapping", map[string]string{
		"function_response_types": "[ReportBatchItemFailures]", "batch_size": "var.batch_size",
		"maximum_batching_window_in_seconds": "var.batch_max_window_seconds",
	})

	tbl := m.Resources["aws_dynamodb_table.baselines"]
	expect(tbl, "table", map[string]string{"billing_mode": "PAY_PER_REQUEST", "hash_key": "pk", "range_key": "sk", "deletion_protection_enabled": "var.table_deletion_protection"})
	attrs := map[string]string{}
	for _, a := range nestedBlocks(tbl, "attribute") {
		attrs[literalAttr(t, a, "name")] = literalAttr(t, a, "type")
	}
	if want := map[string]string{"pk": "S", "sk": "S"}; !reflect.DeepEqual(attrs, want) {
		t.Errorf("table attributes %v, want %v", attrs, want)
	}
	// No secondary index: it would bill a write on top of every counter write (issue 12).
	if gsis := nestedBlocks(tbl, "global_secondary_index"); len(gsis) != 0 {
		t.Errorf("want no GSI, got %d", len(gsis))
	}
	if ttl := nestedBlocks(tbl, "ttl"); len(ttl) != 1 || literalAttr(t, ttl[0], "attribute_name") != "ttl" || literalAttr(t, ttl[0], "enabled") != "true" {
		t.Error("table TTL must be enabled on attribute ttl")
	}
	if p := nestedBlocks(tbl, "point_in_time_recovery"); len(p) != 1 {
		t.Error("table without point_in_time_recovery")
	}
	if sse := nestedBlocks(tbl, "server_side_encryption"); len(sse) != 1 || literalAttr(t, sse[0], "enabled") != "var.table_customer_key" ||
		!strings.Contains(string(m.Src["dynamodb.tf"]), "kms_key_arn = var.table_customer_key ? aws_kms_key.this.arn : null") {
		t.Error("table must be encrypted with the module's key unless table_customer_key is false")
	}
	if def, _ := m.Variables["table_customer_key"].Body.Attributes["default"].Expr.Value(nil); !def.True() {
		t.Error("table_customer_key must default to true")
	}

	for _, name := range []string{"alerts", "alarms"} {
		expect(m.Resources["aws_sns_topic."+name], "topic "+name, map[string]string{"kms_master_key_id": "aws_kms_key.this.arn"})
	}
	for _, name := range []string{"dlq", "on_failure", "batch"} {
		expect(m.Resources["aws_sqs_queue."+name], "queue "+name, map[string]string{"kms_master_key_id": "aws_kms_key.this.arn"})
	}
	expect(m.Resources["aws_kms_key.this"], "key", map[string]string{"enable_key_rotation": "true"})

	tgt := m.Resources["aws_cloudwatch_event_target.this"]
	if len(nestedBlocks(tgt, "retry_policy")) != 1 || len(nestedBlocks(tgt, "dead_letter_config")) != 1 {
		t.Error("the rule target needs a retry_policy and a dead_letter_config")
	}
	trail := m.Resources["aws_cloudtrail.this"]
	expect(trail, "trail", map[string]string{"is_multi_region_trail": "true", "enable_log_file_validation": "true", "kms_key_id": "aws_kms_key.this.arn"})
	if es := nestedBlocks(trail, "event_selector"); len(es) != 1 || literalAttr(t, es[0], "read_write_type") != "All" || literalAttr(t, es[0], "include_management_events") != "true" {
		t.Error("the trail must log Read and Write management events")
	}

	dm := m.Resources["aws_cloudwatch_metric_alarm.dead_man"]
	expect(dm, "dead-man alarm", map[string]string{
		"treat_missing_data": "breaching", "metric_name": "local.metric.events_processed", "namespace": "var.metrics_namespace",
		"comparison_operator": "LessThanThreshold", "threshold": "1", "period": "3600", "evaluation_periods": "var.dead_man_hours",
	})
	for _, want := range []string{"lambda_errors", "lambda_throttles", "async_events_dropped", "dlq_depth", "parse_failures", "unexpected_reads", "read_spike", "dead_man"} {
		if m.Resources["aws_cloudwatch_metric_alarm."+want] == nil {
			t.Errorf("alarm %s missing", want)
		}
	}
	expect(m.Resources["aws_cloudwatch_metric_alarm.async_events_dropped"], "AsyncEventsDropped alarm", map[string]string{"metric_name": "AsyncEventsDropped", "namespace": "AWS/Lambda"})
}

// TestReadmesListInputsAndOutputs: each module's README has a table row for every variable and
// output, and the monitor's README keeps its walkthrough.
func TestReadmesListInputsAndOutputs(t *testing.T) {
	for _, rel := range publicModules {
		m := loadModule(t, rel)
		b, err := os.ReadFile(filepath.Join(m.Dir, "README.md"))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		readme := string(b)
		for _, kind := range []struct {
			heading string
			names   []string
		}{{"## Inputs", sortedKeys(m.Variables)}, {"## Outputs", sortedKeys(m.Outputs)}} {
			i := strings.Index(readme, kind.heading)
			if i < 0 {
				t.Errorf("%s/README.md: no %q section", rel, kind.heading)
				continue
			}
			section := readme[i:]
			if j := strings.Index(section[len(kind.heading):], "\n## "); j >= 0 {
				section = section[:len(kind.heading)+j]
			}
			for _, n := range kind.names {
				if !strings.Contains(section, "| `"+n+"` |") {
					t.Errorf("%s/README.md: %s does not list %s", rel, kind.heading, n)
				}
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(tfRoot(t), mainModule, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"make lambda-zip", "dist/secretwatch-lambda-arm64.zip", "terraform init", "terraform apply", "Confirm subscription", "get-secret-value", "aws events"} {
		if !bytes.Contains(b, []byte(step)) {
			t.Errorf("modules/secretwatch/README.md: the walkthrough lost %q", step)
		}
	}
}
