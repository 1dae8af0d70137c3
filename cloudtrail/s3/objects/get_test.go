package objects

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The signed GET: path-style against an endpoint with every key segment escaped once, a SigV4
// Authorization for service s3 and the empty payload's hash, and S3's error documents turned
// into StatusError with the code (retryable for throttling and server errors only).
func TestHTTPGetter(t *testing.T) {
	var seen *http.Request
	status, body := http.StatusOK, "object"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	g := &HTTPGetter{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), Endpoint: srv.URL}

	rc, err := g.Get(t.Context(), "trail-bucket", "AWSLogs/o-ab12/111122223333/CloudTrail/x y+z=.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "object" {
		t.Errorf("body %q", b)
	}
	if want := "/trail-bucket/AWSLogs/o-ab12/111122223333/CloudTrail/x%20y%2Bz%3D.json.gz"; seen.URL.EscapedPath() != want {
		t.Errorf("path %q, want %q", seen.URL.EscapedPath(), want)
	}
	auth := seen.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(auth, "/eu-west-1/s3/aws4_request") ||
		seen.Header.Get("X-Amz-Content-Sha256") != emptyPayloadHash || seen.Header.Get("X-Amz-Date") == "" {
		t.Errorf("not signed for S3: %q %v", auth, seen.Header)
	}

	for _, tc := range []struct {
		status    int
		body      string
		code      string
		retryable bool
	}{
		{404, "<Error><Code>NoSuchKey</Code><Message>x</Message></Error>", "NoSuchKey", false},
		{403, "<Error><Code>AccessDenied</Code></Error>", "AccessDenied", false},
		{503, "<Error><Code>SlowDown</Code></Error>", "SlowDown", true},
		{500, "not xml", "", true},
	} {
		status, body = tc.status, tc.body
		_, err := g.Get(t.Context(), "trail-bucket", "k")
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != tc.status || se.Code != tc.code || se.Retryable() != tc.retryable {
			t.Errorf("HTTP %d: %v", tc.status, err)
		}
	}
	if _, err := g.Get(t.Context(), "Not_A_Bucket", "k"); err == nil {
		t.Error("an invalid bucket name was requested")
	}
}
