package main

import (
	"errors"
	"fmt"
	"github.com/secretwatch/secretwatch/detector"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// Environment variables (docs/contracts.md). They name things; none holds a secret value.
const (
	envTable          = "SECRETWATCH_TABLE"
	envTopicARN       = "SECRETWATCH_TOPIC_ARN"
	envNamespace      = "SECRETWATCH_METRICS_NAMESPACE"
	envAllowList      = "SECRETWATCH_ALLOWLIST"
	envSuppressWindow = "SECRETWATCH_SUPPRESS_WINDOW"
	envRetention      = "SECRETWATCH_RETENTION"
	envMetricSecrets  = "SECRETWATCH_METRIC_SECRETS"
	envLogLevel       = "SECRETWATCH_LOG_LEVEL"
	envEventRule      = "SECRETWATCH_EVENT_RULE"   // the EventBridge rule that feeds the function (monitor-tampering)
	envFunctionName   = "AWS_LAMBDA_FUNCTION_NAME" // set by Lambda
	envTaskRoot       = "LAMBDA_TASK_ROOT"         // set by Lambda: where bootstrap and allowlist.yaml live
)

// config is the Lambda's configuration.
type config struct {
	Table          string
	TopicARN       string
	Namespace      string
	AllowList      string
	SuppressWindow time.Duration
	Retention      time.Duration
	MetricSecrets  []string
	LogLevel       slog.Level
	// Monitor names secretwatch's own resources, so that monitor-tampering recognises calls that
	// switch this deployment off: its rule, function, table and topic.
	Monitor detector.MonitorConfig
}

// loadConfig reads the configuration and reports every problem at once. An invalid
// configuration fails the cold start loudly.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Table:          getenv(envTable),
		TopicARN:       getenv(envTopicARN),
		Namespace:      getenv(envNamespace),
		AllowList:      getenv(envAllowList),
		SuppressWindow: time.Hour,
		Retention:      35 * 24 * time.Hour,
	}
	var errs []error
	if c.Table == "" {
		errs = append(errs, fmt.Errorf("%s is required (the DynamoDB table name)", envTable))
	}
	if c.TopicARN == "" {
		errs = append(errs, fmt.Errorf("%s is required (the SNS topic ARN for alerts)", envTopicARN))
	} else if !strings.HasPrefix(c.TopicARN, "arn:") || !strings.Contains(c.TopicARN, ":sns:") {
		errs = append(errs, fmt.Errorf("%s=%q is not an SNS topic ARN", envTopicARN, c.TopicARN))
	}
	if c.Namespace == "" {
		c.Namespace = "SecretWatch"
	}
	if c.AllowList == "" {
		root := getenv(envTaskRoot)
		if root == "" {
			root = "."
		}
		c.AllowList = filepath.Join(root, "allowlist.yaml")
	} else if !filepath.IsAbs(c.AllowList) && getenv(envTaskRoot) != "" {
		c.AllowList = filepath.Join(getenv(envTaskRoot), c.AllowList)
	}
	dur := func(name string, dst *time.Duration, min time.Duration) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			errs = append(errs, fmt.Errorf("%s=%q: want a Go duration of at least %s (e.g. 1h)", name, v, min))
			return
		}
		*dst = d
	}
	dur(envSuppressWindow, &c.SuppressWindow, time.Minute)
	dur(envRetention, &c.Retention, 48*time.Hour)
	for _, s := range strings.Split(getenv(envMetricSecrets), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.MetricSecrets = append(c.MetricSecrets, s)
		}
	}
	if len(c.MetricSecrets) > 50 {
		errs = append(errs, fmt.Errorf("%s names %d secrets; at most 50 get a per-secret metric (each series costs money)", envMetricSecrets, len(c.MetricSecrets)))
	}
	if v := getenv(envLogLevel); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want debug, info, warn or error", envLogLevel, v))
		}
	}
	if v := strings.TrimSpace(getenv(envEventRule)); v != "" {
		c.Monitor.RuleNames = []string{v}
	}
	if v := strings.TrimSpace(getenv(envFunctionName)); v != "" {
		c.Monitor.FunctionNames = []string{v}
	}
	if c.Table != "" {
		c.Monitor.TableNames = []string{c.Table}
	}
	if i := strings.LastIndexByte(c.TopicARN, ':'); i >= 0 && i < len(c.TopicARN)-1 {
		c.Monitor.TopicNames = []string{c.TopicARN[i+1:]}
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c, nil
}
