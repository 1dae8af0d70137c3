package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secretwatch/secretwatch/internal/s3test"
)

const (
	s3Bucket       = "org-trail"
	exampleAllow   = "../../testdata/example/allowlist.yaml"
	exampleRecords = "11418 records from 28 files"
)

// startS3 is a stand-in holding the bundled example trail under AWSLogs/.
func startS3(t *testing.T) (*s3test.Server, []string) {
	t.Helper()
	s3test.Env(t)
	srv := s3test.Start(t, s3Bucket)
	keys := srv.UploadTree(t, s3Bucket, "../../testdata/example/AWSLogs", "AWSLogs/")
	return srv, keys
}

func runCtx(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = Run(ctx, args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), err
}

// storeCounts is what a store holds, as report --format json shows it: the reads and denied
// attempts of every (secret, principal) with first and last seen.
type storeCounts struct {
	Totals struct {
		Secrets, Principals, Reads, Denied int
	}
	Secrets []struct {
		Secret        string
		Reads, Denied int
		Principals    []struct {
			Principal           string
			Reads, Denied       int
			FirstSeen, LastSeen string
		}
	}
}

func countsOf(t *testing.T, store string) storeCounts {
	t.Helper()
	out, errOut, err := runCLI(t, "report", "--store", store, "--format", "json", "--from", "2026-01-01", "--to", "2026-04-01")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, errOut)
	}
	var c storeCounts
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.Totals.Reads == 0 || len(c.Secrets) == 0 {
		t.Fatalf("empty store %s: %s", store, out)
	}
	return c
}

func checkpointKeys(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, err := strconv.Unquote(sc.Text())
		if err != nil {
			t.Fatalf("checkpoint line %q: %v", sc.Text(), err)
		}
		keys = append(keys, strings.TrimPrefix(name, "s3://"+s3Bucket+"/"))
	}
	return keys
}

// A replay of s3://bucket/ reads what a replay of the same tree on disk reads, and raises the
// same alerts into the same counts.
func TestReplayS3MatchesLocal(t *testing.T) {
	srv, keys := startS3(t)
	dir := t.TempDir()
	local, localErr, err := runCLI(t, "replay", "--store", filepath.Join(dir, "local.db"), "--config", exampleAllow, "--format", "json", "../../testdata/example")
	if err != nil {
		t.Fatalf("%v\n%s", err, localErr)
	}
	remote, remoteErr, err := runCLI(t, "replay", "--store", filepath.Join(dir, "s3.db"), "--config", exampleAllow, "--format", "json", "--s3-endpoint", srv.URL, "--workers", "3", "s3://"+s3Bucket+"/")
	if err != nil {
		t.Fatalf("%v\n%s", err, remoteErr)
	}
	if !strings.Contains(remoteErr, exampleRecords) || !strings.Contains(localErr, exampleRecords) {
		t.Errorf("summaries:\n%s\n%s", localErr, remoteErr)
	}
	la, ra := decodeAlerts(t, local), decodeAlerts(t, remote)
	if len(la) != 18 || len(ra) != len(la) {
		t.Errorf("alerts: local %d, s3 %d", len(la), len(ra))
	}
	for i := range min(len(la), len(ra)) {
		if la[i].Rule != ra[i].Rule || la[i].Secret != ra[i].Secret || la[i].Count != ra[i].Count {
			t.Errorf("alert %d: local %+v\ns3 %+v", i, la[i], ra[i])
		}
	}
	if l, r := countsOf(t, filepath.Join(dir, "local.db")), countsOf(t, filepath.Join(dir, "s3.db")); !reflect.DeepEqual(l, r) {
		t.Errorf("store counts differ:\nlocal %+v\ns3    %+v", l, r)
	}
	if got := checkpointKeys(t, filepath.Join(dir, "s3.db.s3-checkpoint")); !sameSet(got, keys) {
		t.Errorf("checkpoint %d keys, want %d", len(got), len(keys))
	}
	// Run again: every object is in the checkpoint, nothing is downloaded, nothing fails.
	srv.Requests()
	_, again, err := runCLI(t, "replay", "--store", filepath.Join(dir, "s3.db"), "--config", exampleAllow, "--s3-endpoint", srv.URL, "s3://"+s3Bucket+"/AWSLogs/")
	if err != nil || !strings.Contains(again, "already replayed:      28 S3 objects") {
		t.Errorf("second run: %v\n%s", err, again)
	}
	if gets := s3test.Gets(srv.Requests(), s3Bucket); len(gets) != 0 {
		t.Errorf("second run downloaded %q", gets)
	}
}

