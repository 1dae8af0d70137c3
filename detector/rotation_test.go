package detector_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// Rotation awareness (written): after a rotation, the clients' refresh burst is not a read-spike
// for the rotation hour and the next; later, or far larger, it is.
func TestRotationRefreshBurst(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	history := func(prefix string) []*cloudtrail.Record {
		var recs []*cloudtrail.Record
		n := 0
		for day := range 14 {
			for h := range 24 {
				for i := range 7 {
					n++
					recs = append(recs, read(fmt.Sprintf("%s-%d", prefix, n), start.Add(time.Duration(day*24+h)*time.Hour+time.Duration(i)*time.Minute), "app-api", "app/db"))
				}
			}
		}
		return recs
	}
	burst := func(prefix string, at time.Time, k int) []*cloudtrail.Record {
		var recs []*cloudtrail.Record
		for i := range k {
			recs = append(recs, read(fmt.Sprintf("%s-%d", prefix, i), at.Add(time.Duration(i)*4*time.Second), "app-api", "app/db"))
		}
		return recs
	}
	rotate := func(at time.Time) *cloudtrail.Record {
		r := call("rot-"+at.Format("150405"), sm, "UpdateSecretVersionStage",
			`{"secretId":"app/db","versionStage":"AWSCURRENT","moveToVersionId":"v2","removeFromVersionId":"v1"}`, roleIdentity("app-rotator"))
		r.EventTime = cloudtrail.Time{Time: at}
		return r
	}
	day15 := start.Add(14 * 24 * time.Hour) // a Monday
	allow := "version: 1\ndefaults:\n  allow: ['arn:aws:iam::111122223333:role/app-*']\n"
	spikes := func(batches ...[]*cloudtrail.Record) int {
		return len(alertsBy(t, allow, append([][]*cloudtrail.Record{history("h")}, batches...)...)[detector.RuleReadSpike])
	}
	if n := spikes(burst("b", day15.Add(14*time.Hour), 100)); n != 2 {
		t.Fatalf("the burst without a rotation: %d spike alerts, want 2 (pair and secret)", n)
	}
	// Rotated at 13:50 (its own invocation); the burst at 14:00–14:17 is the refresh.
	if n := spikes([]*cloudtrail.Record{rotate(day15.Add(13*time.Hour + 50*time.Minute))}, burst("b", day15.Add(14*time.Hour), 100)); n != 0 {
		t.Errorf("refresh burst after a rotation: %d spike alerts, want 0", n)
	}
	// The grace is bounded: the same burst two hours after the rotation's hour pages.
	if n := spikes([]*cloudtrail.Record{rotate(day15.Add(13*time.Hour + 50*time.Minute))}, burst("b", day15.Add(16*time.Hour), 100)); n != 2 {
		t.Errorf("burst 2 h after the rotation: %d spike alerts, want 2", n)
	}
	// And by size: 10× the threshold is not a refresh.
	if n := spikes([]*cloudtrail.Record{rotate(day15.Add(13*time.Hour + 50*time.Minute))}, burst("b", day15.Add(14*time.Hour), 400)); n != 2 {
		t.Errorf("huge burst after a rotation: %d spike alerts, want 2", n)
	}
	// A failed rotation excuses nothing.
	failed := rotate(day15.Add(13*time.Hour + 50*time.Minute))
	failed.ErrorCode = "AccessDenied"
	if n := spikes([]*cloudtrail.Record{failed}, burst("b", day15.Add(14*time.Hour), 100)); n != 2 {
		t.Errorf("burst after a failed rotation: %d spike alerts, want 2", n)
	}
	// Secrets Manager's own record of a managed rotation (a service event, as EventBridge
	// delivers it with detail-type "AWS Service Event via CloudTrail") excuses the refresh too.
	svc := load(t, "written/rotation-succeeded-service-event.json")
	if len(svc) != 1 || !svc[0].EventTime.Equal(day15.Add(13*time.Hour+50*time.Minute)) {
		t.Fatalf("service event fixture: %d records", len(svc))
	}
	if n := spikes(svc, burst("b", day15.Add(14*time.Hour), 100)); n != 0 {
		t.Errorf("refresh burst after a RotationSucceeded service event: %d spike alerts, want 0", n)
	}
}
