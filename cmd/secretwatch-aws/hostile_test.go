package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/internal/cli"
	"github.com/secretwatch/secretwatch/internal/testenv"
)

// A denied GetSecretValue with a ~2,000-character secretId (the API allows 2,048) and one with a
// 32 KiB id, next to a real day of records: the backfill into DynamoDB raises the same 20 alerts,
// and a second replay counts nothing as new.
func TestReplayHostileSecretIDToDynamo(t *testing.T) {
	ddb := os.Getenv("SECRETWATCH_TEST_DYNAMODB")
	if ddb == "" {
		testenv.Unavailable(t, "SECRETWATCH_TEST_DYNAMODB is not set: run through scripts/test.sh (it starts dynalite)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")

	b, err := os.ReadFile(stratus)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	for i, n := range []int{2000, 32 << 10} {
		var h map[string]any
		if err := json.Unmarshal(b, &[]any{&h}); err != nil {
			t.Fatal(err)
		}
		h["eventID"] = fmt.Sprintf("0f8fad5b-d9cb-469f-a165-7086772895%02d", i)
		h["errorCode"] = "AccessDenied"
		h["errorMessage"] = "User is not authorized to perform: secretsmanager:GetSecretValue"
		h["requestParameters"] = map[string]any{"secretId": strings.Repeat("s", n)}
		recs = append(recs, h)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "hostile.json")
	out, _ := json.Marshal(recs)
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	allow := filepath.Join(dir, "allow.yaml")
	if err := os.WriteFile(allow, []byte("version: 1\ndefaults:\n  allow: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"replay", "--config", allow, "--format", "json",
		"--dynamodb-table", fmt.Sprint("hostile-", time.Now().UnixNano()), "--create-table", "--dynamodb-endpoint", ddb, file}
	replay := func() (string, string) {
		var o, e bytes.Buffer
		if err := cli.Run(t.Context(), args, strings.NewReader(""), &o, &e, cli.WithRemote(&remote{stderr: &e})); err != nil {
			t.Fatalf("replay: %v\n%s", err, e.String())
		}
		return o.String(), e.String()
	}
	alerts, sum := replay()
	if n := strings.Count(alerts, "\n"); n != stratusAlerts {
		t.Fatalf("%d alerts, want the day's %d\n%s", n, stratusAlerts, sum)
	}
	if !strings.Contains(sum, "20 new, 2 denied") {
		t.Errorf("first replay summary, want 20 new reads and 2 denied:\n%s", sum)
	}
	alerts, sum = replay()
	if alerts != "" || !strings.Contains(sum, "0 new, 0 denied, 22 duplicates") {
		t.Errorf("second replay: alerts %q\n%s", alerts, sum)
	}
}
