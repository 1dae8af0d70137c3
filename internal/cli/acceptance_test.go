package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/scenario"
)

// The acceptance scenario of the core: learn an allow-list from days 1-13 of a realistic 14-day
// account, then replay all 14 days enforcing it. Exactly the injected day-14 findings must be
// reported — unexpected principals (another team's role, a person, the root user, another
// account) and the 40× read spike — and nothing else, although the data has a daily rhythm,
// weekends, secrets addressed by name, partial and full ARN, denied reads and duplicate deliveries.
//
// Under the race detector only the small account runs: the race detector looks for
// unsynchronised access, which the same code paths show at any scale, and generating 5,600 log
// files and decoding their 38k records three times under it was 76-84% of the package's time.
// scripts/test.sh runs the full-scale account without -race. (Seed 0 at scale 0.3 is also the
// bundled example, which TestBundledExample replays under -race.)
func TestAcceptanceLearnThenEnforce(t *testing.T) {
	t.Parallel()
	for _, tc := range acceptanceCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tree := filepath.Join(dir, "logs")
			truth, err := scenario.Generate(t.Context(), tree, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if truth.Counts.Duplicates == 0 {
				t.Fatal("the scenario must contain duplicate deliveries")
			}
			// Days 1-13: the files whose CloudTrail name time is before the last day.
			files, err := cloudtrail.Files([]string{tree})
			if err != nil {
				t.Fatal(err)
			}
			lastDay := truth.End.Add(-24 * time.Hour).Format("20060102")
			var history []string
			for _, f := range files {
				if !strings.Contains(filepath.Base(f), "_"+lastDay+"T") {
					history = append(history, f)
				}
			}
			if len(history) == len(files) || len(history) == 0 {
				t.Fatalf("could not split the tree at %s: %d of %d files", lastDay, len(history), len(files))
			}
			allow := filepath.Join(dir, "allowlist.yaml")
			if _, errOut, err := runCLI(t, append([]string{"learn", "-o", allow}, history...)...); err != nil {
				t.Fatalf("learn: %v\n%s", err, errOut)
			}
			out, errOut, err := runCLI(t, "replay", "--store", filepath.Join(dir, "sw.db"), "--config", allow, "--format", "json", tree)
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, errOut)
			}
			alerts := decodeAlerts(t, out)
			found := make([]int, len(truth.Findings))
			for _, a := range alerts {
				i := matchFinding(truth.Findings, a)
				if i < 0 {
					t.Errorf("alert not in the truth: %s %s %q at %s (count %d): %s", a.Rule, a.SecretName, a.Principal, a.FirstSeen, a.Count, a.Reason)
					continue
				}
				found[i]++
			}
			for i, f := range truth.Findings {
				if found[i] == 0 {
					t.Errorf("missed: %s %s %q %s–%s (%s)", f.Rule, f.SecretName, f.Principal, f.Start, f.End, f.Description)
				}
			}
			// Unexpected-principal counts are exact: each alert counts the principal's reads.
			for _, a := range alerts {
				if a.Rule != detector.RuleUnexpectedPrincipal {
					continue
				}
				if f := truth.Findings[matchFinding(truth.Findings, a)]; a.Count != f.Records {
					t.Errorf("%s on %s: count %d, want %d", a.Principal, a.SecretName, a.Count, f.Records)
				}
			}
			// Replaying everything again changes nothing and raises nothing.
			out, errOut, err = runCLI(t, "replay", "--store", filepath.Join(dir, "sw.db"), "--config", allow, "--format", "json", tree)
			if err != nil || out != "" || !strings.Contains(errOut, " 0 new, 0 denied") {
				t.Errorf("second replay: err %v, alerts %q\n%s", err, out, errOut)
			}
		})
	}
}

type acceptanceCase struct {
	name string
	opt  scenario.Options
}

func acceptanceCases() []acceptanceCase {
	small := acceptanceCase{"seed 7, scale 0.3", scenario.Options{Seed: 7, Scale: 0.3, InjectAnomalies: true}}
	if raceDetector {
		return []acceptanceCase{small}
	}
	return []acceptanceCase{{"seed 0, scale 1", scenario.Options{Seed: 0, Scale: 1, InjectAnomalies: true}}, small}
}

// matchFinding returns the finding an alert reports, or -1.
func matchFinding(fs []scenario.Finding, a detector.Alert) int {
	for i, f := range fs {
		if f.Rule == a.Rule && f.SecretName == a.SecretName && f.Principal == a.Principal && f.Region == a.Region &&
			!a.FirstSeen.Before(f.Start) && a.LastSeen.Before(f.End) {
			return i
		}
	}
	return -1
}

// The bundled example (README's first command) stays what the README promises.
func TestBundledExample(t *testing.T) {
	t.Parallel()
	out, errOut, err := runCLI(t, "replay", "--store", ":memory:", "--config", "../../testdata/example/allowlist.yaml", "--format", "json", "../../testdata/example")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	b, err := os.ReadFile("../../testdata/example.truth.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"findings"`) {
		t.Fatal("example truth lacks findings")
	}
	as := decodeAlerts(t, out)
	rules := map[string]int{}
	for _, a := range as {
		rules[a.Rule]++
		if a.Reason == "" || a.NextStep == "" {
			t.Errorf("alert without reason or next step: %+v", a)
		}
	}
	if rules[detector.RuleUnexpectedPrincipal] != 5 || rules[detector.RuleReadSpike] != 4 || rules[detector.RuleRootAccess] != 3 || len(as) != 18 {
		t.Errorf("example alerts by rule: %v", rules)
	}
}
