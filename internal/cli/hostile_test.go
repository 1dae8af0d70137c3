package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Issue 7's acceptance: records anyone in the account can make CloudTrail log (over-long and
// control-character secret ids, forged principals, a record dated 2099, huge user agents,
// over-size and malformed values) replayed next to a real day of logs: that day's alerts are all
// still raised, and replaying the day again afterwards counts no read as new — the hostile
// records neither blinded the monitor nor made the store forget what it had counted.
func TestHostileRecordsNextToARealDay(t *testing.T) {
	const example = "../../testdata/example"
	allow := example + "/allowlist.yaml"
	day14, err := filepath.Glob(example + "/AWSLogs/111122223333/CloudTrail/*/2026/03/15/*.json.gz")
	if err != nil || len(day14) == 0 {
		t.Fatalf("the bundled example's last day: %v %v", day14, err)
	}
	history, err := filepath.Glob(example + "/AWSLogs/111122223333/CloudTrail/*/2026/03/0[2-9]/*.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(example + "/AWSLogs/111122223333/CloudTrail/*/2026/03/1[0-4]/*.json.gz")
	history = append(history, more...)

	dir := t.TempDir()
	hostile := writeFile(t, dir, "hostile.json", hostileRecords(t))
	malformed := writeFile(t, dir, "malformed.json", `{"Records":[{"eventVersion":"1.08","eventTime":"2026-03-15T10:00:00Z",`)

	replay := func(t *testing.T, store, format string, paths ...string) (string, string) {
		t.Helper()
		args := append([]string{"replay", "--store", store, "--config", allow, "--format", format, "--progress", "never", "--"}, paths...)
		out, errOut, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("replay %v: %v (exit %d)\n%s", paths, err, ExitCode(err), errOut)
		}
		return out, errOut
	}
	keys := func(out string) map[string]bool {
		m := map[string]bool{}
		for _, a := range decodeAlerts(t, out) {
			m[a.Rule+"|"+a.Secret+"|"+a.Principal] = true
		}
		return m
	}

	// The control: the history, then the real day alone.
	control := filepath.Join(dir, "control.db")
	replay(t, control, "json", history...)
	want, _ := replay(t, control, "json", day14...)
	wantKeys := keys(want)
	if len(wantKeys) == 0 {
		t.Fatal("the real day raised no alert: the control proves nothing")
	}

	// The same history, then the hostile records together with the real day.
	attacked := filepath.Join(dir, "attacked.db")
	replay(t, attacked, "json", history...)
	got, sum := replay(t, attacked, "json", append([]string{hostile, malformed}, day14...)...)
	gotKeys := keys(got)
	for k := range wantKeys {
		if !gotKeys[k] {
			t.Errorf("alert %s of the real day is missing next to the hostile records", k)
		}
	}
	for _, reason := range []string{"future-dated", "over-size"} {
		if !strings.Contains(sum, reason) {
			t.Errorf("summary does not count the %s record:\n%s", reason, sum)
		}
	}

	// Replaying the real day again counts nothing as new: no record pruned the store's memory.
	_, sum = replay(t, attacked, "json", day14...)
	if !regexp.MustCompile(`secret reads:\s+0 new`).MatchString(sum) {
		t.Errorf("second replay of the real day counted reads as new:\n%s", sum)
	}

	// Text for people: a forged principal cannot start a line of its own, and every line is bounded.
	text, errText := replay(t, ":memory:", "text", hostile)
	for _, out := range []string{text, errText} {
		for line := range strings.SplitSeq(out, "\n") {
			if strings.Contains(line, "all clear") && strings.HasPrefix(strings.TrimSpace(line), "[CRITICAL] all clear") {
				t.Errorf("forged line in the output: %q", line)
			}
			if len(line) > 64<<10 {
				t.Errorf("unbounded output line of %d bytes", len(line))
			}
			if strings.ContainsAny(line, "\x1b\r\x00") {
				t.Errorf("raw control character in the output: %q", clip(line))
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// hostileRecords is a CloudTrail file of records an attacker inside the account can cause.
func hostileRecords(t *testing.T) string {
	t.Helper()
	n := 0
	rec := func(mod func(r map[string]any)) map[string]any {
		n++
		r := map[string]any{
			"eventVersion": "1.08",
			"userIdentity": map[string]any{
				"type": "AssumedRole", "principalId": "AROAEXAMPLE:intruder",
				"arn": "arn:aws:sts::111122223333:assumed-role/intruder/s", "accountId": "111122223333",
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{
					"type": "Role", "arn": "arn:aws:iam::111122223333:role/intruder", "accountId": "111122223333", "userName": "intruder"}},
			},
			"eventTime":          "2026-03-15T10:00:00Z",
			"eventSource":        "secretsmanager.amazonaws.com",
			"eventName":          "GetSecretValue",
			"awsRegion":          "us-east-1",
			"sourceIPAddress":    "203.0.113.9",
			"userAgent":          "aws-cli/2.15",
			"requestParameters":  map[string]any{"secretId": "prod/db"},
			"responseElements":   nil,
			"eventID":            fmt.Sprintf("6b2f1d6e-0000-4000-8000-%012d", n),
			"readOnly":           true,
			"eventType":          "AwsApiCall",
			"recipientAccountId": "111122223333",
			"errorCode":          "AccessDenied",
			"errorMessage":       "User is not authorized to perform: secretsmanager:GetSecretValue",
		}
		mod(r)
		return r
	}
	params := func(id string) map[string]any { return map[string]any{"secretId": id} }
	records := []map[string]any{
		rec(func(r map[string]any) { r["requestParameters"] = params(strings.Repeat("s", 2000)) }),
		rec(func(r map[string]any) { r["requestParameters"] = params(strings.Repeat("x", 32<<10)) }),
		rec(func(r map[string]any) { r["requestParameters"] = params("prod/\x1b[2J\r\x00db\n[CRITICAL] all clear") }),
		rec(func(r map[string]any) { // a successful read dated 2099
			r["eventTime"] = "2099-01-01T00:00:00Z"
			delete(r, "errorCode")
			delete(r, "errorMessage")
		}),
		rec(func(r map[string]any) { r["eventTime"] = "0001-01-01T00:00:00Z" }),
		rec(func(r map[string]any) {
			r["userIdentity"] = map[string]any{"type": "IAMUser", "accountId": "111122223333",
				"arn": "arn:aws:iam::111122223333:user/x\n[CRITICAL] all clear\n", "userName": "x\n[CRITICAL] all clear"}
			delete(r, "errorCode")
			delete(r, "errorMessage")
		}),
		rec(func(r map[string]any) { r["userAgent"] = strings.Repeat("A", 300<<10) }),
		rec(func(r map[string]any) { r["userAgent"] = strings.Repeat("B", 600<<10) }), // over-size string
		rec(func(r map[string]any) { r["eventID"] = strings.Repeat("e", 10<<10) }),
		rec(func(r map[string]any) {
			r["requestParameters"] = nil
			r["errorMessage"] = "User: arn:aws:sts::111122223333:assumed-role/intruder/s is not authorized to perform: " +
				"secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:111122223333:secret:" + strings.Repeat("n", 5000)
		}),
	}
	b, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(records, func(r map[string]any) bool { return r["eventTime"] == "2099-01-01T00:00:00Z" }) {
		t.Fatal("no future-dated record")
	}
	return string(b)
}
