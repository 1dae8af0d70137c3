package cli

import (
	"fmt"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// eventTime is a --from/--to value: RFC 3339, or a date (YYYY-MM-DD, UTC).
type eventTime struct {
	t      time.Time
	isDate bool
	raw    string
}

func (v *eventTime) String() string { return v.raw }

func (v *eventTime) Set(s string) error {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*v = eventTime{t: t, raw: s}
		return nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		*v = eventTime{t: t, isDate: true, raw: s}
		return nil
	}
	return fmt.Errorf("%q is neither an RFC 3339 time (2026-03-01T00:00:00Z) nor a date (2026-03-01)", s)
}

// timeSpan selects records by event time: [from, to), where a --to date includes its day.
type timeSpan struct {
	from, to eventTime
}

func (s timeSpan) start() time.Time { return s.from.t }

func (s timeSpan) end() time.Time {
	if s.to.isDate {
		return s.to.t.AddDate(0, 0, 1)
	}
	return s.to.t
}

func (s timeSpan) set() bool { return s.from.raw != "" || s.to.raw != "" }

func (s timeSpan) check() error {
	if s.from.raw != "" && s.to.raw != "" && !s.end().After(s.start()) {
		return fmt.Errorf("%w: --to %s is not after --from %s", errUsage, s.to.raw, s.from.raw)
	}
	return nil
}

// contains reports whether a record of event time t is inside the span. A record without an
// event time is kept (the detector counts it as skipped, no-event-time).
func (s timeSpan) contains(t time.Time) bool {
	if !s.set() || t.IsZero() {
		return true
	}
	if s.from.raw != "" && t.Before(s.start()) {
		return false
	}
	return s.to.raw == "" || t.Before(s.end())
}

func (s timeSpan) String() string {
	switch {
	case s.from.raw != "" && s.to.raw != "":
		return "--from " + s.from.raw + " --to " + s.to.raw
	case s.from.raw != "":
		return "--from " + s.from.raw
	default:
		return "--to " + s.to.raw
	}
}

// readFilters are the reader's filters for replay and learn: records of events the detector does
// not handle are counted without being decoded, exactly as they would be once decoded. With a
// span, a record outside it is counted apart (out of range), so the event filter keeps every
// record whose eventTime puts it outside, and the raw prefilter, which cannot see the time, is
// left out.
func readFilters(span timeSpan) []cloudtrail.Option {
	keep := func(e cloudtrail.RawEvent) bool {
		if detector.MayHandleEvent(e.Source, e.Name) {
			return true
		}
		if !span.set() || len(e.Time) == 0 {
			return false // no time: decoded, the record would be counted in the span
		}
		t, err := cloudtrail.ParseTime(string(e.Time))
		return err == nil && !span.contains(t) // a time that does not parse decodes as none
	}
	opts := []cloudtrail.Option{cloudtrail.WithEventFilter(keep)}
	if !span.set() {
		opts = append(opts, cloudtrail.WithPrefilter(detector.MayHandle))
	}
	return opts
}
