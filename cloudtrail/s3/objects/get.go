package objects

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Getter opens one object for reading. The SDK client (through SDKGetter) and HTTPGetter both
// are one.
type Getter interface {
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// HTTPGetter reads objects with one signed HTTP GET each (Signature Version 4), without the S3
// SDK client: the Lambda, which only ever reads whole objects, stays small (the client and what
// it links — multi-region signing, event streams — are over 1 MB of the bootstrap).
type HTTPGetter struct {
	Region      string
	Credentials aws.CredentialsProvider
	// Endpoint, when set (a stand-in such as gofakes3), is used with path-style addressing;
	// otherwise the regional virtual-hosted endpoint https://BUCKET.s3.REGION.amazonaws.com.
	Endpoint string
	Client   *http.Client // nil: http.DefaultClient
}

// signer signs S3 requests; it is safe for concurrent use (its key cache is locked), and S3
// wants the path as sent, escaped once (escapePath), not escaped again by the signer.
var signer = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

// emptyPayloadHash is the SHA-256 of an empty body, as a GET sends.
var emptyPayloadHash = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// Get implements Getter. It is safe for concurrent use.
func (g *HTTPGetter) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	if !validBucket(bucket) {
		return nil, fmt.Errorf("s3: %q is not a bucket name", clip(bucket))
	}
	if g.Region == "" || g.Credentials == nil {
		return nil, errors.New("s3: no region or credentials")
	}
	var u *url.URL
	if g.Endpoint != "" {
		base, err := url.Parse(g.Endpoint)
		if err != nil || base.Scheme == "" || base.Host == "" {
			return nil, fmt.Errorf("s3: endpoint %q is not a URL (http://host:port)", clip(g.Endpoint))
		}
		u = base.JoinPath(bucket, key)
	} else {
		u = &url.URL{Scheme: "https", Host: bucket + ".s3." + g.Region + ".amazonaws.com", Path: "/" + key}
	}
	// S3 signs the path as sent: each segment escaped once, slashes kept.
	u.RawPath = escapePath(u.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("s3: get s3://%s/%s: %w", bucket, clip(key), err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptyPayloadHash)
	creds, err := g.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3: credentials: %w", err)
	}
	if err := signer.SignHTTP(ctx, creds, req, emptyPayloadHash, "s3", g.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("s3: sign: %w", err)
	}
	client := g.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("s3: get s3://%s/%s: %w", bucket, clip(key), err)
	}
	if res.StatusCode != http.StatusOK {
		// The error document names the code (NoSuchKey, AccessDenied, SlowDown); read a little of it.
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		res.Body.Close()
		return nil, &StatusError{StatusCode: res.StatusCode, Code: xmlCode(string(b))}
	}
	return res.Body, nil
}

// StatusError is a GET answered with another status than 200. Retryable says whether a retry can
// fix it (throttling, a server error): the Lambda then fails the invocation so that it is retried.
type StatusError struct {
	StatusCode int
	Code       string // S3's error code, when the body named one
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("s3: HTTP %d %s", e.StatusCode, e.Code)
}

// Retryable reports whether a retry can fix the error.
func (e *StatusError) Retryable() bool { return e.StatusCode == 429 || e.StatusCode >= 500 }

// xmlCode extracts <Code>…</Code> from an S3 error document (bounded, no XML parser needed).
func xmlCode(body string) string {
	_, rest, ok := strings.Cut(body, "<Code>")
	if !ok {
		return ""
	}
	code, _, ok := strings.Cut(rest, "</Code>")
	if !ok || len(code) > 64 {
		return ""
	}
	return code
}

// escapePath encodes each segment of p as SigV4's canonical URI wants it for S3 (RFC 3986:
// everything but A–Z a–z 0–9 - _ . ~ as %XX), slashes kept.
func escapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
