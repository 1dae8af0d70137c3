package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/secretwatch/secretwatch/report"
)

// fakeS3 starts gofakes3 (a real S3 implementation, in memory) and returns the writer's client
// and an SDK client (to read back) on it.
func fakeS3(t *testing.T, bucket string) (*Client, *awss3.Client) {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "test"}, nil
	})
	sdk := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: creds})
	return NewClient(aws.Config{Region: "us-east-1", Credentials: creds}, srv.URL), sdk
}

func sampleReport() *report.Report {
	from := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	return &report.Report{
		From: from, To: from.Add(7 * 24 * time.Hour), Generated: from.Add(8 * 24 * time.Hour),
		Secrets: []*report.Secret{{
			Secret: "111122223333/us-east-1/db", Reads: 3,
			Principals: []*report.Principal{{Principal: "arn:aws:iam::111122223333:role/app", Reads: 3, SourceIPs: []string{"10.0.0.1"}}},
		}},
	}
}

func TestWriteToS3(t *testing.T) {
	put, client := fakeS3(t, "reports")
	w, err := New(put, "reports", "secretwatch/", HTML(), CSV(), JSON())
	if err != nil {
		t.Fatal(err)
	}
	r := sampleReport()
	keys, err := w.Write(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"secretwatch/2026-03-09--2026-03-16/report.html", "secretwatch/2026-03-09--2026-03-16/report.csv", "secretwatch/2026-03-09--2026-03-16/report.json"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	get := func(key string) (string, string) {
		out, err := client.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String("reports"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		b, _ := io.ReadAll(out.Body)
		return string(b), aws.ToString(out.ContentType)
	}
	body, ct := get(want[2])
	var doc struct {
		From    string `json:"from"`
		Secrets []struct {
			Secret string `json:"secret"`
			Reads  int64  `json:"reads"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || ct != "application/json" {
		t.Fatalf("json object: %v (content type %q)", err, ct)
	}
	if len(doc.Secrets) != 1 || doc.Secrets[0].Secret != r.Secrets[0].Secret || doc.Secrets[0].Reads != 3 {
		t.Errorf("json object: %+v", doc)
	}
	if body, ct := get(want[0]); !strings.Contains(body, "<svg") && !strings.Contains(body, "<html") || !strings.HasPrefix(ct, "text/html") {
		t.Errorf("html object: %d bytes, content type %q", len(body), ct)
	}
	if body, _ := get(want[1]); !strings.Contains(body, "arn:aws:iam::111122223333:role/app") {
		t.Errorf("csv object lacks the principal: %q", body)
	}
}

// A refused put (no such bucket) is an error naming S3's code, returned without retrying.
func TestPutErrors(t *testing.T) {
	put, _ := fakeS3(t, "reports")
	err := put.PutObject(t.Context(), "missing-bucket", "k/report.json", "application/json", []byte("{}"))
	var se *Error
	if !errors.As(err, &se) || se.Status != 404 || se.Code != "NoSuchBucket" {
		t.Fatalf("put to a missing bucket: %v", err)
	}
	for _, k := range []string{"", "/abs", "a//b", "a/../b", "a b", "é"} {
		if err := put.PutObject(t.Context(), "reports", k, "text/plain", nil); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

func TestNewRejects(t *testing.T) {
	client := NewClient(aws.Config{Region: "us-east-1"}, "")
	for _, tc := range []struct{ bucket, prefix string }{{"", ""}, {"a/b", ""}, {"Bucket", ""}, {"bucket", "noslash"}, {"bucket", "a b/"}} {
		if _, err := New(client, tc.bucket, tc.prefix, JSON()); err == nil {
			t.Errorf("New(%q, %q): no error", tc.bucket, tc.prefix)
		}
	}
	if _, err := New(nil, "bucket", "", JSON()); err == nil {
		t.Error("New(nil client): no error")
	}
	if _, err := New(client, "bucket", ""); err == nil {
		t.Error("New without a format: no error")
	}
}

// The request is signed for S3 (Signature Version 4, payload hash header signed) and sent
// path-style to the configured endpoint.
func TestPutSigned(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	c := NewClient(aws.Config{Region: "eu-west-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "x", SessionToken: "tok"}, nil
	})}, srv.URL)
	c.now = func() time.Time { return time.Date(2026, 3, 16, 6, 0, 0, 0, time.UTC) }
	if err := c.PutObject(t.Context(), "reports", "p/2026-03-09--2026-03-16/report.csv", "text/csv", []byte("a,b\n")); err != nil {
		t.Fatal(err)
	}
	auth := got.Header.Get("Authorization")
	for _, want := range []string{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260316/eu-west-1/s3/aws4_request", "x-amz-content-sha256", "x-amz-security-token", "Signature="} {
		if !strings.Contains(auth, want) && !strings.Contains(strings.ToLower(auth), want) {
			t.Errorf("Authorization %q lacks %q", auth, want)
		}
	}
	sum := sha256.Sum256([]byte("a,b\n"))
	if got.Method != http.MethodPut || got.URL.Path != "/reports/p/2026-03-09--2026-03-16/report.csv" || string(body) != "a,b\n" ||
		got.Header.Get("X-Amz-Content-Sha256") != hex.EncodeToString(sum[:]) || got.Header.Get("Content-Type") != "text/csv" {
		t.Errorf("request %s %s body %q", got.Method, got.URL.Path, body)
	}
}
