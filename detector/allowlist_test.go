package detector

import (
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"arn:aws:iam::111122223333:role/payments-*", "arn:aws:iam::111122223333:role/payments-api", true},
		{"arn:aws:iam::111122223333:role/payments-*", "arn:aws:iam::111122223333:role/search", false},
		{"arn:aws:iam::*:role/ci", "arn:aws:iam::444455556666:role/ci", true},
		{"arn:aws:iam::*:role/ci", "arn:aws:iam::444455556666:role/ci2", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b", "xxaxxbxxc", false},
		{"exact", "exact", true},
		{"exact", "Exact", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

const exampleAllow = `version: 1
defaults:
  allow:
    - arn:aws:iam::111122223333:role/platform-admin
secrets:
  - secret: prod/payments/db
    owner: team-payments
    allow:
      - arn:aws:iam::111122223333:role/payments-*
  - secret: prod/*
    allow:
      - arn:aws:iam::111122223333:role/prod-reader
  - secret: arn:aws:secretsmanager:eu-west-1:111122223333:secret:eu/key-AbC123
    allow: []
`

func TestAllowList(t *testing.T) {
	al := mustAllowList(t, exampleAllow)
	ref := func(name, region string) SecretRef {
		return SecretRef{Account: "111122223333", Region: region, Name: name}
	}
	tests := []struct {
		name      string
		secret    SecretRef
		principal string
		want      bool
	}{
		{"exact entry allows its glob", ref("prod/payments/db", "us-east-1"), "arn:aws:iam::111122223333:role/payments-api", true},
		{"exact entry wins over the prod/* glob", ref("prod/payments/db", "us-east-1"), "arn:aws:iam::111122223333:role/prod-reader", false},
		{"glob entry", ref("prod/orders/db", "us-east-1"), "arn:aws:iam::111122223333:role/prod-reader", true},
		{"glob entry denies others", ref("prod/orders/db", "us-east-1"), "arn:aws:iam::111122223333:role/payments-api", false},
		{"defaults for unnamed secrets", ref("dev/thing", "us-east-1"), "arn:aws:iam::111122223333:role/platform-admin", true},
		{"defaults deny others", ref("dev/thing", "us-east-1"), "arn:aws:iam::111122223333:user/mallory", false},
		{"full ARN entry covers the name in its region", ref("eu/key", "eu-west-1"), "arn:aws:iam::111122223333:role/platform-admin", false},
		{"full ARN entry does not cover other regions", ref("eu/key", "us-east-1"), "arn:aws:iam::111122223333:role/platform-admin", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := al.Allowed(tt.secret, tt.principal); got != tt.want {
				t.Errorf("Allowed = %v, want %v", got, tt.want)
			}
		})
	}
	var nilList *AllowList
	if ok, _ := nilList.Allowed(ref("x", "y"), "z"); ok {
		t.Error("a nil allow-list must allow nothing")
	}
}

func TestParseAllowListErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings, each must appear (with its line)
	}{
		{"empty", "", []string{"test.yaml:1: empty allow-list"}},
		{"not a mapping", "- a\n- b\n", []string{"test.yaml:1: the top level must be a mapping"}},
		{"missing version and sections", "foo: 1\n", []string{`test.yaml:1: unknown top-level key "foo"`, "missing version", "no defaults: and no secrets:"}},
		{"bad version", "version: 2\nsecrets: []\n", []string{`test.yaml:1: version "2" is not supported`}},
		{"every problem at once", `version: 1
secrets:
  - secret: prod/db
    alow:
      - arn:aws:iam::111122223333:role/x
  - secret: prod/other
    account: 1234
    allow:
      - not a principal
      - arn:aws:s3:::bucket
      - arn:aws:iam::111122223333:assumed-role/x/y
  - allow: []
  - secret: prod/db
    allow: []
`, []string{
			`test.yaml:4: unknown key "alow"`,
			`test.yaml:3: secret "prod/db" has no allow: list`,
			`test.yaml:7: account "1234" must be a 12-digit`,
			`test.yaml:9: principal "not a principal" contains white space`,
			`test.yaml:10: principal "arn:aws:s3:::bucket": service "s3"`,
			`test.yaml:11: principal "arn:aws:iam::111122223333:assumed-role/x/y": assumed-role ARNs are sts ARNs`,
			`test.yaml:12: entry without secret:`,
			`test.yaml:13: secret "prod/db" is listed again (first at line 3)`,
		}},
		{"syntax error", "version: 1\nsecrets: [\n", []string{"test.yaml: yaml:"}},
		{"duplicate key", "version: 1\nversion: 1\nsecrets: []\n", []string{`test.yaml:2: key "version" appears twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseAllowList("test.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseAllowListWarnings(t *testing.T) {
	_, warns, err := ParseAllowList("w.yaml", []byte("version: 1\ndefaults:\n  allow: ['*']\nsecrets: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "w.yaml:3: warning") {
		t.Errorf("warnings = %q", warns)
	}
}

func TestExampleAllowListIsValid(t *testing.T) {
	for _, f := range []string{"../allowlist.example.yaml", "../testdata/example/allowlist.yaml"} {
		if _, err := LoadAllowList(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
