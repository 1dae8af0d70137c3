package detector

import (
	"fmt"
	"strings"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// Principal types as CloudTrail spells userIdentity.type.
const (
	TypeAssumedRole        = "AssumedRole"
	TypeIAMUser            = "IAMUser"
	TypeRoot               = "Root"
	TypeFederatedUser      = "FederatedUser"
	TypeAWSService         = "AWSService"
	TypeAWSAccount         = "AWSAccount"
	TypeIdentityCenterUser = "IdentityCenterUser"
	TypeSAMLUser           = "SAMLUser"
	TypeWebIdentityUser    = "WebIdentityUser"
)

// Principal is the real caller behind a CloudTrail userIdentity.
type Principal struct {
	// ARN is the normalised principal the allow-list matches: a role ARN for role sessions, a user
	// ARN, arn:aws:iam::<acct>:root for the root user and for a caller in another account, a
	// service name for AWS services.
	ARN         string
	Type        string // userIdentity.type as logged
	Session     string // role session name, federated user name, or the caller's principalId
	Person      string // the human behind the call, when CloudTrail says (SSO session, Identity Center user)
	Account     string // account of the caller
	PrincipalID string
	Known       bool // false: an identity type this version does not know; ARN is a best effort
}

// NormalisePrincipal resolves the real principal of a record's userIdentity. It never fails on
// odd-looking IDs; it fails only when there is no identity at all.
func NormalisePrincipal(ui *cloudtrail.UserIdentity) (Principal, error) {
	if ui == nil {
		return Principal{}, fmt.Errorf("detector: record has no userIdentity")
	}
	p := Principal{Type: ui.Type, Account: ui.AccountID, PrincipalID: ui.PrincipalID, Known: true}
	switch ui.Type {
	case TypeAssumedRole:
		// The session's issuer is the role; the session name says which workload or person.
		p.Session = sessionName(ui)
		if sc := ui.SessionContext; sc != nil && sc.SessionIssuer != nil && sc.SessionIssuer.ARN != "" {
			p.ARN = sc.SessionIssuer.ARN
			if p.Account == "" {
				p.Account = sc.SessionIssuer.AccountID
			}
		} else {
			p.ARN = roleFromAssumedRoleARN(ui.ARN)
		}
		if p.ARN == "" {
			p.ARN = ui.ARN
		}
		if ob := ui.OnBehalfOf; ob != nil && ob.UserID != "" {
			// Trusted identity propagation: the session acts for an Identity Center user.
			p.Person = ob.UserID
			if ob.IdentityStoreARN != "" {
				p.Person = ob.IdentityStoreARN + "/user/" + ob.UserID
			}
		}
		if isSSORole(p.ARN) && p.Session != "" {
			// An Identity Center permission set's role is shared by everybody who holds it; the
			// session name is the person. The session ARN keeps one principal per person, and
			// still matches role-wide patterns like arn:aws:sts::*:assumed-role/AWSReservedSSO_*.
			if p.Person == "" {
				p.Person = p.Session
			}
			p.ARN = "arn:" + partitionOf(p.ARN) + ":sts::" + accountOf(p.ARN, p.Account) + ":assumed-role/" + lastSegment(p.ARN) + "/" + p.Session
		}
	case TypeIAMUser:
		p.ARN = ui.ARN
		if p.ARN == "" && ui.UserName != "" {
			p.ARN = "arn:" + partitionOf(ui.ARN) + ":iam::" + ui.AccountID + ":user/" + ui.UserName
		}
	case TypeRoot:
		acct := ui.AccountID
		if acct == "" {
			acct = accountOf(ui.ARN, "")
		}
		// The root of an aws-us-gov or aws-cn account keeps its partition.
		p.ARN = "arn:" + partitionOf(ui.ARN) + ":iam::" + acct + ":root"
		p.Account = acct
	case TypeFederatedUser:
		p.ARN = ui.ARN
		if sc := ui.SessionContext; sc != nil && sc.SessionIssuer != nil {
			p.Session = sc.SessionIssuer.UserName
		}
		if i := strings.LastIndex(ui.ARN, "/"); i >= 0 {
			p.Person = ui.ARN[i+1:]
		}
	case TypeAWSService:
		p.ARN = ui.InvokedBy
		if p.ARN == "" {
			p.ARN = "service:unknown"
		}
	case TypeAWSAccount:
		// A caller in another account: CloudTrail in the secret's account names only the account
		// (and an opaque principalId such as AROA…:session). The account is the principal.
		p.ARN = "arn:aws:iam::" + ui.AccountID + ":root"
		p.Session = ui.PrincipalID
		if i := strings.IndexByte(ui.PrincipalID, ':'); i >= 0 {
			p.Session = ui.PrincipalID[i+1:]
		}
		if ui.InvokedBy != "" {
			p.Session = ui.InvokedBy
		}
	case TypeIdentityCenterUser:
		if ob := ui.OnBehalfOf; ob != nil && ob.UserID != "" {
			p.ARN = ob.IdentityStoreARN + "/user/" + ob.UserID
			p.Person = ob.UserID
		} else {
			p.ARN = "identitycenter:" + ui.PrincipalID
		}
	case TypeSAMLUser, TypeWebIdentityUser:
		// The allow-list's spelling: samlUser:PROVIDER/NAME, webIdentityUser:PROVIDER/NAME.
		prefix := "samlUser:"
		if ui.Type == TypeWebIdentityUser {
			prefix = "webIdentityUser:"
		}
		p.ARN = prefix + ui.IdentityProvider + "/" + ui.UserName
		p.Person = ui.UserName
	case "":
		if ui.InvokedBy != "" && ui.ARN == "" && ui.PrincipalID == "" {
			// A service event (eventType AwsServiceEvent): AWS itself acted, e.g. Secrets Manager
			// rotating a secret. userIdentity has only accountId and invokedBy.
			p.Type, p.ARN = TypeAWSService, ui.InvokedBy
			break
		}
		fallthrough
	default:
		// Unknown or empty type: flagged (Known=false) and counted by the caller, never dropped.
		p.Known = false
		switch {
		case ui.ARN != "":
			p.ARN = ui.ARN
		case ui.InvokedBy != "":
			p.ARN = ui.InvokedBy
		case ui.PrincipalID != "":
			p.ARN = "unknown:" + ui.Type + ":" + ui.PrincipalID
		default:
			p.ARN = "unknown:" + ui.Type
		}
	}
	if p.ARN == "" {
		p.ARN = "unknown:" + ui.Type + ":" + ui.PrincipalID
		p.Known = false
	}
	if p.Account == "" {
		p.Account = accountOf(p.ARN, "")
	}
	return p, nil
}

func sessionName(ui *cloudtrail.UserIdentity) string {
	// arn:aws:sts::123:assumed-role/RoleName/session-name
	if i := strings.Index(ui.ARN, ":assumed-role/"); i >= 0 {
		rest := ui.ARN[i+len(":assumed-role/"):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j+1:]
		}
	}
	if i := strings.IndexByte(ui.PrincipalID, ':'); i >= 0 {
		return ui.PrincipalID[i+1:]
	}
	return ""
}

// roleFromAssumedRoleARN turns arn:aws:sts::123:assumed-role/Name/session into
// arn:aws:iam::123:role/Name (the role's path is not in the session ARN).
func roleFromAssumedRoleARN(arn string) string {
	i := strings.Index(arn, ":assumed-role/")
	if i < 0 {
		return ""
	}
	head := arn[:i] // arn:aws:sts::123
	name := arn[i+len(":assumed-role/"):]
	if j := strings.IndexByte(name, '/'); j >= 0 {
		name = name[:j]
	}
	head = strings.Replace(head, ":sts:", ":iam:", 1)
	return head + ":role/" + name
}

func isSSORole(roleARN string) bool {
	return strings.Contains(roleARN, ":role/aws-reserved/sso.amazonaws.com/") ||
		strings.HasPrefix(lastSegment(roleARN), "AWSReservedSSO_")
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// partitionOf returns the partition field of an ARN ("aws" when it is not an ARN).
func partitionOf(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) >= 2 && f[0] == "arn" && f[1] != "" {
		return f[1]
	}
	return "aws"
}

// accountOf returns the account field of an ARN, or def.
func accountOf(arn, def string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) >= 5 && f[0] == "arn" && f[4] != "" {
		return f[4]
	}
	return def
}
