//go:build !cloudtrail_stdjson

package cloudtrail

import jsonv2 "github.com/go-json-experiment/json"

// v2Options make the v2 decoder match field names as encoding/json does (exact, else ignoring case).
var v2Options = jsonv2.MatchCaseInsensitiveNames(true)

// fastUnmarshal is the fast decoder; an error means "let encoding/json decide".
func fastUnmarshal(raw []byte, v any) error { return jsonv2.Unmarshal(raw, v, v2Options) }
