package detector_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// alertsBy runs batches through one detector (one store) and returns the alerts by rule.
func alertsBy(t *testing.T, allow string, batches ...[]*cloudtrail.Record) map[string][]*detector.Alert {
	t.Helper()
	d, _ := newDetector(t, allow)
	out := map[string][]*detector.Alert{}
	for _, b := range batches {
		res, err := d.Process(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range res.Alerts {
			out[a.Rule] = append(out[a.Rule], a)
		}
	}
	return out
}

// pantherDerived loads a Panther case and fills what the vendor test case leaves out (eventID,
// eventTime, userIdentity) so that it can be processed: derived, marked as such.
func pantherDerived(t *testing.T, file string) *cloudtrail.Record {
	r := load(t, file)[0]
	r.EventID, r.EventTime = "derived-"+file, cloudtrail.Time{Time: writtenAt}
	r.UserIdentity = roleIdentity("harvester")
	if r.AWSRegion == "" {
		r.AWSRegion = "us-west-2"
	}
	return r
}

func TestBatchRetrieval(t *testing.T) {
	one := func(r *cloudtrail.Record) map[string]string {
		got := map[string]string{}
		for rule, as := range alertsBy(t, allowNobody, []*cloudtrail.Record{r}) {
			got[rule] = as[0].Severity
		}
		return got
	}
	for _, tt := range []struct {
		name string
		rec  *cloudtrail.Record
		want string // batch-retrieval severity, "" none
	}{
		// Panther (derived): AWS.SecretsManager.BatchRetrieveSecrets, expected true.
		{"panther batch by tag filter", pantherDerived(t, "panther-analysis/aws_secretsmanager_retrieve_secrets_batch__00_batchgetsecretvalue.json"), "medium"},
		// Panther (derived): BatchRetrieveSecretsCatchAll, expected true.
		{"panther catch-all", pantherDerived(t, "panther-analysis/aws_secretsmanager_retrieve_secrets_catchall__00_batchgetsecretvalue-catch-all.json"), "high"},
		// Panther (derived): catch-all with another filter, expected false for catch-all: a filter batch only.
		{"panther catch-all with other filters", pantherDerived(t, "panther-analysis/aws_secretsmanager_retrieve_secrets_catchall__01_batchgetsecretvalue-catch-all-with-other-filters.json"), "medium"},
		{"panther multi-region case, one region (its filter is a catch-all)", pantherDerived(t, "panther-analysis/aws_secretsmanager_retrieve_secrets_multiregion__00_batchgetsecretvalue-in-us-east-1.json"), "high"},
		{"written: fixed id list", call("b1", sm, "BatchGetSecretValue", `{"secretIdList":["app/db","app/key"]}`, roleIdentity("app-api")), ""},
		{"written: denied catch-all", func() *cloudtrail.Record {
			r := call("b2", sm, "BatchGetSecretValue", `{"filters":[{"key":"name","values":["!x"]}]}`, roleIdentity("app-api"))
			r.ErrorCode = "AccessDeniedException"
			return r
		}(), ""},
	} {
		if got := one(tt.rec)[detector.RuleBatchRetrieval]; got != tt.want {
			t.Errorf("%s: batch-retrieval %q, want %q", tt.name, got, tt.want)
		}
	}
	// Panther's multi-region rule, written: one principal, id lists, three regions in an hour —
	// one invocation per record, so the regions are remembered across invocations.
	var batches [][]*cloudtrail.Record
	for i, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
		r := call(fmt.Sprintf("mr-%d", i), sm, "BatchGetSecretValue", `{"secretIdList":["a","b"]}`, roleIdentity("harvester"))
		r.AWSRegion, r.EventTime = region, cloudtrail.Time{Time: writtenAt.Add(time.Duration(i) * 5 * time.Minute)}
		batches = append(batches, []*cloudtrail.Record{r})
	}
	if got := alertsBy(t, allowNobody, batches[:2]...)[detector.RuleBatchRetrieval]; len(got) != 0 {
		t.Errorf("two regions alerted: %+v", got)
	}
	got := alertsBy(t, allowNobody, batches...)[detector.RuleBatchRetrieval]
	if len(got) != 1 || got[0].Severity != "high" || got[0].Region != "ap-southeast-2" {
		t.Errorf("three regions: %+v", got)
	}
}

