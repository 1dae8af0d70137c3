package cloudtrail_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// The loop every consumer writes: use every record, including one with defects, and report every
// error with its position.
func ExampleDecode() {
	input := strings.Join([]string{
		`{"eventName":"GetSecretValue","eventTime":"2024-07-31T12:36:52Z","userIdentity":{"type":"IAMUser"},"requestParameters":{"secretId":"db"}}`,
		`{"eventName":"ListSecrets","eventTime":"2024-10-17 21:48:45.000000000"}`,
		`{"Type":"Notification","Message":"…"}`,
		`{"eventName":`,
		`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"PutSecretValue","userIdentity":{},"requestParameters":{}}}`,
	}, "\n")
	for it := range cloudtrail.Decode(strings.NewReader(input), "events.ndjson") {
		if it.Err != nil {
			fmt.Println(it.Err)
			if errors.Is(it.Err, cloudtrail.ErrUnreadable) {
				return // the input itself failed
			}
		}
		if it.Record != nil {
			fmt.Println(it.Record.EventName, it.Record.EventTime.Format("2006-01-02T15:04:05Z07:00"))
		}
	}
	// Output:
	// GetSecretValue 2024-07-31T12:36:52Z
	// cloudtrail: events.ndjson:2: record 1: incomplete record: no userIdentity; no requestParameters
	// ListSecrets 2024-10-17T21:48:45Z
	// cloudtrail: events.ndjson:3: record 2: not a CloudTrail record: an SNS notification
	// cloudtrail: events.ndjson:4: record 3: malformed input: the line ends inside a JSON value
	// PutSecretValue 0001-01-01T00:00:00Z
}
