// Package s3 writes rendered reports to an S3 bucket: the HTML, CSV and/or JSON of one report
// under <prefix><from>--<to>/ (UTC days, to exclusive), for the scheduled weekly delivery.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/secretwatch/secretwatch/report"
)

// putAPI is the one S3 call the writer makes; *Client satisfies it.
type putAPI interface {
	PutObject(ctx context.Context, bucket, key, contentType string, body []byte) error
}

// Writer puts reports into one bucket under one prefix.
type Writer struct {
	client         putAPI
	bucket, prefix string
	formats        []Format
}

// Format is one rendering the writer puts: report.<Name>.
type Format struct {
	Name        string // file extension
	ContentType string
	Render      func(io.Writer, *report.Report) error
}

// The formats. Functions, not variables, so that a binary links only the renderers it uses.
func HTML() Format { return Format{"html", "text/html; charset=utf-8", report.WriteHTML} }
func CSV() Format  { return Format{"csv", "text/csv; charset=utf-8", report.WriteCSV} }
func JSON() Format { return Format{"json", "application/json", report.WriteJSON} }

// New returns a writer of formats (at least one) to bucket under prefix ("" or ending in "/").
func New(client putAPI, bucket, prefix string, formats ...Format) (*Writer, error) {
	switch {
	case len(formats) == 0:
		return nil, errors.New("report: s3: no format")
	case client == nil:
		return nil, errors.New("report: s3: nil client")
	case !validBucket(bucket):
		return nil, fmt.Errorf("report: s3: bad bucket name %q", bucket)
	case prefix != "" && (!strings.HasSuffix(prefix, "/") || !validKey(prefix)):
		return nil, fmt.Errorf("report: s3: prefix %q must end in / and hold only letters, digits and /._-", prefix)
	}
	return &Writer{client: client, bucket: bucket, prefix: prefix, formats: formats}, nil
}

// Dir is the key prefix of r's files.
func (w *Writer) Dir(r *report.Report) string {
	return w.prefix + r.From.UTC().Format("2006-01-02") + "--" + r.To.UTC().Format("2006-01-02") + "/"
}

// Write renders r in each format and puts each file; it returns the keys written. A rerun for
// the same period overwrites the same keys.
func (w *Writer) Write(ctx context.Context, r *report.Report) ([]string, error) {
	var keys []string
	for _, f := range w.formats {
		var buf bytes.Buffer
		if err := f.Render(&buf, r); err != nil {
			return keys, fmt.Errorf("report: s3: render %s: %w", f.Name, err)
		}
		key := w.Dir(r) + "report." + f.Name
		if err := w.client.PutObject(ctx, w.bucket, key, f.ContentType, buf.Bytes()); err != nil {
			return keys, fmt.Errorf("report: s3: put s3://%s/%s: %w", w.bucket, key, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// validBucket admits S3 bucket names (3–63 lowercase letters, digits, '.' and '-').
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
