package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/detector"
)

const stratus = "../../testdata/detector/stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"

// stratusAlerts is what the Stratus capture raises with an empty allow-list: one
// unexpected-principal alert per secret read (20) and one bulk-retrieval (20 distinct secrets in
// 10 minutes).
const stratusAlerts = 21

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = Run(t.Context(), args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), err
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeAlerts(t *testing.T, out string) []detector.Alert {
	t.Helper()
	var as []detector.Alert
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a detector.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("stdout line is not an alert object: %v\n%s", err, sc.Text())
		}
		as = append(as, a)
	}
	return as
}

func TestReplayStratusTwiceIntoOneStore(t *testing.T) {
	dir := t.TempDir()
	allow := writeFile(t, dir, "allow.yaml", "version: 1\ndefaults:\n  allow: []\n")
	db := filepath.Join(dir, "sw.db")
	out, errOut, err := runCLI(t, "replay", "--store", db, "--config", allow, "--format", "json", stratus)
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, errOut)
	}
	as := decodeAlerts(t, out)
	if len(as) != 21 {
		t.Fatalf("%d alerts, want 21 (one per secret read, and one bulk-retrieval: 20 distinct secrets in 10 min)", len(as))
	}
	for _, a := range as {
		if a.Rule == detector.RuleBulkRetrieval && a.Count == 20 {
			continue
		}
		if a.Rule != detector.RuleUnexpectedPrincipal || a.Principal != "arn:aws:iam::903144391865:user/christophe" || a.Count != 1 {
			t.Errorf("alert %+v", a)
		}
	}
	for _, want := range []string{"21 records", "20 new, 0 denied, 0 duplicates", "unexpected reads:      20", "unexpected-principal 20"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("summary lacks %q:\n%s", want, errOut)
		}
	}
	// The same files again into the same store: no count changes, no alert again.
	out, errOut, err = runCLI(t, "replay", "--store", db, "--config", allow, "--format", "json", stratus)
	if err != nil {
		t.Fatal(err)
	}
	if out != "" {
		t.Errorf("second replay printed alerts:\n%s", out)
	}
	for _, want := range []string{"0 new, 0 denied, 20 duplicates", "21 more already delivered"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("second summary lacks %q:\n%s", want, errOut)
		}
	}
}

func TestReplayTextAlerts(t *testing.T) {
	dir := t.TempDir()
	allow := writeFile(t, dir, "allow.yaml", "version: 1\ndefaults:\n  allow: []\n")
	out, _, err := runCLI(t, "replay", "--store", ":memory:", "--config", allow, stratus)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"unexpected-principal", "arn:aws:iam::903144391865:user/christophe", "the allow-list does not allow it", "253.201.144.253"} {
		if !strings.Contains(out, want) {
			t.Errorf("text alerts lack %q", want)
		}
	}
}

