package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/secretwatch/secretwatch/detector"
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

// putMetricDataAPI is the part of *cloudwatch.Client the recorder uses.
type putMetricDataAPI interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// CloudWatch is a [detector.MetricsRecorder] that publishes with PutMetricData: for the CLI
// (replay, backfill) and long-running use, where there is no Lambda log stream to carry EMF. It
// sends the same metrics as [EMF], in as few requests as the limits allow (at most
// [MaxDatumsPerRequest] data and well under 1 MB each). It is safe for concurrent use.
type CloudWatch struct {
	client putMetricDataAPI
	s      settings
	logger *slog.Logger
}

var _ detector.MetricsRecorder = (*CloudWatch)(nil)

// NewCloudWatch returns a recorder publishing through client (a *cloudwatch.Client). It fails on
// an invalid Config. A nil logger discards.
func NewCloudWatch(client putMetricDataAPI, cfg Config, logger *slog.Logger) (*CloudWatch, error) {
	if client == nil {
		return nil, errors.New("metrics: cloudwatch: nil client")
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &CloudWatch{client: client, s: s, logger: logger}, nil
}

// RecordMetrics publishes the metrics of one invocation or replay. Every batch is attempted;
// the error joins the failed ones (each wrapped with %w). The SDK client has already retried
// throttling and 5xx by then, and the batches that succeeded are recorded, so a caller should
// report the error rather than call again (which would count those twice).
func (c *CloudWatch) RecordMetrics(ctx context.Context, st detector.Stats, storeErrors int64, latency time.Duration) error {
	data := c.s.data(st, storeErrors, latency)
	ts := c.s.now()
	bs := batches(data, MaxDatumsPerRequest, maxRequestBytes)
	var errs []error
	for i, b := range bs {
		in := &cloudwatch.PutMetricDataInput{Namespace: aws.String(c.s.namespace), MetricData: make([]types.MetricDatum, len(b))}
		for j, x := range b {
			in.MetricData[j] = types.MetricDatum{
				MetricName: aws.String(x.name),
				Unit:       types.StandardUnit(x.unit),
				Value:      aws.Float64(x.value),
				Timestamp:  aws.Time(ts),
			}
			if x.dim != nil {
				in.MetricData[j].Dimensions = []types.Dimension{{Name: aws.String(x.dim.name), Value: aws.String(x.dim.value)}}
			}
		}
		if _, err := c.client.PutMetricData(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("metrics: cloudwatch: put metric data %s (request %d of %d, %d data): %w",
				c.s.namespace, i+1, len(bs), len(b), err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.logger.DebugContext(ctx, "metrics published",
		slog.String(logKeyNamespace, c.s.namespace), slog.Int(logKeyDatums, len(data)), slog.Int(logKeyRequests, len(bs)))
	return nil
}

// batches splits data into runs of at most maxCount data and about maxBytes each.
func batches(data []datum, maxCount, maxBytes int) [][]datum {
	var out [][]datum
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

func datumSize(x datum) int {
	n := datumOverhead + len(x.name) + len(x.unit)
	if x.dim != nil {
		n += len(x.dim.name) + len(x.dim.value)
	}
	return n
}
