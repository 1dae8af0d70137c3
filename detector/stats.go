package detector

import (
	"context"
	"maps"
	"time"
)

// Skip reasons counted in Stats.Skipped.
const (
	SkipMalformed       = "malformed"        // not JSON, or not a CloudTrail record
	SkipNotHandled      = "not-handled"      // a valid record of an event we do not act on
	SkipNoIdentity      = "no-user-identity" // a handled event without userIdentity
	SkipNoSecret        = "no-secret-id"     // a read without a usable secretId
	SkipNoEventID       = "no-event-id"      // cannot be de-duplicated, so cannot be counted safely
	SkipNoEventTime     = "no-event-time"    // baselines run on event time; without one we cannot place it
	SkipUnknownEnvelope = "unknown-envelope" // JSON that is neither a record nor an envelope of records
	SkipFutureDated     = "future-dated"     // eventTime later than the wall clock plus the allowed skew
)

// Stats counts what a batch (or a whole replay) did.
type Stats struct {
	Records         int64            `json:"records"`         // records read
	Handled         int64            `json:"handled"`         // records of events the detector acts on
	SecretsManager  int64            `json:"secretsManager"`  // records from secretsmanager.amazonaws.com, handled or not
	Reads           int64            `json:"reads"`           // fresh successful reads of a secret
	Denied          int64            `json:"denied"`          // fresh failed reads
	Duplicates      int64            `json:"duplicates"`      // redelivered events, not counted again
	Unexpected      int64            `json:"unexpected"`      // fresh reads by a principal the allow-list does not allow
	UnknownIdentity int64            `json:"unknownIdentity"` // userIdentity.type we do not know (flagged, still processed)
	Suppressed      int64            `json:"suppressed"`      // alerts silenced by a suppression of the allow-list
	Skipped         map[string]int64 `json:"skipped"`         // reason → records skipped
	Alerts          map[string]int64 `json:"alerts"`          // rule → alerts delivered
	SecretReads     map[string]int64 `json:"-"`               // secret name → fresh reads (for per-secret metrics)
}

// Skip counts one skipped record.
func (s *Stats) Skip(reason string) {
	if s.Skipped == nil {
		s.Skipped = map[string]int64{}
	}
	s.Skipped[reason]++
}

// ParseFailures is the number of records skipped because they were malformed or not understood
// (everything skipped except events we simply do not handle).
func (s *Stats) ParseFailures() int64 {
	var n int64
	for r, c := range s.Skipped {
		if r != SkipNotHandled {
			n += c
		}
	}
	return n
}

// Add folds o into s.
func (s *Stats) Add(o Stats) {
	s.Records += o.Records
	s.Handled += o.Handled
	s.SecretsManager += o.SecretsManager
	s.Reads += o.Reads
	s.Denied += o.Denied
	s.Duplicates += o.Duplicates
	s.Unexpected += o.Unexpected
	s.UnknownIdentity += o.UnknownIdentity
	s.Suppressed += o.Suppressed
	s.Skipped = addCounts(s.Skipped, o.Skipped)
	s.Alerts = addCounts(s.Alerts, o.Alerts)
	s.SecretReads = addCounts(s.SecretReads, o.SecretReads)
}

func addCounts(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]int64, len(src))
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// Clone returns a deep copy.
func (s Stats) Clone() Stats {
	s.Skipped = maps.Clone(s.Skipped)
	s.Alerts = maps.Clone(s.Alerts)
	s.SecretReads = maps.Clone(s.SecretReads)
	return s
}

// MetricsRecorder publishes the counts of one invocation (or one replay) as metrics.
// StoreErrors is 1 when the batch failed on the store. Implementations: EMF lines in Lambda,
// PutMetricData for the CLI.
type MetricsRecorder interface {
	RecordMetrics(ctx context.Context, s Stats, storeErrors int64, latency time.Duration) error
}

// Notifier delivers one alert to people (SNS, the terminal). An error means "not delivered":
// the caller fails the invocation so it is retried.
type Notifier interface {
	Notify(ctx context.Context, a *Alert) error
}
