// Package baseline keeps secretwatch's read baselines: per secret and per (secret, principal),
// first and last seen, totals and hourly read counts by event time. It provides the in-memory
// store (MemoryStore, for tests and one-off runs); the CLI's embedded file store is in
// baseline/bolt and the Lambda's DynamoDB store in baseline/dynamodb. Every store counts a read
// once per CloudTrail eventID.
package baseline

import "github.com/secretwatch/secretwatch/baseline/internal/localstate"

// DefaultRetention is the baseline history kept when the caller does not say.
const DefaultRetention = localstate.DefaultRetention

// DedupWindow is how long, before the newest event a store has seen, event IDs are remembered.
// A redelivery or a re-replay of events inside it is never counted twice; events older than it
// (relative to the newest) are counted as new, since nothing can tell them apart any more.
const DedupWindow = localstate.DedupWindow
