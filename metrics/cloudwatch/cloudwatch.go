// Package cloudwatch publishes the detector's metrics with CloudWatch's PutMetricData API
// (github.com/aws/aws-sdk-go-v2/service/cloudwatch), batched to at most 1,000 data and well under
// 1 MB a request: the recorder of the CLI (secretwatch-aws replay) and long-running use, where
// there is no Lambda log stream to carry EMF. It sends exactly the data of [metrics.EMF] for the
// same call (both come from [metrics.Plan]). It is its own package so that only the binaries that
// call CloudWatch link its SDK client (the Lambda writes EMF and does not).
//
// CloudWatch has no local stand-in: the tests decode the SDK's real request (Smithy RPC v2 CBOR,
// gzip'd from 10 KiB) in an httptest server.
package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/metrics"
)

// PutMetricData limits.
const (
	// MaxDatumsPerRequest is the most metric data one PutMetricData request may carry.
	MaxDatumsPerRequest = 1000
	// maxRequestBytes bounds the estimated size of one request's data, under the 1 MB limit
	// of a PutMetricData request with room for the protocol's framing.
	maxRequestBytes = 800 << 10
	// datumOverhead is a generous estimate of the bytes one datum costs besides its strings
	// (member names, value, timestamp, framing) in CBOR or in the query protocol.
	datumOverhead = 160
)

// Log attribute keys.
const (
	logKeyNamespace = "namespace"
	logKeyDatums    = "datums"
	logKeyRequests  = "requests"
)

// putMetricDataAPI is the part of *awscw.Client the recorder uses.
type putMetricDataAPI interface {
	PutMetricData(ctx context.Context, in *awscw.PutMetricDataInput, optFns ...func(*awscw.Options)) (*awscw.PutMetricDataOutput, error)
}

// Recorder is a [detector.MetricsRecorder] that publishes with PutMetricData, in as few
// requests as the limits allow (at most [MaxDatumsPerRequest] data and well under 1 MB each).
// It is safe for concurrent use.
type Recorder struct {
	client putMetricDataAPI
	plan   metrics.Plan
	logger *slog.Logger
}

var _ detector.MetricsRecorder = (*Recorder)(nil)

// New returns a recorder publishing through client (a *cloudwatch.Client of the AWS SDK). It
// fails on an invalid Config. A nil logger discards.
func New(client putMetricDataAPI, cfg metrics.Config, logger *slog.Logger) (*Recorder, error) {
	if client == nil {
		return nil, errors.New("metrics: cloudwatch: nil client")
	}
	plan, err := metrics.NewPlan(cfg)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{client: client, plan: plan, logger: logger}, nil
}

// RecordMetrics publishes the metrics of one invocation or replay. Every batch is attempted;
// the error joins the failed ones (each wrapped with %w). The SDK client has already retried
// throttling and 5xx by then, and the batches that succeeded are recorded, so a caller should
// report the error rather than call again (which would count those twice).
func (c *Recorder) RecordMetrics(ctx context.Context, st detector.Stats, storeErrors int64, latency time.Duration) error {
	data := c.plan.Data(st, storeErrors, latency)
	ts := c.plan.Now()
	ns := c.plan.Namespace()
	bs := batches(data, MaxDatumsPerRequest, maxRequestBytes)
	var errs []error
	for i, b := range bs {
		in := &awscw.PutMetricDataInput{Namespace: aws.String(ns), MetricData: make([]types.MetricDatum, len(b))}
		for j, x := range b {
			in.MetricData[j] = types.MetricDatum{
				MetricName: aws.String(x.Name),
				Unit:       types.StandardUnit(x.Unit),
				Value:      aws.Float64(x.Value),
				Timestamp:  aws.Time(ts),
			}
			if x.Dim != nil {
				in.MetricData[j].Dimensions = []types.Dimension{{Name: aws.String(x.Dim.Name), Value: aws.String(x.Dim.Value)}}
			}
		}
		if _, err := c.client.PutMetricData(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("metrics: cloudwatch: put metric data %s (request %d of %d, %d data): %w",
				ns, i+1, len(bs), len(b), err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.logger.DebugContext(ctx, "metrics published",
		slog.String(logKeyNamespace, ns), slog.Int(logKeyDatums, len(data)), slog.Int(logKeyRequests, len(bs)))
	return nil
}

// batches splits data into runs of at most maxCount data and about maxBytes each.
func batches(data []metrics.Datum, maxCount, maxBytes int) [][]metrics.Datum {
	var out [][]metrics.Datum
	start, size := 0, 0
	for i, x := range data {
		n := datumSize(x)
		if i > start && (i-start >= maxCount || size+n > maxBytes) {
			out = append(out, data[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}

func datumSize(x metrics.Datum) int {
	n := datumOverhead + len(x.Name) + len(x.Unit)
	if x.Dim != nil {
		n += len(x.Dim.Name) + len(x.Dim.Value)
	}
	return n
}
