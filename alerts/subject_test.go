package alerts

import (
	"github.com/secretwatch/secretwatch/internal/alerttest"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/detector"
)

// checkSubject asserts what SNS and a phone need of every subject.
func checkSubject(t *testing.T, s string) {
	t.Helper()
	if len(s) > MaxSubjectLen || len(s) == 0 {
		t.Errorf("subject has %d characters (want 1..%d): %q", len(s), MaxSubjectLen, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			t.Errorf("subject has byte %#x at %d: %q", c, i, s)
		}
	}
	if strings.TrimSpace(s) != s {
		t.Errorf("subject has leading or trailing space: %q", s)
	}
}

func TestSubject(t *testing.T) {
	longPath := "arn:aws:iam::123456789012:role/" + strings.Repeat("platform/", 20) + "ci-deploy-production-eu-west-1"
	longSecret := strings.Repeat("team-payments/", 30) + "stripe-api-key"

	tests := []struct {
		name     string
		edit     func(a *detector.Alert)
		want     string   // exact, when set
		contains []string // pieces that must survive
	}{
		{
			name: "short",
			edit: func(a *detector.Alert) {},
			want: "[CRITICAL] unexpected-principal: prod/db/password read by role/ci-deploy",
		},
		{
			name: "count",
			edit: func(a *detector.Alert) { a.Count = 10000 },
			want: "[CRITICAL] unexpected-principal: prod/db/password read by role/ci-deploy x10000",
		},
		{
			name: "cross-account principal shows its account",
			edit: func(a *detector.Alert) { a.Principal = "arn:aws:iam::999988887777:role/intruder" },
			want: "[CRITICAL] unexpected-principal: prod/db/password read by 999988887777:role/intruder",
		},
		{
			name:     "long principal path",
			edit:     func(a *detector.Alert) { a.Principal = longPath; a.Count = 42 },
			contains: []string{"[CRITICAL] unexpected-principal: prod/db/password read by role/", "-eu-west-1 x42", "..."},
		},
		{
			name: "long secret and long principal",
			edit: func(a *detector.Alert) { a.SecretName = longSecret; a.Principal = longPath },
			want: "[CRITICAL] unexpected-principal: team-pay.../stripe-api-key read by role/...production-eu-west-1",
		},
		{
			name: "long secret ARN only",
			edit: func(a *detector.Alert) {
				a.SecretName = ""
				a.Secret = ""
				a.SecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + longSecret + "-AbCdEf"
			},
			contains: []string{": team-payments/", "/stripe-api-key read by role/ci-deploy"},
		},
		{
			name: "unicode and control characters",
			edit: func(a *detector.Alert) {
				a.SecretName = "prod/grüße\n✓"
				a.Principal = "arn:aws:iam::123456789012:user/\u202eevil\x1b[2J"
			},
			want: "[CRITICAL] unexpected-principal: prod/gr??e ? read by user/?evil [2J",
		},
		{
			name: "missing everything",
			edit: func(a *detector.Alert) { *a = detector.Alert{} },
			want: "[ALERT] alert: unknown secret read by unknown principal",
		},
		{
			name:     "absurd rule",
			edit:     func(a *detector.Alert) { a.Rule = strings.Repeat("r", 300) },
			contains: []string{"[CRITICAL] rrrr"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := alerttest.Fixture(detector.RuleUnexpectedPrincipal)
			tc.edit(a)
			got := Subject(a)
			checkSubject(t, got)
			if tc.want != "" && got != tc.want {
				t.Errorf("Subject = %q\n           want %q", got, tc.want)
			}
			for _, c := range tc.contains {
				if !strings.Contains(got, c) {
					t.Errorf("Subject = %q lacks %q", got, c)
				}
			}
		})
	}
}

func TestSubjectEveryFixture(t *testing.T) {
	for _, tc := range textCases {
		s := Subject(tc.alert())
		checkSubject(t, s)
		a := tc.alert()
		if !strings.Contains(s, strings.ToUpper(a.Severity)) || !strings.Contains(s, a.Rule) {
			t.Errorf("%s: subject %q lacks severity or rule", tc.name, s)
		}
	}
	checkSubject(t, Subject(nil))
}

func TestMiddle(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghijklmnopqrstuvwxyz", 12, "abc...uvwxyz"},
		{"team-payments/team-payments/team-payments/stripe-api-key", 40, "team-payments/.../stripe-api-key"},
		{"role/platform/platform/platform/ci-deploy", 24, "role/.../ci-deploy"},
		{"abcdefgh/ijklmnopqrstuvwxyz0123456789", 20, "abcde...yz0123456789"},
		{"abcdefghijklmnopqrstuvwxyz", 4, "abcd"},
		{"abcdefghijklmnopqrstuvwxyz", 0, ""},
	} {
		if got := middle(tc.s, tc.n); got != tc.want || len(got) > tc.n {
			t.Errorf("middle(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func FuzzSubject(f *testing.F) {
	f.Add("critical", "unexpected-principal", "prod/db/password", "arn:aws:iam::123456789012:role/x", "123456789012", int64(1))
	f.Add("", "", "", "", "", int64(0))
	f.Add("h\u00efgh", "r\nule", strings.Repeat("é", 200), strings.Repeat("arn:", 100), "1", int64(-5))
	f.Add(strings.Repeat("x", 120), "\x00", "\xff\xfe", "arn:aws:iam::1:role/"+strings.Repeat("a/", 200), "2", int64(1<<62))
	f.Fuzz(func(t *testing.T, severity, rule, secret, principal, account string, count int64) {
		a := &detector.Alert{Severity: severity, Rule: rule, SecretName: secret, Principal: principal, Account: account, Count: count}
		checkSubject(t, Subject(a))
	})
}
