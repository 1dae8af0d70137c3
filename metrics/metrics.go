package metrics

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// Metric names, units and dimensions of docs/contracts.md.
const (
	DefaultNamespace = "SecretWatch"

	MetricEventsProcessed   = "EventsProcessed"
	MetricSecretReads       = "SecretReads"
	MetricDeniedReads       = "DeniedReads"
	MetricUnexpectedReads   = "UnexpectedReads"
	MetricAlerts            = "Alerts"
	MetricParseFailures     = "ParseFailures"
	MetricStoreErrors       = "StoreErrors"
	MetricProcessingLatency = "ProcessingLatency"
	MetricHeartbeat         = "Heartbeat"

	DimensionRule   = "Rule"
	DimensionSecret = "Secret"

	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
)

// MaxSecretSeries bounds Config.Secrets. Every secret listed becomes its own SecretReads series,
// and every series that receives data in a month is billed as one custom metric (about $0.30):
// the bound caps a configuration mistake at a few hundred dollars a month.
const MaxSecretSeries = 2000

// maxDimensionValue is CloudWatch's limit for a dimension value (and EMF's for a dimension
// target), in characters.
const maxDimensionValue = 1024

// Config configures the recorders.
type Config struct {
	// Namespace of the metrics; DefaultNamespace when empty.
	Namespace string
	// Secrets are the secret names (as in detector.Stats.SecretReads) that get a per-secret
	// SecretReads series with the dimension Secret (SECRETWATCH_METRIC_SECRETS). Reads of other
	// secrets count only in the dimensionless SecretReads.
	Secrets []string
	// Now is the clock for the metrics' timestamps; time.Now when nil.
	Now func() time.Time
}

// settings is a validated Config.
type settings struct {
	namespace string
	secrets   map[string]bool
	now       func() time.Time
}

func (c Config) settings() (settings, error) {
	s := settings{namespace: c.Namespace, now: c.Now, secrets: map[string]bool{}}
	if s.namespace == "" {
		s.namespace = DefaultNamespace
	}
	if s.now == nil {
		s.now = time.Now
	}
	var errs []error
	if len(s.namespace) > 255 || !printableASCII(s.namespace) || strings.HasPrefix(s.namespace, "AWS/") {
		errs = append(errs, fmt.Errorf("namespace %q: want 1-255 printable ASCII characters, not starting with AWS/", s.namespace))
	}
	for _, name := range c.Secrets {
		if !validDimensionValue(name) {
			errs = append(errs, fmt.Errorf("secret %q: not a valid dimension value (1-%d printable ASCII characters)", name, maxDimensionValue))
			continue
		}
		s.secrets[name] = true
	}
	if len(s.secrets) > MaxSecretSeries {
		errs = append(errs, fmt.Errorf("%d secrets with a per-secret series, at most %d (each is a billed custom metric)", len(s.secrets), MaxSecretSeries))
	}
	if err := errors.Join(errs...); err != nil {
		return settings{}, fmt.Errorf("metrics: config: %w", err)
	}
	return s, nil
}

// dimension is one name/value pair of a datum.
type dimension struct {
	name, value string
}

// datum is one metric value, as both recorders publish it.
type datum struct {
	name  string
	unit  string
	value float64
	dim   *dimension // nil: no dimension
}

// data maps the counts of one invocation onto the contract's metrics:
//
//	EventsProcessed      Stats.Records: every record read, handled or skipped, duplicates included
//	SecretReads          Stats.Reads: fresh (deduplicated) successful reads
//	DeniedReads          Stats.Denied: fresh failed reads
//	UnexpectedReads      Stats.Unexpected
//	ParseFailures        Stats.ParseFailures(): records skipped as malformed or not understood
//	StoreErrors          storeErrors (1 when the batch failed on the store)
//	ProcessingLatency    latency in milliseconds (fractional)
//	Heartbeat            1
//	Alerts{Rule}         Stats.Alerts[rule], for each rule with alerts (sorted by rule)
//	SecretReads{Secret}  Stats.SecretReads[name], for each configured secret with reads (sorted)
//
// Dimensioned series are sent only when non-zero (no data reads as zero in alarms with
// TreatMissingData=notBreaching and in SUM graphs); the dimensionless ones always are, so the
// heartbeat and a zero rate are both visible. Rule values that are not valid dimension values
// are left out.
func (s settings) data(st detector.Stats, storeErrors int64, latency time.Duration) []datum {
	d := []datum{
		{name: MetricEventsProcessed, unit: UnitCount, value: float64(st.Records)},
		{name: MetricSecretReads, unit: UnitCount, value: float64(st.Reads)},
		{name: MetricDeniedReads, unit: UnitCount, value: float64(st.Denied)},
		{name: MetricUnexpectedReads, unit: UnitCount, value: float64(st.Unexpected)},
		{name: MetricParseFailures, unit: UnitCount, value: float64(st.ParseFailures())},
		{name: MetricStoreErrors, unit: UnitCount, value: float64(storeErrors)},
		{name: MetricProcessingLatency, unit: UnitMilliseconds, value: float64(max(latency, 0)) / float64(time.Millisecond)},
		{name: MetricHeartbeat, unit: UnitCount, value: 1},
	}
	for _, rule := range sortedKeys(st.Alerts) {
		if n := st.Alerts[rule]; n > 0 && validDimensionValue(rule) {
			d = append(d, datum{name: MetricAlerts, unit: UnitCount, value: float64(n), dim: &dimension{DimensionRule, rule}})
		}
	}
	for _, name := range sortedKeys(st.SecretReads) {
		if n := st.SecretReads[name]; n > 0 && s.secrets[name] {
			d = append(d, datum{name: MetricSecretReads, unit: UnitCount, value: float64(n), dim: &dimension{DimensionSecret, name}})
		}
	}
	return d
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validDimensionValue reports whether v is a dimension value CloudWatch accepts: 1-1024 printable
// ASCII characters, not all spaces.
func validDimensionValue(v string) bool {
	return len(v) <= maxDimensionValue && strings.TrimSpace(v) != "" && printableASCII(v)
}

func printableASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
