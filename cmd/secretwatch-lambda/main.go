// Command secretwatch-lambda is the always-on monitor: a Lambda (provided.al2023, built as
// bootstrap) fed by an EventBridge rule with Secrets Manager CloudTrail events, directly or
// through SQS. It wires the detector to DynamoDB (baselines), SNS (alerts) and EMF (metrics).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/secretwatch/secretwatch/alerts"
	snspub "github.com/secretwatch/secretwatch/alerts/sns"
	ddbstore "github.com/secretwatch/secretwatch/baseline/dynamodb"
	cts3 "github.com/secretwatch/secretwatch/cloudtrail/s3/objects"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/metrics"
)

func main() {
	h, err := newHandler(context.Background(), os.Getenv)
	if err != nil {
		// Fail the cold start loudly: Lambda reports the init error and retries.
		fmt.Fprintln(os.Stderr, "secretwatch: cold start failed:", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// newHandler builds the handler from the environment: configuration, allow-list, AWS clients.
func newHandler(ctx context.Context, getenv func(string) string) (*handler, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, err
	}
	log := slog.New(levelHandler{Handler: lambdacontext.NewLogHandler(), level: cfg.LogLevel})
	al, err := detector.LoadAllowList(cfg.AllowList)
	if err != nil {
		return nil, err
	}
	awsCfg, err := lambdaAWSConfig(getenv)
	if err != nil {
		return nil, err
	}
	store, err := ddbstore.New(dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { endpoint(getenv, "DYNAMODB", &o.BaseEndpoint) }), ddbstore.Options{
		Table: cfg.Table, Retention: cfg.Retention, SuppressWindow: cfg.SuppressWindow, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	pub, err := snspub.New(sns.NewFromConfig(awsCfg, func(o *sns.Options) { endpoint(getenv, "SNS", &o.BaseEndpoint) }), cfg.TopicARN, log)
	if err != nil {
		return nil, err
	}
	emf, err := metrics.NewEMF(os.Stdout, metrics.Config{Namespace: cfg.Namespace, Secrets: cfg.MetricSecrets})
	if err != nil {
		return nil, err
	}
	det, err := detector.New(detector.Config{
		AllowList: al, Retention: cfg.Retention, SuppressWindow: cfg.SuppressWindow, Logger: log,
		Monitor: cfg.Monitor,
	}, store)
	if err != nil {
		return nil, err
	}
	var s3URL *string
	endpoint(getenv, "S3", &s3URL)
	// The backfill reads whole objects: signed GETs, not the S3 SDK client (which would put the
	// bootstrap over 10 MB; TestLambdaDoesNotLinkCloudWatch keeps service/s3 out).
	s3c := &cts3.HTTPGetter{Region: awsCfg.Region, Credentials: awsCfg.Credentials, Endpoint: aws.ToString(s3URL)}
	log.Info("secretwatch ready", "table", cfg.Table, "topic", cfg.TopicARN, "allowlist", cfg.AllowList,
		"secret_entries", len(al.Entries), "namespace", cfg.Namespace)
	wk, err := newWeekly(getenv, awsCfg, store, al, cfg.AllowList, pub)
	if err != nil {
		return nil, err
	}
	return &handler{det: det, sup: store, notify: pub, metrics: emf, log: log, now: time.Now, s3: s3c, weekly: wk}, nil
}

// lambdaAWSConfig is the AWS configuration of a Lambda function: the region and the execution
// role's credentials are environment variables that Lambda sets for the life of the execution
// environment. The SDK's config.LoadDefaultConfig would read the same variables, but it links
// every other credential source (SSO, STS web identity, IMDS, credential processes, login), none
// of which a Lambda uses: ~0.7 MB of the bootstrap (see BENCHMARKS.md).
func lambdaAWSConfig(getenv func(string) string) (aws.Config, error) {
	region, key, secret := getenv("AWS_REGION"), getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" || key == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("aws config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required (Lambda sets them)")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))),
	}, nil
}

// endpoint applies the SDK's service endpoint variables (AWS_ENDPOINT_URL_<SERVICE>, else
// AWS_ENDPOINT_URL), which the tests use to point the Lambda at local stand-ins, to a client's
// BaseEndpoint; nothing when both are unset or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
func endpoint(getenv func(string) string, service string, base **string) {
	url := getenv("AWS_ENDPOINT_URL_" + service)
	if url == "" {
		url = getenv("AWS_ENDPOINT_URL")
	}
	if url != "" && !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		*base = aws.String(url)
	}
}

// levelHandler drops records below SECRETWATCH_LOG_LEVEL.
type levelHandler struct {
	slog.Handler
	level slog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

// maxLogValue bounds one logged string, in bytes: values can come from CloudTrail records (event
// names, IDs, error messages), and no record may make a huge log line. The JSON handler escapes
// control characters.
const maxLogValue = 1024

// Handle writes r with every string attribute bounded.
func (h levelHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, alerts.Clip(r.Message, maxLogValue), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(boundAttr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func boundAttr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(alerts.Clip(a.Value.String(), maxLogValue))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(alerts.Clip(err.Error(), maxLogValue))
		}
	case slog.KindGroup:
		as := a.Value.Group()
		bounded := make([]any, len(as))
		for i, g := range as {
			bounded[i] = boundAttr(g)
		}
		a = slog.Group(a.Key, bounded...)
	}
	return a
}

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for i, a := range as {
		as[i] = boundAttr(a)
	}
	return levelHandler{Handler: h.Handler.WithAttrs(as), level: h.level}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{Handler: h.Handler.WithGroup(name), level: h.level}
}
