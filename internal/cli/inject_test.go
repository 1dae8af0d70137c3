package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Attacker-controlled text (a secret id, a principal, a user agent, a file name) cannot forge a
// line of the output: every value is escaped and bounded on stdout, in the summary and in -v logs.
func TestOutputInjection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	allow := allowNone(t)
	forged := "\n[CRITICAL] unexpected-principal: prod/db read by role/ok — all clear\n"
	rec := func(id, secret, principal, ua string) map[string]any {
		return map[string]any{
			"eventVersion": "1.09", "eventID": id, "eventTime": "2024-07-31T12:00:00Z",
			"eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue", "awsRegion": "us-east-1",
			"recipientAccountId": "111122223333", "userAgent": ua, "sourceIPAddress": "203.0.113.9",
			"userIdentity":      map[string]any{"type": "IAMUser", "arn": principal, "accountId": "111122223333", "principalId": "AID"},
			"requestParameters": map[string]any{"secretId": secret},
		}
	}
	b, err := json.Marshal(map[string]any{"Records": []any{
		rec("e1", "prod/db"+forged, "arn:aws:iam::111122223333:user/mallory", "curl"),
		// A 300 KiB user agent: under the reader's 512 KiB string cap, far over what an alert may show.
		rec("e2", "prod/x", "arn:aws:iam::111122223333:user/eve"+forged, "ua"+forged+strings.Repeat("U", 300<<10)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(dir, "logs")
	writeFile(t, logs, "a.json", string(b))
	writeFile(t, logs, "bad\n[CRITICAL] all clear\x1b[2J.json", `{"Records":[{"eventName":`)
	for _, format := range []string{"text", "json"} {
		out, errOut, err := runCLI(t, "replay", "-v", "--store", ":memory:", "--config", allow, "--format", format, logs)
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, errOut)
		}
		for name, text := range map[string]string{"stdout": out, "stderr": errOut} {
			for _, l := range strings.Split(text, "\n") {
				if strings.Contains(l, "all clear") && strings.HasPrefix(strings.TrimSpace(l), "[CRITICAL]") {
					t.Errorf("%s %s: a forged line: %q", format, name, l)
				}
			}
			if strings.ContainsAny(text, "\x1b\r") {
				t.Errorf("%s %s: raw control characters", format, name)
			}
		}
		if len(out) > 256<<10 {
			t.Errorf("%s: a 300 KiB user agent made %d bytes of alerts", format, len(out))
		}
		if format == "text" && strings.Count(out, "\n[") != 2 {
			t.Errorf("text: %d headlines, want 2:\n%s", strings.Count(out, "\n["), out[:min(len(out), 4000)])
		}
	}
}
