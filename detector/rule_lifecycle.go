package detector

import (
	"context"
	"encoding/json"
	"fmt"
)

// RuleSecretLifecycle: a secret deleted, restored, re-keyed, replicated, its rotation cancelled,
// or written by a principal not allowed to write it.
const RuleSecretLifecycle = "secret-lifecycle"

func newSecretLifecycle(cfg *Config) Rule { return secretLifecycle{al: cfg.AllowList} }

// secretLifecycle rates successful lifecycle calls:
//   - critical: DeleteSecret with ForceDeleteWithoutRecovery (the value is gone at once, no undo);
//   - high: DeleteSecret (recoverable for the recovery window), UpdateSecret changing KmsKeyId (a
//     key the attacker controls, or one that will be scheduled for deletion), replication to new
//     regions (ReplicateSecretToRegions, CreateSecret with AddReplicaRegions: copies outside the
//     monitored regions), and PutSecretValue / UpdateSecret / UpdateSecretVersionStage by a
//     principal the allow-list does not allow to write (write:, else allow:);
//   - medium: CancelRotateSecret (the secret stops rotating: stolen values stay valid) and
//     RestoreSecret (a secret meant to be gone is back).
type secretLifecycle struct{ al *AllowList }

func (secretLifecycle) ID() string { return RuleSecretLifecycle }

type lifecycleParams struct {
	ForceDeleteWithoutRecovery *bool           `json:"forceDeleteWithoutRecovery"`
	RecoveryWindowInDays       *int64          `json:"recoveryWindowInDays"`
	KMSKeyID                   *string         `json:"kmsKeyId"`
	AddReplicaRegions          json.RawMessage `json:"addReplicaRegions"`
	MoveToVersionID            string          `json:"moveToVersionId"`
	VersionStage               string          `json:"versionStage"`
}

func (r secretLifecycle) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if e.Source != "secretsmanager.amazonaws.com" || e.Denied {
			continue
		}
		var p lifecycleParams
		_ = json.Unmarshal(e.Record.RequestParameters, &p) // absent or odd parameters: zero values
		var sev, what string
		switch e.Name {
		case "DeleteSecret":
			sev, what = SeverityHigh, "deleted it (recoverable during its recovery window"
			if p.RecoveryWindowInDays != nil {
				what += fmt.Sprintf(" of %d days", *p.RecoveryWindowInDays)
			}
			what += ")"
			if p.ForceDeleteWithoutRecovery != nil && *p.ForceDeleteWithoutRecovery {
				sev, what = SeverityCritical, "deleted it with ForceDeleteWithoutRecovery: the value is gone now, with no recovery window"
			}
		case "CancelRotateSecret":
			sev, what = SeverityMedium, "cancelled its rotation: values already handed out stay valid"
		case "RestoreSecret":
			sev, what = SeverityMedium, "restored it from scheduled deletion"
		case "ReplicateSecretToRegions":
			sev, what = SeverityHigh, "replicated it to "+replicaRegions(e.Record.RequestParameters)
		case "CreateSecret":
			if len(p.AddReplicaRegions) > 0 && string(p.AddReplicaRegions) != "null" && string(p.AddReplicaRegions) != "[]" {
				sev, what = SeverityHigh, "created it with replicas in "+replicaRegions(e.Record.RequestParameters)
			}
		case "UpdateSecret":
			if p.KMSKeyID != nil && *p.KMSKeyID != "" {
				sev, what = SeverityHigh, fmt.Sprintf("changed its KMS key to %s", bound(*p.KMSKeyID))
			} else if !r.mayWrite(e) {
				sev, what = SeverityHigh, "updated it, and the allow-list does not allow it to write this secret"
			}
		case "PutSecretValue", "UpdateSecretVersionStage":
			if !r.mayWrite(e) {
				sev, what = SeverityHigh, "wrote a new value or moved a version stage, and the allow-list does not allow it to write this secret"
			}
		}
		if sev == "" {
			continue
		}
		a := eventAlert(b, RuleSecretLifecycle, sev, e, e.Name)
		a.Reason = fmt.Sprintf("%s called %s on %s: it %s.", describePrincipal(e.Principal), e.Name, secretLabel(e), what)
		a.NextStep = "Confirm the change with the secret's owner (change ticket). If it was not planned: undo it (RestoreSecret within the " +
			"recovery window, set the key back, remove replicas, re-enable rotation), rotate the secret, and review the caller's other activity."
		b.Emit(i, a)
	}
	return nil
}

// mayWrite: the secret's writers (write:, else its readers), or Secrets Manager itself
// (rotation).
func (r secretLifecycle) mayWrite(e *Event) bool {
	if e.Principal.Type == TypeAWSService || !e.HasSecret {
		return true
	}
	ok, _ := r.al.WriteAllowed(e.Secret, e.Principal.ARN)
	return ok
}

func replicaRegions(raw json.RawMessage) string {
	var p struct {
		AddReplicaRegions []struct {
			Region string `json:"region"`
		} `json:"addReplicaRegions"`
	}
	_ = json.Unmarshal(raw, &p)
	var out []string
	for _, r := range p.AddReplicaRegions {
		out = append(out, bound(r.Region))
	}
	if len(out) == 0 {
		return "other regions"
	}
	return listOrNobody(out)
}
