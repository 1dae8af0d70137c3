package detector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

func load(t *testing.T, name string) []*cloudtrail.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "detector", name))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimSpace(b)
	if bytes.Contains(b[:min(len(b), 200)], []byte(`"Records"`)) {
		var env struct{ Records []*cloudtrail.Record }
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		return env.Records
	}
	if b[0] == '[' {
		var recs []*cloudtrail.Record
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatal(err)
		}
		return recs
	}
	var r cloudtrail.Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return []*cloudtrail.Record{&r}
}

func newDetector(t *testing.T, allow string) (*detector.Detector, *baseline.MemoryStore) {
	t.Helper()
	al, _, err := detector.ParseAllowList("allow.yaml", []byte(allow))
	if err != nil {
		t.Fatal(err)
	}
	st := baseline.NewMemoryStore(0)
	d, err := detector.New(detector.Config{AllowList: al}, st)
	if err != nil {
		t.Fatal(err)
	}
	return d, st
}

const allowNobody = "version: 1\ndefaults:\n  allow: []\n"

func TestStratusRetrieveSecrets(t *testing.T) {
	d, _ := newDetector(t, allowNobody)
	recs := load(t, "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json")
	res, err := d.Process(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Records != 21 || res.Stats.Reads != 20 || res.Stats.Unexpected != 20 || res.Stats.Handled != 21 {
		t.Errorf("stats %+v; want 21 records, all handled, 20 reads, 20 unexpected", res.Stats)
	}
	if len(res.Stats.Skipped) != 0 {
		t.Errorf("ListSecrets is handled now (enumeration), nothing skipped: %v", res.Stats.Skipped)
	}
	// The 20 distinct secrets in one window are also a bulk retrieval (one alert, count 20).
	bulk := 0
	var total int64
	for _, a := range res.Alerts {
		if a.Rule == detector.RuleBulkRetrieval && a.Count == 20 && a.Severity == detector.SeverityHigh {
			bulk++
			continue
		}
		if a.Rule != detector.RuleUnexpectedPrincipal || a.Principal != "arn:aws:iam::903144391865:user/christophe" {
			t.Errorf("unexpected alert %s %s", a.Rule, a.Principal)
		}
		if a.PrincipalType != "IAMUser" || a.Account != "903144391865" || a.Region != "cn-centraleast-1r" || a.SecretARN == "" {
			t.Errorf("alert fields: %+v", a)
		}
		if a.Reason == "" || a.NextStep == "" || len(a.EventIDs) != 1 || len(a.SourceIPs) != 1 || len(a.UserAgents) != 1 {
			t.Errorf("alert lacks context: %+v", a)
		}
		total += a.Count
	}
	if len(res.Alerts) != 21 || total != 20 || bulk != 1 {
		t.Errorf("%d alerts with total count %d, %d bulk; want 20 (one per secret) totalling 20 and one bulk-retrieval", len(res.Alerts), total, bulk)
	}
	// Delivered again (EventBridge at-least-once): nothing counts twice.
	res2, err := d.Process(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Stats.Reads != 0 || res2.Stats.Duplicates != 20 || res2.Stats.Unexpected != 0 {
		t.Errorf("redelivery stats %+v", res2.Stats)
	}
	for _, a := range res2.Alerts {
		if a.Rule == detector.RuleUnexpectedPrincipal && a.Count != 1 || a.Rule == detector.RuleBulkRetrieval && a.Count != 20 {
			t.Errorf("redelivered alert count %d, want 1 (the reads counted in its window, however often delivered)", a.Count)
		}
	}
}

func TestStratusAllowedByAllowList(t *testing.T) {
	d, _ := newDetector(t, "version: 1\nsecrets:\n  - secret: stratus-red-team-retrieve-secret-*\n    allow: ['arn:aws:iam::903144391865:user/christophe']\n")
	res, err := d.Process(t.Context(), load(t, "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Allowed on each secret, but 20 distinct secrets in ten minutes is still a harvest.
	if len(res.Alerts) != 1 || res.Alerts[0].Rule != detector.RuleBulkRetrieval || res.Stats.Unexpected != 0 || res.Stats.Reads != 20 {
		t.Errorf("alerts %+v stats %+v", res.Alerts, res.Stats)
	}
}

// Panther's expected results, where a rule of ours covers the same behaviour.
func TestPantherCases(t *testing.T) {
	tests := []struct {
		file        string
		wantReads   int64
		wantDenied  int64
		wantSkipped map[string]int64
		wantAlerts  int
	}{
		// A denied GetSecretValue is recorded as denied, never as a read, and raises no
		// unexpected-principal alert (Panther alerts on the attempt; our rules judge reads).
		{"panther-analysis/aws_secretsmanager_retrieve_secrets__00_getsecretvalue-denied.json", 0, 1, nil, 0},
		// BatchGetSecretValue is handled but not counted: AWS logs a GetSecretValue per secret.
		{"panther-analysis/aws_secretsmanager_retrieve_secrets_batch__00_batchgetsecretvalue.json", 0, 0, nil, 0},
		{"panther-analysis/aws_secretsmanager_retrieve_secrets_catchall__00_batchgetsecretvalue-catch-all.json", 0, 0, nil, 0},
		// A GetSecretValue without identity, time or parameters: counted as skipped with a reason.
		{"panther-analysis/aws_secretsmanager_retrieve_secrets_multiregion__01_non-batch-getsecretvalue-event-no-match.json", 0, 0,
			map[string]int64{detector.SkipNoEventID: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			d, _ := newDetector(t, allowNobody)
			res, err := d.Process(t.Context(), load(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if res.Stats.Reads != tt.wantReads || res.Stats.Denied != tt.wantDenied || len(res.Alerts) != tt.wantAlerts {
				t.Errorf("stats %+v alerts %d", res.Stats, len(res.Alerts))
			}
			for k, v := range tt.wantSkipped {
				if res.Stats.Skipped[k] != v {
					t.Errorf("skipped %v, want %s=%d", res.Stats.Skipped, k, v)
				}
			}
		})
	}
}

// Records that are not about secrets never raise secret alerts.
func TestNonSecretRecords(t *testing.T) {
	for _, f := range []string{
		"stratus-red-team/aws.credential-access.ssm-retrieve-securestring-parameters.json",
		"stratus-red-team/aws.persistence.sts-federation-token.json",
		"panther-analysis/scenario__compromised-root-creds__attacker_cloudtrail.json",
	} {
		d, _ := newDetector(t, allowNobody)
		recs := load(t, f)
		res, err := d.Process(t.Context(), recs)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Alerts) != 0 || res.Stats.Reads != 0 {
			t.Errorf("%s: %d alerts, %d reads", f, len(res.Alerts), res.Stats.Reads)
		}
	}
}

// read builds a GetSecretValue record.
func read(id string, at time.Time, principal, secretID string) *cloudtrail.Record {
	return &cloudtrail.Record{
		EventID: id, EventTime: cloudtrail.Time{Time: at}, EventSource: "secretsmanager.amazonaws.com",
		EventName: "GetSecretValue", AWSRegion: "us-east-1", RecipientAccountID: "111122223333",
		SourceIPAddress: "10.0.0.1", UserAgent: "aws-sdk-go-v2",
		UserIdentity: &cloudtrail.UserIdentity{Type: "AssumedRole", AccountID: "111122223333",
			ARN: "arn:aws:sts::111122223333:assumed-role/" + principal + "/s",
			SessionContext: &cloudtrail.SessionContext{SessionIssuer: &cloudtrail.SessionIssuer{
				ARN: "arn:aws:iam::111122223333:role/" + principal}}},
		RequestParameters: json.RawMessage(fmt.Sprintf(`{"secretId":%q}`, secretID)),
	}
}

const allowApp = `version: 1
secrets:
  - secret: app/db
    allow: ['arn:aws:iam::111122223333:role/app-*']
`

// A steady reader with a daily rhythm, then 40× its usual rate: one spike alert for the pair and
// one for the secret, merged over the hour, and nothing during the normal days.
func TestReadSpike(t *testing.T) {
	d, _ := newDetector(t, allowApp)
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	n := 0
	var recs []*cloudtrail.Record
	add := func(at time.Time, k int) {
		for i := range k {
			n++
			recs = append(recs, read(fmt.Sprintf("ev-%d", n), at.Add(time.Duration(i)*time.Second), "app-api", "app/db"))
		}
	}
	for day := range 14 {
		for h := range 24 {
			k := 2
			if h >= 8 && h < 18 {
				k = 6 + (day+h)%3
			}
			add(start.Add(time.Duration(day*24+h)*time.Hour), k)
		}
	}
	res, err := d.Process(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 0 {
		t.Fatalf("normal rhythm raised %d alerts, first: %+v", len(res.Alerts), res.Alerts[0])
	}
	// Day 15 (a Monday), 14:00: 40× the usual 7 reads.
	recs = recs[:0]
	add(start.Add((14*24+14)*time.Hour), 280)
	res, err = d.Process(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 2 {
		t.Fatalf("want 2 spike alerts (pair and secret), got %d: %+v", len(res.Alerts), res.Alerts)
	}
	for _, a := range res.Alerts {
		if a.Rule != detector.RuleReadSpike {
			t.Errorf("rule %s", a.Rule)
		}
		if a.Count < 200 || a.Count > 280 {
			t.Errorf("count %d: want the reads over the threshold merged into one alert", a.Count)
		}
		if !bytes.Contains([]byte(a.Reason), []byte("baseline 7.0")) || !bytes.Contains([]byte(a.Reason), []byte("Mon 14:00")) {
			t.Errorf("reason lacks the baseline numbers: %s", a.Reason)
		}
		if a.Principal == "" && !bytes.Contains([]byte(a.Reason), []byte("top readers this hour: arn:aws:iam::111122223333:role/app-api (280)")) {
			t.Errorf("secret-wide spike does not name its top reader: %s", a.Reason)
		}
	}
}

// A new allowed principal is news only once the secret has history (warm-up).
func TestFirstSeenPrincipal(t *testing.T) {
	d, _ := newDetector(t, allowApp)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recs := []*cloudtrail.Record{
		read("a1", start, "app-api", "app/db"),
		read("a2", start.Add(time.Hour), "app-worker", "app/db"), // new, but during warm-up
		read("a3", start.Add(8*24*time.Hour), "app-api", "app/db"),
		read("a4", start.Add(8*24*time.Hour+time.Minute), "app-cron", "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbC123"),
		read("a5", start.Add(8*24*time.Hour+2*time.Minute), "app-cron", "app/db"),
	}
	res, err := d.Process(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 1 {
		t.Fatalf("want 1 alert, got %d: %+v", len(res.Alerts), res.Alerts)
	}
	a := res.Alerts[0]
	// Count: app-cron's reads in the window (a4 and a5), whichever form named the secret.
	if a.Rule != detector.RuleFirstSeenPrincipal || a.Principal != "arn:aws:iam::111122223333:role/app-cron" || a.Count != 2 ||
		a.SecretARN != "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbC123" {
		t.Errorf("alert %+v", a)
	}
}

func TestDeliverOnceWithCount(t *testing.T) {
	d, st := newDetector(t, allowNobody)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var recs []*cloudtrail.Record
	for i := range 10000 {
		recs = append(recs, read(fmt.Sprintf("storm-%d", i), at.Add(time.Duration(i)*time.Millisecond*100), "intruder", "app/db"))
	}
	var agg detector.Aggregator
	for i := 0; i < len(recs); i += 1000 {
		res, err := d.Process(t.Context(), recs[i:i+1000])
		if err != nil {
			t.Fatal(err)
		}
		agg.Add(res.Alerts)
	}
	var got []*detector.Alert
	n := notifierFunc(func(a *detector.Alert) error { got = append(got, a); return nil })
	if _, err := detector.Deliver(t.Context(), agg.Alerts(), st, n); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Count != 10000 || len(got[0].EventIDs) != detector.MaxAlertEventIDs {
		t.Fatalf("delivered %d alerts: %+v", len(got), got)
	}
	// The same alerts again (a replay of the same files): nothing new is delivered.
	got = nil
	if _, err := detector.Deliver(t.Context(), agg.Alerts(), st, n); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("re-delivered %d alerts", len(got))
	}
}

type notifierFunc func(*detector.Alert) error

func (f notifierFunc) Notify(_ context.Context, a *detector.Alert) error { return f(a) }

// A crash between counting reads and claiming their alert: the retry sees the reads as
// redeliveries, yet the alert it delivers stands for all of them, and the suppressor counts them.
func TestDeliverAfterCrashBeforeClaim(t *testing.T) {
	d, st := newDetector(t, allowNobody)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var recs []*cloudtrail.Record
	for i := range 5 {
		recs = append(recs, read(fmt.Sprintf("crash-%d", i), at.Add(time.Duration(i)*time.Second), "intruder", "app/db"))
	}
	if _, err := d.Process(t.Context(), recs); err != nil { // counted; the alert is lost with the crash
		t.Fatal(err)
	}
	res, err := d.Process(t.Context(), recs) // the retry
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Duplicates != 5 || len(res.Alerts) != 1 || res.Alerts[0].Count != 5 {
		t.Fatalf("retry: %+v, %d alerts", res.Stats, len(res.Alerts))
	}
	var got []*detector.Alert
	n := notifierFunc(func(a *detector.Alert) error { got = append(got, a); return nil })
	for range 2 { // and the retry itself delivered twice
		if _, err := detector.Deliver(t.Context(), res.Alerts, st, n); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Count != 5 {
		t.Fatalf("delivered %d alerts, first count %d; want one with count 5", len(got), got[0].Count)
	}
	if s, _ := st.Claim(t.Context(), got[0].Key(), got[0].Window, 0); s.Count != 5 || !s.Delivered {
		t.Errorf("suppressor state %+v, want count 5 delivered", s)
	}
}
