package detector

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/cloudtrail"
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

// FuzzNormalise: any record JSON either is refused with a reason or gives an event whose keys
// carry no control character and whose report fields are bounded; never a panic.
func FuzzNormalise(f *testing.F) {
	for _, p := range []string{"../testdata/detector/written/getsecretvalue-denied-null-params.json",
		"../testdata/detector/panther-analysis/aws_secretsmanager_retrieve_secrets__00_getsecretvalue-denied.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","eventID":"x","eventTime":"2026-01-01T00:00:00Z",` +
		`"userIdentity":{"type":"Root"},"recipientAccountId":"1","awsRegion":"r","errorCode":"AccessDenied","errorMessage":"on resource: arn:aws:secretsmanager:r:1:secret:a\nb-AbC123"}`))
	n := NewNormaliser(clock, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		var rec cloudtrail.Record
		if json.Unmarshal(b, &rec) != nil {
			return
		}
		ev, reason := n.Normalise(&rec)
		if reason != "" {
			return
		}
		r := ev.Read
		for _, k := range []string{r.Secret, r.Principal, ev.Principal.ARN} {
			if strings.ContainsFunc(k, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
				t.Fatalf("control character in key %q", k)
			}
		}
		for _, v := range []string{r.SourceIP, r.UserAgent, r.VPCEndpointID, r.PrincipalType, r.SecretARN} {
			if len(v) > MaxFieldBytes {
				t.Fatalf("field of %d bytes", len(v))
			}
		}
	})
}

// FuzzRatePolicy: any PutResourcePolicy parameters get a rating without panicking.
func FuzzRatePolicy(f *testing.F) {
	f.Add([]byte(`{"resourcePolicy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"}]}"}`))
	f.Add([]byte(`{"resourcePolicy":{"Statement":{"Effect":"Allow","Principal":{"AWS":["1","arn:aws:iam::2:root"]},"Condition":{"StringEquals":{"aws:SourceVpce":"v"}}}},"blockPublicPolicy":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sev, why := ratePolicy(b, "111122223333")
		if sev != "" && why == "" {
			t.Fatalf("severity %s without a reason", sev)
		}
	})
}

// FuzzSecretIDs checks plainSecretID against encoding/json: what it reads, secretIDs' general
// path reads the same.
func FuzzSecretIDs(f *testing.F) {
	for _, s := range []string{
		`{"secretId":"prod/db"}`, `{"secretId":"arn:aws:secretsmanager:us-east-1:1:secret:a-AbCdEf","versionStage":"AWSCURRENT"}`,
		`{"secretId":""}`, `{"SecretId":"a"}`, `{"secretId":"a","secretId":"b"}`, `{"secretid":"a","secretId":"b"}`, `{"arn":"x","secretId":"y"}`,
		`{"secretId":"a\u0062"}`, `{"versionId":"v\"x","secretId":"a"}`, `{"ſecretId":"a"}`, `{"secretId":"a","filters":[]}`, `{}`,
		`{"secretId":1}`, `{"x":"y"}`, ` {"secretId":"a"}`, `{"secretId":"a"} `, "{\"secretId\":\"\xff\"}", `{"secretIdList":"a"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, ok := plainSecretID(raw)
		if !ok {
			return
		}
		var p secretParams
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("%q: plainSecretID reads %q, encoding/json fails: %v", raw, id, err)
		}
		if p.SecretID != id || p.ARN != "" || p.Name != "" || len(p.SecretIDList) != 0 || len(p.Filters) != 0 {
			t.Fatalf("%q: plainSecretID reads %q, encoding/json %+v", raw, id, p)
		}
	})
}
