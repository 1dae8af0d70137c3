// Package s3 reads CloudTrail log files straight from an S3 bucket: it lists the CloudTrail key
// layout (AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/), narrowed to a time span on the
// date path without listing the rest, and streams each object through the cloudtrail decoder
// (cloudtrail.ReadStreams). It is the only package of the CLI that imports the S3 client; the
// detector never does.
package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/cloudtrail/s3/objects"
)

// API is what this package needs of an S3 client (*s3.Client has it).
type API interface {
	ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, opts ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *awss3.GetObjectInput, opts ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
}

// The SDK-free part — paths, objects, reading them — lives in cloudtrail/s3/objects, which the
// Lambda imports without linking the S3 client; these names are its, for the CLI's convenience.
const Scheme = objects.Scheme

type (
	URI        = objects.URI
	Object     = objects.Object
	Getter     = objects.Getter
	HTTPGetter = objects.HTTPGetter
)

var (
	IsURI    = objects.IsURI
	ParseURI = objects.ParseURI
	Streams  = objects.Streams
)

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Span narrows a listing by event time, [From, To); a zero bound is open.
type Span struct {
	From, To time.Time
}

// days is the delivery days whose directories may hold events of the span: CloudTrail files
// under YYYY/MM/DD/ were delivered that day (UTC), within minutes of their events, so the day
// after the span's end is read too (events just before midnight); records outside the span are
// then left out by their event time.
func (s Span) days(day time.Time) bool {
	if !s.From.IsZero() && !day.AddDate(0, 0, 1).After(s.From.UTC().Truncate(24*time.Hour)) {
		return false
	}
	return s.To.IsZero() || day.Before(s.To.UTC().Add(24*time.Hour))
}

// interval reports whether any day of [start, end) may hold events of the span.
func (s Span) overlaps(start, end time.Time) bool {
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		if s.days(d) {
			return true
		}
	}
	return false
}

// maxDays bounds the day prefixes enumerated at a region without listing (10 years): beyond,
// the years, months and days are listed instead.
const maxDays = 3660

// List returns the CloudTrail log objects under u whose delivery day may hold events of span,
// sorted as cloudtrail.Files sorts files: by the time in their names, then by key. It lists
// the levels above the regions with Delimiter "/" (skipping CloudTrail-Digest and
// CloudTrail-Insight), then, inside each region, only the day prefixes of the span. A prefix
// that is itself a log file's key is that object.
func List(ctx context.Context, api API, u URI, span Span) ([]Object, error) {
	l := lister{api: api, bucket: u.Bucket, span: span}
	p := u.Prefix
	switch {
	case p != "" && !strings.HasSuffix(p, "/") && cloudtrail.IsLogName(path.Base(p)):
		if err := l.objects(ctx, p, ""); err != nil {
			return nil, err
		}
	case p != "" && !strings.HasSuffix(p, "/"):
		p += "/"
		fallthrough
	default:
		if err := l.walk(ctx, p); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(l.found, func(a, b Object) int {
		return cmp.Or(cloudtrail.LogTime(path.Base(a.Key)).Compare(cloudtrail.LogTime(path.Base(b.Key))), strings.Compare(a.Key, b.Key))
	})
	return l.found, nil
}

type lister struct {
	api    API
	bucket string
	span   Span
	found  []Object
	calls  int
}

// level is where a prefix (ending in "/") sits below the last CloudTrail/ segment: 0 above or
// at it (or outside the layout), 1 a region, 2 a year, 3 a month, 4 a day or deeper. date is
// the start of the year, month or day.
func level(prefix string) (int, time.Time) {
	segs := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	at := -1
	for i, s := range segs {
		if s == "CloudTrail" {
			at = i
		}
	}
	if at < 0 || len(segs)-1-at <= 0 {
		return 0, time.Time{}
	}
	depth := len(segs) - 1 - at
	if depth == 1 {
		return 1, time.Time{}
	}
	nums := segs[at+2:]
	var ymd [3]int
	for i := 0; i < len(nums) && i < 3; i++ {
		n, err := strconv.Atoi(nums[i])
		if err != nil || n < 0 {
			return 4, time.Time{} // not a date: read what is there
		}
		ymd[i] = n
	}
	switch depth {
	case 2:
		return 2, time.Date(ymd[0], 1, 1, 0, 0, 0, 0, time.UTC)
	case 3:
		return 3, time.Date(ymd[0], time.Month(ymd[1]), 1, 0, 0, 0, 0, time.UTC)
	}
	return 4, time.Date(ymd[0], time.Month(ymd[1]), ymd[2], 0, 0, 0, 0, time.UTC)
}

func (l *lister) walk(ctx context.Context, prefix string) error {
	lv, date := level(prefix)
	switch lv {
	case 0:
		return l.objects(ctx, prefix, "/")
	case 1:
		if !l.span.From.IsZero() && !l.span.To.IsZero() {
			from := l.span.From.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
			to := l.span.To.UTC().Add(24 * time.Hour)
			if to.Sub(from) <= maxDays*24*time.Hour {
				for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
					if !l.span.days(d) {
						continue
					}
					if err := l.objects(ctx, prefix+d.Format("2006/01/02/"), ""); err != nil {
						return err
					}
				}
				return nil
			}
		}
		return l.objects(ctx, prefix, "/")
	case 2:
		if !l.span.overlaps(date, date.AddDate(1, 0, 0)) {
			return nil
		}
		return l.objects(ctx, prefix, "/")
	case 3:
		if !l.span.overlaps(date, date.AddDate(0, 1, 0)) {
			return nil
		}
		return l.objects(ctx, prefix, "/")
	}
	if !date.IsZero() && !l.span.days(date) {
		return nil
	}
	return l.objects(ctx, prefix, "")
}

// objects lists prefix: the log objects it holds are kept, and with a delimiter each common
// prefix is walked in turn.
func (l *lister) objects(ctx context.Context, prefix, delimiter string) error {
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	var subs []string
	for p := awss3.NewListObjectsV2Paginator(l.api, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		l.calls++
		if err != nil {
			return fmt.Errorf("s3: list s3://%s/%s: %w", l.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !cloudtrail.IsLogName(path.Base(key)) || strings.Contains(key, "/CloudTrail-Digest/") {
				continue
			}
			l.found = append(l.found, Object{Bucket: l.bucket, Key: key, Size: aws.ToInt64(o.Size)})
		}
		for _, cp := range page.CommonPrefixes {
			subs = append(subs, aws.ToString(cp.Prefix))
		}
	}
	for _, sub := range subs {
		switch path.Base(sub) {
		case "CloudTrail-Digest", "CloudTrail-Insight":
			continue
		}
		if err := l.walk(ctx, sub); err != nil {
			return err
		}
	}
	return nil
}

// NewFromConfig is an S3 client of cfg (its credentials and region). A non-empty endpoint (a
// stand-in such as gofakes3 or s3rver) is used with path-style addressing.
func NewFromConfig(cfg aws.Config, endpoint string) (*awss3.Client, error) {
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("s3: endpoint %q is not a URL (http://host:port)", clip(endpoint))
		}
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
	}
	if cfg.Region == "" {
		return nil, errors.New("s3: no AWS region: set AWS_REGION (or a region in the AWS config profile)")
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		// Objects CloudTrail wrote without a checksum must not log a line each on stderr.
		o.DisableLogOutputChecksumValidationSkipped = true
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}
