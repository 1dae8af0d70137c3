// Package s3test starts an in-process S3 stand-in (github.com/johannesboyne/gofakes3 in
// httptest, path-style addressing) for tests, and uploads local CloudTrail trees into it. Only
// tests import it.
package s3test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Request is one request the stand-in served.
type Request struct {
	Method    string
	Path      string // /bucket/key
	Prefix    string // a listing's prefix
	Delimiter string
}

// Server is a running stand-in.
type Server struct {
	URL     string
	Backend *s3mem.Backend
	// OnRequest, when set, is called before each request is served (tests cancel a run with it).
	OnRequest func(Request)
	mu        sync.Mutex
	log       []Request
}

// Start starts a stand-in holding bucket (empty), stopped when the test ends.
func Start(t testing.TB, bucket string) *Server {
	t.Helper()
	s := &Server{Backend: s3mem.New()}
	if err := s.Backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	h := gofakes3.New(s.Backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := Request{Method: r.Method, Path: r.URL.Path, Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter")}
		s.mu.Lock()
		s.log = append(s.log, req)
		hook := s.OnRequest
		s.mu.Unlock()
		if hook != nil {
			hook(req)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// SetOnRequest sets OnRequest safely while the server runs.
func (s *Server) SetOnRequest(f func(Request)) {
	s.mu.Lock()
	s.OnRequest = f
	s.mu.Unlock()
}

// Requests returns the requests served so far and forgets them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.log
	s.log = nil
	return out
}

// Gets are the keys of the GET requests among rs (object downloads).
func Gets(rs []Request, bucket string) []string {
	var keys []string
	for _, r := range rs {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/"+bucket+"/") && len(r.Path) > len(bucket)+2 {
			keys = append(keys, strings.TrimPrefix(r.Path, "/"+bucket+"/"))
		}
	}
	return keys
}

// UploadTree puts every regular file under dir into bucket, its key the path relative to dir
// (slash-separated) after prefix. It returns the keys.
func (s *Server) UploadTree(t testing.TB, bucket, dir, prefix string) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := prefix + filepath.ToSlash(rel)
		s.Put(t, bucket, key, p)
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Put puts the file at path into bucket under key.
func (s *Server) Put(t testing.TB, bucket, key, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backend.PutObject(bucket, key, map[string]string{}, f, fi.Size(), nil); err != nil {
		t.Fatal(err)
	}
}

// Env sets the environment an S3 client of the default credential chain needs to reach the
// stand-in: fixed credentials and region, no shared config files of the machine.
func Env(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}