// A replay interrupted after some objects and run again ends with the store counts of an
// uninterrupted one, and the second run downloads only the objects the checkpoint lacks.
func TestReplayS3Resume(t *testing.T) {
	srv, keys := startS3(t)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.db")
	if _, e, err := runCLI(t, "replay", "--store", whole, "--config", exampleAllow, "--s3-endpoint", srv.URL, "s3://"+s3Bucket+"/"); err != nil {
		t.Fatalf("%v\n%s", err, e)
	}

	resumed := filepath.Join(dir, "resumed.db")
	ckpt := resumed + ".s3-checkpoint"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var gets atomic.Int64
	stopAt := int64(len(keys) - 3)
	srv.SetOnRequest(func(r s3test.Request) {
		if len(s3test.Gets([]s3test.Request{r}, s3Bucket)) == 1 && gets.Add(1) == stopAt {
			cancel() // as Ctrl-C would, while the object is requested
		}
	})
	srv.Requests()
	_, e, err := runCtx(ctx, "replay", "--store", resumed, "--config", exampleAllow, "--s3-endpoint", srv.URL, "--workers", "2", "s3://"+s3Bucket+"/")
	srv.SetOnRequest(nil)
	if !errors.Is(err, context.Canceled) { // "interrupted after …", or the batch being written
		t.Fatalf("interrupted run: %v\n%s", err, e)
	}
	first := s3test.Gets(srv.Requests(), s3Bucket)
	done := checkpointKeys(t, ckpt)
	if len(done) == 0 || len(done) >= len(keys) || len(first) < len(done) {
		t.Fatalf("after the interruption: %d of %d objects checkpointed, %d downloaded", len(done), len(keys), len(first))
	}
	t.Logf("interrupted after %d downloads; %d objects checkpointed", len(first), len(done))

	_, e, err = runCLI(t, "replay", "--store", resumed, "--config", exampleAllow, "--s3-endpoint", srv.URL, "--workers", "2", "s3://"+s3Bucket+"/")
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, e)
	}
	second := s3test.Gets(srv.Requests(), s3Bucket)
	var want []string
	for _, k := range keys {
		if !slices.Contains(done, k) {
			want = append(want, k)
		}
	}
	if !sameSet(second, want) || len(second) != len(want) {
		t.Errorf("resumed run downloaded %d objects %q\nwant the %d not checkpointed %q", len(second), second, len(want), want)
	}
	if !strings.Contains(e, "already replayed:      "+strconv.Itoa(len(done))+" S3 objects") {
		t.Errorf("resumed summary:\n%s", e)
	}
	if w, r := countsOf(t, whole), countsOf(t, resumed); !reflect.DeepEqual(w, r) {
		t.Errorf("store counts differ:\nwhole   %+v\nresumed %+v", w, r)
	}
	if got := checkpointKeys(t, ckpt); !sameSet(got, keys) || len(got) != len(keys) {
		t.Errorf("final checkpoint: %d keys, want %d", len(got), len(keys))
	}
}

// --from/--to read only the delivery days of the span (and the day after), and count the same
// records in range as a local replay does.
func TestReplayS3Span(t *testing.T) {
	srv, _ := startS3(t)
	span := []string{"--from", "2026-03-04", "--to", "2026-03-05", "--store", ":memory:", "--config", exampleAllow}
	_, local, err := runCLI(t, append([]string{"replay", "../../testdata/example"}, span...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Requests()
	_, remote, err := runCLI(t, append([]string{"replay", "--s3-endpoint", srv.URL, "s3://" + s3Bucket + "/AWSLogs/"}, span...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, remote)
	}
	line := func(s, prefix string) string {
		for l := range strings.Lines(s) {
			if strings.Contains(l, prefix) {
				return l
			}
		}
		return ""
	}
	if l, r := line(local, "secret reads:"), line(remote, "secret reads:"); l == "" || l != r {
		t.Errorf("reads in span: local %q, s3 %q", l, r)
	}
	_, bar, err := runCLI(t, append([]string{"replay", "--progress", "always", "--s3-endpoint", srv.URL, "s3://" + s3Bucket + "/AWSLogs/"}, span...)...)
	if err != nil || !strings.Contains(bar, "/6 files") || !strings.Contains(bar, "%") {
		t.Errorf("progress bar of an S3 replay (6 objects in the span's days): %v\n%q", err, bar)
	}
	for _, k := range s3test.Gets(srv.Requests(), s3Bucket) {
		if !strings.Contains(k, "/2026/03/04/") && !strings.Contains(k, "/2026/03/05/") && !strings.Contains(k, "/2026/03/06/") {
			t.Errorf("downloaded %s, outside the span's days", k)
		}
	}
}

func TestLearnS3(t *testing.T) {
	srv, _ := startS3(t)
	local, _, err := runCLI(t, "learn", "../../testdata/example")
	if err != nil {
		t.Fatal(err)
	}
	remote, e, err := runCLI(t, "learn", "--s3-endpoint", srv.URL, "s3://"+s3Bucket+"/AWSLogs/")
	if err != nil {
		t.Fatalf("%v\n%s", err, e)
	}
	strip := func(s string) string { // the header names the source
		var b strings.Builder
		for l := range strings.Lines(s) {
			if !strings.Contains(l, "../../testdata/example") && !strings.Contains(l, "s3://") {
				b.WriteString(l)
			}
		}
		return b.String()
	}
	if strip(local) != strip(remote) || !strings.Contains(remote, "allow:") {
		t.Errorf("learn from S3 differs from learn from the files:\n%s\n---\n%s", local, remote)
	}
}

func TestS3PathErrors(t *testing.T) {
	s3test.Env(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--store", ":memory:", "--config", exampleAllow, "s3://" + s3Bucket + "/", "../../testdata/example"}, "cannot be read in one run"},
		{[]string{"replay", "--store", ":memory:", "--config", exampleAllow, "s3://No_Bucket/"}, "not a bucket name"},
		{[]string{"learn", "--s3-endpoint", "not a url", "s3://" + s3Bucket + "/"}, "not a URL"},
	} {
		_, _, err := runCLI(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
