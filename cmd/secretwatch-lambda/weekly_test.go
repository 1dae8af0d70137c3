package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	ddbstore "github.com/secretwatch/secretwatch/baseline/dynamodb"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

func TestParseScheduled(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		kind string
	}{
		{`{"secretwatch":"weekly-report"}`, true, "weekly-report"},
		{`{"secretwatch":"weekly-report","days":14}`, true, "weekly-report"},
		{`{"secretwatch":"other"}`, true, "other"},
		{`{"detail-type":"AWS API Call via CloudTrail","detail":{"requestParameters":{"secretId":"secretwatch"}}}`, false, ""},
		{`{"Records":[{"eventSource":"aws:sqs","body":"{\"secretwatch\":\"weekly-report\"}"}]}`, false, ""},
		{`[]`, false, ""},
	} {
		in, ok := parseScheduled(json.RawMessage(tc.in))
		if ok != tc.ok || in.Secretwatch != tc.kind {
			t.Errorf("parseScheduled(%s) = %+v, %v; want %q, %v", tc.in, in, ok, tc.kind, tc.ok)
		}
	}
}

// weeklyRig is a generated week in a dynalite table, a goaws topic with a queue and a gofakes3
// bucket: what the scheduled report reads and writes.
type weeklyRig struct {
	env   map[string]string
	table string
	sns   *goawsFixture
	s3url string
	want  map[[2]string]int64
	reads int
	today time.Time
}

