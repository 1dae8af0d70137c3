package detector

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// RulePolicyChange: a secret's resource policy was put or deleted, rated by what it opens.
const RulePolicyChange = "policy-change"

func newPolicyChange(*Config) Rule { return policyChange{} }

// policyChange parses the resource policy of a successful PutResourcePolicy and rates it:
//   - critical: an Allow statement whose principal is everybody ("*", {"AWS":"*"}) with no
//     condition that restricts who can use it (aws:PrincipalOrgID, aws:PrincipalAccount,
//     aws:SourceVpce, … see restrictingKeys) — the secret is public;
//   - high: an Allow to a principal in another account, or blockPublicPolicy explicitly false
//     (Secrets Manager's guard against public policies switched off), or a policy that does not
//     parse (we cannot tell what it allows);
//   - medium: DeleteResourcePolicy (removes cross-account grants but also any Deny guard rails);
//   - no alert: a policy that grants only this account's principals, or everybody restricted by
//     conditions to the organisation/account/network.
type policyChange struct{}

func (policyChange) ID() string { return RulePolicyChange }

// restrictingKeys are condition keys that limit who can use an Allow to "*".
var restrictingKeys = []string{
	"aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:sourcevpce", "aws:sourcevpc",
	"aws:sourceip", "aws:sourceaccount", "aws:sourcearn", "aws:principalorgpaths", "aws:userid", "aws:sourceorgid",
}

func (policyChange) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if e.Source != "secretsmanager.amazonaws.com" || e.Denied || (e.Name != "PutResourcePolicy" && e.Name != "DeleteResourcePolicy") {
			continue
		}
		var sev, why string
		if e.Name == "DeleteResourcePolicy" {
			sev, why = SeverityMedium, "its resource policy was deleted (cross-account grants and any Deny guard rails are gone)"
		} else {
			sev, why = ratePolicy(e.Record.RequestParameters, e.Secret.Account)
		}
		if sev == "" {
			continue
		}
		a := eventAlert(b, RulePolicyChange, sev, e, e.Name)
		a.Reason = fmt.Sprintf("%s changed the resource policy of %s with %s: %s.", describePrincipal(e.Principal), secretLabel(e), e.Name, why)
		a.NextStep = "Read the policy now in force (aws secretsmanager get-resource-policy). If the change was not planned: put back the reviewed " +
			"policy, keep BlockPublicPolicy on, rotate the secret (anyone granted may have read it), and review who read it since."
		b.Emit(i, a)
	}
	return nil
}

type policyParams struct {
	ResourcePolicy    json.RawMessage `json:"resourcePolicy"` // a JSON string as CloudTrail logs it; some tools log the object
	BlockPublicPolicy *bool           `json:"blockPublicPolicy"`
}

type policyDoc struct {
	Statement json.RawMessage `json:"Statement"`
}

type policyStatement struct {
	Effect    string                     `json:"Effect"`
	Principal json.RawMessage            `json:"Principal"`
	Condition map[string]json.RawMessage `json:"Condition"`
}

// ratePolicy rates a PutResourcePolicy's parameters; "" means no alert.
func ratePolicy(raw json.RawMessage, account string) (severity, why string) {
	var p policyParams
	if err := json.Unmarshal(raw, &p); err != nil || len(p.ResourcePolicy) == 0 || string(p.ResourcePolicy) == "null" {
		return SeverityHigh, "the policy is not in the record or does not parse, so what it allows is unknown"
	}
	text := []byte(p.ResourcePolicy)
	var str string
	if json.Unmarshal(p.ResourcePolicy, &str) == nil {
		text = []byte(str)
	}
	var doc policyDoc
	if err := json.Unmarshal(text, &doc); err != nil {
		return SeverityHigh, "the policy does not parse as JSON, so what it allows is unknown"
	}
	var stmts []policyStatement
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		var one policyStatement
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return SeverityHigh, "the policy's statements do not parse, so what it allows is unknown"
		}
		stmts = []policyStatement{one}
	}
	var reasons []string
	severity = ""
	raise := func(s, r string) {
		if severity == "" || severityRank(s) < severityRank(severity) {
			severity = s
		}
		reasons = append(reasons, r)
	}
	for _, st := range stmts {
		if !strings.EqualFold(st.Effect, "Allow") {
			continue
		}
		for _, pr := range policyPrincipals(st.Principal) {
			switch {
			case pr == "*":
				if !restricted(st.Condition) {
					raise(SeverityCritical, `it allows Principal "*" with no condition restricting who (the secret is public)`)
				}
			case strings.HasSuffix(pr, ".amazonaws.com"):
				// A service principal; services act for this account.
			default:
				if acct := principalAccount(pr); acct != "" && acct != account {
					raise(SeverityHigh, fmt.Sprintf("it allows a principal in another account (%s)", bound(pr)))
				}
			}
		}
	}
	if p.BlockPublicPolicy != nil && !*p.BlockPublicPolicy {
		raise(SeverityHigh, "BlockPublicPolicy is false (Secrets Manager will not refuse a public policy)")
	}
	return severity, strings.Join(reasons, "; ")
}

// policyPrincipals lists a statement's principals: "*" for everybody, else ARNs, account ids
// and service names.
func policyPrincipals(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []string
	for _, v := range m {
		var one string
		if json.Unmarshal(v, &one) == nil {
			out = append(out, one)
			continue
		}
		var many []string
		if json.Unmarshal(v, &many) == nil {
			out = append(out, many...)
		}
	}
	return out
}

// principalAccount is the account of a policy principal (an ARN or a bare account id).
func principalAccount(p string) string {
	if isAccountID(p) {
		return p
	}
	return accountOf(p, "")
}

// restricted reports whether a condition block limits an Allow to "*" to known principals or
// networks: one of restrictingKeys under any operator.
func restricted(cond map[string]json.RawMessage) bool {
	for op, body := range cond {
		if strings.HasPrefix(strings.ToLower(op), "null") {
			continue // Null tests presence only
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(body, &keys) != nil {
			continue
		}
		for k := range keys {
			for _, r := range restrictingKeys {
				if strings.EqualFold(k, r) {
					return true
				}
			}
		}
	}
	return false
}
