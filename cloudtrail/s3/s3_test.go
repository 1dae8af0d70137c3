package s3_test

import (
	"context"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/secretwatch/secretwatch/cloudtrail"
	cts3 "github.com/secretwatch/secretwatch/cloudtrail/s3"
	"github.com/secretwatch/secretwatch/internal/s3test"
)

const bucket = "trail-bucket"

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    cts3.URI
		wantErr string
	}{
		{in: "s3://b-1.x", want: cts3.URI{Bucket: "b-1.x"}},
		{in: "s3://bucket/", want: cts3.URI{Bucket: "bucket"}},
		{in: "s3://bucket/AWSLogs/o-abc/", want: cts3.URI{Bucket: "bucket", Prefix: "AWSLogs/o-abc/"}},
		{in: "s3://Bucket/x", wantErr: "not a bucket name"},
		{in: "s3://ab", wantErr: "not a bucket name"},
		{in: "s3:///x", wantErr: "not a bucket name"},
		{in: "http://bucket/x", wantErr: "does not start with"},
		{in: "s3://bucket/" + strings.Repeat("k", 1025), wantErr: "longer than"},
	} {
		got, err := cts3.ParseURI(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%.40s: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v", tc.in, got, err)
		}
	}
}

// newClient is an S3 client of the default chain against a stand-in holding the bundled
// example trail under prefix.
func newClient(t *testing.T, prefix string) (*s3test.Server, cts3.API) {
	t.Helper()
	s3test.Env(t)
	srv := s3test.Start(t, bucket)
	srv.UploadTree(t, bucket, "../../testdata/example/AWSLogs", prefix)
	// Next to the logs, what a trail bucket also holds: digests, Insights, a marker object.
	srv.Put(t, bucket, prefix+"111122223333/CloudTrail-Digest/eu-west-1/2026/03/02/111122223333_CloudTrail-Digest_eu-west-1_t_20260302T0000Z.json.gz", "../../testdata/example/allowlist.yaml")
	srv.Put(t, bucket, prefix+"111122223333/CloudTrail-Insight/eu-west-1/2026/03/02/111122223333_CloudTrailInsight_eu-west-1_20260302T0000Z_x.json.gz", "../../testdata/example/allowlist.yaml")
	srv.Put(t, bucket, prefix+"111122223333/CloudTrail/eu-west-1/2026/03/02/marker.txt", "../../testdata/example/allowlist.yaml")
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c, err := cts3.NewFromConfig(cfg, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv.Requests()
	return srv, c
}

// localFiles are the example's log files in cloudtrail.Files order, as keys under prefix.
func localFiles(t *testing.T, prefix string, keep func(string) bool) []string {
	t.Helper()
	root := "../../testdata/example/AWSLogs"
	files, err := cloudtrail.Files([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		if k := prefix + filepath.ToSlash(rel); keep == nil || keep(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func keys(objs []cts3.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func TestListWholeTrail(t *testing.T) {
	srv, c := newClient(t, "AWSLogs/")
	for _, root := range []string{"s3://" + bucket, "s3://" + bucket + "/AWSLogs/", "s3://" + bucket + "/AWSLogs"} {
		u, err := cts3.ParseURI(root)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := cts3.List(t.Context(), c, u, cts3.Span{})
		if err != nil {
			t.Fatal(err)
		}
		// The same files in the same order as a local replay of the tree; no digest, no Insights.
		if want := localFiles(t, "AWSLogs/", nil); !slices.Equal(keys(objs), want) || len(want) == 0 {
			t.Errorf("%s: listed\n%q\nwant\n%q", root, keys(objs), want)
		}
		for _, r := range srv.Requests() {
			if strings.Contains(r.Prefix, "Digest") || strings.Contains(r.Prefix, "Insight") {
				t.Errorf("listed %s", r.Prefix)
			}
		}
	}
}

// With --from/--to, only the day prefixes of the span (and the next day) are listed below the
// regions: no listing of years, months or other days.
func TestListNarrowsToDays(t *testing.T) {
	srv, c := newClient(t, "logs/AWSLogs/")
	span := cts3.Span{From: date("2026-03-04"), To: date("2026-03-06")} // [4th, 6th): the 4th and 5th
	objs, err := cts3.List(t.Context(), c, cts3.URI{Bucket: bucket, Prefix: "logs/"}, span)
	if err != nil {
		t.Fatal(err)
	}
	inDays := func(k string) bool {
		for _, d := range []string{"/2026/03/04/", "/2026/03/05/", "/2026/03/06/"} {
			if strings.Contains(k, d) {
				return true
			}
		}
		return false
	}
	want := localFiles(t, "logs/AWSLogs/", inDays)
	if !slices.Equal(keys(objs), want) || len(want) == 0 {
		t.Errorf("listed\n%q\nwant\n%q", keys(objs), want)
	}
	var listed []string
	for _, r := range srv.Requests() {
		if r.Method != "GET" || r.Path != "/"+bucket || r.Prefix == "" && r.Delimiter == "" {
			continue
		}
		listed = append(listed, r.Prefix+" "+r.Delimiter)
	}
	wantListed := []string{
		"logs/ /", "logs/AWSLogs/ /", "logs/AWSLogs/111122223333/ /", "logs/AWSLogs/111122223333/CloudTrail/ /",
	}
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		for _, d := range []string{"04", "05", "06"} {
			wantListed = append(wantListed, "logs/AWSLogs/111122223333/CloudTrail/"+region+"/2026/03/"+d+"/ ")
		}
	}
	if !slices.Equal(listed, wantListed) {
		t.Errorf("listings\n%q\nwant\n%q", listed, wantListed)
	}
}

// Without a --to the years, months and days are listed, and those before --from left out.
func TestListOpenSpan(t *testing.T) {
	_, c := newClient(t, "AWSLogs/")
	objs, err := cts3.List(t.Context(), c, cts3.URI{Bucket: bucket, Prefix: "AWSLogs/111122223333/CloudTrail/eu-west-1/"}, cts3.Span{From: date("2026-03-09")})
	if err != nil {
		t.Fatal(err)
	}
	want := localFiles(t, "AWSLogs/", func(k string) bool {
		return strings.Contains(k, "/eu-west-1/") && strings.Compare(k[strings.Index(k, "/2026/"):], "/2026/03/09/") >= 0
	})
	if !slices.Equal(keys(objs), want) || len(want) == 0 {
		t.Errorf("listed\n%q\nwant\n%q", keys(objs), want)
	}
	// A single object's key is that object.
	one := want[0]
	objs, err = cts3.List(t.Context(), c, cts3.URI{Bucket: bucket, Prefix: one}, cts3.Span{})
	if err != nil || !slices.Equal(keys(objs), []string{one}) {
		t.Errorf("one object: %q, %v", keys(objs), err)
	}
}

// Reading the objects through the decoder yields what reading the same files locally yields,
// item for item, whatever the number of workers; a missing object is one unreadable item.
func TestStreamsReadAsFiles(t *testing.T) {
	srv, c := newClient(t, "AWSLogs/")
	creds, err := aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("k", "s", "")).Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	getters := map[string]cts3.Getter{
		"sdk":  cts3.SDKGetter{API: c},
		"http": &cts3.HTTPGetter{Region: "us-east-1", Credentials: credentials.StaticCredentialsProvider{Value: creds}, Endpoint: srv.URL},
	}
	objs, err := cts3.List(t.Context(), c, cts3.URI{Bucket: bucket}, cts3.Span{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := cloudtrail.Files([]string{"../../testdata/example/AWSLogs"})
	var want []string
	for it := range cloudtrail.Read(t.Context(), files) {
		want = append(want, string(it.Raw))
	}
	for name, g := range getters {
		for _, workers := range []int{1, 3} {
			if name == "http" && workers == 1 {
				continue // the worker count is the reader's business; one run of each getter suffices
			}
			var got []string
			for it := range cloudtrail.ReadStreams(t.Context(), cts3.Streams(g, objs), cloudtrail.WithWorkers(workers)) {
				if it.Err != nil {
					t.Fatalf("%s: %v", it.Source, it.Err)
				}
				if !strings.HasPrefix(it.Source, "s3://"+bucket+"/AWSLogs/") {
					t.Fatalf("source %q", it.Source)
				}
				got = append(got, string(it.Raw))
			}
			if !slices.Equal(got, want) || len(want) < 100 {
				t.Errorf("%s, workers %d: %d items, want %d (same order)", name, workers, len(got), len(want))
			}
		}
		missing := []cts3.Object{{Bucket: bucket, Key: "AWSLogs/none.json.gz"}}
		var items []cloudtrail.Item
		for it := range cloudtrail.ReadStreams(t.Context(), cts3.Streams(g, missing)) {
			items = append(items, it)
		}
		if len(items) != 1 || items[0].Record != nil || !strings.Contains(items[0].Err.Error(), "unreadable") || items[0].Source != "s3://"+bucket+"/AWSLogs/none.json.gz" {
			t.Errorf("%s: missing object: %+v", name, items)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var last cloudtrail.Item
	for it := range cloudtrail.ReadStreams(ctx, cts3.Streams(cts3.SDKGetter{API: c}, objs)) {
		last = it
	}
	if last.Err == nil || !strings.Contains(last.Err.Error(), "canceled") {
		t.Errorf("cancelled read ends with %+v", last)
	}
}

// FuzzParseURI: any string parses to a valid bucket and a bounded prefix that print back to the
// input, or is refused.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"s3://bucket/AWSLogs/", "s3://b", "s3://a.b-c/x/y", "s3:///", "s3://UP/x", "s3://bucket/\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := cts3.ParseURI(s)
		if err != nil {
			return
		}
		if len(u.Bucket) < 3 || len(u.Bucket) > 63 || len(u.Prefix) > 1024 || strings.ContainsAny(u.Bucket, "/ \n") {
			t.Fatalf("%q parsed to %+v", s, u)
		}
		if got := u.String(); got != s && got != s+"/" {
			t.Fatalf("%q printed back as %q", s, got)
		}
	})
}
