package detector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// RuleTrailTampering: CloudTrail logging stopped, deleted, changed, or its selectors made to drop
// the events secretwatch needs.
const RuleTrailTampering = "trail-tampering"

func newTrailTampering(*Config) Rule { return trailTampering{} }

// trailTampering rates successful CloudTrail calls (eventSource cloudtrail.amazonaws.com only:
// another cloud's "UpdateTrail", such as Alibaba's ActionTrail, never matches):
//   - critical: StopLogging, DeleteTrail — every event after it is invisible to secretwatch;
//   - high: PutEventSelectors / PutAdvancedEventSelectors that leave no selector recording read
//     management events (GetSecretValue is one), or that exclude secretsmanager.amazonaws.com;
//   - medium: UpdateTrail (destination, region scope or encryption changed: worth a look);
//   - no alert: selectors that keep all management events.
type trailTampering struct{}

func (trailTampering) ID() string { return RuleTrailTampering }

func (trailTampering) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if e.Source != "cloudtrail.amazonaws.com" || e.Denied {
			continue
		}
		var p struct {
			Name      string `json:"name"`
			TrailName string `json:"trailName"`
		}
		_ = json.Unmarshal(e.Record.RequestParameters, &p)
		trail := cmpOr(p.Name, p.TrailName, "(unnamed trail)")
		var sev, what string
		switch e.Name {
		case "StopLogging":
			sev, what = SeverityCritical, "stopped logging: no API call after this one is recorded"
		case "DeleteTrail":
			sev, what = SeverityCritical, "deleted the trail"
		case "UpdateTrail":
			sev, what = SeverityMedium, "changed the trail's settings (destination, regions or encryption)"
		case "PutEventSelectors":
			if why := dropsBasicSelectors(e.Record.RequestParameters); why != "" {
				sev, what = SeverityHigh, why
			}
		case "PutAdvancedEventSelectors":
			if why := dropsAdvancedSelectors(e.Record.RequestParameters); why != "" {
				sev, what = SeverityHigh, why
			}
		}
		if sev == "" {
			continue
		}
		a := eventAlert(b, RuleTrailTampering, sev, e, "trail:"+trail)
		a.Reason = fmt.Sprintf("%s called %s on trail %s: it %s. secretwatch sees only what CloudTrail records.",
			describePrincipal(e.Principal), e.Name, bound(trail), what)
		a.NextStep = "Restore the trail now (StartLogging, the reviewed selectors or settings). If the change was not planned, treat it as " +
			"defence evasion: find what the caller did while logging was reduced (other trails, CloudTrail Lake, S3 access logs) and revoke its credentials."
		b.Emit(i, a)
	}
	return nil
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// dropsBasicSelectors says how basic event selectors drop read management events ("" if not).
func dropsBasicSelectors(raw json.RawMessage) string {
	var p struct {
		EventSelectors []struct {
			ReadWriteType                 string   `json:"readWriteType"`
			IncludeManagementEvents       *bool    `json:"includeManagementEvents"`
			ExcludeManagementEventSources []string `json:"excludeManagementEventSources"`
		} `json:"eventSelectors"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return "" // not a selector change we can read; UpdateTrail-like changes are rated elsewhere
	}
	for _, s := range p.EventSelectors {
		mgmt := s.IncludeManagementEvents == nil || *s.IncludeManagementEvents // default true
		reads := s.ReadWriteType == "" || s.ReadWriteType == "All" || s.ReadWriteType == "ReadOnly"
		if mgmt && reads && !slices.Contains(s.ExcludeManagementEventSources, "secretsmanager.amazonaws.com") {
			return ""
		}
	}
	return "set event selectors that record no read management events from Secrets Manager (GetSecretValue is one)"
}

// dropsAdvancedSelectors says how advanced event selectors drop Secrets Manager's read
// management events ("" if some selector keeps them).
func dropsAdvancedSelectors(raw json.RawMessage) string {
	type field struct {
		Field         string   `json:"field"`
		Equals        []string `json:"equals"`
		NotEquals     []string `json:"notEquals"`
		StartsWith    []string `json:"startsWith"`
		NotStartsWith []string `json:"notStartsWith"`
	}
	var p struct {
		AdvancedEventSelectors []struct {
			FieldSelectors []field `json:"fieldSelectors"`
		} `json:"advancedEventSelectors"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	// A selector keeps a GetSecretValue record when every field condition admits it.
	admits := func(f field, v string) bool {
		if len(f.Equals) > 0 && !slices.Contains(f.Equals, v) {
			return false
		}
		if slices.Contains(f.NotEquals, v) {
			return false
		}
		if len(f.StartsWith) > 0 && !slices.ContainsFunc(f.StartsWith, func(p string) bool { return strings.HasPrefix(v, p) }) {
			return false
		}
		return !slices.ContainsFunc(f.NotStartsWith, func(p string) bool { return strings.HasPrefix(v, p) })
	}
	want := map[string]string{"eventCategory": "Management", "readOnly": "true", "eventSource": "secretsmanager.amazonaws.com",
		"eventName": "GetSecretValue"}
	for _, s := range p.AdvancedEventSelectors {
		keeps := true
		for _, f := range s.FieldSelectors {
			if v, ok := want[f.Field]; ok && !admits(f, v) {
				keeps = false
				break
			}
		}
		if keeps && len(s.FieldSelectors) > 0 {
			return ""
		}
	}
	return "set advanced event selectors that record no read management events from Secrets Manager (GetSecretValue is one)"
}
