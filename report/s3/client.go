package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client is a minimal S3 client: PutObject only, signed with Signature Version 4 by the SDK's
// signer, over net/http. Not aws-sdk-go-v2/service/s3: that client alone makes the arm64 Lambda
// bootstrap 8.5 MB larger (18.7 MB instead of 10.2 MB, measured with scripts/build-lambda.sh's
// flags), and the Lambda needs one call. The tests check it against gofakes3, a real S3
// implementation, and read the objects back with service/s3.
type Client struct {
	HTTP        *http.Client
	Credentials aws.CredentialsProvider
	Region      string
	// Endpoint, when set (e.g. a stand-in), is used path-style: Endpoint/bucket/key. Otherwise
	// requests go to https://bucket.s3.Region.amazonaws.com/key (virtual-hosted style).
	Endpoint string
	signer   *v4.Signer
	now      func() time.Time
}

// NewClient returns a client with the region and credentials of cfg.
func NewClient(cfg aws.Config, endpoint string) *Client {
	return &Client{HTTP: &http.Client{Timeout: 30 * time.Second}, Credentials: cfg.Credentials, Region: cfg.Region, Endpoint: strings.TrimSuffix(endpoint, "/")}
}

// maxAttempts bounds the attempts of one PutObject (throttling, 5xx, network errors).
const maxAttempts = 3

// Error is an error response of S3.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("s3: %d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Code == "SlowDown" || e.Code == "RequestTimeout"
}

// PutObject puts body at bucket/key. Keys are written as given; see validKey.
func (c *Client) PutObject(ctx context.Context, bucket, key, contentType string, body []byte) error {
	if c.Credentials == nil || c.Region == "" {
		return errors.New("s3: client without region or credentials")
	}
	if !validKey(key) {
		return fmt.Errorf("s3: key %q: only letters, digits and /._- are written", key)
	}
	u := "https://" + bucket + ".s3." + c.Region + ".amazonaws.com/" + key
	if c.Endpoint != "" {
		u = c.Endpoint + "/" + bucket + "/" + key
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err = c.put(ctx, u, contentType, hash, body); err == nil {
			return nil
		}
		var se *Error
		if errors.As(err, &se) && !se.retryable() || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(rand.N(time.Duration(attempt) * 200 * time.Millisecond)):
		}
	}
	return err
}

func (c *Client) put(ctx context.Context, u, contentType, hash string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("s3: credentials: %w", err)
	}
	if c.signer == nil {
		c.signer = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	if err := c.signer.SignHTTP(ctx, creds, req, hash, "s3", c.Region, now().UTC()); err != nil {
		return fmt.Errorf("s3: sign: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &Error{Status: resp.StatusCode}
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(msg, &x) == nil {
		e.Code, e.Message = x.Code, x.Message
	}
	return fmt.Errorf("s3: put %s: %w", redact(u), e)
}

// validKey admits the keys the writer builds: a configured prefix and dates.
func validKey(k string) bool {
	if k == "" || len(k) > 1024 || strings.HasPrefix(k, "/") || strings.Contains(k, "//") || strings.Contains(k, "..") {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-", r)) {
			return false
		}
	}
	return true
}

// redact drops a URL's query (never present here, but signatures live there when presigned).
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(bad URL)"
	}
	p.RawQuery = ""
	return p.String()
}
