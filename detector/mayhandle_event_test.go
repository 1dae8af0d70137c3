package detector_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// MayHandleEvent keeps every handled event and every Secrets Manager record; what it rejects,
// Process counts exactly as a reader counts a filtered record: one record, skipped as not handled.
func TestMayHandleEvent(t *testing.T) {
	for src, names := range detector.HandledEvents() {
		for _, n := range names {
			if !detector.MayHandleEvent([]byte(src), []byte(n)) {
				t.Errorf("%s %s: rejected, but handled", src, n)
			}
		}
	}
	d, _ := newDetector(t, allowNobody)
	filtered := detector.Stats{Records: 1, Skipped: map[string]int64{detector.SkipNotHandled: 1}}
	for _, tt := range []struct {
		source, name string
		keep         bool
	}{
		{"secretsmanager.amazonaws.com", "GetRandomPassword", true}, // counted in Stats.SecretsManager
		{"secretsmanager.amazonaws.com", "", true},
		{"secretsmanager.amazonaws.com", "GetSecretValue", true},
		{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", true},
		{"lambda.amazonaws.com", "Invoke", false},
		{"kms.amazonaws.com", "Decrypt", false},
		{"s3.amazonaws.com", "GetObject", false},
		{"sts.amazonaws.com", "AssumeRole", false},
		{"cloudtrail.amazonaws.com", "LookupEvents", false},
		{"cloudtrail.amazonaws.com", "stoplogging", false}, // names are case-sensitive
		{"SecretsManager.amazonaws.com", "GetSecretValue", false},
		{"x", "", false},
	} {
		if got := detector.MayHandleEvent([]byte(tt.source), []byte(tt.name)); got != tt.keep {
			t.Errorf("MayHandleEvent(%q, %q) = %v, want %v", tt.source, tt.name, got, tt.keep)
		}
		if tt.keep {
			continue
		}
		rec := &cloudtrail.Record{EventVersion: "1.09", EventSource: tt.source, EventName: tt.name, EventID: "e1",
			EventTime: cloudtrail.Time{Time: time.Now().Add(-time.Hour)}, AWSRegion: "us-east-1",
			UserIdentity: &cloudtrail.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/a"}}
		res, err := d.Process(t.Context(), []*cloudtrail.Record{rec})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Stats, filtered) || len(res.Alerts) != 0 {
			t.Errorf("%s %s: Process gives %+v and %d alerts, a filtered record counts %+v", tt.source, tt.name, res.Stats, len(res.Alerts), filtered)
		}
	}
}