// Bad input is counted with its position and skipped; the replay goes on and exits 0.
func TestReplayBadInput(t *testing.T) {
	dir := t.TempDir()
	allow := writeFile(t, dir, "allow.yaml", "version: 1\ndefaults:\n  allow: []\n")
	logs := filepath.Join(dir, "logs")
	good, err := os.ReadFile(stratus)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, logs, "a-malformed.json", `{"Records":[{"eventName":`)
	writeFile(t, logs, "b-empty.json", "")
	writeFile(t, logs, "c-no-identity.json", `{"Records":[{"eventVersion":"1.09","eventID":"x1","eventTime":"2024-07-31T12:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","awsRegion":"us-east-1","requestParameters":{"secretId":"s"}}]}`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	writeFile(t, logs, "d-truncated.json.gz", gz.String()[:gz.Len()/2])
	writeFile(t, logs, "e-good.json", string(good))
	out, errOut, err := runCLI(t, "replay", "--store", ":memory:", "--config", allow, "--format", "json", logs)
	if err != nil {
		t.Fatalf("bad input must not fail the replay: %v\n%s", err, errOut)
	}
	if n := len(decodeAlerts(t, out)); n != 21 { // 20 unexpected-principal + 1 bulk-retrieval
		t.Errorf("%d alerts from the good file, want 21", n)
	}
	for _, want := range []string{"a-malformed.json", "d-truncated.json.gz", "no-user-identity 1", "20 new"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("summary lacks %q:\n%s", want, errOut)
		}
	}
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	allow := writeFile(t, dir, "allow.yaml", "version: 1\ndefaults:\n  allow: []\n")
	broken := writeFile(t, dir, "broken.yaml", "version: 1\nsecrets:\n  - secret: x\n    alow: []\n")
	tests := []struct {
		name  string
		args  []string
		want  string
		usage bool
	}{
		{"no command", nil, "no command", true},
		{"unknown command", []string{"frobnicate"}, "unknown command", true},
		{"no paths", []string{"replay", "--config", allow}, "at least one PATH", true},
		{"bad format", []string{"replay", "--config", allow, "--format", "xml", stratus}, "unknown format", true},
		{"missing path", []string{"replay", "--store", ":memory:", "--config", allow, filepath.Join(dir, "nope")}, "nope", false},
		{"broken config", []string{"replay", "--store", ":memory:", "--config", broken, stratus}, "broken.yaml:4: unknown key \"alow\"", false},
		{"missing config", []string{"replay", "--store", ":memory:", "--config", filepath.Join(dir, "none.yaml"), stratus}, "none.yaml", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if errors.Is(err, errUsage) != tt.usage {
				t.Errorf("usage error = %v, want %v", errors.Is(err, errUsage), tt.usage)
			}
		})
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", "version: 1\nsecrets:\n  - secret: x\n    allow: ['arn:aws:iam::111122223333:role/x']\n")
	bad := writeFile(t, dir, "bad.yaml", "version: 1\nsecrets:\n  - secret: x\n    allow: ['bad principal']\n    owner: a\n    owner: b\n")
	out, _, err := runCLI(t, "check-config", good)
	if err != nil || !strings.Contains(out, "good.yaml: ok") {
		t.Errorf("good config: %v %q", err, out)
	}
	_, errOut, err := runCLI(t, "check-config", good, bad)
	if err == nil {
		t.Fatal("bad config: want error")
	}
	for _, want := range []string{"bad.yaml:4: principal \"bad principal\"", "bad.yaml:6: key \"owner\" appears twice"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check-config output lacks %q:\n%s", want, errOut)
		}
	}
}

// learn proposes an allow-list that check-config accepts and that, enforced, silences the reads
// it learnt from.
func TestLearnThenEnforce(t *testing.T) {
	dir := t.TempDir()
	proposed := filepath.Join(dir, "proposed.yaml")
	_, errOut, err := runCLI(t, "learn", "-o", proposed, stratus)
	if err != nil {
		t.Fatalf("learn: %v\n%s", err, errOut)
	}
	b, err := os.ReadFile(proposed)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stratus-red-team-retrieve-secret-18", "arn:aws:iam::903144391865:user/christophe", "1 reads, first 2024-07-31T12:36:52Z"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("proposal lacks %q:\n%s", want, b)
		}
	}
	if _, _, err := runCLI(t, "check-config", proposed); err != nil {
		t.Fatalf("learnt allow-list fails check-config: %v", err)
	}
	out, _, err := runCLI(t, "replay", "--store", ":memory:", "--config", proposed, "--format", "json", stratus)
	if err != nil {
		t.Fatal(err)
	}
	// Allowed on every secret now; only the harvest itself (20 distinct secrets in 10 minutes,
	// bulk-retrieval, which no allow-list turns off) remains.
	for _, a := range decodeAlerts(t, out) {
		if a.Rule != detector.RuleBulkRetrieval {
			t.Errorf("enforcing the learnt allow-list raised %s: %s", a.Rule, a.Reason)
		}
	}
}