func reads(prefix string, at time.Time, role string, secrets ...string) []*cloudtrail.Record {
	var out []*cloudtrail.Record
	for i, s := range secrets {
		out = append(out, read(fmt.Sprintf("%s-%d", prefix, i), at.Add(time.Duration(i)*time.Second), role, s))
	}
	return out
}

func secretNames(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/%02d", prefix, i)
	}
	return out
}

const allowAll = "version: 1\ndefaults:\n  allow: ['arn:aws:iam::111122223333:role/*']\n"

func TestBulkRetrieval(t *testing.T) {
	at := time.Date(2026, 3, 10, 12, 1, 0, 0, time.UTC)
	if got := alertsBy(t, allowAll, reads("a", at, "app", secretNames(25, "s")...))[detector.RuleBulkRetrieval]; len(got) != 1 || got[0].Count != 25 {
		t.Errorf("25 distinct secrets: %+v", got)
	}
	if got := alertsBy(t, allowAll, reads("b", at, "app", secretNames(19, "s")...))[detector.RuleBulkRetrieval]; len(got) != 0 {
		t.Errorf("19 distinct secrets alerted: %+v", got)
	}
	same := make([]string, 30)
	for i := range same {
		same[i] = "app/db"
	}
	if got := alertsBy(t, allowAll, reads("c", at, "app", same...))[detector.RuleBulkRetrieval]; len(got) != 0 {
		t.Errorf("one secret read 30 times alerted: %+v", got)
	}
	// One read per invocation: the distinct set lives in the store.
	var one [][]*cloudtrail.Record
	for _, r := range reads("d", at, "app", secretNames(20, "s")...) {
		one = append(one, []*cloudtrail.Record{r}, []*cloudtrail.Record{r}) // and each delivered twice
	}
	var agg detector.Aggregator // merged as Deliver's suppressor would: one alert per window
	agg.Add(alertsBy(t, allowAll, one...)[detector.RuleBulkRetrieval])
	if got := agg.Alerts(); len(got) != 1 || got[0].Count != 20 {
		t.Errorf("one read per invocation: %+v", got)
	}
	// A nightly sync job reads 40 secrets at 02:00 every night: normal at 02:00, not at noon.
	var nights [][]*cloudtrail.Record
	first := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	for d := range 8 {
		nights = append(nights, reads(fmt.Sprintf("n%d", d), first.Add(time.Duration(d)*24*time.Hour+time.Duration(d%3)*time.Minute), "sync", secretNames(40, "s")...))
	}
	all := alertsBy(t, allowAll, nights...)[detector.RuleBulkRetrieval]
	if len(all) != 4 { // warm-up: until the job ran on more than half of the 7 prior nights, it is news
		for _, a := range all {
			t.Logf("%s %s", a.Window, a.Reason)
		}
		t.Errorf("nightly job: %d alerts, want 4 (the nights before a baseline exists)", len(all))
	}
	noon := append(nights, reads("noon", first.Add(8*24*time.Hour+10*time.Hour), "sync", secretNames(40, "s")...))
	if got := alertsBy(t, allowAll, noon...)[detector.RuleBulkRetrieval]; len(got) != 5 || got[4].Window.Hour() != 12 {
		t.Errorf("the same job at noon: %d alerts, want the noon one too", len(got))
	}
}

func denied(id string, at time.Time, role, ip string) *cloudtrail.Record {
	r := read(id, at, role, "prod/"+id)
	r.ErrorCode, r.SourceIPAddress = "AccessDenied", ip
	return r
}

