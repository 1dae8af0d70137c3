// Package scenario generates a realistic, deterministic CloudTrail history of one AWS account
// whose Secrets Manager secrets are read by Lambda functions, ECS tasks, an EC2 instance, a CI
// pipeline, CloudFormation, people through IAM Identity Center and a partner account — with a
// daily rhythm, quiet weekends, failed reads, unrelated noise and duplicate deliveries — and, on
// the last day, known anomalies. It returns the ground truth: the findings a correct detector
// must raise, and nothing else.
//
// The intended check is learn → enforce: learn an allow-list from days 1..N-1 (every (secret,
// principal) with a successful read), replay all N days enforcing it, and compare the alerts
// with Truth.Findings. Every normal reader reads each of its secrets on its first active day, so
// nothing normal is new on day N, and normal hourly counts stay within the detector's seasonal
// baseline, so the only read spike is the injected one.
//
// Output is a CloudTrail S3 tree (DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
// <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<16 alnum>.json.gz), one gzip file of
// {"Records":[...]} per region and 5-minute window with activity (occasionally two), records
// inside their file's window but not strictly sorted. The same seed gives the same bytes.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// DefaultStart is the first day of the default scenario: a Monday.
var DefaultStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// Defaults.
const (
	DefaultDays = 14
	maxDays     = 366
)

// Rules and scopes of findings (the detector's rule names).
const (
	RuleUnexpectedPrincipal = "unexpected-principal"
	RuleReadSpike           = "read-spike"
	RuleRootAccess          = "root-access"
	RuleBatchRetrieval      = "batch-retrieval"
	RulePolicyChange        = "policy-change"
	RuleSecretLifecycle     = "secret-lifecycle"
	RuleTrailTampering      = "trail-tampering"
	RuleMonitorTampering    = "monitor-tampering"
	RuleNetworkPath         = "unexpected-network-path"

	ScopePrincipal = "principal" // the (secret, principal) series
	ScopeSecret    = "secret"    // the secret as a whole; Finding.Principal is ""
)

// Options selects a scenario. The zero value is valid: 14 days from DefaultStart, seed 0,
// scale 1, no anomalies.
type Options struct {
	Days  int       // days to simulate (default 14); anomalies go on the last one
	Seed  uint64    // every random choice derives from it
	Start time.Time // first day, midnight UTC (default DefaultStart)
	// Scale multiplies the normal volume (default 1: about 2,500 records a weekday). It does not
	// change the injected unexpected reads; the spike stays 40× the (scaled) usual rate.
	Scale float64
	// TargetBytes, when set, chooses Scale so that the tree written by Generate has about this
	// many bytes on disk (gzip), within a few percent. Set Scale or TargetBytes, not both.
	TargetBytes     int64
	InjectAnomalies bool // place the day-N anomalies and report them in Truth.Findings
}

// Truth is what was generated and what a detector must find in it.
type Truth struct {
	Account  string    `json:"account"`
	Regions  []string  `json:"regions"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"` // exclusive
	Days     int       `json:"days"`
	Seed     uint64    `json:"seed"`
	Scale    float64   `json:"scale"`
	Findings []Finding `json:"findings"` // sorted by Start, then Rule, SecretName, Principal
	Secrets  []Secret  `json:"secrets"`
	Readers  []Reader  `json:"readers"` // the normal (secret, principal) pairs
	Counts   Counts    `json:"counts"`
	Notes    []string  `json:"notes,omitempty"` // e.g. why an anomaly could not be injected
}

