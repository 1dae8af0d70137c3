package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const example = "../../testdata/example"

// allowAll writes an allow-list that allows nobody by default.
func allowNone(t *testing.T) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "allow.yaml", "version: 1\ndefaults:\n  allow: []\n")
}

// Flags are accepted anywhere before "--", as ls, git and go accept them; after "--" every
// argument is a path.
func TestFlagsAnywhere(t *testing.T) {
	allow := allowNone(t)
	for _, args := range [][]string{
		{"replay", stratus, "--config", allow, "--store", ":memory:", "--format", "json"},
		{"replay", "--store", ":memory:", stratus, "--config=" + allow, "--format", "json"},
		{"replay", "--config", allow, "--format", "json", "--store", ":memory:", "--", stratus},
	} {
		out, errOut, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, errOut)
		}
		if n := len(decodeAlerts(t, out)); n != stratusAlerts {
			t.Errorf("%q: %d alerts, want %d", args, n, stratusAlerts)
		}
	}
	// After "--", "--config" is a path (that does not exist): nothing read, exit 1, not 2.
	_, errOut, err := runCLI(t, "replay", "--config", allow, "--store", ":memory:", "--", "--config")
	if ExitCode(err) != ExitFailed || !strings.Contains(errOut, "--config") {
		t.Errorf("-- then --config: exit %d (%v)\n%s", ExitCode(err), err, errOut)
	}
	// A flag's value may be "--".
	if pos, err := parseArgs(e().replayFlagSet(new(replayFlags)), []string{"a", "--config", "--", "b"}); err != nil || strings.Join(pos, " ") != "a b" {
		t.Errorf("--config --: %q %v", pos, err)
	}
}

func e() *env { return &env{name: "secretwatch"} }

// Help is not an error: exit 0, on stdout; "help COMMAND" is the command's help; one flag style.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"replay", "learn", "check-config"} {
		for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}, {cmd, "x", "-h"}} {
			out, errOut, err := runCLI(t, args...)
			if err != nil || errOut != "" {
				t.Errorf("%q: err %v, stderr %q", args, err, errOut)
			}
			if !strings.HasPrefix(out, "Usage: secretwatch "+cmd) {
				t.Errorf("%q: help starts %q", args, firstLine(out))
			}
			if m := regexp.MustCompile(`(?m)^ +-[a-z][a-z-]+`).FindString(out); m != "" {
				t.Errorf("%q: a long flag with one dash: %q", args, m)
			}
		}
	}
	if out, _, err := runCLI(t, "replay", "-h"); err != nil || !strings.Contains(out, "--config FILE") || !strings.Contains(out, "-v\n") {
		t.Errorf("replay help: %v\n%s", err, out)
	}
	out, _, err := runCLI(t, "help")
	if err != nil || !strings.Contains(out, "Exit status:") || !strings.Contains(out, "3  completed, but some inputs could not be read") {
		t.Errorf("help: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "help", "frobnicate"); ExitCode(err) != ExitUsage {
		t.Errorf("help of an unknown command: %v", err)
	}
	// A bad flag is a usage error that points at the help, in the help's style.
	_, _, err = runCLI(t, "replay", "--bogus", stratus)
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--bogus") || !strings.Contains(err.Error(), "secretwatch replay -h") {
		t.Errorf("bad flag: %v", err)
	}
	// The program name is the binary's.
	var o strings.Builder
	if err := Run(t.Context(), []string{"replay", "-h"}, strings.NewReader(""), &o, &o, WithName("secretwatch-aws")); err != nil || !strings.HasPrefix(o.String(), "Usage: secretwatch-aws replay") {
		t.Errorf("secretwatch-aws replay -h: %v %q", err, firstLine(o.String()))
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out, _, err := runCLI(t, arg)
		if err != nil || !regexp.MustCompile(`^secretwatch \S+ commit \S+.* go1\.\d+`).MatchString(out) {
			t.Errorf("%s: %v %q", arg, err, out)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0}, {errors.New("x"), 1}, {errUsage, 2}, {errIncomplete, 3},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// Nothing to read is not success: replay and learn fail (exit 1) and learn writes nothing.
func TestNothingRead(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "README.txt", "") // an empty file: no record
	allow := allowNone(t)
	_, errOut, err := runCLI(t, "replay", "--store", ":memory:", "--config", allow, empty)
	if ExitCode(err) != ExitFailed || !strings.Contains(err.Error(), "no CloudTrail record read") {
		t.Errorf("replay of nothing: exit %d: %v\n%s", ExitCode(err), err, errOut)
	}
	out := filepath.Join(dir, "proposed.yaml")
	if _, _, err := runCLI(t, "learn", "-o", out, empty); ExitCode(err) != ExitFailed {
		t.Errorf("learn of nothing: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("learn of nothing wrote %s", out)
	}
	// Records, but no read to learn from: no empty allow-list that would flag every read.
	notReads := writeFile(t, dir, "list.json", `{"Records":[{"eventVersion":"1.09","eventID":"l1","eventTime":"2024-07-31T12:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"ListSecrets","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333"}}]}`)
	if _, _, err := runCLI(t, "learn", "-o", out, notReads); ExitCode(err) != ExitFailed || !strings.Contains(err.Error(), "no successful secret read") {
		t.Errorf("learn without reads: %v", err)
	}
}

// learn -o keeps an existing file unless --force.
func TestLearnRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	reviewed := writeFile(t, dir, "allowlist.yaml", "# reviewed\nversion: 1\n")
	_, _, err := runCLI(t, "learn", "-o", reviewed, stratus)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("learn over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(reviewed); string(b) != "# reviewed\nversion: 1\n" {
		t.Fatalf("the reviewed file changed:\n%s", b)
	}
	if _, errOut, err := runCLI(t, "learn", "--force", "-o", reviewed, stratus); err != nil {
		t.Fatalf("learn --force: %v\n%s", err, errOut)
	}
	if b, _ := os.ReadFile(reviewed); !strings.Contains(string(b), "stratus-red-team-retrieve-secret-18") {
		t.Errorf("--force did not write the proposal:\n%s", b)
	}
}

