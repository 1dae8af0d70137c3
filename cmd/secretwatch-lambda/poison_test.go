package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secretwatch/secretwatch/detector"
)

// withSecretID returns ev (an EventBridge event around a GetSecretValue record) with another
// secretId and eventID, denied when errorCode is not "".
func withSecretID(t testing.TB, ev json.RawMessage, secretID, eventID, errorCode string) json.RawMessage {
	t.Helper()
	var outer map[string]any
	if err := json.Unmarshal(ev, &outer); err != nil {
		t.Fatal(err)
	}
	d := outer["detail"].(map[string]any)
	d["requestParameters"] = map[string]any{"secretId": secretID}
	d["eventID"] = eventID
	if errorCode != "" {
		d["errorCode"] = errorCode
		d["errorMessage"] = "User is not authorized to perform: secretsmanager:GetSecretValue"
	}
	b, err := json.Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pickyStore refuses for good every batch holding a read of a secret containing "poison" (as
// DynamoDB refuses an over-long key), and fails retryably every batch holding one containing
// "flaky"; otherwise it is the memory store.
type pickyStore struct{ *failingStore }

func (s pickyStore) Record(ctx context.Context, reads []detector.Read) (detector.Recorded, error) {
	for _, r := range reads {
		switch {
		case strings.Contains(r.Secret, "poison"):
			return detector.Recorded{}, fmt.Errorf("ValidationException: key too long: %w", detector.ErrUnstorable)
		case strings.Contains(r.Secret, "flaky"):
			return detector.Recorded{}, errors.New("throttled")
		}
	}
	return s.failingStore.Record(ctx, reads)
}

func sqsBatch(bodies ...json.RawMessage) []byte {
	var batch events.SQSEvent
	for i, b := range bodies {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: string(b), EventSource: "aws:sqs"})
	}
	raw, _ := json.Marshal(batch)
	return raw
}

// A record the store refuses for good fails alone: its neighbours are counted and alerted on, it
// is a counted skip (never a batch failure that would send the real alert to the DLQ), and a
// record that fails retryably on its own is the only message reported for redelivery.
func TestHandlePoisonRecordFailsAlone(t *testing.T) {
	h, st, n, emf := newTestHandler(t)
	picky := pickyStore{st}
	al, _, err := detector.ParseAllowList("allow.yaml", []byte("version: 1\ndefaults:\n  allow: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	det, err := detector.New(detector.Config{AllowList: al}, picky)
	if err != nil {
		t.Fatal(err)
	}
	h.det = det
	evs := stratusEvents(t)
	poison := withSecretID(t, evs[0], "poison-secret", "0f8fad5b-d9cb-469f-a165-70867728950e", "AccessDenied")
	flaky := withSecretID(t, evs[0], "flaky", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "")

	// The poison record next to two real unexpected reads, then redelivered: never a failure.
	for round := range 2 {
		resp, err := h.Handle(t.Context(), sqsBatch(evs[0], poison, evs[1]))
		if err != nil {
			t.Fatal(err)
		}
		if f := resp.(events.SQSEventResponse).BatchItemFailures; len(f) != 0 {
			t.Fatalf("round %d: batchItemFailures %v, want none (the poison record is a counted skip)", round, f)
		}
	}
	if len(n.alerts) != 2 {
		t.Fatalf("%d alerts, want the 2 real unexpected reads alerted once", len(n.alerts))
	}
	if !strings.Contains(emf.String(), `"ParseFailures":1`) {
		t.Errorf("the skipped record is not counted: %s", emf.String())
	}

	// With a record that fails retryably on its own: only its message is reported.
	resp, err := h.Handle(t.Context(), sqsBatch(evs[2], poison, flaky, evs[3]))
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.(events.SQSEventResponse).BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"m2"}) {
		t.Errorf("batchItemFailures %v, want [m2] (the retryable record only)", failed)
	}
	if len(n.alerts) != 4 {
		t.Errorf("%d alerts, want 4 (2 + the 2 real reads of the second batch)", len(n.alerts))
	}

	// One event per invocation: the poison one is acknowledged (skipped), the flaky one retried.
	if _, err := h.Handle(t.Context(), poison); err != nil {
		t.Errorf("EventBridge poison event: %v, want it skipped", err)
	}
	if _, err := h.Handle(t.Context(), flaky); err == nil {
		t.Error("EventBridge event with a retryable store error: want the invocation to fail")
	}
}
