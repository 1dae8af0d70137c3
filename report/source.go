package report

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/secretwatch/secretwatch/detector"
)

// Bounds of what a store keeps per (secret, principal, day). Every value comes from a CloudTrail
// record, so every one is attacker-controlled.
const (
	MaxValues     = 16  // distinct source IPs, VPC endpoint ids and user agents, each
	MaxValueBytes = 256 // bytes per value (longer values are cut on a UTF-8 boundary)
)

// DayRow is what a store keeps per (secret, principal, UTC day): the fresh reads only — a
// duplicate delivery or a replay of the same events changes nothing — so its counts are as exact
// as the store's exactly-once accounting.
type DayRow struct {
	Day           time.Time // midnight UTC
	Secret        string    // canonical key account/region/name
	Principal     string    // normalised principal ("" when unknown)
	SecretARN     string    // full ARN, when a read carried it
	PrincipalType string    // userIdentity.type
	Reads         int64     // successful GetSecretValue calls
	Denied        int64     // failed ones
	FirstSeen     time.Time // earliest attempt (read or denied) of the day
	LastSeen      time.Time // latest attempt of the day
	// Distinct values in the order first seen, at most MaxValues each.
	SourceIPs      []string
	VPCEndpointIDs []string
	UserAgents     []string
}

// AlertRow is one alert raised (delivered): its rule, secret, principal ("" for a whole-secret
// rule) and the start of its suppression window.
type AlertRow struct {
	Rule      string
	Secret    string
	Principal string
	Window    time.Time
}

// Source is what a report reads: the stores implement it (baseline.MemoryStore and
// bolt.Store).
type Source interface {
	// Days calls yield for every row whose Day is in [from, to), in no particular order; a zero
	// from means from the oldest row kept. The row is the caller's to keep.
	Days(ctx context.Context, from, to time.Time, yield func(*DayRow) error) error
	// Alerts calls yield for every alert delivered whose window starts in [from, to).
	Alerts(ctx context.Context, from, to time.Time, yield func(AlertRow) error) error
	// Latest is the time of the latest event the store has recorded, rounded down to the hour
	// (zero when the store is empty).
	Latest(ctx context.Context) (time.Time, error)
}

// Day is the UTC midnight of t.
func Day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// NewDayRow is the empty row of r's (secret, principal, day).
func NewDayRow(r detector.Read) *DayRow {
	return &DayRow{Day: Day(r.Time), Secret: r.Secret, Principal: r.Principal}
}

// Add folds one fresh read of the row's (secret, principal, day) into it.
func (d *DayRow) Add(r detector.Read) {
	if r.Denied {
		d.Denied++
	} else {
		d.Reads++
	}
	d.seen(r.Time.UTC(), r.Time.UTC())
	if d.SecretARN == "" {
		d.SecretARN = Bound(r.SecretARN)
	}
	if d.PrincipalType == "" {
		d.PrincipalType = Bound(r.PrincipalType)
	}
	d.SourceIPs = AddValue(d.SourceIPs, r.SourceIP)
	d.VPCEndpointIDs = AddValue(d.VPCEndpointIDs, r.VPCEndpointID)
	d.UserAgents = AddValue(d.UserAgents, r.UserAgent)
}

// Merge folds o, a row of the same (secret, principal, day), into d.
func (d *DayRow) Merge(o *DayRow) {
	d.Reads += o.Reads
	d.Denied += o.Denied
	d.seen(o.FirstSeen, o.LastSeen)
	if d.SecretARN == "" {
		d.SecretARN = o.SecretARN
	}
	if d.PrincipalType == "" {
		d.PrincipalType = o.PrincipalType
	}
	d.SourceIPs = AddValue(d.SourceIPs, o.SourceIPs...)
	d.VPCEndpointIDs = AddValue(d.VPCEndpointIDs, o.VPCEndpointIDs...)
	d.UserAgents = AddValue(d.UserAgents, o.UserAgents...)
}

func (d *DayRow) seen(first, last time.Time) {
	if !first.IsZero() && (d.FirstSeen.IsZero() || first.Before(d.FirstSeen)) {
		d.FirstSeen = first
	}
	if last.After(d.LastSeen) {
		d.LastSeen = last
	}
}

// Clone is a deep copy.
func (d *DayRow) Clone() *DayRow {
	c := *d
	c.SourceIPs = slices.Clone(d.SourceIPs)
	c.VPCEndpointIDs = slices.Clone(d.VPCEndpointIDs)
	c.UserAgents = slices.Clone(d.UserAgents)
	return &c
}

// AddValue adds the non-empty values of vs not yet in s, each bounded to MaxValueBytes, keeping
// at most MaxValues.
func AddValue(s []string, vs ...string) []string {
	for _, v := range vs {
		if len(s) >= MaxValues {
			break
		}
		if v = Bound(v); v != "" && !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}

// Bound cuts s to at most MaxValueBytes bytes, on a UTF-8 boundary.
func Bound(s string) string {
	if len(s) <= MaxValueBytes {
		return s
	}
	i := MaxValueBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
