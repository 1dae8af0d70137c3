package detector

import (
	"context"
	"fmt"
)

// RuleHumanAccess: a person reads a secret the allow-list marks workload-only.
const RuleHumanAccess = "human-access"

func newHumanAccess(*Config) Rule { return humanAccess{} }

// humanAccess: a successful GetSecretValue of a secret whose entry says workload-only: true, by
// a person — a console session (sessionCredentialFromConsole), an IAM user, an Identity Center
// user or permission-set session, a SAML or federated user. Severity high: the principal may well
// be allowed (an admin role allowed everywhere), but a person holding a production credential is
// how it leaks; the alert names the person.
type humanAccess struct{}

func (humanAccess) ID() string { return RuleHumanAccess }

// person says which human an event's caller is, or "" for a workload.
func person(e *Event) string {
	p := e.Principal
	switch {
	case fromConsole(e.Record.SessionCredentialFromConsole):
		return "a console session of " + cmpOr(p.Person, p.Session, p.ARN)
	case p.Type == TypeIAMUser:
		return "IAM user " + p.ARN
	case p.Type == TypeIdentityCenterUser, p.Type == TypeSAMLUser, p.Type == TypeFederatedUser:
		return cmpOr(p.Person, p.ARN)
	case p.Type == TypeAssumedRole && p.Person != "":
		return "Identity Center user " + p.Person
	}
	return ""
}

func (humanAccess) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if !e.Recorded || e.Denied {
			continue
		}
		entry := b.d.cfg.AllowList.Entry(e.Secret)
		if entry == nil || !entry.WorkloadOnly {
			continue
		}
		who := person(e)
		if who == "" {
			continue
		}
		a := newAlert(b, RuleHumanAccess, SeverityHigh, e, b.WindowCount(SeriesKey{Secret: e.Read.Secret, Principal: e.Read.Principal}, e.Time))
		a.Reason = fmt.Sprintf("%s read %s, which the allow-list marks workload-only (entry %q, %s:%d): only workloads should hold it.",
			bound(who), bound(e.Secret.Name), entry.Secret, b.d.cfg.AllowList.Source, entry.Line)
		a.NextStep = fmt.Sprintf("Ask %s why%s. If there is no good reason, rotate the secret (the value is now on a laptop or in a browser) "+
			"and narrow the role's access; if people must read it, drop workload-only from the entry.", bound(who), ownerOf(entry))
		b.Emit(i, a)
	}
	return nil
}

func fromConsole(raw []byte) bool {
	return string(raw) == "true" || string(raw) == `"true"`
}
