package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secretwatch/secretwatch/cloudtrail"
	cts3 "github.com/secretwatch/secretwatch/cloudtrail/s3/objects"
	"github.com/secretwatch/secretwatch/detector"
)

// handler runs the detector for one invocation. It accepts the two shapes EventBridge delivers
// in: one event per invocation (EventBridge → Lambda) and batches of events through SQS
// (EventBridge → SQS → Lambda, with ReportBatchItemFailures); and, for a backfill, batches of
// trail-bucket keys from a Step Functions Distributed Map (backfill.go).
type handler struct {
	det     *detector.Detector
	sup     detector.Suppressor
	notify  detector.Notifier
	metrics detector.MetricsRecorder
	log     *slog.Logger
	now     func() time.Time
	s3      cts3.Getter // reads the backfill's objects
	weekly  *weekly     // the scheduled report (weekly.go); nil: not configured
}

// envelope tells the two invocation shapes apart.
type envelope struct {
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
}

// Handle is the Lambda entry point.
func (h *handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if in, ok := parseScheduled(raw); ok {
		return nil, h.handleScheduled(ctx, in)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err == nil && len(env.Records) > 0 && env.Records[0].EventSource == "aws:sqs" {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			// Cannot even list the messages: fail so Lambda retries and, in the end, the
			// queue's redrive policy keeps them. Nothing is dropped.
			return nil, fmt.Errorf("lambda: decode SQS event: %w", err)
		}
		return h.handleSQS(ctx, ev)
	}
	if isBackfill(raw) {
		return h.handleBackfill(ctx, raw)
	}
	return nil, h.handleEventBridge(ctx, raw)
}

// handleEventBridge processes one EventBridge event. A malformed or foreign event is counted,
// logged and acknowledged (retrying would not fix it); a store or delivery error fails the
// invocation so Lambda retries it.
func (h *handler) handleEventBridge(ctx context.Context, raw json.RawMessage) error {
	start := h.now()
	var stats detector.Stats
	var recs []*cloudtrail.Record
	if rec, ok := h.decode(ctx, &stats, raw, ""); ok {
		recs = append(recs, rec)
	}
	storeErrs, _, err := h.process(ctx, &stats, recs)
	h.record(ctx, stats, storeErrs, start)
	return err
}

// handleSQS processes a batch as one: reads of one hot secret cost one store write per batch.
// On a retryable store error or a delivery error every message that carried a record is reported
// as failed, so SQS redelivers them; the store counts each event once, so the retry leaves exact
// counts. A record the store refuses for good never takes its neighbours with it: the batch is
// then processed record by record (detector.ProcessIsolated), the refused record is counted and
// skipped, and only a message whose own record then fails retryably is reported failed.
func (h *handler) handleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	start := h.now()
	var stats detector.Stats
	recs := make([]*cloudtrail.Record, 0, len(ev.Records))
	ids := make([]string, 0, len(ev.Records))
	for _, m := range ev.Records {
		if rec, ok := h.decode(ctx, &stats, json.RawMessage(m.Body), m.MessageId); ok {
			recs = append(recs, rec)
			ids = append(ids, m.MessageId)
		}
	}
	storeErrs, failed, err := h.process(ctx, &stats, recs)
	h.record(ctx, stats, storeErrs, start)
	var resp events.SQSEventResponse
	if err != nil {
		h.log.ErrorContext(ctx, "batch failed; reporting its messages for redelivery", "messages", len(ids), "error", err)
		for _, id := range ids {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		return resp, nil
	}
	if len(failed) > 0 {
		h.log.ErrorContext(ctx, "records failed alone; reporting their messages for redelivery", "messages", len(failed))
	}
	for _, i := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ids[i]})
	}
	return resp, nil
}

// decode turns one EventBridge event into a record, counting and logging what it cannot use.
func (h *handler) decode(ctx context.Context, stats *detector.Stats, raw json.RawMessage, messageID string) (*cloudtrail.Record, bool) {
	rec, err := cloudtrail.DecodeRecord(raw)
	if err == nil || errors.Is(err, cloudtrail.ErrIncomplete) && rec != nil {
		return rec, true
	}
	stats.Records++
	reason := detector.SkipMalformed
	if errors.Is(err, cloudtrail.ErrNotRecord) {
		reason = detector.SkipUnknownEnvelope
	}
	stats.Skip(reason)
	// The error names positions and JSON problems only, never the event's content.
	h.log.WarnContext(ctx, "skipping event", detector.LogReason, reason, "sqs_message_id", messageID, "error", err)
	return nil, false
}

// process runs the detector and delivers its alerts. It returns the number of store errors (for
// the StoreErrors metric: 1 when the batch failed, else one per record that failed alone), the
// indexes of the records that failed alone and must be retried, and the error that must fail the
// whole invocation. A record the store refuses for good is a counted skip (SkipUnstorable).
func (h *handler) process(ctx context.Context, stats *detector.Stats, recs []*cloudtrail.Record) (int64, []int, error) {
	if len(recs) == 0 {
		return 0, nil, nil
	}
	res, failed, err := h.det.ProcessIsolated(ctx, recs)
	stats.Add(res.Stats)
	if err != nil {
		return 1, nil, fmt.Errorf("lambda: %w", err)
	}
	delivered, err := detector.Deliver(ctx, res.Alerts, h.sup, h.notify)
	stats.Alerts = delivered
	if err != nil {
		return 0, nil, fmt.Errorf("lambda: %w", err)
	}
	for _, a := range res.Alerts {
		h.log.InfoContext(ctx, "alert", "rule", a.Rule, detector.LogSecret, a.Secret, detector.LogPrincipal, a.Principal, "count", a.Count)
	}
	return int64(len(failed)), failed, nil
}

// record publishes the invocation's metrics; a failure to write them is logged, never fatal.
func (h *handler) record(ctx context.Context, stats detector.Stats, storeErrs int64, start time.Time) {
	if err := h.metrics.RecordMetrics(ctx, stats, storeErrs, h.now().Sub(start)); err != nil {
		h.log.WarnContext(ctx, "metrics not written", "error", err)
	}
	h.log.InfoContext(ctx, "invocation done", "records", stats.Records, "reads", stats.Reads, "duplicates", stats.Duplicates,
		"unexpected", stats.Unexpected, "parse_failures", stats.ParseFailures(), "store_errors", storeErrs)
}
