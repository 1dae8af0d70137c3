package detector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// RuleMonitorTampering: secretwatch's own EventBridge rule, Lambda, table or topic switched off
// or changed — or any EventBridge rule selecting Secrets Manager events that cannot receive reads.
const RuleMonitorTampering = "monitor-tampering"

// MonitorConfig names secretwatch's own resources, as deployed. The defaults are the Terraform
// module's with var.name = "secretwatch".
type MonitorConfig struct {
	RuleNames     []string // EventBridge rules (default: secretwatch)
	FunctionNames []string // Lambda functions (default: secretwatch)
	TableNames    []string // DynamoDB tables (default: secretwatch)
	TopicNames    []string // SNS topics (default: secretwatch-alerts)
}

func (c *MonitorConfig) defaults() {
	if len(c.RuleNames) == 0 {
		c.RuleNames = []string{"secretwatch"}
	}
	if len(c.FunctionNames) == 0 {
		c.FunctionNames = []string{"secretwatch"}
	}
	if len(c.TableNames) == 0 {
		c.TableNames = []string{"secretwatch"}
	}
	if len(c.TopicNames) == 0 {
		c.TopicNames = []string{"secretwatch-alerts"}
	}
}

// ruleStateAll is the only EventBridge rule state that receives read-only management events
// such as GetSecretValue.
const ruleStateAll = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

func newMonitorTampering(cfg *Config) Rule { return monitorTampering{cfg: cfg.Monitor} }

// monitorTampering (successful calls only):
//   - critical: DisableRule, DeleteRule or RemoveTargets on secretwatch's rule; PutRule on it
//     with a state other than ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS or a pattern without
//     GetSecretValue; DeleteFunction, PutFunctionConcurrency to 0 on its Lambda; DeleteTable on
//     its table; DeleteTopic on its topic — each makes the monitor blind or mute;
//   - high: any other PutRule on secretwatch's rule; any PutRule whose pattern selects Secrets
//     Manager events with a state other than ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (the
//     rule silently receives no reads — a monitor gone blind with no error anywhere); code,
//     configuration or permission changes of its Lambda; SetTopicAttributes or Unsubscribe on its
//     topic.
type monitorTampering struct{ cfg MonitorConfig }

func (monitorTampering) ID() string { return RuleMonitorTampering }

type monitorParams struct {
	Name                         string  `json:"name"`
	Rule                         string  `json:"rule"`
	State                        string  `json:"state"`
	EventPattern                 string  `json:"eventPattern"`
	FunctionName                 string  `json:"functionName"`
	ReservedConcurrentExecutions *int64  `json:"reservedConcurrentExecutions"`
	TableName                    string  `json:"tableName"`
	TopicArn                     string  `json:"topicArn"`
	SubscriptionArn              string  `json:"subscriptionArn"`
	AttributeName                *string `json:"attributeName"`
}

func (r monitorTampering) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if e.Kind != KindTamper || e.Denied || e.Source == "cloudtrail.amazonaws.com" {
			continue
		}
		var p monitorParams
		_ = json.Unmarshal(e.Record.RequestParameters, &p)
		sev, target, what := r.rate(e.Name, p)
		if sev == "" {
			continue
		}
		a := eventAlert(b, RuleMonitorTampering, sev, e, target)
		a.Reason = fmt.Sprintf("%s called %s on %s: %s.", describePrincipal(e.Principal), e.Name, bound(target), what)
		a.NextStep = "Put the monitor back as deployed (terraform apply of the secretwatch module) and check it receives events " +
			"(SecretReads metric). If the change was not planned, treat it as defence evasion: review the caller's activity since, above all secret reads."
		b.Emit(i, a)
	}
	return nil
}