func TestAccessDeniedBurst(t *testing.T) {
	at := time.Date(2026, 3, 10, 12, 1, 0, 0, time.UTC)
	burst := func(n int, role func(int) string, ip func(int) string) []*cloudtrail.Record {
		var out []*cloudtrail.Record
		for i := range n {
			out = append(out, denied(fmt.Sprintf("d%d", i), at.Add(time.Duration(i)*time.Second), role(i), ip(i)))
		}
		return out
	}
	sameRole := func(int) string { return "prober" }
	ipOf := func(i int) string { return fmt.Sprintf("198.51.100.%d", i) }
	if got := alertsBy(t, allowNobody, burst(12, sameRole, ipOf))[detector.RuleAccessDeniedBurst]; len(got) != 1 || got[0].Count != 12 ||
		got[0].Principal != "arn:aws:iam::111122223333:role/prober" {
		t.Errorf("12 denied by one role: %+v", got)
	}
	nine := burst(9, sameRole, ipOf)
	if got := alertsBy(t, allowNobody, nine, nine)[detector.RuleAccessDeniedBurst]; len(got) != 0 {
		t.Errorf("9 denied, delivered twice, alerted: %+v", got)
	}
	oneIP := burst(10, func(i int) string { return fmt.Sprintf("r%d", i) }, func(int) string { return "203.0.113.50" })
	if got := alertsBy(t, allowNobody, oneIP)[detector.RuleAccessDeniedBurst]; len(got) != 1 || got[0].Resource != "source 203.0.113.50" || got[0].Principal != "" {
		t.Errorf("10 denied from one address: %+v", got)
	}
	// Written: the null-requestParameters denied calls count too (3: below the threshold).
	if got := alertsBy(t, allowNobody, load(t, "written/getsecretvalue-denied-null-params.json"))[detector.RuleAccessDeniedBurst]; len(got) != 0 {
		t.Errorf("3 denied alerted: %+v", got)
	}
}

func TestEnumeration(t *testing.T) {
	at := time.Date(2026, 3, 10, 12, 1, 0, 0, time.UTC)
	lists := func(prefix string, at time.Time, role string, n int) []*cloudtrail.Record {
		var out []*cloudtrail.Record
		for i := range n {
			name := "ListSecrets"
			params := `{"maxResults":100}`
			if i%2 == 1 {
				name, params = "DescribeSecret", fmt.Sprintf(`{"secretId":"app/%d"}`, i)
			}
			r := call(fmt.Sprintf("%s-%d", prefix, i), sm, name, params, roleIdentity(role))
			r.EventTime = cloudtrail.Time{Time: at.Add(time.Duration(i) * time.Second)}
			out = append(out, r)
		}
		return out
	}
	if got := alertsBy(t, allowNobody, lists("e", at, "newcomer", 12))[detector.RuleEnumeration]; len(got) != 1 || got[0].Count != 12 {
		t.Errorf("12 list/describe by a newcomer: %+v", got)
	}
	if got := alertsBy(t, allowNobody, lists("f", at, "newcomer", 5))[detector.RuleEnumeration]; len(got) != 0 {
		t.Errorf("5 calls alerted: %+v", got)
	}
	// A caching client that describes its secrets all day, every day.
	if got := alertsBy(t, allowNobody, lists("g", at.Add(-24*time.Hour), "cacher", 30), lists("h", at, "cacher", 30))[detector.RuleEnumeration]; len(got) != 1 {
		t.Errorf("usual describer: %d alerts, want only the first day's", len(got))
	}
	// Stratus's retrieval lists once: not an enumeration burst.
	if got := alertsBy(t, allowNobody, load(t, "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"))[detector.RuleEnumeration]; len(got) != 0 {
		t.Errorf("stratus: %+v", got)
	}
}

// Written: the GetSecretValue entries AWS logs for a batch are attributed to it (same session,
// same seconds); an unrelated read is not.
func TestBatchAttributesItsSecrets(t *testing.T) {
	ui := roleIdentity("harvester")
	ui.AccessKeyID = "ASIAEXAMPLE1"
	batch := call("bt", sm, "BatchGetSecretValue", `{"filters":[{"key":"name","values":["!none"]}]}`, ui)
	var recs []*cloudtrail.Record
	recs = append(recs, batch)
	for i, s := range []string{"app/a", "app/b"} {
		r := call(fmt.Sprintf("bt-%d", i), sm, "GetSecretValue", `{"secretId":"`+s+`"}`, ui)
		recs = append(recs, r)
	}
	other := roleIdentity("harvester")
	other.AccessKeyID = "ASIAOTHER"
	recs = append(recs, call("bt-x", sm, "GetSecretValue", `{"secretId":"app/c"}`, other))
	got := alertsBy(t, allowAll, recs)[detector.RuleBatchRetrieval]
	if len(got) != 1 || !strings.Contains(got[0].Reason, "for 2 secret(s) it returned: app/a, app/b.") {
		t.Errorf("batch alert %+v", got)
	}
}
