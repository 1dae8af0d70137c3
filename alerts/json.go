package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// JSONLine writes a to w as one JSON object followed by a newline, with the field names of
// [detector.Alert]'s struct tags. Times are in UTC, absent lists are [] (never null), and HTML
// characters are not escaped. The line is written with a single Write.
func JSONLine(w io.Writer, a *detector.Alert) error {
	if a == nil {
		return fmt.Errorf("alerts: json: %w", errNilAlert)
	}
	line, err := marshalLine(a)
	if err != nil {
		return err
	}
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("alerts: json %s: write: %w", clean(a.Key()), err)
	}
	return nil
}

// marshalLine returns the JSON form of a, newline-terminated.
func marshalLine(a *detector.Alert) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normalize(a)); err != nil {
		return nil, fmt.Errorf("alerts: json %s: %w", clean(a.Key()), err)
	}
	return buf.Bytes(), nil
}

// MaxJSONValue bounds each string of the JSON form (each list element too), in bytes: larger
// than any real ARN, name or user agent, small enough that no record can make a huge line.
const MaxJSONValue = 4 << 10

// normalize returns a copy of a as machines want it: UTC times, non-nil lists and every string
// bounded ([MaxJSONValue]; the reason and next step [maxProse]). With it, encoding cannot fail
// (strings with invalid UTF-8 are written with U+FFFD).
func normalize(a *detector.Alert) *detector.Alert {
	c := *a
	for _, f := range []*string{&c.Rule, &c.Severity, &c.Secret, &c.SecretName, &c.SecretARN, &c.Principal,
		&c.PrincipalType, &c.Session, &c.Account, &c.Region} {
		*f = boundedRaw(*f, MaxJSONValue)
	}
	c.Reason = boundedRaw(c.Reason, maxProse)
	c.NextStep = boundedRaw(c.NextStep, maxProse)
	for _, l := range []*[]string{&c.EventIDs, &c.SourceIPs, &c.UserAgents, &c.VPCEndpointIDs} {
		cloned := false
		for i, v := range *l {
			if len(v) > MaxJSONValue {
				if !cloned { // the caller's alert is not modified
					*l, cloned = slices.Clone(*l), true
				}
				(*l)[i] = boundedRaw(v, MaxJSONValue)
			}
		}
	}
	c.Window = utc(c.Window)
	c.FirstSeen = utc(c.FirstSeen)
	c.LastSeen = utc(c.LastSeen)
	c.EventIDs = nonNil(c.EventIDs)
	c.SourceIPs = nonNil(c.SourceIPs)
	c.UserAgents = nonNil(c.UserAgents)
	c.VPCEndpointIDs = nonNil(c.VPCEndpointIDs)
	return &c
}

// utc returns t in UTC; a time encoding/json cannot write (outside years 0-9999) becomes zero.
func utc(t time.Time) time.Time {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return time.Time{}
	}
	return u
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
