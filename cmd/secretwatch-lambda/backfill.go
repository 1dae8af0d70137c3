package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"

	"github.com/secretwatch/secretwatch/cloudtrail"
	cts3 "github.com/secretwatch/secretwatch/cloudtrail/s3/objects"
	"github.com/secretwatch/secretwatch/detector"
)

// backfillBatch is what a Step Functions Distributed Map hands each child execution when its
// ItemReader lists the trail bucket (arn:aws:states:::s3:listObjectsV2) and its ItemBatcher
// batches the objects: {"Items":[{"Key":…,"Size":…,"Etag":…,"LastModified":…,"StorageClass":…}],
// "BatchInput":{"Bucket":…}} — the bucket comes from the ItemBatcher's BatchInput (see
// terraform/modules/secretwatch/backfill.asl.json).
type backfillBatch struct {
	Items []struct {
		Key  string `json:"Key"`
		Size int64  `json:"Size"`
	} `json:"Items"`
	BatchInput struct {
		Bucket string `json:"Bucket"`
	} `json:"BatchInput"`
}

// backfillResult is the child execution's output: what the batch held.
type backfillResult struct {
	Objects    int   `json:"objects"`
	Ignored    int   `json:"ignored"` // keys that are not log files (digests, markers)
	Records    int64 `json:"records"`
	Reads      int64 `json:"reads"`
	Duplicates int64 `json:"duplicates"`
	Skipped    int64 `json:"skipped"` // malformed or unknown records, counted and skipped
	Alerts     int64 `json:"alerts"`
}

const (
	// maxBackfillItems bounds a batch (the state machine's ItemBatcher sends 100).
	maxBackfillItems = 1000
	// backfillWorkers is how many objects are downloaded and decoded at once.
	backfillWorkers = 4
	// backfillBatchRecords is how many records go to the detector (and DynamoDB) at once.
	backfillBatchRecords = 1000
)

// isBackfill tells a Distributed Map batch from the other shapes.
func isBackfill(raw json.RawMessage) bool {
	var probe struct {
		Items      json.RawMessage `json:"Items"`
		BatchInput json.RawMessage `json:"BatchInput"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Items != nil && probe.BatchInput != nil
}

// handleBackfill reads the batch's objects from the trail bucket through the same adapter as
// "secretwatch replay s3://…" and processes their records against the DynamoDB baselines. The
// store counts every event once, so a retried batch (Step Functions' Retry, or a redriven Map)
// changes no count. Errors a retry can fix (S3 or DynamoDB) fail the invocation; a malformed
// record is counted and skipped.
func (h *handler) handleBackfill(ctx context.Context, raw json.RawMessage) (backfillResult, error) {
	start := h.now()
	var b backfillBatch
	if err := json.Unmarshal(raw, &b); err != nil {
		return backfillResult{}, fmt.Errorf("lambda: backfill batch: %w", err)
	}
	if h.s3 == nil {
		return backfillResult{}, errors.New("lambda: backfill batch: no S3 client")
	}
	if len(b.Items) > maxBackfillItems {
		return backfillResult{}, fmt.Errorf("lambda: backfill batch of %d objects, more than %d: lower the ItemBatcher's MaxItemsPerBatch", len(b.Items), maxBackfillItems)
	}
	u, err := cts3.ParseURI(cts3.Scheme + b.BatchInput.Bucket)
	if err != nil {
		return backfillResult{}, fmt.Errorf("lambda: backfill batch: BatchInput.Bucket: %w", err)
	}
	var res backfillResult
	objs := make([]cts3.Object, 0, len(b.Items))
	for _, it := range b.Items {
		if it.Key == "" || len(it.Key) > 1024 || !cloudtrail.IsLogName(path.Base(it.Key)) {
			res.Ignored++
			continue
		}
		objs = append(objs, cts3.Object{Bucket: u.Bucket, Key: it.Key, Size: it.Size})
	}
	res.Objects = len(objs)

	var (
		stats     detector.Stats
		storeErrs int64
		batch     = make([]*cloudtrail.Record, 0, backfillBatchRecords)
		readErr   error
	)
	flush := func() error {
		var part detector.Stats // process sets its Alerts: one per batch, added up
		n, failed, err := h.process(ctx, &part, batch)
		stats.Add(part)
		storeErrs += n
		batch = batch[:0]
		if err == nil && len(failed) > 0 {
			err = fmt.Errorf("lambda: backfill: %d records failed alone", len(failed))
		}
		return err
	}
	var err2 error
	for it := range cloudtrail.ReadStreams(ctx, cts3.Streams(h.s3, objs), cloudtrail.WithWorkers(backfillWorkers), cloudtrail.WithEventFilter(handledEvent), cloudtrail.WithPrefilter(detector.MayHandle)) {
		if it.Filtered {
			stats.Records++
			stats.Skip(detector.SkipNotHandled)
			continue
		}
		if it.Err != nil && !(errors.Is(it.Err, cloudtrail.ErrIncomplete) && it.Record != nil) {
			if errors.Is(it.Err, cloudtrail.ErrUnreadable) || ctx.Err() != nil {
				// S3 unavailable, throttled, or the object went away: fail, Step Functions retries.
				readErr = it.Err
				break
			}
			stats.Records++
			reason := detector.SkipMalformed
			if errors.Is(it.Err, cloudtrail.ErrNotRecord) {
				reason = detector.SkipUnknownEnvelope
			}
			stats.Skip(reason)
			h.log.WarnContext(ctx, "skipping record", detector.LogSource, it.Source, "index", it.Index, detector.LogReason, reason, "error", it.Err)
			continue
		}
		batch = append(batch, it.Record)
		if len(batch) == backfillBatchRecords {
			if err2 = flush(); err2 != nil {
				break
			}
		}
	}
	if readErr == nil && err2 == nil {
		err2 = flush()
	}
	h.record(ctx, stats, storeErrs, start)
	if readErr != nil {
		return backfillResult{}, fmt.Errorf("lambda: backfill: %w", readErr)
	}
	if err2 != nil {
		return backfillResult{}, err2
	}
	res.Records, res.Reads, res.Duplicates = stats.Records, stats.Reads, stats.Duplicates
	for k, n := range stats.Skipped {
		if k != detector.SkipNotHandled {
			res.Skipped += n
		}
	}
	for _, n := range stats.Alerts {
		res.Alerts += n
	}
	return res, nil
}

// handledEvent is the backfill's event filter: a record whose top-level eventSource and eventName
// (read off its bytes, only when unambiguous) name an event the detector does not handle is
// counted without being decoded, as replay does.
func handledEvent(e cloudtrail.RawEvent) bool { return detector.MayHandleEvent(e.Source, e.Name) }