// Finding is one alert the detector must raise. Every record behind it has
// Start ≤ eventTime < End; for a read spike, Start and End are the bounds of the spiking hours.
type Finding struct {
	Rule          string    `json:"rule"`  // RuleUnexpectedPrincipal or RuleReadSpike
	Scope         string    `json:"scope"` // ScopePrincipal or ScopeSecret (read-spike of the whole secret)
	SecretName    string    `json:"secretName"`
	SecretARN     string    `json:"secretARN"`
	Account       string    `json:"account"` // account that owns the secret
	Region        string    `json:"region"`
	Principal     string    `json:"principal"`     // normalised principal ARN; "" for ScopeSecret
	PrincipalType string    `json:"principalType"` // userIdentity.type of the records
	Actor         string    `json:"actor,omitempty"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Records       int64     `json:"records"`          // the principal's reads (and only reads) behind it, duplicates not counted
	Factor        float64   `json:"factor,omitempty"` // read-spike: expected reads ÷ usual reads in the window
	Description   string    `json:"description"`
}

// Secret is one secret and its unique GetSecretValue calls over the whole period.
type Secret struct {
	Key    string `json:"key"` // account/region/name, the detector's canonical key
	Name   string `json:"name"`
	Region string `json:"region"`
	ARN    string `json:"arn"`
	Reads  int64  `json:"reads"`  // successful
	Denied int64  `json:"denied"` // failed (errorCode set), all by allowed principals
}

// Reader is one normal reader of one secret. Principal follows the allow-list convention (role
// ARN with its path for role sessions); Person is the session's e-mail for Identity Center
// sessions, which share one role.
type Reader struct {
	SecretName    string    `json:"secretName"`
	Region        string    `json:"region"`
	Principal     string    `json:"principal"`
	PrincipalType string    `json:"principalType"`
	Person        string    `json:"person,omitempty"`
	Actor         string    `json:"actor"`
	Reads         int64     `json:"reads"`      // successful reads, all days
	LearnReads    int64     `json:"learnReads"` // successful reads on days 1..N-1
	FirstRead     time.Time `json:"firstRead"`
}

// Counts are the volumes generated.
type Counts struct {
	Records        int64      `json:"records"` // records in the files, duplicates included
	Unique         int64      `json:"unique"`  // distinct eventIDs
	Duplicates     int64      `json:"duplicates"`
	SecretsManager int64      `json:"secretsManager"` // unique Secrets Manager records (reads, describes, lists)
	Reads          int64      `json:"reads"`          // unique successful GetSecretValue
	DeniedReads    int64      `json:"deniedReads"`    // unique failed GetSecretValue
	Other          int64      `json:"other"`          // unique records of other services (sts, kms, s3)
	PerDay         []DayCount `json:"perDay"`
	Files          int64      `json:"files,omitempty"`
	Bytes          int64      `json:"bytes,omitempty"` // on disk, gzip
	BytesPerRecord float64    `json:"bytesPerRecord,omitempty"`
	JSONBytes      int64      `json:"jsonBytes,omitempty"` // uncompressed
}

// DayCount is the records (duplicates included) whose eventTime falls on Date.
type DayCount struct {
	Date    string `json:"date"` // YYYY-MM-DD
	Records int64  `json:"records"`
}

// normalise validates opt and fills in the defaults (Scale stays 0 when TargetBytes is set).
func (opt Options) normalise() (Options, error) {
	var errs []error
	if opt.Days == 0 {
		opt.Days = DefaultDays
	}
	if opt.Days < 0 || opt.Days > maxDays {
		errs = append(errs, fmt.Errorf("days %d: want 1..%d", opt.Days, maxDays))
	}
	if opt.InjectAnomalies && opt.Days < 2 {
		errs = append(errs, fmt.Errorf("days %d: anomalies need at least 2 days (learn, then enforce)", opt.Days))
	}
	if opt.Start.IsZero() {
		opt.Start = DefaultStart
	}
	opt.Start = opt.Start.UTC()
	if !opt.Start.Equal(opt.Start.Truncate(24 * time.Hour)) {
		errs = append(errs, fmt.Errorf("start %s: want midnight UTC", opt.Start.Format(time.RFC3339)))
	}
	switch {
	case opt.Scale < 0 || math.IsNaN(opt.Scale) || math.IsInf(opt.Scale, 0):
		errs = append(errs, fmt.Errorf("scale %v: want a positive number", opt.Scale))
	case opt.TargetBytes < 0:
		errs = append(errs, fmt.Errorf("target bytes %d: want a positive number", opt.TargetBytes))
	case opt.Scale > 0 && opt.TargetBytes > 0:
		errs = append(errs, errors.New("set scale or target bytes, not both"))
	case opt.Scale == 0 && opt.TargetBytes == 0:
		opt.Scale = 1
	}
	if err := errors.Join(errs...); err != nil {
		return opt, fmt.Errorf("scenario: %w", err)
	}
	return opt, nil
}

func (opt Options) plan() *plan {
	return newPlan(opt.Seed, opt.Start, opt.Days, opt.Scale, opt.InjectAnomalies)
}

// Records returns the scenario's records in file order (by window, region, file name; the
// records of a file in the file's order), duplicates included: exactly what Generate writes, at
// the same Scale. TargetBytes is not supported here (it is a property of the files); pass Scale.
func Records(opt Options) (iter.Seq[cloudtrail.Record], error) {
	opt, err := opt.normalise()
	if err != nil {
		return nil, err
	}
	if opt.TargetBytes > 0 {
		return nil, errors.New("scenario: records: TargetBytes needs files; pass Scale")
	}
	p := opt.plan()
	return func(yield func(cloudtrail.Record) bool) {
		g := newGenerator(p, nil)
		m := newMaterialiser(p)
		for h := range g.hours() {
			for _, fb := range g.hour(h) {
				for _, e := range fb.events {
					if !yield(m.record(fb.region, e).Record) {
						return
					}
				}
			}
		}
	}, nil
}

// Generate writes the scenario under dir (see the package documentation for the layout) and
// returns its truth. It refuses to write into an existing CloudTrail tree of the account, so two
// runs never mix. Memory stays bounded by a few hours of records whatever the size.
func Generate(ctx context.Context, dir string, opt Options) (*Truth, error) {
	opt, err := opt.normalise()
	if err != nil {
		return nil, err
	}
	if opt.TargetBytes > 0 {
		s, err := calibrate(ctx, opt)
		if err != nil {
			return nil, err
		}
		opt.Scale = s
	}
	p := opt.plan()
	st := newStats(p)
	if err := write(ctx, dir, p, st); err != nil {
		return nil, err
	}
	return st.truth(), nil
}
