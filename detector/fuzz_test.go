package detector

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseAllowList: any bytes give either an allow-list or a ConfigError whose every problem
// names the file and a line; never a panic, never a silent "allow everything".
func FuzzParseAllowList(f *testing.F) {
	for _, p := range []string{"../allowlist.example.yaml", "../testdata/example/allowlist.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(exampleAllow))
	f.Add([]byte("version: 1\nsecrets:\n  - secret: [a\n"))
	f.Add([]byte("version: 1\ndefaults: {allow: ['*']}\n"))
	f.Add([]byte("- - - :\n\t"))
	f.Fuzz(func(t *testing.T, b []byte) {
		al, _, err := ParseAllowList("f.yaml", b)
		if err != nil {
			ce, ok := err.(*ConfigError)
			if !ok || len(ce.Problems) == 0 {
				t.Fatalf("error %T %v: want a ConfigError with problems", err, err)
			}
			for _, p := range ce.Problems {
				if !strings.HasPrefix(p, "f.yaml") {
					t.Fatalf("problem without the file name: %q", p)
				}
			}
			return
		}
		if al == nil {
			t.Fatal("nil allow-list without error")
		}
		// Matching must not panic on any secret or principal.
		ref := SecretRef{Account: "111122223333", Region: "us-east-1", Name: string(b)}
		al.Allowed(ref, string(b))
	})
}

// FuzzParseSecretID: every accepted id yields a key that every form of it shares.
func FuzzParseSecretID(f *testing.F) {
	for _, s := range []string{"prod/db", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbC123",
		"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db", "arn:aws:s3:::x", "", "arn:::::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		ref, err := ParseSecretID(id, "111122223333", "us-east-1")
		if err != nil {
			return
		}
		if ref.Name == "" {
			t.Fatalf("%q: empty name", id)
		}
		// The partial ARN of the secret names the same secret.
		again, err := ParseSecretID(ref.PartialARN(), "x", "y")
		if err != nil {
			t.Fatalf("%q: partial ARN %q does not parse: %v", id, ref.PartialARN(), err)
		}
		if _, stripped := stripSuffix(ref.Name); !stripped && again.Key() != ref.Key() {
			t.Fatalf("%q: key %q, its partial ARN gives %q", id, ref.Key(), again.Key())
		}
	})
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("arn:aws:iam::*:role/a*b?", "arn:aws:iam::1:role/axxbz")
	f.Fuzz(func(t *testing.T, p, s string) {
		got := globMatch(p, s)
		if !hasGlob(p) && got != (p == s) {
			t.Fatalf("globMatch(%q, %q) = %v without wildcards", p, s, got)
		}
		if globMatch("*"+p+"*", s) == false && got {
			t.Fatalf("%q matches %q but *%s* does not", p, s, p)
		}
	})
}
