//go:build !cloudtrail_stdjson

package cloudtrail

import (
	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// v2Options make the v2 decoder match field names as encoding/json does: exact, else ignoring
// case as strings.EqualFold does. (Without MatchCaseSensitiveDelimiter, v2 also ignores '_' and
// '-', so that "event_source" would fill EventSource, which encoding/json leaves empty.)
var v2Options = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true), jsonv1.MatchCaseSensitiveDelimiter(true))

// fastUnmarshal is the fast decoder; an error means "let encoding/json decide".
func fastUnmarshal(raw []byte, v any) error { return jsonv2.Unmarshal(raw, v, v2Options) }
