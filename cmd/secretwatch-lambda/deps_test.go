package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each binary links only what it calls: the Lambda publishes metrics as EMF on stdout, so its
// import graph must not hold the CloudWatch API client (it once did, through package metrics,
// and made the arm64 bootstrap 10.4 MiB). The same for the metrics package itself, which the
// Lambda imports.
func TestLambdaDoesNotLinkCloudWatch(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{".", []string{"github.com/aws/aws-sdk-go-v2/service/cloudwatch", "github.com/secretwatch/secretwatch/metrics/cloudwatch",
			// config.LoadDefaultConfig links SSO, STS and IMDS clients; the Lambda's credentials are
			// environment variables (lambdaAWSConfig).
			"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sts",
			// The weekly report and the backfill: service/s3 would put the bootstrap over 10 MB
			// (report/s3 signs its one PutObject, cloudtrail/s3/objects its GETs, themselves).
			"github.com/aws/aws-sdk-go-v2/service/s3",
			// The second JSON decoder, which only speeds up replays (cloudtrail_stdjson).
			"github.com/go-json-experiment/json",
			// Templates call methods by reflection, so the linker keeps every exported method of
			// every linked type: html/template alone made the bootstrap 3.8 MB larger
			// (report.WriteHTML writes its page without one).
			"html/template", "text/template"}},
		{"github.com/secretwatch/secretwatch/metrics", []string{"github.com/aws/aws-sdk-go-v2/"}},
	} {
		// The Lambda's build: linux, lambda.norpc cloudtrail_stdjson (scripts/build-lambda.sh).
		cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc cloudtrail_stdjson", tc.pkg)
		cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", tc.pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed %d packages: %q", tc.pkg, len(deps), out)
		}
		for _, d := range deps {
			for _, f := range tc.forbidden {
				if d == f || strings.HasPrefix(d, f+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
					t.Errorf("%s imports %s (forbidden: %s)", tc.pkg, d, f)
				}
			}
		}
	}
}

// maxBootstrap is the budget of the stripped arm64 bootstrap (issue 10: at most 10 MB).
const maxBootstrap = 10_000_000

// The Lambda as scripts/build-lambda.sh builds it for arm64 (stripped, with the weekly report's
// HTML, CSV and JSON) stays within its budget. Sizes over time: BENCHMARKS.md, "Package size".
func TestLambdaBootstrapSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the arm64 bootstrap")
	}
	dist := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "scripts/build-lambda.sh", "arm64", "testdata/lambda/allowlist.yaml", dist)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-lambda.sh: %v\n%s", err, out)
	}
	fi, err := os.Stat(filepath.Join(dist, "arm64", "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("arm64 bootstrap: %d bytes (budget %d)", fi.Size(), maxBootstrap)
	if fi.Size() > maxBootstrap {
		t.Errorf("the stripped arm64 bootstrap is %d bytes, over the %d-byte budget", fi.Size(), maxBootstrap)
	}
}

func TestLambdaAWSConfig(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t",
		"AWS_SESSION_TOKEN": "tok", "AWS_ENDPOINT_URL": "http://all", "AWS_ENDPOINT_URL_SNS": "http://sns",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := lambdaAWSConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "s3cr3t" || creds.SessionToken != "tok" {
		t.Errorf("config %+v, credentials %+v, %v", cfg, creds, err)
	}
	for service, want := range map[string]string{"SNS": "http://sns", "DYNAMODB": "http://all"} {
		var base *string
		endpoint(getenv, service, &base)
		if base == nil || *base != want {
			t.Errorf("%s endpoint %v, want %s", service, base, want)
		}
	}
	env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	var base *string
	if endpoint(getenv, "SNS", &base); base != nil {
		t.Errorf("ignored endpoints: got %s", *base)
	}
	delete(env, "AWS_SECRET_ACCESS_KEY")
	if _, err := lambdaAWSConfig(getenv); err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("missing credentials: %v", err)
	}
}

// The Lambda's log lines are bounded whatever a record holds, and stay one JSON line each.
func TestLambdaLogBounded(t *testing.T) {
	var buf strings.Builder
	log := slog.New(levelHandler{Handler: slog.NewJSONHandler(&buf, nil), level: slog.LevelInfo})
	huge := strings.Repeat("x", 1<<20) + "\n[CRITICAL] forged"
	log.With("event", huge).Warn("skipping record\n"+huge, "reason", huge, "error", errors.New(huge), slog.Group("g", "v", huge))
	if buf.Len() > 8<<10 || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("a 1 MB value made a %d-byte log of %d lines", buf.Len(), strings.Count(buf.String(), "\n"))
	}
}
