package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/secretwatch/secretwatch/detector"
)

// The bolt store keeps the window tallies between runs: the Stratus capture replayed in two
// halves (10 secrets each) into one store file raises bulk-retrieval — 20 distinct secrets in 10
// minutes — on the second replay, as one replay of the whole capture does. (Before the store had a
// Tallier, each replay counted only its own 10.)
func TestReplayTwoHalvesKeepTheTally(t *testing.T) {
	b, err := os.ReadFile(stratus)
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	var halves [2][]json.RawMessage
	gets := 0
	for _, r := range recs {
		var head struct{ EventName string }
		if err := json.Unmarshal(r, &head); err != nil {
			t.Fatal(err)
		}
		if head.EventName == "GetSecretValue" {
			gets++
		}
		h := 0
		if gets > 10 {
			h = 1
		}
		halves[h] = append(halves[h], r)
	}
	if gets != 20 {
		t.Fatalf("capture has %d GetSecretValue, want 20", gets)
	}
	dir := t.TempDir()
	allow := writeFile(t, dir, "allow.yaml", "version: 1\ndefaults:\n  allow: []\n")
	db := filepath.Join(dir, "sw.db")
	for i, half := range halves {
		body, err := json.Marshal(half)
		if err != nil {
			t.Fatal(err)
		}
		file := writeFile(t, dir, []string{"first.json", "second.json"}[i], string(body))
		out, errOut, err := runCLI(t, "replay", "--store", db, "--config", allow, "--format", "json", file)
		if err != nil {
			t.Fatalf("replay %d: %v\n%s", i+1, err, errOut)
		}
		var bulk []detector.Alert
		unexpected := 0
		for _, a := range decodeAlerts(t, out) {
			switch a.Rule {
			case detector.RuleBulkRetrieval:
				bulk = append(bulk, a)
			case detector.RuleUnexpectedPrincipal:
				unexpected++
			}
		}
		if unexpected != 10 {
			t.Errorf("replay %d: %d unexpected-principal alerts, want 10 (one per secret of the half)", i+1, unexpected)
		}
		switch {
		case i == 0 && len(bulk) != 0:
			t.Errorf("first replay (10 secrets): bulk-retrieval %+v, want none", bulk)
		case i == 1 && (len(bulk) != 1 || bulk[0].Count != 20):
			t.Errorf("second replay: bulk-retrieval alerts %+v, want one with count 20 (10 secrets of this replay + 10 of the first, from the store)", bulk)
		}
	}
}
