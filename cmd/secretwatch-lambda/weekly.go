package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/report"
	reports3 "github.com/secretwatch/secretwatch/report/s3"
)

// The scheduled weekly report (docs/report.md, "Scheduled delivery"). EventBridge Scheduler
// invokes the function with the input its target is given; Terraform sets
//
//	{"secretwatch": "weekly-report", "days": 7}
//
// ("days" optional, 1–31, default 7). The report covers the whole UTC days before the day of the
// invocation, is built from the DynamoDB store (report.Build), written to S3 as HTML, CSV and
// JSON when SECRETWATCH_REPORT_BUCKET is set, and summarised in a plain-text SNS message to the
// alerts topic. Every step is idempotent (same keys, same period), so a retried invocation
// repeats the report; an AWS error fails the invocation so that the Scheduler's retry policy
// applies.

const weeklyKind = "weekly-report"

// scheduledInput is the invocation shape of the schedule.
type scheduledInput struct {
	Secretwatch string `json:"secretwatch"`
	Days        int    `json:"days"`
}

// parseScheduled tells a schedule invocation from the CloudTrail shapes: ok when the input is a
// JSON object with a "secretwatch" member (a CloudTrail event never has one).
func parseScheduled(raw json.RawMessage) (scheduledInput, bool) {
	if !strings.Contains(string(raw), `"secretwatch"`) {
		return scheduledInput{}, false
	}
	var in scheduledInput
	if err := json.Unmarshal(raw, &in); err != nil || in.Secretwatch == "" {
		return scheduledInput{}, false
	}
	return in, true
}

// reportWriter stores a rendered report (report/s3.Writer).
type reportWriter interface {
	Write(ctx context.Context, r *report.Report) ([]string, error)
}

// textPublisher sends the summary (alerts/sns.Publisher).
type textPublisher interface {
	PublishText(ctx context.Context, subject, body string, attrs map[string]string) error
}

// weekly builds and delivers the scheduled report.
type weekly struct {
	src       report.Source
	allow     *detector.AllowList
	allowPath string
	out       reportWriter // nil: no bucket configured
	bucket    string
	pub       textPublisher
}

func (h *handler) handleScheduled(ctx context.Context, in scheduledInput) error {
	if in.Secretwatch != weeklyKind {
		// A misconfigured schedule: fail loudly (the Scheduler records the failure).
		return fmt.Errorf("lambda: unknown scheduled task %q (want %q)", report.Bound(in.Secretwatch), weeklyKind)
	}
	if h.weekly == nil {
		return fmt.Errorf("lambda: scheduled %s: the report is not configured", weeklyKind)
	}
	days := in.Days
	if days == 0 {
		days = 7
	}
	if days < 1 || days > 31 {
		return fmt.Errorf("lambda: scheduled %s: days %d not in 1..31", weeklyKind, days)
	}
	start := h.now()
	to := report.Day(start)
	from := to.Add(-time.Duration(days) * 24 * time.Hour)
	w := h.weekly
	r, err := report.Build(ctx, w.src, report.Options{From: from, To: to, PeriodEnd: report.EndFlag, AllowList: w.allow, Generated: start.UTC()})
	if err != nil {
		return fmt.Errorf("lambda: weekly report: %w", err)
	}
	r.AllowList = w.allowPath
	var links []string
	if w.out != nil {
		keys, err := w.out.Write(ctx, r)
		if err != nil {
			return fmt.Errorf("lambda: weekly report: %w", err)
		}
		for _, k := range keys {
			links = append(links, "s3://"+w.bucket+"/"+k)
		}
	}
	var body strings.Builder
	if err := report.WriteSummary(&body, r, links); err != nil {
		return fmt.Errorf("lambda: weekly report summary: %w", err)
	}
	subject := fmt.Sprintf("secretwatch weekly report %s to %s: %d reads, %d new principals, %d alerts",
		r.From.Format("2006-01-02"), r.LastDay().Format("2006-01-02"), r.Totals.Reads, r.Totals.NewPrincipals, r.Totals.Alerts)
	// rule=weekly-report: a subscriber that parses alerts can filter the summary out; one with a
	// severity filter policy does not receive it.
	if err := w.pub.PublishText(ctx, subject, body.String(), map[string]string{"rule": weeklyKind}); err != nil {
		return fmt.Errorf("lambda: weekly report: %w", err)
	}
	h.log.InfoContext(ctx, "weekly report delivered", "from", r.From, "to", r.To, "secrets", r.Totals.Secrets,
		"reads", r.Totals.Reads, "objects", len(links), "took", h.now().Sub(start))
	return nil
}

// Report delivery settings (environment).
const (
	envReportBucket = "SECRETWATCH_REPORT_BUCKET" // optional: where the HTML, CSV and JSON go
	envReportPrefix = "SECRETWATCH_REPORT_PREFIX" // key prefix in the bucket; default "reports/"
)

// newWeekly wires the scheduled report: the store it reads, the allow-list, the topic, and an
// S3 writer when a bucket is configured.
func newWeekly(getenv func(string) string, awsCfg aws.Config, src report.Source, al *detector.AllowList, allowPath string, pub textPublisher) (*weekly, error) {
	w := &weekly{src: src, allow: al, allowPath: allowPath, pub: pub}
	bucket := strings.TrimSpace(getenv(envReportBucket))
	if bucket == "" {
		return w, nil
	}
	prefix := getenv(envReportPrefix)
	if prefix == "" {
		prefix = "reports/"
	}
	var base *string
	endpoint(getenv, "S3", &base) // a stand-in (tests): path-style requests to it
	client := reports3.NewClient(awsCfg, aws.ToString(base))
	out, err := reports3.New(client, bucket, prefix, reportFormats()...)
	if err != nil {
		return nil, fmt.Errorf("%s / %s: %w", envReportBucket, envReportPrefix, err)
	}
	w.out, w.bucket = out, bucket
	return w, nil
}