// --from/--to select records by event time (the stratus reads are at 2024-07-31T12:36-12:37Z).
func TestTimeRange(t *testing.T) {
	allow := allowNone(t)
	for _, tc := range []struct {
		span   []string
		alerts int
	}{
		{nil, stratusAlerts},
		{[]string{"--from", "2024-07-31"}, stratusAlerts},
		{[]string{"--to", "2024-07-31"}, stratusAlerts}, // a date includes its day
		{[]string{"--to", "2024-07-31T12:00:00Z"}, 0},
		{[]string{"--from", "2024-08-01"}, 0},
		{[]string{"--from", "2024-07-30T00:00:00Z", "--to", "2024-08-01T00:00:00+02:00"}, stratusAlerts},
	} {
		args := append([]string{"replay", "--store", ":memory:", "--config", allow, "--format", "json", stratus}, tc.span...)
		out, errOut, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.span, err, errOut)
		}
		if n := len(decodeAlerts(t, out)); n != tc.alerts {
			t.Errorf("%q: %d alerts, want %d\n%s", tc.span, n, tc.alerts, errOut)
		}
		if tc.alerts == 0 && !strings.Contains(errOut, "outside --") {
			t.Errorf("%q: the summary does not count the records outside the range:\n%s", tc.span, errOut)
		}
	}
	if _, _, err := runCLI(t, "replay", "--config", allow, "--from", "yesterday", stratus); ExitCode(err) != ExitUsage {
		t.Errorf("bad --from: %v", err)
	}
	if _, _, err := runCLI(t, "replay", "--config", allow, "--from", "2024-08-01", "--to", "2024-07-01", stratus); ExitCode(err) != ExitUsage {
		t.Errorf("--to before --from: %v", err)
	}
	// learn outside the range proposes nothing and writes nothing.
	if out, _, err := runCLI(t, "learn", "--to", "2024-07-30", stratus); err == nil || out != "" {
		t.Errorf("learn before the reads: %v %q", err, out)
	}
}

// Text output: the summary table first, most severe first, then the alerts in full in the
// same order; the stderr summary has the severities, other services' events and the store.
func TestTextOutputOrder(t *testing.T) {
	t.Parallel()
	out, errOut, err := runCLI(t, "replay", "--store", ":memory:", "--config", example+"/allowlist.yaml", example)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	jsonOut, _, err := runCLI(t, "replay", "--store", ":memory:", "--config", example+"/allowlist.yaml", "--format", "json", example)
	if err != nil {
		t.Fatal(err)
	}
	n := len(decodeAlerts(t, jsonOut))
	lines := strings.Split(out, "\n")
	if lines[0] != fmt.Sprintf("%d alerts", n) || !strings.HasPrefix(lines[2], "SEVERITY  RULE") {
		t.Fatalf("output does not start with the table:\n%s", strings.Join(lines[:min(len(lines), 14)], "\n"))
	}
	rank := map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}
	var tableOrder, detailOrder []string
	for _, l := range lines[3 : 3+n] {
		tableOrder = append(tableOrder, strings.Fields(l)[0])
	}
	for _, l := range lines {
		if m := regexp.MustCompile(`^\[([A-Z]+)\] `).FindStringSubmatch(l); m != nil {
			detailOrder = append(detailOrder, m[1])
		}
	}
	if strings.Join(tableOrder, " ") != strings.Join(detailOrder, " ") || len(detailOrder) != n {
		t.Errorf("table %v, details %v", tableOrder, detailOrder)
	}
	for i := 1; i < len(tableOrder); i++ {
		if rank[tableOrder[i]] < rank[tableOrder[i-1]] {
			t.Errorf("not most severe first: %v", tableOrder)
		}
	}
	if table := strings.Join(lines[:3+n], "\n"); n <= 20 && (len(lines[:3+n]) > 24 || len(table) > 24*100) {
		t.Error("the table is more than a screen")
	}
	for _, want := range []string{fmt.Sprintf("alerts:                %d (critical ", n),
		"store:                 :memory: (nothing kept)", "other events:          ", "(other services' events"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("summary lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "not-handled") {
		t.Errorf("summary still says not-handled:\n%s", errOut)
	}
}

// replay repeats check-config's warnings: allow: ['*'] turns a rule off, and a replay is where
// that silently hides reads.
func TestReplayRepeatsAllowListWarnings(t *testing.T) {
	star := writeFile(t, t.TempDir(), "star.yaml", "version: 1\ndefaults:\n  allow: ['*']\n")
	_, errOut, err := runCLI(t, "replay", "--store", ":memory:", "--config", star, "--progress", "never", stratus)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, `star.yaml:3: warning: principal "*" allows everybody`) {
		t.Errorf("replay does not repeat the allow-list's warning:\n%s", errOut)
	}
}

// learn shows progress like replay does (on stderr, never on stdout).
func TestLearnProgress(t *testing.T) {
	out, errOut, err := runCLI(t, "learn", "--progress", "always", stratus)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "records/s") || strings.Contains(out, "records/s") {
		t.Errorf("progress: stderr %q", errOut)
	}
}
