package detector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// pickyStore counts reads once per event ID, refuses for good any batch with a secret containing
// "poison" and fails retryably any batch with one containing "flaky".
type pickyStore struct{ seen map[string]bool }

func (s *pickyStore) Record(_ context.Context, reads []Read) (Recorded, error) {
	for _, r := range reads {
		switch {
		case strings.Contains(r.Secret, "poison"):
			return Recorded{}, fmt.Errorf("key too long: %w", ErrUnstorable)
		case strings.Contains(r.Secret, "flaky"):
			return Recorded{}, errors.New("throttled")
		}
	}
	out := Recorded{Fresh: make([]bool, len(reads)), Series: map[SeriesKey]*Series{}}
	for i, r := range reads {
		out.Fresh[i] = !s.seen[r.EventID]
		s.seen[r.EventID] = true
	}
	return out, nil
}

func withSecret(t *testing.T, rec *cloudtrail.Record, secretID, eventID string) *cloudtrail.Record {
	t.Helper()
	c := *rec
	b, _ := json.Marshal(map[string]string{"secretId": secretID})
	c.RequestParameters, c.EventID = b, eventID
	return &c
}

func TestProcessIsolated(t *testing.T) {
	recs := loadRecords(t, "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json")
	var reads []*cloudtrail.Record
	for _, r := range recs {
		if r.EventName == "GetSecretValue" {
			reads = append(reads, r)
		}
	}
	poison := withSecret(t, reads[0], "poison-secret", "0f8fad5b-d9cb-469f-a165-70867728950e")
	flaky := withSecret(t, reads[0], "flaky", "7c9e6679-7425-40de-944b-e07fc1f90ae7")
	for _, tt := range []struct {
		name       string
		batch      []*cloudtrail.Record
		wantErr    bool
		wantFailed []int
		wantAlerts int
		wantSkip   int64
	}{
		{"clean batch", reads[:3], false, nil, 3, 0},
		{"poison among reads", []*cloudtrail.Record{reads[3], poison, reads[4]}, false, nil, 2, 1},
		{"poison alone", []*cloudtrail.Record{poison}, false, nil, 0, 1},
		{"poison and flaky", []*cloudtrail.Record{reads[5], poison, flaky, reads[6]}, false, []int{2}, 2, 1},
		{"flaky batch without poison", []*cloudtrail.Record{reads[7], flaky}, true, nil, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(Config{AllowList: mustAllowList(t, "version: 1\ndefaults:\n  allow: []\n")}, &pickyStore{seen: map[string]bool{}})
			if err != nil {
				t.Fatal(err)
			}
			res, failed, err := d.ProcessIsolated(t.Context(), tt.batch)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(failed, tt.wantFailed) {
				t.Errorf("failed = %v, want %v", failed, tt.wantFailed)
			}
			if len(res.Alerts) != tt.wantAlerts || res.Stats.Skipped[SkipUnstorable] != tt.wantSkip {
				t.Errorf("%d alerts, %d skipped unstorable; want %d, %d", len(res.Alerts), res.Stats.Skipped[SkipUnstorable], tt.wantAlerts, tt.wantSkip)
			}
		})
	}
}
