// Package report answers the security lead's Monday question — who accessed this secret? — from
// a store's per-day rows (Source): per secret, each principal with its reads, denied attempts,
// first and last seen, source networks and user agents; principals new this period; allow-list
// patterns that matched no read (grants to remove); secrets with no reads (candidates to retire);
// the alerts raised, by rule; and the change against the previous period of the same length.
// Build makes the model; Write renders it as text, Markdown, CSV, JSON or one self-contained HTML
// file. docs/report.md documents the JSON shape, which is stable.
package report

import (
	"time"
)

// Report is one period's report. Its JSON form is the stable interface (docs/report.md).
type Report struct {
	From time.Time `json:"from"` // inclusive
	To   time.Time `json:"to"`   // exclusive
	// PreviousFrom starts the previous period [PreviousFrom, From), of the same length: the
	// "previous" counts and the change columns compare with it.
	PreviousFrom time.Time `json:"previousFrom"`
	// PeriodEnd says where To came from: "flag" (--to), "latest event" (the latest event in the
	// store) or "now" (the store was empty).
	PeriodEnd string    `json:"periodEnd"`
	Generated time.Time `json:"generated"`
	// HistoryFrom is the oldest day of the history the report read (the store's oldest day, or
	// HistoryStart(From, To) when the store keeps more): "new" means not seen since then.
	HistoryFrom time.Time `json:"historyFrom"`
	AllowList   string    `json:"allowList"` // the allow-list file used ("" none)
	Secret      string    `json:"secretFilter,omitempty"`
	Totals      Totals    `json:"totals"`
	Secrets     []*Secret `json:"secrets"`
}

// Totals sum the report's secrets.
type Totals struct {
	Secrets        int   `json:"secrets"`
	SecretsNoReads int   `json:"secretsNoReads"`
	Principals     int   `json:"principals"` // (secret, principal) pairs with activity
	NewPrincipals  int   `json:"newPrincipals"`
	Reads          int64 `json:"reads"`
	Denied         int64 `json:"denied"`
	PreviousReads  int64 `json:"previousReads"`
	PreviousDenied int64 `json:"previousDenied"`
	AllowedUnused  int   `json:"allowedUnused"`
	Alerts         int64 `json:"alerts"`
}

// Secret is one secret's part of the report.
type Secret struct {
	Secret         string `json:"secret"` // canonical key account/region/name, or an allow-list pattern no secret matched
	SecretName     string `json:"secretName"`
	Account        string `json:"account"`
	Region         string `json:"region"`
	SecretARN      string `json:"secretARN"`
	Reads          int64  `json:"reads"`
	Denied         int64  `json:"denied"`
	PreviousReads  int64  `json:"previousReads"`
	PreviousDenied int64  `json:"previousDenied"`
	// AllowEntry is the allow-list entry that governs the secret (pattern and line); "" when the
	// defaults do or no allow-list was given. Owner is the entry's owner.
	AllowEntry string `json:"allowEntry"`
	Owner      string `json:"owner"`
	// Unmatched is true for an allow-list entry that matched no secret the store knows: Secret
	// is then the entry's pattern.
	Unmatched     bool             `json:"unmatched"`
	Principals    []*Principal     `json:"principals"`    // active this period, most reads first
	AllowedUnused []string         `json:"allowedUnused"` // the entry's patterns no read this period matched
	Alerts        map[string]int64 `json:"alerts"`        // rule → alerts raised in the period
	Daily         []DayCount       `json:"daily"`         // one per day of the period
	Baseline      *Band            `json:"baseline"`      // usual daily reads before the period; null without 3 days of history
}

// Principal is one principal's use of one secret in the period.
type Principal struct {
	Principal      string    `json:"principal"`
	PrincipalType  string    `json:"principalType"`
	Reads          int64     `json:"reads"`
	Denied         int64     `json:"denied"`
	PreviousReads  int64     `json:"previousReads"`
	PreviousDenied int64     `json:"previousDenied"`
	FirstSeen      time.Time `json:"firstSeen"` // first attempt (read or denied) in the period
	LastSeen       time.Time `json:"lastSeen"`  // last attempt in the period
	// New: no read or denied attempt of this secret by this principal in the history before the
	// period (since Report.HistoryFrom: at most max(HistoryDays, the period's length) back).
	New bool `json:"new"`
	// Allowed is what the allow-list says of the principal (null without an allow-list).
	Allowed        *bool    `json:"allowed"`
	SourceIPs      []string `json:"sourceIPs"`      // distinct, at most MaxValues
	VPCEndpointIDs []string `json:"vpcEndpointIds"` // distinct, at most MaxValues
	UserAgents     []string `json:"userAgents"`     // distinct, at most MaxValues
}

// DayCount is one day's activity of a secret.
type DayCount struct {
	Day    string `json:"day"` // YYYY-MM-DD
	Reads  int64  `json:"reads"`
	Denied int64  `json:"denied"`
}

// Band is the usual range of a secret's daily reads before the period: the 10th and 90th
// percentiles and the median of its daily totals over Days days (days without reads count 0).
type Band struct {
	Days   int     `json:"days"`
	Low    float64 `json:"low"`
	Median float64 `json:"median"`
	High   float64 `json:"high"`
}
