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

// The acceptance scenario of issue 8's rules: learn on days 1-13, let an admin role read every
// secret (allowed everywhere, as such roles are), replay all 14 days. Day 14 holds the attacks
// that keep an allowed principal — an admin's catch-all batch, a stolen session used from the
// internet — and the ones that change things — a public resource policy, a force delete, the
// trail stopped, secretwatch's own rule disabled — next to the original incidents and a benign
// managed rotation whose refresh burst must not page. Exactly the injected incidents must be
// reported, each by its rule, and nothing on the 13 benign days.
func TestAcceptanceRules(t *testing.T) {
	const admin = "arn:aws:iam::111122223333:role/platform-admin"
	dir := t.TempDir()
	tree := filepath.Join(dir, "logs")
	truth, err := scenario.Generate(t.Context(), tree, scenario.Options{Seed: 3, Scale: 0.5, InjectAnomalies: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := cloudtrail.Files([]string{tree})
	if err != nil {
		t.Fatal(err)
	}
	lastDay := truth.End.Add(-24 * time.Hour)
	var history []string
	for _, f := range files {
		if !strings.Contains(filepath.Base(f), "_"+lastDay.Format("20060102")+"T") {
			history = append(history, f)
		}
	}
	allow := filepath.Join(dir, "allowlist.yaml")
	if _, errOut, err := runCLI(t, append([]string{"learn", "-o", allow}, history...)...); err != nil {
		t.Fatalf("learn: %v\n%s", err, errOut)
	}
	b, err := os.ReadFile(allow)
	if err != nil {
		t.Fatal(err)
	}
	learnt := string(b)
	// learn proposed the token issuer's network path (every read through the VPC endpoint).
	if !strings.Contains(learnt, "network: # every one of") {
		t.Errorf("learn proposed no network path:\n%s", learnt)
	}
	// The admin role is allowed on every secret and by default.
	learnt = strings.Replace(learnt, "defaults:\n  allow: []", "defaults:\n  allow: ['"+admin+"']", 1)
	learnt = strings.ReplaceAll(learnt, "\n    allow:\n", "\n    allow:\n      - \""+admin+"\"\n")
	if err := os.WriteFile(allow, []byte(learnt), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := runCLI(t, "check-config", allow); err != nil {
		t.Fatalf("check-config: %v\n%s", err, errOut)
	}
	out, errOut, err := runCLI(t, "replay", "--store", filepath.Join(dir, "sw.db"), "--config", allow, "--format", "json", tree)
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, errOut)
	}
	alerts := decodeAlerts(t, out)
	found := make([]int, len(truth.Findings))
	benign := 0
	for _, a := range alerts {
		if a.FirstSeen.Before(lastDay) {
			benign++
			t.Errorf("alert on a benign day: %s %s %q at %s: %s", a.Rule, a.SecretName, a.Principal, a.FirstSeen, a.Reason)
			continue
		}
		i := matchFinding(truth.Findings, a)
		if i < 0 {
			t.Errorf("alert not in the truth: %s %s %q at %s (count %d): %s", a.Rule, a.SecretName, a.Principal, a.FirstSeen, a.Count, a.Reason)
			continue
		}
		found[i]++
	}
	rules := map[string]bool{}
	for i, f := range truth.Findings {
		rules[f.Rule] = true
		if found[i] == 0 {
			t.Errorf("missed: %s %s %q %s–%s (%s)", f.Rule, f.SecretName, f.Principal, f.Start, f.End, f.Description)
		}
	}
	for _, r := range []string{detector.RuleBatchRetrieval, detector.RulePolicyChange, detector.RuleSecretLifecycle, detector.RuleTrailTampering,
		detector.RuleMonitorTampering, detector.RuleUnexpectedNetworkPath, detector.RuleRootAccess, detector.RuleUnexpectedPrincipal, detector.RuleReadSpike} {
		if !rules[r] {
			t.Errorf("the scenario injects no %s incident", r)
		}
	}
	t.Logf("%d alerts for %d findings; %d on the 13 benign days", len(alerts), len(truth.Findings), benign)
}
