package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/internal/s3test"
)

const backfillBucket = "org-trail-bucket"

// backfillPayload is a Distributed Map child's input: an ItemBatcher batch of ListObjectsV2
// items, the bucket in BatchInput (as terraform/modules/secretwatch/backfill.asl.json sets it).
func backfillPayload(tb testing.TB, keys ...string) []byte {
	tb.Helper()
	items := make([]map[string]any, len(keys))
	for i, k := range keys {
		items[i] = map[string]any{"Etag": `"0123456789abcdef"`, "Key": k, "LastModified": 1772409600, "Size": 1234, "StorageClass": "STANDARD"}
	}
	b, err := json.Marshal(map[string]any{"Items": items, "BatchInput": map[string]any{"Bucket": backfillBucket}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// uploadCorpusTrail writes the corpus as CloudTrail delivers it, gzip {"Records":[…]} files
// under AWSLogs/o-org/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/, split over three objects, and a
// digest file beside them. It returns the log files' keys and the digest's.
func uploadCorpusTrail(tb testing.TB, srv *s3test.Server) ([]string, string) {
	tb.Helper()
	b, err := os.ReadFile(e2eCorpus)
	if err != nil {
		tb.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(b, &recs); err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	var keys []string
	parts := [][]json.RawMessage{recs[:7], recs[7:14], recs[14:]}
	for i, part := range parts {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if err := json.NewEncoder(zw).Encode(map[string]any{"Records": part}); err != nil {
			tb.Fatal(err)
		}
		zw.Close()
		name := fmt.Sprintf("%s_CloudTrail_us-east-1_20220104T1200Z_part%d.json.gz", e2eAccount, i)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
		key := "AWSLogs/o-abc123/" + e2eAccount + "/CloudTrail/us-east-1/2022/01/04/" + name
		srv.Put(tb, backfillBucket, key, p)
		keys = append(keys, key)
	}
	digest := "AWSLogs/o-abc123/" + e2eAccount + "/CloudTrail-Digest/us-east-1/2022/01/04/" + e2eAccount + "_CloudTrail-Digest_us-east-1_t_us-east-1_20220104T1300Z.json.gz"
	srv.Put(tb, backfillBucket, digest, filepath.Join(dir, filepath.Base(keys[0])))
	return keys, digest
}

// The Distributed Map shape under the runtime emulator: the function reads its batch of keys
// from S3 (gofakes3) and counts each read once in DynamoDB (dynalite) — again when the batch is
// retried, and when the same events arrive through EventBridge afterwards; an object that
// cannot be read fails the invocation so Step Functions retries it.
func TestE2EBackfillBatches(t *testing.T) {
	env := needEnv(t, envTestDynamo, envTestSNS, envTestRIE)
	srv := s3test.Start(t, backfillBucket)
	keys, digest := uploadCorpusTrail(t, srv)
	r := newRig(t, env, env[envTestDynamo])
	r.extraEnv = map[string]string{"AWS_ENDPOINT_URL_S3": srv.URL}
	r.coldStart()

	invoke := func(payload []byte) backfillResult {
		t.Helper()
		body := r.emu.invoke(payload)
		if le, ok := parseLambdaError(body); ok {
			t.Fatalf("backfill batch failed: %s: %s", le.ErrorType, le.ErrorMessage)
		}
		var res backfillResult
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("response %s: %v", body, err)
		}
		return res
	}
	srv.Requests()
	// Two batches, as an ItemBatcher of two items would cut three objects and a digest.
	first := invoke(backfillPayload(t, keys[0], keys[1]))
	second := invoke(backfillPayload(t, keys[2], digest))
	total := backfillResult{
		Objects: first.Objects + second.Objects, Ignored: first.Ignored + second.Ignored, Records: first.Records + second.Records,
		Reads: first.Reads + second.Reads, Duplicates: first.Duplicates + second.Duplicates, Skipped: first.Skipped + second.Skipped,
		Alerts: first.Alerts + second.Alerts,
	}
	want := backfillResult{Objects: 3, Ignored: 1, Records: int64(len(r.corpus)), Reads: e2eReads, Alerts: e2eReads}
	if total != want {
		t.Errorf("batches %+v + %+v = %+v, want %+v", first, second, total, want)
	}
	if gets := s3test.Gets(srv.Requests(), backfillBucket); len(gets) != 3 || strings.Contains(strings.Join(gets, " "), "Digest") {
		t.Errorf("downloads %q, want the 3 log files", gets)
	}
	once := r.checkTable()
	r.collect(e2eReads)
	r.eachAlertOnce()

	// Step Functions retries a batch (or a redriven Map runs it again): nothing is counted twice.
	again := invoke(backfillPayload(t, keys...))
	if again.Reads != 0 || again.Duplicates != e2eReads || again.Alerts != 0 || again.Records != int64(len(r.corpus)) {
		t.Errorf("retried batch: %+v, want every read a duplicate", again)
	}
	r.sameTable("after the batches again", once)
	// The live path delivers the same events later: still counted once.
	r.single(r.corpus...)
	r.sameTable("after the same events through EventBridge", once)
	r.collect(0)

	// An object that is gone (or S3 failing) fails the invocation: Step Functions retries it.
	body := r.emu.invoke(backfillPayload(t, keys[0], strings.Replace(keys[1], "part1", "missing", 1)))
	if le, ok := parseLambdaError(body); !ok || !strings.Contains(le.ErrorMessage, "missing") {
		t.Errorf("batch with a missing object: %s, want a failed invocation naming it", body)
	}
	r.sameTable("after a failed batch", once)
}
