//go:build cloudtrail_stdjson

package cloudtrail

import "errors"

var errNoFastDecoder = errors.New("built without the fast decoder (cloudtrail_stdjson)")

// fastUnmarshal always defers to encoding/json: a build with the tag cloudtrail_stdjson links no
// second JSON decoder (the Lambda's, where size counts more than decoding speed).
func fastUnmarshal([]byte, any) error { return errNoFastDecoder }