func newWeeklyRig(t *testing.T, env map[string]string) *weeklyRig {
	ddb := newDDB(env["SECRETWATCH_TEST_DYNAMODB"], nil)
	w := &weeklyRig{env: env, table: createTable(t, ddb, false), sns: newGoawsFixture(t, env["SECRETWATCH_TEST_SNS"]), want: map[[2]string]int64{}}

	backend := s3mem.New()
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3srv.Close)
	if err := backend.CreateBucket("sw-reports"); err != nil {
		t.Fatal(err)
	}
	w.s3url = s3srv.URL

	// A week of reads: 3 secrets × 4 principals, one read per pair and day, a few of them twice
	// (redelivered: counted once).
	store, err := ddbstore.New(ddb, ddbstore.Options{Table: w.table})
	if err != nil {
		t.Fatal(err)
	}
	w.today = time.Now().UTC().Truncate(24 * time.Hour)
	var reads []detector.Read
	for d := 1; d <= 7; d++ {
		for s := range 3 {
			for p := range 4 {
				r := detector.Read{
					EventID: storetest.EventID(len(reads) + 1), Secret: fmt.Sprintf("%s/us-east-1/app-%d", e2eAccount, s),
					Principal: fmt.Sprintf("arn:aws:iam::%s:role/svc-%d", e2eAccount, p), Time: w.today.Add(-time.Duration(d)*24*time.Hour + time.Duration(s*4+p)*time.Hour),
					SourceIP: "10.1.0.1", UserAgent: "aws-sdk-go-v2/1.30", PrincipalType: "AssumedRole",
				}
				reads = append(reads, r)
				w.want[[2]string{r.Secret, r.Principal}]++
			}
		}
	}
	// One hostile read: its principal and user agent must reach report.html as text.
	hostile := detector.Read{EventID: storetest.EventID(len(reads) + 1), Secret: e2eAccount + "/us-east-1/app-0",
		Principal: "arn:aws:iam::" + e2eAccount + `:user/<script>alert(1)</script>"'`, Time: w.today.Add(-36 * time.Hour),
		SourceIP: "10.1.0.2", UserAgent: "</style><img src=x onerror=alert(2)>]]>\x1b[2J", PrincipalType: "IAMUser"}
	reads = append(reads, hostile)
	w.want[[2]string{hostile.Secret, hostile.Principal}]++
	for _, batch := range [][]detector.Read{reads, reads[:20]} {
		if _, err := store.Record(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	w.reads = len(reads)
	return w
}

// lambdaEnv is the function's environment for the rig.
func (w *weeklyRig) lambdaEnv(t *testing.T, taskDir string) map[string]string {
	vars := lambdaEnv(t, taskDir, w.table, w.sns.topicARN, w.env["SECRETWATCH_TEST_DYNAMODB"], w.env["SECRETWATCH_TEST_SNS"])
	vars["AWS_ENDPOINT_URL_S3"] = w.s3url
	vars[envReportBucket] = "sw-reports"
	return vars
}

// check wants the report's JSON, CSV and HTML in the bucket, with exact counts, and one summary
// on the topic.
func (w *weeklyRig) check(t *testing.T) {
	t.Helper()
	s3c := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(w.s3url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	dirKey := "reports/" + w.today.Add(-7*24*time.Hour).Format("2006-01-02") + "--" + w.today.Format("2006-01-02") + "/"
	contentType := map[string]string{}
	get := func(key string) string {
		out, err := s3c.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String("sw-reports"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		defer out.Body.Close()
		contentType[key] = aws.ToString(out.ContentType)
		b, _ := io.ReadAll(out.Body)
		return string(b)
	}
	var doc struct {
		Secrets []struct {
			Secret     string `json:"secret"`
			Principals []struct {
				Principal string `json:"principal"`
				Reads     int64  `json:"reads"`
			} `json:"principals"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal([]byte(get(dirKey+"report.json")), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]int64{}
	for _, s := range doc.Secrets {
		for _, p := range s.Principals {
			got[[2]string{s.Secret, p.Principal}] += p.Reads
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(w.want) {
		t.Errorf("report counts %v, want %v", got, w.want)
	}
	if csv := get(dirKey + "report.csv"); !strings.Contains(csv, "role/svc-3") {
		t.Errorf("report.csv lacks a principal:\n%s", csv)
	}

	// The page: one chart per secret, every principal, the hostile values as text only.
	page := get(dirKey + "report.html")
	if ct := contentType[dirKey+"report.html"]; ct != "text/html; charset=utf-8" {
		t.Errorf("report.html content type %q", ct)
	}
	if n := strings.Count(page, `<svg class="chart"`); n != 3 {
		t.Errorf("report.html has %d charts, want 3", n)
	}
	for _, s := range []string{"<!DOCTYPE html>", "Content-Security-Policy", "role/svc-3", "user/&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;",
		`title="&lt;/style&gt;&lt;img src=x onerror=alert(2)&gt;]]&gt;\x1b[2J"`, "</html>\n"} {
		if !strings.Contains(page, s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	for _, s := range []string{"<script>alert", "<img", "\x1b"} {
		if strings.Contains(page, s) {
			t.Errorf("report.html holds %q raw", s)
		}
	}

	msgs := w.sns.drain(t, 1, w.sns.raw)[0]
	if len(msgs) != 1 {
		t.Fatalf("%d summary messages, want 1", len(msgs))
	}
	body := aws.ToString(msgs[0].Body)
	for _, s := range []string{"secretwatch weekly report", fmt.Sprintf("Reads: %d", w.reads), "s3://sw-reports/" + dirKey + "report.json"} {
		if !strings.Contains(body, s) {
			t.Errorf("summary lacks %q:\n%s", s, body)
		}
	}
	if got := aws.ToString(msgs[0].MessageAttributes["rule"].StringValue); got != "weekly-report" {
		t.Errorf("summary rule attribute %q, want weekly-report", got)
	}
}

// The scheduled invocation, in process, against the stand-ins: dynalite (the store, filled with
// a generated week), goaws (the summary) and gofakes3 (the report files).
func TestWeeklyReportDelivery(t *testing.T) {
	w := newWeeklyRig(t, needEnv(t, "SECRETWATCH_TEST_DYNAMODB", "SECRETWATCH_TEST_SNS"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "allowlist.yaml"), []byte("version: 1\nsecrets: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := w.lambdaEnv(t, dir)
	h, err := newHandler(t.Context(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(t.Context(), json.RawMessage(`{"secretwatch":"weekly-report"}`)); err != nil {
		t.Fatal(err)
	}
	w.check(t)

	// A misconfigured schedule fails the invocation.
	for _, in := range []string{`{"secretwatch":"monthly"}`, `{"secretwatch":"weekly-report","days":90}`} {
		if _, err := h.Handle(context.Background(), json.RawMessage(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// The same under the Lambda runtime interface emulator: the built bootstrap, invoked with the
// schedule's input.
func TestE2EWeeklyReport(t *testing.T) {
	env := needEnv(t, "SECRETWATCH_TEST_DYNAMODB", "SECRETWATCH_TEST_SNS", envTestRIE)
	w := newWeeklyRig(t, env)
	taskDir := buildBootstrap(t, goarchHost)
	emu := startEmulator(t, env[envTestRIE], taskDir, w.lambdaEnv(t, taskDir))
	if body := emu.invoke([]byte(`{"secretwatch":"weekly-report","days":7}`)); string(body) != "null" {
		t.Fatalf("response %s, want null", body)
	}
	w.check(t)
}
