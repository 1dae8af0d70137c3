package detector

import (
	"slices"
	"strings"
	"time"
)

// Rule names (also the CloudWatch `Rule` dimension and the SNS `rule` attribute).
const (
	RuleUnexpectedPrincipal = "unexpected-principal"
	RuleFirstSeenPrincipal  = "first-seen-principal"
	RuleReadSpike           = "read-spike"
)

// Severities, most severe first. SNS subscriptions filter on them.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
)

// MaxAlertEventIDs bounds Alert.EventIDs (the first ones seen are kept).
const MaxAlertEventIDs = 10

// MaxAlertValues bounds SourceIPs, UserAgents and VPCEndpointIDs.
const MaxAlertValues = 10

// Alert is one finding, possibly standing for many identical events (Count). Field names in JSON
// are part of the product's interface (replay --format json, SNS structured message).
type Alert struct {
	Rule           string    `json:"rule"`
	Severity       string    `json:"severity"`
	Secret         string    `json:"secret"`              // canonical key: account/region/name
	SecretName     string    `json:"secretName"`          // the secret's name
	SecretARN      string    `json:"secretARN,omitempty"` // full ARN with suffix, when seen
	Principal      string    `json:"principal"`           // normalised principal ARN
	Resource       string    `json:"resource,omitempty"`  // what a non-read event acted on (trail, rule, policy): part of the key
	Workload       string    `json:"workload,omitempty"`  // the workload behind the session, when its platform's conventions say (see Workload)
	PrincipalType  string    `json:"principalType"`
	Session        string    `json:"session,omitempty"`
	Account        string    `json:"account"` // account that owns the secret
	Region         string    `json:"region"`
	Window         time.Time `json:"window"` // start of the suppression window (event time)
	FirstSeen      time.Time `json:"firstSeen"`
	LastSeen       time.Time `json:"lastSeen"`
	Count          int64     `json:"count"` // reads behind the alert in its window (the series' count)
	EventIDs       []string  `json:"eventIDs"`
	SourceIPs      []string  `json:"sourceIPs"`
	UserAgents     []string  `json:"userAgents"`
	VPCEndpointIDs []string  `json:"vpcEndpointIds"`
	Reason         string    `json:"reason"`
	NextStep       string    `json:"nextStep"`
	additive       bool      // Count counts merged events (rules over non-read events), not a series
}

// Key identifies the alert for suppression: the same rule, secret and principal.
func (a *Alert) Key() string {
	if a.Resource != "" {
		return a.Rule + "|" + a.Secret + "|" + a.Principal + "|" + a.Resource
	}
	return a.Rule + "|" + a.Secret + "|" + a.Principal
}

// Merge folds b (same Key and Window) into a: the count is the larger (both are the reads the
// store had counted in the window when each was raised, so the later one is the larger), the
// time range widens, bounded lists keep their first distinct values, and the reason of the
// latest occurrence wins.
func (a *Alert) Merge(b *Alert) {
	if a.additive && len(b.EventIDs) > 0 && !slices.Contains(a.EventIDs, b.EventIDs[0]) {
		// Event alerts (no store series behind them) count their distinct events.
		a.Count += b.Count
	} else {
		a.Count = max(a.Count, b.Count)
	}
	if b.FirstSeen.Before(a.FirstSeen) {
		a.FirstSeen = b.FirstSeen
	}
	if !b.LastSeen.Before(a.LastSeen) {
		a.LastSeen = b.LastSeen
		a.Reason = b.Reason
		a.NextStep = b.NextStep
		if severityRank(b.Severity) < severityRank(a.Severity) {
			a.Severity = b.Severity
		}
	}
	if a.SecretARN == "" {
		a.SecretARN = b.SecretARN
	}
	if a.Session == "" {
		a.Session = b.Session
	}
	if a.Workload == "" {
		a.Workload = b.Workload
	}
	a.EventIDs = appendBounded(a.EventIDs, MaxAlertEventIDs, b.EventIDs...)
	a.SourceIPs = appendBounded(a.SourceIPs, MaxAlertValues, b.SourceIPs...)
	a.UserAgents = appendBounded(a.UserAgents, MaxAlertValues, b.UserAgents...)
	a.VPCEndpointIDs = appendBounded(a.VPCEndpointIDs, MaxAlertValues, b.VPCEndpointIDs...)
}

func severityRank(s string) int {
	switch strings.ToLower(s) {
	case SeverityCritical:
		return 0
	case SeverityHigh:
		return 1
	case SeverityMedium:
		return 2
	default:
		return 3
	}
}

// appendBounded appends the values of vs not yet in s, keeping at most max entries.
func appendBounded(s []string, max int, vs ...string) []string {
	for _, v := range vs {
		if v == "" || len(s) >= max {
			continue
		}
		dup := false
		for _, x := range s {
			if x == v {
				dup = true
				break
			}
		}
		if !dup {
			s = append(s, v)
		}
	}
	return s
}