func (r monitorTampering) rate(event string, p monitorParams) (sev, target, what string) {
	switch event {
	case "DisableRule", "DeleteRule", "RemoveTargets":
		name := cmpOr(p.Name, p.Rule)
		if slices.Contains(r.cfg.RuleNames, name) {
			verb := map[string]string{"DisableRule": "disabled", "DeleteRule": "deleted", "RemoveTargets": "removed the targets of"}[event]
			return SeverityCritical, "rule " + name, verb + " secretwatch's EventBridge rule: no event reaches the monitor any more"
		}
	case "PutRule":
		state := cmpOr(p.State, "ENABLED")
		selectsSM := strings.Contains(p.EventPattern, "aws.secretsmanager") || strings.Contains(p.EventPattern, "secretsmanager.amazonaws.com")
		if slices.Contains(r.cfg.RuleNames, p.Name) {
			switch {
			case state != ruleStateAll:
				return SeverityCritical, "rule " + p.Name, fmt.Sprintf("set secretwatch's rule to state %s: it no longer receives GetSecretValue (only %s does)", bound(state), ruleStateAll)
			case !strings.Contains(p.EventPattern, "GetSecretValue"):
				return SeverityCritical, "rule " + p.Name, "rewrote secretwatch's rule with a pattern that no longer selects GetSecretValue"
			}
			return SeverityHigh, "rule " + p.Name, "changed secretwatch's rule (compare its pattern with event-pattern.json)"
		}
		if selectsSM && state != ruleStateAll {
			return SeverityHigh, "rule " + p.Name, fmt.Sprintf("put a rule selecting Secrets Manager events in state %s, which never receives read events such as GetSecretValue (only %s does): a monitor built on it is blind without any error",
				bound(state), ruleStateAll)
		}
	case "DeleteFunction20150331", "UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2", "PutFunctionConcurrency20171031",
		"RemovePermission20150331v2":
		fn := functionName(p.FunctionName)
		if !slices.Contains(r.cfg.FunctionNames, fn) {
			return "", "", ""
		}
		switch event {
		case "DeleteFunction20150331":
			return SeverityCritical, "function " + fn, "deleted secretwatch's Lambda function"
		case "PutFunctionConcurrency20171031":
			if p.ReservedConcurrentExecutions != nil && *p.ReservedConcurrentExecutions == 0 {
				return SeverityCritical, "function " + fn, "set secretwatch's reserved concurrency to 0: it can no longer run"
			}
			return SeverityHigh, "function " + fn, "changed secretwatch's concurrency"
		case "RemovePermission20150331v2":
			return SeverityHigh, "function " + fn, "removed a permission of secretwatch's Lambda (EventBridge may no longer invoke it)"
		}
		return SeverityHigh, "function " + fn, "changed secretwatch's Lambda code or configuration (allow-list, environment)"
	case "DeleteTable":
		if t := lastARNPart(p.TableName, "table/"); slices.Contains(r.cfg.TableNames, t) {
			return SeverityCritical, "table " + t, "deleted secretwatch's baseline table"
		}
	case "DeleteTopic", "SetTopicAttributes", "Unsubscribe":
		arn := cmpOr(p.TopicArn, p.SubscriptionArn)
		f := strings.Split(arn, ":")
		if len(f) < 6 || !slices.Contains(r.cfg.TopicNames, f[5]) {
			return "", "", ""
		}
		switch event {
		case "DeleteTopic":
			return SeverityCritical, "topic " + f[5], "deleted secretwatch's alerts topic: alerts reach nobody"
		case "Unsubscribe":
			return SeverityHigh, "topic " + f[5], "removed a subscription of secretwatch's alerts topic"
		}
		return SeverityHigh, "topic " + f[5], "changed the attributes (policy, encryption) of secretwatch's alerts topic"
	}
	return "", "", ""
}

// functionName reduces a Lambda functionName parameter (name, ARN or partial ARN, with or without
// a qualifier) to the name.
func functionName(s string) string {
	if i := strings.Index(s, "function:"); i >= 0 {
		s = s[i+len("function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

func lastARNPart(s, after string) string {
	if i := strings.LastIndex(s, after); i >= 0 {
		return s[i+len(after):]
	}
	return s
}
