package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/baseline/bolt"
	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/scenario"
	"github.com/secretwatch/secretwatch/report"
)

func runReport(t *testing.T, now time.Time, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = Run(t.Context(), append([]string{"report"}, args...), strings.NewReader(""), &o, &e, WithClock(func() time.Time { return now }))
	return o.String(), e.String(), err
}

type pairCount struct{ reads, denied map[string]bool }

// The report's counts over a generated account equal, per (secret, principal), the distinct
// successful GetSecretValue event IDs of the input, and denied the distinct failed ones —
// although the input has duplicate deliveries and the logs are replayed twice.
func TestReportCountsMatchScenario(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "logs")
	truth, err := scenario.Generate(t.Context(), tree, scenario.Options{Seed: 3, Scale: 0.3, Days: 14, InjectAnomalies: true})
	if err != nil {
		t.Fatal(err)
	}
	if truth.Counts.Duplicates == 0 || truth.Counts.DeniedReads == 0 {
		t.Fatalf("the scenario must contain duplicates and denied reads: %+v", truth.Counts)
	}
	// The input, counted the simple way: distinct event IDs per (secret key, principal).
	files, err := cloudtrail.Files([]string{tree})
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]*pairCount{}
	for it := range cloudtrail.Read(t.Context(), files) {
		if it.Err != nil {
			t.Fatal(it.Err)
		}
		rec := it.Record
		if rec.EventSource != "secretsmanager.amazonaws.com" || rec.EventName != "GetSecretValue" {
			continue
		}
		var params struct {
			SecretID string `json:"secretId"`
		}
		if err := json.Unmarshal(rec.RequestParameters, &params); err != nil || params.SecretID == "" {
			t.Fatalf("record %s without a secretId", rec.EventID)
		}
		ref, err := detector.ParseSecretID(params.SecretID, rec.RecipientAccountID, rec.AWSRegion)
		if err != nil {
			t.Fatal(err)
		}
		p, err := detector.NormalisePrincipal(rec.UserIdentity)
		if err != nil {
			t.Fatal(err)
		}
		k := [2]string{ref.Key(), p.ARN}
		c := want[k]
		if c == nil {
			c = &pairCount{reads: map[string]bool{}, denied: map[string]bool{}}
			want[k] = c
		}
		if rec.ErrorCode != "" {
			c.denied[rec.EventID] = true
		} else {
			c.reads[rec.EventID] = true
		}
	}
	allow := writeFile(t, dir, "allow.yaml", "version: 1\ndefaults:\n  allow: [\"*\"]\n")
	db := filepath.Join(dir, "sw.db")
	period := []string{"--from", truth.Start.Format(time.DateOnly), "--to", truth.End.Format(time.RFC3339)}
	// Twice: the second replay of the same logs must change nothing.
	var out string
	for range 2 {
		var errOut string
		out, errOut, err = runReport(t, time.Now(), append(append([]string{"--store", db, "--config", allow, "--format", "json"}, period...), tree)...)
		if err != nil {
			t.Fatalf("report: %v\n%s", err, errOut)
		}
	}
	var got report.Report
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	seen := map[[2]string]bool{}
	var totalReads, totalDenied int64
	for _, s := range got.Secrets {
		for _, p := range s.Principals {
			k := [2]string{s.Secret, p.Principal}
			seen[k] = true
			w := want[k]
			if w == nil {
				t.Errorf("%s / %s: in the report, not in the input", s.Secret, p.Principal)
				continue
			}
			if p.Reads != int64(len(w.reads)) || p.Denied != int64(len(w.denied)) {
				t.Errorf("%s / %s: reads %d denied %d, want %d and %d", s.Secret, p.Principal, p.Reads, p.Denied, len(w.reads), len(w.denied))
			}
		}
		totalReads += s.Reads
		totalDenied += s.Denied
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("%s / %s: in the input, not in the report", k[0], k[1])
		}
	}
	// And per secret, against the generator's own truth.
	for _, ts := range truth.Secrets {
		s, ok := findSecret(got.Secrets, ts.Key)
		if !ok {
			t.Errorf("secret %s missing", ts.Key)
			continue
		}
		if s.Reads != ts.Reads || s.Denied != ts.Denied {
			t.Errorf("%s: reads %d denied %d, truth %d and %d", ts.Key, s.Reads, s.Denied, ts.Reads, ts.Denied)
		}
	}
	if totalReads != truth.Counts.Reads || totalDenied != truth.Counts.DeniedReads {
		t.Errorf("totals %d reads %d denied, truth %d and %d", totalReads, totalDenied, truth.Counts.Reads, truth.Counts.DeniedReads)
	}
	if got.Totals.Alerts == 0 {
		t.Error("the injected anomalies raised no alert in the report")
	}
}

