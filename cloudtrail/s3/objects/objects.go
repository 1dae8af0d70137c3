// Package objects names the CloudTrail log files of an S3 bucket (s3://bucket/prefix, objects)
// and reads them with one signed HTTP GET each, streamed through the cloudtrail decoder. It links
// no S3 SDK client: the Lambda's backfill imports it and stays small. Listing a bucket (which
// needs the client) is cloudtrail/s3's.
package objects

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// Scheme starts every S3 path: s3://bucket/prefix.
const Scheme = "s3://"

// IsURI reports whether a path names S3 (s3://…) rather than a local file.
func IsURI(p string) bool { return strings.HasPrefix(p, Scheme) }

// URI is a parsed s3://bucket/prefix.
type URI struct {
	Bucket, Prefix string
}

func (u URI) String() string { return Scheme + u.Bucket + "/" + u.Prefix }

// ParseURI parses s3://bucket[/prefix]. The bucket name must be a valid S3 bucket name (3 to 63
// lower-case letters, digits, dots and hyphens); the prefix is taken as it is.
func ParseURI(s string) (URI, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return URI{}, fmt.Errorf("s3: %q does not start with %s", clip(s), Scheme)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !validBucket(bucket) {
		return URI{}, fmt.Errorf("s3: %q: %q is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", clip(s), clip(bucket))
	}
	if len(prefix) > 1024 {
		return URI{}, fmt.Errorf("s3: %q: the prefix is longer than an S3 key may be (1024 bytes)", clip(s))
	}
	return URI{Bucket: bucket, Prefix: prefix}, nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for _, c := range []byte(b) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Object is one log file in a bucket.
type Object struct {
	Bucket, Key string
	Size        int64
}

// Name is the object as a path: s3://bucket/key (the Source of its items).
func (o Object) Name() string { return Scheme + o.Bucket + "/" + o.Key }

// Streams are the objects as inputs of cloudtrail.ReadStreams, each opened through g when a
// worker reads it, and streamed through the decoder (never held whole).
func Streams(g Getter, objs []Object) []cloudtrail.Stream {
	out := make([]cloudtrail.Stream, len(objs))
	for i, o := range objs {
		out[i] = cloudtrail.Stream{Name: o.Name(), Open: func(ctx context.Context) (io.ReadCloser, error) {
			body, err := g.Get(ctx, o.Bucket, o.Key)
			if err != nil {
				return nil, fmt.Errorf("s3: get %s: %w", o.Name(), err)
			}
			return body, nil
		}}
	}
	return out
}
