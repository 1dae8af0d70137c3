// Package s3 writes rendered reports to an S3 bucket: the HTML, CSV and JSON of one report under
// <prefix><from>--<to>/ (UTC days, to exclusive), for the scheduled weekly delivery.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/secretwatch/secretwatch/report"
)

// putAPI is the one S3 call the writer makes; *s3.Client satisfies it.
type putAPI interface {
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
}

// Writer puts reports into one bucket under one prefix.
type Writer struct {
	client         putAPI
	bucket, prefix string
}

// New returns a writer to bucket under prefix ("" or ending in "/").
func New(client putAPI, bucket, prefix string) (*Writer, error) {
	switch {
	case client == nil:
		return nil, errors.New("report: s3: nil client")
	case bucket == "" || strings.ContainsAny(bucket, "/ "):
		return nil, fmt.Errorf("report: s3: bad bucket name %q", bucket)
	case prefix != "" && !strings.HasSuffix(prefix, "/"):
		return nil, fmt.Errorf("report: s3: prefix %q must end in /", prefix)
	}
	return &Writer{client: client, bucket: bucket, prefix: prefix}, nil
}

// Formats written, with their content types.
var formats = []struct{ format, name, contentType string }{
	{"html", "report.html", "text/html; charset=utf-8"},
	{"csv", "report.csv", "text/csv; charset=utf-8"},
	{"json", "report.json", "application/json"},
}

// Dir is the key prefix of r's files.
func (w *Writer) Dir(r *report.Report) string {
	return w.prefix + r.From.UTC().Format("2006-01-02") + "--" + r.To.UTC().Format("2006-01-02") + "/"
}

// Write renders r in every format and puts each file; it returns the keys written. A rerun for
// the same period overwrites the same keys.
func (w *Writer) Write(ctx context.Context, r *report.Report) ([]string, error) {
	var keys []string
	for _, f := range formats {
		var buf bytes.Buffer
		if err := report.Write(&buf, r, f.format); err != nil {
			return keys, fmt.Errorf("report: s3: render %s: %w", f.format, err)
		}
		key := w.Dir(r) + f.name
		_, err := w.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket:        aws.String(w.bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(buf.Bytes()),
			ContentLength: aws.Int64(int64(buf.Len())),
			ContentType:   aws.String(f.contentType),
		})
		if err != nil {
			return keys, fmt.Errorf("report: s3: put s3://%s/%s: %w", w.bucket, key, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}
