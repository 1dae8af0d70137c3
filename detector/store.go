package detector

import (
	"context"
	"time"
)

// SeriesKey names one baseline series: a secret as a whole (Principal == "") or one principal's
// reads of one secret.
type SeriesKey struct {
	Secret    string // canonical secret key, see SecretRef.Key
	Principal string // normalised principal ARN; "" for the whole secret
}

// Read is one access to a secret, as the store records it. It carries identifiers only — never a
// secret value (CloudTrail never logs one, and neither do we).
type Read struct {
	EventID   string
	Secret    string // canonical secret key
	Principal string // normalised principal
	Time      time.Time
	Denied    bool // the call failed (errorCode set): counted as denied, not as a read
	// Context for reports, each at most MaxFieldBytes with control characters replaced. Stores
	// may keep them; they are never part of a key.
	SourceIP      string // sourceIPAddress (an IP, or an AWS service's DNS name)
	UserAgent     string
	VPCEndpointID string
	PrincipalType string // userIdentity.type
	SecretARN     string // full ARN with its suffix, when the record (or an earlier one) gave it
}

// Hour is the bucket index of t: whole hours since the Unix epoch, by event time.
func Hour(t time.Time) int64 { return t.Unix() / 3600 }

// Series is the state of one baseline series after an update.
type Series struct {
	// FirstSeen is the earliest successful read of the series' current presence: the first read
	// ever or, after a silence longer than the retention window, the first read since (zero:
	// none). Stores whose history expires (DynamoDB) see only the retention window anyway.
	FirstSeen    time.Time
	FirstEventID string    // event ID of the read that set FirstSeen
	LastSeen     time.Time // latest successful read recorded
	Reads        int64     // successful reads (all time in the local stores; within retention in DynamoDB)
	Denied       int64     // denied reads (likewise)
	// Hours maps Hour(eventTime) → successful reads in that hour, for the hours inside the
	// store's retention window. Hours without reads are absent (zero).
	Hours map[int64]int64
}

// Recorded is the answer of Store.Record.
type Recorded struct {
	// Fresh[i] is false when reads[i] had been recorded before (a duplicate delivery or a retry);
	// such a read changed no count.
	Fresh []bool
	// Series holds, for every key that any of the reads touches (fresh or not), the state after the
	// update: the whole secret (Principal "") and each (secret, principal) pair.
	Series map[SeriesKey]*Series
}

// Store keeps the read baselines. Contract:
//   - Record counts every read exactly once per EventID, however often it is delivered.
//   - Record is atomic per read: if it returns an error, a later Record of the same reads leaves
//     exact counts (nothing half-counted, nothing counted twice).
//   - Errors a retry can fix (throttling, endpoint down) are returned wrapped, never swallowed.
type Store interface {
	Record(ctx context.Context, reads []Read) (Recorded, error)
}

// AlertState is what a Suppressor knows of one alert (rule, secret, principal) in one window.
type AlertState struct {
	Count     int64 // occurrences claimed so far in the window
	Delivered bool  // an alert for this window has already been delivered
}

// Suppressor de-duplicates alerts across batches and invocations, so a storm of identical events
// gives one alert with a count. Keys are Alert.Key(); windows are event-time window starts.
type Suppressor interface {
	// Claim adds n new occurrences (n may be 0 for a redelivered event) and returns the state
	// after the update.
	Claim(ctx context.Context, key string, window time.Time, n int64) (AlertState, error)
	// MarkDelivered records that the alert of that window was delivered.
	MarkDelivered(ctx context.Context, key string, window time.Time) error
}

// Tallier is optional store support for rules that need state across invocations (the Lambda may
// see one event per invocation): a bounded set of distinct members per (key, window). Adding a
// member twice changes nothing, so a redelivered event or a retried batch leaves the answer exact.
// A store that does not implement it gets the detector's in-process tally (state then lasts as
// long as the Detector: a whole replay, one Lambda container).
type Tallier interface {
	// Tally adds members to the set (key, window), keeping at most limit of them, and returns the
	// set's size after the update (≤ limit). With no members it only reads. Windows older than the
	// store's retention may be forgotten. Keys are at most a few hundred bytes (Batch.Tally
	// digests longer ones); members likewise.
	Tally(ctx context.Context, key string, window time.Time, members []string, limit int) (int, error)
}
