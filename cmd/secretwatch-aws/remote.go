package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	snspub "github.com/secretwatch/secretwatch/alerts/sns"
	ddbstore "github.com/secretwatch/secretwatch/baseline/dynamodb"
	"github.com/secretwatch/secretwatch/internal/cli"
	"github.com/secretwatch/secretwatch/metrics"
	"github.com/secretwatch/secretwatch/metrics/cloudwatch"
)

// remote wires the AWS adapters to the CLI's replay.
type remote struct {
	stderr io.Writer

	table, topic, namespace  string
	metricSecrets            string
	region                   string
	ddbEndpoint, snsEndpoint string
	cwEndpoint               string
	createTable              bool
}

var _ cli.Remote = (*remote)(nil)

func (r *remote) Flags(fs *flag.FlagSet) {
	fs.StringVar(&r.table, "dynamodb-table", "", "keep baselines in this DynamoDB table instead of --store (backfill)")
	fs.BoolVar(&r.createTable, "create-table", false, "create --dynamodb-table first if it does not exist (local stand-ins; Terraform creates it in AWS)")
	fs.StringVar(&r.topic, "sns-topic-arn", "", "also publish alerts to this SNS topic")
	fs.StringVar(&r.namespace, "cloudwatch-namespace", "", "also publish the replay's metrics to CloudWatch in this namespace")
	fs.StringVar(&r.metricSecrets, "metric-secrets", "", "comma-separated secret names that get a per-secret SecretReads metric")
	fs.StringVar(&r.region, "region", "", "AWS region (default: from the AWS configuration)")
	fs.StringVar(&r.ddbEndpoint, "dynamodb-endpoint", "", "DynamoDB endpoint URL (e.g. a local dynalite)")
	fs.StringVar(&r.snsEndpoint, "sns-endpoint", "", "SNS endpoint URL (e.g. a local goaws)")
	fs.StringVar(&r.cwEndpoint, "cloudwatch-endpoint", "", "CloudWatch endpoint URL")
}

// StoreName names the store replay uses when --dynamodb-table is set (for its summary).
func (r *remote) StoreName() string { return "DynamoDB table " + r.table }

func (r *remote) Open(ctx context.Context, retention, window time.Duration) (cli.Targets, error) {
	var t cli.Targets
	if r.table == "" && r.topic == "" && r.namespace == "" {
		return t, nil
	}
	opts := []func(*awsconfig.LoadOptions) error{}
	if r.region != "" {
		opts = append(opts, awsconfig.WithRegion(r.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return t, fmt.Errorf("aws config: %w", err)
	}
	log := slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if r.table != "" {
		client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if r.ddbEndpoint != "" {
				o.BaseEndpoint = aws.String(r.ddbEndpoint)
			}
		})
		st, err := ddbstore.New(client, ddbstore.Options{Table: r.table, Retention: retention, SuppressWindow: window, Logger: log})
		if err != nil {
			return t, err
		}
		if r.createTable {
			if err := st.CreateTable(ctx); err != nil {
				return t, err
			}
		}
		t.Store = st
	}
	if r.topic != "" {
		client := sns.NewFromConfig(cfg, func(o *sns.Options) {
			if r.snsEndpoint != "" {
				o.BaseEndpoint = aws.String(r.snsEndpoint)
			}
		})
		pub, err := snspub.New(client, r.topic, log)
		if err != nil {
			return t, err
		}
		t.Notifier = pub
	}
	if r.namespace != "" {
		client := awscw.NewFromConfig(cfg, func(o *awscw.Options) {
			if r.cwEndpoint != "" {
				o.BaseEndpoint = aws.String(r.cwEndpoint)
			}
		})
		var secrets []string
		for _, s := range strings.Split(r.metricSecrets, ",") {
			if s = strings.TrimSpace(s); s != "" {
				secrets = append(secrets, s)
			}
		}
		cw, err := cloudwatch.New(client, metrics.Config{Namespace: r.namespace, Secrets: secrets}, log)
		if err != nil {
			return t, err
		}
		t.Metrics = cw
	}
	return t, nil
}
