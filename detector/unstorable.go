package detector

import (
	"context"
	"errors"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// ErrUnstorable marks a store error that no retry can fix for the reads given (a value the
// database refuses for good). Stores wrap it with %w next to the cause; everything else a store
// returns is taken as retryable.
var ErrUnstorable = errors.New("the store refuses this read for good")

// SkipUnstorable counts records skipped because the store refused their read for good.
const SkipUnstorable = "unstorable"

// ProcessIsolated is Process for a batch whose records must not fail one another. When the store
// refuses the batch for good (ErrUnstorable), each record is processed alone: one the store still
// refuses is counted in Stats.Skipped[SkipUnstorable], logged and dropped; one that fails with a
// retryable error alone is listed in failed (by index in recs) for the caller to retry; the others
// are processed and their alerts returned. A retryable error of the batch as a whole is returned
// as err (nothing isolated: the whole batch must be retried). The store's exactly-once contract
// makes the second pass exact.
func (d *Detector) ProcessIsolated(ctx context.Context, recs []*cloudtrail.Record) (res Result, failed []int, err error) {
	res, err = d.Process(ctx, recs)
	if err == nil || !errors.Is(err, ErrUnstorable) {
		return res, nil, err
	}
	if len(recs) == 1 {
		res.Stats.Skip(SkipUnstorable)
		d.warnUnstorable(ctx, recs[0], err)
		return Result{Stats: res.Stats}, nil, nil
	}
	res = Result{}
	var agg Aggregator
	for i, rec := range recs {
		r, err := d.Process(ctx, recs[i:i+1])
		switch {
		case err == nil:
			agg.Add(r.Alerts)
		case errors.Is(err, ErrUnstorable):
			r.Stats.Skip(SkipUnstorable)
			d.warnUnstorable(ctx, rec, err)
		default:
			if ctx.Err() != nil {
				return Result{}, nil, err
			}
			failed = append(failed, i)
			continue // its stats count when it is retried
		}
		res.Stats.Add(r.Stats)
	}
	res.Alerts = agg.Alerts()
	return res, failed, nil
}

func (d *Detector) warnUnstorable(ctx context.Context, rec *cloudtrail.Record, err error) {
	var id string
	if rec != nil {
		id = rec.EventID
	}
	d.log.WarnContext(ctx, "skipping a record the store refuses", LogReason, SkipUnstorable, LogEventID, id, "error", err)
}
