package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	cts3 "github.com/secretwatch/secretwatch/cloudtrail/s3/objects"
	"github.com/secretwatch/secretwatch/internal/s3test"
)

// The Distributed Map shape in process: the handler on a memory store reads its batches from the
// S3 stand-in (the emulator test, TestE2EBackfillBatches, runs the same against DynamoDB).
func TestHandleBackfill(t *testing.T) {
	srv := s3test.Start(t, backfillBucket)
	keys, digest := uploadCorpusTrail(t, srv)
	// A log file whose second record is cut short: counted and skipped (the first, with no event
	// name, is a record of nothing handled).
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprint(zw, `{"Records":[{"eventVersion":"1.08","eventSource":"secretsmanager.amazonaws.com"},{"eventSource":"secretsmanager.amazonaws.com","eventName":`)
	zw.Close()
	bad := filepath.Join(t.TempDir(), "bad.json.gz")
	if err := os.WriteFile(bad, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	badKey := strings.Replace(keys[0], "part0", "bad", 1)
	srv.Put(t, backfillBucket, badKey, bad)

	client := &cts3.HTTPGetter{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), Endpoint: srv.URL}
	h, st, n, _ := newTestHandler(t)
	h.s3 = client

	call := func(payload []byte) (backfillResult, error) {
		out, err := h.Handle(t.Context(), payload)
		if err != nil {
			return backfillResult{}, err
		}
		res, ok := out.(backfillResult)
		if !ok {
			t.Fatalf("Handle returned %T, want backfillResult", out)
		}
		return res, nil
	}
	res, err := call(backfillPayload(t, append(keys, digest)...))
	if want := (backfillResult{Objects: 3, Ignored: 1, Records: 21, Reads: 20, Alerts: 21}); err != nil || res != want {
		t.Errorf("first batch: %+v, %v; want %+v", res, err, want)
	}
	if len(n.alerts) != 21 {
		t.Errorf("%d alerts delivered, want 21", len(n.alerts))
	}
	res, err = call(backfillPayload(t, keys[2], keys[0], keys[1]))
	if err != nil || res.Reads != 0 || res.Duplicates != 20 || res.Alerts != 0 {
		t.Errorf("the same objects again: %+v, %v; want every read a duplicate", res, err)
	}
	res, err = call(backfillPayload(t, badKey))
	if err != nil || res.Objects != 1 || res.Skipped != 1 || res.Records != 2 {
		t.Errorf("malformed object: %+v, %v; want 2 records, the cut one skipped", res, err)
	}

	many := make([]string, maxBackfillItems+1)
	for i := range many {
		many[i] = keys[0]
	}
	st.fail = true
	for _, tc := range []struct {
		name    string
		payload []byte
		want    string
	}{
		{"store down", backfillPayload(t, keys[0]), "endpoint down"},
		{"missing object", backfillPayload(t, keys[0]+".missing.json.gz"), "NoSuchKey"},
		{"too many items", backfillPayload(t, many...), "lower the ItemBatcher"},
		{"bad bucket", []byte(`{"Items":[{"Key":"a.json.gz"}],"BatchInput":{"Bucket":"Not A Bucket"}}`), "BatchInput.Bucket"},
		{"not a batch", []byte(`{"Items":{"Key":1},"BatchInput":{}}`), "backfill batch"},
	} {
		if tc.name == "missing object" {
			st.fail = false
		}
		_, err := call(tc.payload)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
