package cli

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// Remote adds targets outside the machine to replay (cmd/secretwatch-aws: a DynamoDB table, an
// SNS topic, CloudWatch), so a user can backfill a real deployment from old logs.
type Remote interface {
	// Flags registers the remote's flags.
	Flags(fs *flag.FlagSet)
	// Open returns the targets the parsed flags select. Unselected targets are nil.
	Open(ctx context.Context, retention, window time.Duration) (Targets, error)
}

// Targets are what a Remote opened.
type Targets struct {
	Store    Store                    // replaces the local store when set
	Notifier detector.Notifier        // delivers alerts besides the terminal
	Metrics  detector.MetricsRecorder // receives the replay's totals
}

// Store is what replay needs of a baseline store.
type Store interface {
	detector.Store
	detector.Suppressor
}

// notifiers delivers to each in turn; the first error stops (the alert stays undelivered and a
// rerun delivers it).
type notifiers []detector.Notifier

func (ns notifiers) Notify(ctx context.Context, a *detector.Alert) error {
	var errs []error
	for _, n := range ns {
		if err := n.Notify(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
