package detector

import (
	"context"
	"fmt"
)

// RuleRootAccess: any Secrets Manager call by a root user, in any partition.
const RuleRootAccess = "root-access"

func newRootAccess(*Config) Rule { return rootAccess{} }

// rootAccess flags every handled Secrets Manager call — read, list or change, successful or
// denied — made by an account's root user. Severity critical: root credentials are for a handful
// of account tasks, none of which touches a secret; a root session using Secrets Manager is a
// stolen root credential until proven otherwise (AWS best practice: no day-to-day root use).
type rootAccess struct{}

func (rootAccess) ID() string { return RuleRootAccess }

func (rootAccess) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if e.Principal.Type != TypeRoot || e.Source != "secretsmanager.amazonaws.com" {
			continue
		}
		a := eventAlert(b, RuleRootAccess, SeverityCritical, e, e.Name)
		outcome := "succeeded"
		if e.Denied {
			outcome = "was denied (" + bound(e.Record.ErrorCode) + ")"
		}
		a.Reason = fmt.Sprintf("The root user of account %s called %s on %s; the call %s. Root credentials should never be used for secrets.",
			e.Principal.Account, e.Name, secretLabel(e), outcome)
		a.NextStep = "Confirm with the account owner that root was used on purpose, right now. If not: the root credentials are compromised — " +
			"reset the root password and MFA, delete any root access keys, rotate every secret root read, and review root's other CloudTrail activity."
		b.Emit(i, a)
	}
	return nil
}
