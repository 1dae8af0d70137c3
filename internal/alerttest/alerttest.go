// Package alerttest holds alert fixtures shared by the tests of alerts and its adapters.
package alerttest

import (
	"fmt"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// T0 is the fixtures' reference time.
var T0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// Fixture returns a complete alert of rule, as the detector produces it.
func Fixture(rule string) *detector.Alert {
	a := &detector.Alert{
		Rule:           rule,
		Severity:       detector.SeverityCritical,
		Secret:         "123456789012/eu-west-1/prod/db/password",
		SecretName:     "prod/db/password",
		SecretARN:      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db/password-AbCdEf",
		Principal:      "arn:aws:iam::123456789012:role/ci-deploy",
		PrincipalType:  "AssumedRole",
		Session:        "gh-actions-4711",
		Account:        "123456789012",
		Region:         "eu-west-1",
		Window:         T0.Truncate(time.Hour),
		FirstSeen:      T0,
		LastSeen:       T0,
		Count:          1,
		EventIDs:       []string{"5e0c7a2b-8f1d-4c3e-9a6b-1d2e3f4a5b6c"},
		SourceIPs:      []string{"203.0.113.7"},
		UserAgents:     []string{"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.amzn.2023"},
		VPCEndpointIDs: []string{"vpce-0a1b2c3d4e5f60718"},
	}
	switch rule {
	case detector.RuleUnexpectedPrincipal:
		a.Reason = "role/ci-deploy is not allowed to read prod/db/password by the allow-list " +
			"(allowed: role/app-backend, role/db-rotation)."
		a.NextStep = "Ask the owner of role/ci-deploy whether this read was intended. If it was " +
			"not, rotate prod/db/password and remove the role's access; if it was, add it to the " +
			"allow-list."
	case detector.RuleFirstSeenPrincipal:
		a.Severity = detector.SeverityHigh
		a.Principal = "arn:aws:iam::123456789012:role/data-export"
		a.Session = "i-0abc123def4567890"
		a.Reason = "First read of prod/db/password by role/data-export in the 35-day baseline " +
			"(7 other principals read it 12,408 times in that period)."
		a.NextStep = "Confirm the new reader with the owner of prod/db/password; if expected, it " +
			"stops alerting once it is in the baseline."
	case detector.RuleReadSpike:
		a.Severity = detector.SeverityMedium
		a.Principal = "arn:aws:iam::123456789012:role/app-backend"
		a.Session = ""
		a.Count = 240
		a.LastSeen = T0.Add(59 * time.Minute)
		a.EventIDs = []string{
			"0b7f2c1e-0000-4000-8000-000000000001",
			"0b7f2c1e-0000-4000-8000-000000000002",
			"0b7f2c1e-0000-4000-8000-000000000003",
		}
		a.SourceIPs = []string{"10.0.12.34", "10.0.56.78"}
		a.Reason = "240 reads in the hour from 05:00 UTC; the baseline for this hour of the week " +
			"is a median of 6 (MAD 2, threshold 30) over 4 weeks."
		a.NextStep = "Check recent deploys of app-backend for a secret-fetch loop (missing cache). " +
			"Each GetSecretValue costs money and may hit the 10,000/s quota."
	}
	return a
}

// storm is an unexpected-principal alert standing for 10,000 reads, with every list full.
func Storm() *detector.Alert {
	a := Fixture(detector.RuleUnexpectedPrincipal)
	a.Count = 10000
	a.LastSeen = T0.Add(42*time.Minute + 13*time.Second)
	a.EventIDs = nil
	for i := range detector.MaxAlertEventIDs {
		a.EventIDs = append(a.EventIDs, fmt.Sprintf("7c1d0e5a-1111-4222-8333-%012d", i))
	}
	a.SourceIPs = []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4",
		"198.51.100.5", "198.51.100.6", "198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.10"}
	a.UserAgents = []string{"python-requests/2.31.0", "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.1 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0"}
	a.VPCEndpointIDs = nil
	a.Reason = "role/ci-deploy is not allowed to read prod/db/password by the allow-list; " +
		"10000 reads in 42m13s (238 per minute) from 10 source IPs."
	return a
}

// sparse is an alert with every optional field missing.
func Sparse() *detector.Alert {
	return &detector.Alert{
		Rule:      detector.RuleFirstSeenPrincipal,
		Severity:  detector.SeverityLow,
		Secret:    "123456789012/us-east-1/shared/api-key",
		Principal: "arn:aws:iam::123456789012:user/alice",
		Account:   "123456789012",
		Region:    "us-east-1",
		FirstSeen: T0,
		LastSeen:  T0,
		Count:     1,
		Reason:    "First read of shared/api-key by user/alice.",
	}
}

// hostile carries what an attacker controls in CloudTrail (user agent, session name) and
// characters a terminal or phone must not interpret.
func Hostile() *detector.Alert {
	a := Fixture(detector.RuleUnexpectedPrincipal)
	a.Principal = "arn:aws:sts::999988887777:assumed-role/ext\u202eauditor/x"
	a.Session = "sess\x1b[2J\x1b[Hclear"
	a.UserAgents = []string{"curl/8.5.0\r\n[CRITICAL] fake line", "Mozilla/5.0 \xff\xfe bad bytes", "grüße/1.0 ✓"}
	a.Reason = "line one\nline two with\ttab\n\n\u2028separator"
	return a
}
