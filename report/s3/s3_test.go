package s3

import (
	"context"
	"encoding/json"
	"io"
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

// fakeS3 starts gofakes3 (a real S3 implementation, in memory) and returns a client on it.
func fakeS3(t *testing.T, bucket string) *awss3.Client {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	return awss3.New(awss3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "test"}, nil
		}),
	})
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
	client := fakeS3(t, "reports")
	w, err := New(client, "reports", "secretwatch/")
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

func TestNewRejects(t *testing.T) {
	client := awss3.New(awss3.Options{Region: "us-east-1"})
	for _, tc := range []struct{ bucket, prefix string }{{"", ""}, {"a/b", ""}, {"b", "noslash"}} {
		if _, err := New(client, tc.bucket, tc.prefix); err == nil {
			t.Errorf("New(%q, %q): no error", tc.bucket, tc.prefix)
		}
	}
	if _, err := New(nil, "b", ""); err == nil {
		t.Error("New(nil client): no error")
	}
}