func findSecret(ss []*report.Secret, key string) (*report.Secret, bool) {
	for _, s := range ss {
		if s.Secret == key {
			return s, true
		}
	}
	return nil, false
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	allow := "../../testdata/example/allowlist.yaml"
	db := filepath.Join(dir, "sw.db")
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	if _, errOut, err := runCLI(t, "replay", "--store", db, "--config", allow, "../../testdata/example"); err != nil {
		t.Fatalf("replay: %v\n%s", err, errOut)
	}
	// The alerts a replay of the example raises about a secret (account-wide ones name none).
	jsonOut, _, err := runCLI(t, "replay", "--store", ":memory:", "--config", allow, "--format", "json", "../../testdata/example")
	if err != nil {
		t.Fatal(err)
	}
	var exampleSecretAlerts int64
	for _, a := range decodeAlerts(t, jsonOut) {
		if a.Secret != "" {
			exampleSecretAlerts++
		}
	}
	decode := func(t *testing.T, out string) report.Report {
		t.Helper()
		var r report.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return r
	}

	t.Run("default period ends with the latest event's day", func(t *testing.T) {
		out, _, err := runReport(t, now, "--store", db, "--config", allow, "--format", "json")
		if err != nil {
			t.Fatal(err)
		}
		r := decode(t, out)
		if r.From.Format(time.DateOnly) != "2026-03-09" || r.To.Format(time.DateOnly) != "2026-03-16" || r.PeriodEnd != report.EndLatest || !r.Generated.Equal(now) {
			t.Errorf("period %s–%s (%s), generated %s", r.From, r.To, r.PeriodEnd, r.Generated)
		}
		var perSecret int64
		for _, s := range r.Secrets {
			for _, n := range s.Alerts {
				perSecret += n
			}
		}
		if r.Totals.Alerts != exampleSecretAlerts || perSecret != exampleSecretAlerts || r.Totals.NewPrincipals != 5 {
			t.Errorf("totals %+v (alerts by secret %d, want %d)", r.Totals, perSecret, exampleSecretAlerts)
		}
	})

	t.Run("--since, --secret, -o", func(t *testing.T) {
		file := filepath.Join(dir, "r.md")
		out, _, err := runReport(t, now, "--store", db, "--config", allow, "--since", "2d", "--secret", "prod/payments/*", "--format", "markdown", "-o", file)
		if err != nil || out != "" {
			t.Fatalf("err %v, stdout %q", err, out)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		md := string(b)
		if !strings.Contains(md, "2026-03-14 to 2026-03-15 (2 days") || !strings.Contains(md, "prod/payments/db") || strings.Contains(md, "orders/db") {
			t.Errorf("markdown:\n%s", md)
		}
	})

	t.Run("empty store: the period ends today", func(t *testing.T) {
		empty := filepath.Join(dir, "empty.db")
		st, err := bolt.Open(empty, 0)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		out, _, err := runReport(t, now, "--store", empty, "--format", "json")
		if err != nil {
			t.Fatal(err)
		}
		if r := decode(t, out); r.PeriodEnd != report.EndNow || r.To.Format(time.DateOnly) != "2027-06-02" || len(r.Secrets) != 0 {
			t.Errorf("empty store: %+v", r)
		}
	})

	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"--since and --from", []string{"--store", db, "--since", "7d", "--from", "2026-03-01"}, true, "pass one"},
		{"bad --to", []string{"--store", db, "--to", "next week"}, true, "RFC 3339"},
		{"bad --since", []string{"--store", db, "--since", "-3d"}, true, "--since"},
		{"unknown format", []string{"--store", db, "--format", "pdf"}, true, "pdf"},
		{"empty period", []string{"--store", db, "--from", "2026-03-09", "--to", "2026-03-09"}, false, "empty period"},
		{"no store", []string{"--store", filepath.Join(dir, "missing.db")}, false, "no store"},
		{":memory: without logs", []string{"--store", ":memory:"}, true, "PATHs"},
		{"bad allow-list", []string{"--store", db, "--config", writeFile(t, dir, "bad.yaml", "version: 2\n")}, false, "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runReport(t, now, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.usage != (ExitCode(err) == ExitUsage)) {
				t.Errorf("err = %v; want one containing %q (usage error: %v)", err, tc.want, tc.usage)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("report created a store file")
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestParseSinceAndDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true}, {"2w", 14 * 24 * time.Hour, true}, {"36h", 36 * time.Hour, true}, {" 1d ", 24 * time.Hour, true},
		{"400d", 400 * 24 * time.Hour, true}, {"401d", 0, false}, {"0d", 0, false}, {"-1d", 0, false}, {"d", 0, false}, {"7", 0, false},
		{"", 0, false}, {"99999999999999999999d", 0, false}, {"1e3d", 0, false},
		{"281474976710659d", 0, false}, // (2^48 + 3) × 24 h wraps around int64 nanoseconds to exactly 3 days
		{"58w", 0, false}, {"57w", 57 * 7 * 24 * time.Hour, true},
	} {
		got, err := parseSince(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSince(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-03-09", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), true},
		{"2026-03-09T01:30:00+02:00", time.Date(2026, 3, 8, 23, 30, 0, 0, time.UTC), true},
		{"2026-03-09T00:00:00Z", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), true},
		{"09/03/2026", time.Time{}, false}, {"2026-02-30", time.Time{}, false}, {"", time.Time{}, false},
	} {
		got, err := parseDay(tc.in)
		if (err == nil) != tc.ok || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("parseDay(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"7d", "2w", "36h", "-1d", "9223372036854775807d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseSince(s)
		if err == nil && (d <= 0 || d > report.MaxPeriod) {
			t.Fatalf("parseSince(%q) = %v: out of range", s, d)
		}
	})
}

// The README's report command, exactly as written there, works from the repository root.
func TestReadmeReportCommand(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "go run ./cmd/secretwatch report "
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatal("README has no report command")
	}
	args := strings.Fields(strings.TrimPrefix(line, "go run ./cmd/secretwatch "))
	out := filepath.Join(t.TempDir(), "report.html")
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	t.Chdir("../..")
	var stdout, stderr bytes.Buffer
	if err := Run(t.Context(), args, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, stderr.String())
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg class=\"chart\"", "user/mallory", "Needs a look"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("the README's report lacks %q", want)
		}
	}
}
