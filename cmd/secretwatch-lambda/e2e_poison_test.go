package main

import (
	"strings"
	"testing"
)

// A denied GetSecretValue whose secretId is ~2,000 characters (the API allows 2,048: anyone in
// the account can make that call) shares an SQS batch with a real unexpected read. The batch
// succeeds (no batchItemFailures, so nothing ever reaches the DLQ), the real read is alerted once,
// and a redelivery of the batch changes nothing. Issue 7 item 1.
func TestE2EPoisonBatch(t *testing.T) {
	env := needEnv(t, envTestDynamo, envTestSNS, envTestRIE)
	r := newRig(t, env, env[envTestDynamo])
	real := r.corpus[0]
	if !real.isRead() {
		t.Fatal("corpus[0] is not a GetSecretValue")
	}
	poison := real
	poison.EventID = "0f8fad5b-d9cb-469f-a165-70867728950e"
	poison.Body = withSecretID(t, real.Body, strings.Repeat("s", 2000), poison.EventID, "AccessDenied")
	payload, _ := sqsEvent(t, []corpusEvent{poison, real}, 1, "poison")
	for round := range 3 { // as SQS would redeliver a failed batch
		if failed := r.batch(payload); len(failed) != 0 {
			t.Fatalf("delivery %d: batchItemFailures %v, want none: the poison record must not fail the batch (after maxReceiveCount the real read would go to the DLQ)", round+1, failed)
		}
	}
	r.collect(1)
	if r.received[real.Secret] != 1 || r.enveloped[real.Secret] != 1 {
		t.Errorf("real unexpected read alerted %d/%d times (raw/enveloped), want once", r.received[real.Secret], r.enveloped[real.Secret])
	}
	// The denied read is counted once in the table, under a bounded key.
	v := viewTable(t, scanTable(t, r.ddb, r.table))
	var denied int64
	for k, s := range v.Series {
		if len(k[0]) > 2048 {
			t.Errorf("series key of %d bytes", len(k[0]))
		}
		denied += s.Deny
	}
	if denied != 2 { // whole secret and (secret, principal)
		t.Errorf("denied reads stored: %d, want 2 (the poison read once in each of its two items)", denied)
	}
}
