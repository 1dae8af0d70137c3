package main

// Helpers of the end-to-end tests (e2e_test.go) and benchmarks (bench_test.go): the real
// stand-ins of .ci/standins.sh (dynalite, goaws, the Lambda Runtime Interface Emulator running
// the built bootstrap), a counting DynamoDB proxy that can kill a private dynalite at an exact
// request, and readers of what the table and the queues hold. Everything listens on 127.0.0.1.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/secretwatch/secretwatch/internal/goawstest"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	ddbstore "github.com/secretwatch/secretwatch/baseline/dynamodb"
	"github.com/secretwatch/secretwatch/internal/testenv"
)

// Environment of the stand-ins, exported by standins_start in .ci/standins.sh.
const (
	envTestDynamo   = "SECRETWATCH_TEST_DYNAMODB"
	envTestSNS      = "SECRETWATCH_TEST_SNS"
	envTestRIE      = "SECRETWATCH_TEST_RIE"
	envTestDynalite = "SECRETWATCH_TEST_DYNALITE"
	envTestNode     = "SECRETWATCH_TEST_NODE"
)

const (
	e2eAllowList = "../../testdata/lambda/allowlist.yaml"
	e2eCorpus    = "../../testdata/detector/stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"
	e2eAccount   = "100010001000" // goaws' account in .ci/standins.sh
)

// needEnv returns the named variables, or skips the test naming the ones that are unset.
func needEnv(tb testing.TB, names ...string) map[string]string {
	tb.Helper()
	got := map[string]string{}
	var missing []string
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			got[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		testenv.Unavailable(tb, "%s not set: this test runs the Lambda against the local stand-ins; start them with "+
			"`source .ci/standins.sh && standins_install && standins_start` (it exports %s)",
			strings.Join(missing, ", "), strings.Join(names, ", "))
	}
	return got
}

// freeAddr returns a loopback address nothing listens on (the kernel picks the port).
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitTCP waits until addr accepts connections, while alive says the server's process runs.
func waitTCP(addr string, d time.Duration, alive func() bool) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if alive != nil && !alive() {
			return errors.New("process exited")
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not accepting connections after %s", addr, d)
}

// ---- bootstrap ----

// buildFlags are the flags of scripts/build-lambda.sh (and of the issue).
var buildFlags = []string{"build", "-tags", "lambda.norpc cloudtrail_stdjson", "-trimpath", "-ldflags=-s -w -buildid="}

// buildBootstrap builds this package as bootstrap for linux/goarch into a new directory, with
// the test allow-list beside it as allowlist.yaml: a Lambda task root.
func buildBootstrap(tb testing.TB, goarch string) string {
	tb.Helper()
	dir := tb.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append(slices.Clone(buildFlags), "-o", filepath.Join(dir, "bootstrap"), ".")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build bootstrap: %v\n%s", err, out)
	}
	allow, err := os.ReadFile(e2eAllowList)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "allowlist.yaml"), allow, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// ---- the emulator ----

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// emulator is aws-lambda-rie running bootstrap, invoked over HTTP one request at a time (two
// concurrent invocations crash it).
type emulator struct {
	tb      testing.TB
	url     string
	cmd     *exec.Cmd
	out     *syncBuffer
	client  *http.Client
	exited  chan struct{}
	mu      sync.Mutex
	stopped bool
}

// lambdaEnv is the environment of a function under the emulator: the stand-ins' endpoints,
// static credentials, and a HOME without AWS files so nothing else is read.
func lambdaEnv(tb testing.TB, taskDir, table, topicARN, ddbEndpoint, snsEndpoint string) map[string]string {
	return map[string]string{
		"PATH":                            "/usr/bin:/bin",
		"HOME":                            tb.TempDir(),
		"AWS_REGION":                      "us-east-1",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_LAMBDA_FUNCTION_NAME":        "secretwatch",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "120",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"LAMBDA_TASK_ROOT":                taskDir,
		"AWS_ENDPOINT_URL_DYNAMODB":       ddbEndpoint,
		"AWS_ENDPOINT_URL_SNS":            snsEndpoint,
		envTable:                          table,
		envTopicARN:                       topicARN,
	}
}

// startEmulator starts aws-lambda-rie with bootstrap in taskDir, on free loopback ports (both
// address flags), and waits until it accepts invocations. t.Cleanup stops it and its runtime by
// PID.
func startEmulator(tb testing.TB, rie, taskDir string, env map[string]string) *emulator {
	tb.Helper()
	addr, apiAddr := freeAddr(tb), freeAddr(tb)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr,
		filepath.Join(taskDir, "bootstrap"))
	cmd.Dir = taskDir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	e := &emulator{tb: tb, url: "http://" + addr + "/2015-03-31/functions/function/invocations", cmd: cmd,
		out: &syncBuffer{}, client: &http.Client{Timeout: 5 * time.Minute}}
	cmd.Stdout, cmd.Stderr = e.out, e.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // gone with the test process, even if it is killed
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", rie, err)
	}
	exited := make(chan struct{})
	e.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		e.stop()
		if tb.Failed() {
			tb.Logf("emulator output (last 6000 bytes):\n%s", lastBytes(e.out.String(), 6000))
		}
	})
	alive := func() bool {
		select {
		case <-exited:
			return false
		default:
			return true
		}
	}
	if err := waitTCP(addr, 15*time.Second, alive); err != nil {
		tb.Fatalf("emulator on %s: %v\n%s", addr, err, e.out.String())
	}
	return e
}

// stop kills the emulator's process group and the runtime's (the emulator starts bootstrap in a
// group of its own), and waits for both to be gone.
func (e *emulator) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	e.stopped = true
	pid := e.cmd.Process.Pid
	kids := childPIDs(pid)
	syscall.Kill(-pid, syscall.SIGKILL)
	for _, k := range kids {
		syscall.Kill(-k, syscall.SIGKILL)
		syscall.Kill(k, syscall.SIGKILL)
	}
	select {
	case <-e.exited:
	case <-time.After(10 * time.Second):
		e.tb.Errorf("emulator pid %d did not exit", pid)
	}
	for _, k := range kids {
		for i := 0; i < 100 && processAlive(k); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, ent := range ents {
		p, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if pp, _ := procParent(p); pp == pid {
			out = append(out, p)
		}
	}
	return out
}

// procParent reads the parent PID and state of pid from /proc/PID/stat.
func procParent(pid int) (int, string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, ""
	}
	pp, _ := strconv.Atoi(f[1])
	return pp, f[0]
}

// processAlive is false for a process that is gone or a zombie.
func processAlive(pid int) bool {
	_, state := procParent(pid)
	return state != "" && state != "Z" && state != "X"
}

// bootstrapPID returns the PID of the runtime the emulator started (0 before the first invoke).
func (e *emulator) bootstrapPID() int {
	for _, k := range childPIDs(e.cmd.Process.Pid) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", k)); err == nil && bytes.Contains(b, []byte("bootstrap")) {
			return k
		}
	}
	return 0
}

// invoke POSTs one payload and returns the function's response body. A handler error comes back
// as HTTP 200 with errorMessage/errorType in the body, so the caller checks the body.
func (e *emulator) invoke(payload []byte) []byte {
	e.tb.Helper()
	resp, err := e.client.Post(e.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		e.tb.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.tb.Fatalf("invoke: read response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		e.tb.Fatalf("invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	return body
}

// lambdaError is the body of a failed invocation.
type lambdaError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

func parseLambdaError(body []byte) (lambdaError, bool) {
	var le lambdaError
	if json.Unmarshal(body, &le) != nil || le.ErrorMessage == "" {
		return le, false
	}
	return le, true
}

// emfTotals sums the EMF documents in a stretch of the function's output.
type emfTotals struct {
	Lines                                                    int
	EventsProcessed, SecretReads, UnexpectedReads, StoreErrs float64
	ParseFailures, Heartbeat, Alerts                         float64
}

func sumEMF(out string) emfTotals {
	var t emfTotals
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("{")) || !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		var doc map[string]any
		if json.Unmarshal(line, &doc) != nil {
			continue
		}
		num := func(k string) float64 { f, _ := doc[k].(float64); return f }
		t.Alerts += num("Alerts") // one value per line, for the line's Rule
		if _, main := doc["Heartbeat"]; !main {
			continue // a further line of the same call, for another Rule or Secret
		}
		t.Lines++
		t.EventsProcessed += num("EventsProcessed")
		t.SecretReads += num("SecretReads")
		t.UnexpectedReads += num("UnexpectedReads")
		t.StoreErrs += num("StoreErrors")
		t.ParseFailures += num("ParseFailures")
		t.Heartbeat += num("Heartbeat")
	}
	return t
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// ---- DynamoDB ----

func newDDB(endpoint string, hc aws.HTTPClient) *dynamodb.Client {
	o := dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 3,
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return dynamodb.New(o)
}

var tableSeq atomic.Int64

// createTable creates a table of a unique name with the store's own CreateTable and deletes it
// when the test ends (unless keep).
func createTable(tb testing.TB, client *dynamodb.Client, keep bool) string {
	tb.Helper()
	name := fmt.Sprintf("sw-lambda-%s-%d-%d", strings.NewReplacer("/", "-", "#", "-").Replace(tb.Name()),
		time.Now().UnixNano()%1e9, tableSeq.Add(1))
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	st, err := ddbstore.New(client, ddbstore.Options{Table: name})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.CreateTable(ctx); err != nil {
		tb.Fatal(err)
	}
	if !keep {
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		})
	}
	return name
}

// scanTable reads every item (consistent Scan), in a canonical form that compares exactly.
func scanTable(tb testing.TB, client *dynamodb.Client, table string) map[string]map[string]any {
	tb.Helper()
	out := map[string]map[string]any{}
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for range 10_000 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		page, err := client.Scan(ctx, in)
		cancel()
		if err != nil {
			tb.Fatalf("scan %s: %v", table, err)
		}
		for _, item := range page.Items {
			m := map[string]any{}
			for k, v := range item {
				m[k] = plainAttr(v)
			}
			out[fmt.Sprint(m["pk"])+" | "+fmt.Sprint(m["sk"])] = m
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	tb.Fatal("scan did not end")
	return nil
}

func plainAttr(v ddbtypes.AttributeValue) any {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberN:
		return "N:" + v.Value
	case *ddbtypes.AttributeValueMemberBOOL:
		return v.Value
	case *ddbtypes.AttributeValueMemberSS:
		s := slices.Clone(v.Value)
		slices.Sort(s)
		return s
	default:
		return fmt.Sprintf("%T", v)
	}
}

// tableView is what the table says, read by the design of docs/dynamodb.md.
type tableView struct {
	Items   int
	Series  map[[2]string]*seriesView // (secret, principal); principal "" = the whole secret
	Alerts  map[string]alertItem      // pk without "A#": rule|secret|principal
	Tallies map[string]int            // tally items (detector.Tallier): "pk sk" → members
	Unknown []string
}

type seriesView struct {
	Items       int
	Reads, Deny int64
	IDs         []string // the ev sets of its items, joined and sorted
	First       []string // f of each item
}

type alertItem struct {
	Count     int64
	Delivered bool
	Window    string
}

func numAttr(tb testing.TB, v any) int64 {
	s, _ := v.(string)
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "N:"), 10, 64)
	if err != nil {
		tb.Fatalf("not a number attribute: %v", v)
	}
	return n
}

func viewTable(tb testing.TB, items map[string]map[string]any) tableView {
	tb.Helper()
	v := tableView{Items: len(items), Series: map[[2]string]*seriesView{}, Alerts: map[string]alertItem{}, Tallies: map[string]int{}}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range items {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		it := items[k]
		pk, _ := it["pk"].(string)
		switch {
		case strings.HasPrefix(pk, "S#") || strings.HasPrefix(pk, "C#"):
			// A counter chunk: top chunk S#<bucket> / <secret>#H<hour>#<principal>, spill chunk
			// C#<secret>#<hour> / <principal>#…; the unknown principal is "%-". It counts in
			// its principal's series and in the whole secret's (the sum of its principals').
			unesc := strings.NewReplacer("%23", "#", "%25", "%").Replace
			secret, sk := pk[2:], it["sk"].(string)
			var principal string
			if pk[0] == 'S' {
				parts := strings.SplitN(sk, "#", 3)
				secret, principal = parts[0], parts[2]
			} else {
				secret = secret[:strings.LastIndexByte(secret, '#')]
				principal, _, _ = strings.Cut(sk, "#")
			}
			keys := [][2]string{{unesc(secret), ""}}
			if principal != "%-" {
				if pr, ok := it["pr"].(string); ok {
					principal = pr // a digested principal
				}
				keys = append(keys, [2]string{unesc(secret), unesc(principal)})
			}
			for _, sk := range keys {
				s := v.Series[sk]
				if s == nil {
					s = &seriesView{}
					v.Series[sk] = s
				}
				s.Items++
				s.Reads += numAttr(tb, it["n"])
				if it["d"] != nil {
					s.Deny += numAttr(tb, it["d"])
				}
				ids, _ := it["ev"].([]string)
				s.IDs = append(s.IDs, ids...)
				slices.Sort(s.IDs)
				if f, ok := it["f"].(string); ok {
					s.First = append(s.First, f)
				}
			}
		case strings.HasPrefix(pk, "A#"):
			a := alertItem{Count: numAttr(tb, it["c"])}
			a.Delivered, _ = it["dl"].(bool)
			a.Window, _ = it["sk"].(string)
			v.Alerts[strings.TrimPrefix(pk, "A#")] = a
		case strings.HasPrefix(pk, "T#"):
			m, _ := it["m"].([]string)
			v.Tallies[pk+" "+it["sk"].(string)] = len(m)
		case len(pk) > 1 && pk[1] == '#' && strings.ContainsRune("RDXL", rune(pk[0])):
			// The weekly report's items (baseline/dynamodb/report.go): not counted in Items.
			v.Items--
		default:
			v.Unknown = append(v.Unknown, k)
		}
	}
	return v
}

// encodeEventID is the ID set's form of a lowercase UUID (docs/dynamodb.md): the 22-character
// base64url of its 16 bytes.
func encodeEventID(tb testing.TB, id string) string {
	h := strings.ReplaceAll(id, "-", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 {
		tb.Fatalf("event ID %q is not a UUID", id)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ddbProxy sits between the function and DynamoDB: it counts requests by operation and lets a
// test run a hook before a request is forwarded (to kill the server at an exact request). When the
// server is gone it drops the connection, as a dead endpoint would.
type ddbProxy struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int
	hook   func(op string, body []byte)
}

// ddbCall is the part of a request body the tests look at.
type ddbCall struct {
	Key map[string]struct{ S string } `json:"Key"`
}

func (c ddbCall) pk() string { return c.Key["pk"].S }

func newDDBProxy(tb testing.TB, target string) *ddbProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &ddbProxy{counts: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host },
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16,
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			panic(http.ErrAbortHandler) // close the connection: the endpoint is down
		},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		op := r.Header.Get("X-Amz-Target")
		if i := strings.IndexByte(op, '.'); i >= 0 {
			op = op[i+1:]
		}
		kind := op
		if op == "UpdateItem" || op == "GetItem" {
			// By item kind: "S" top counter chunks, "C" spill chunks, "A" alert items
			// (docs/dynamodb.md).
			var c ddbCall
			if json.Unmarshal(body, &c) == nil && c.pk() != "" {
				kind += " " + c.pk()[:1]
			}
		}
		p.mu.Lock()
		p.counts[kind]++
		hook := p.hook
		p.mu.Unlock()
		if hook != nil {
			hook(op, body)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(p.srv.Close)
	return p
}

func (p *ddbProxy) URL() string { return p.srv.URL }

func (p *ddbProxy) setHook(h func(op string, body []byte)) {
	p.mu.Lock()
	p.hook = h
	p.mu.Unlock()
}

// take returns the counts since the last take and resets them.
func (p *ddbProxy) take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	p.counts = map[string]int{}
	return c
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// countingTransport counts the requests a DynamoDB client sends, by operation.
type countingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.IndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func (c *countingTransport) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// privateDynalite is a dynalite of the test's own, on disk (--path) so that its data survives a
// restart on the same directory and port.
type privateDynalite struct {
	tb        testing.TB
	node, cli string
	dir, addr string
	log       *os.File
	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
}

func newPrivateDynalite(tb testing.TB, node, cli string) *privateDynalite {
	tb.Helper()
	d := &privateDynalite{tb: tb, node: node, cli: cli, dir: tb.TempDir(), addr: freeAddr(tb)}
	log, err := os.Create(filepath.Join(tb.TempDir(), "dynalite.log"))
	if err != nil {
		tb.Fatal(err)
	}
	d.log = log
	tb.Cleanup(func() { d.kill(); log.Close() })
	d.start()
	return d
}

func (d *privateDynalite) endpoint() string { return "http://" + d.addr }

func (d *privateDynalite) start() {
	d.tb.Helper()
	d.mu.Lock()
	_, port, _ := net.SplitHostPort(d.addr)
	cmd := exec.Command(d.node, d.cli, "--host", "127.0.0.1", "--port", port, "--path", d.dir,
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stdout, cmd.Stderr = d.log, d.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // gone with the test process, even if it is killed
	if err := cmd.Start(); err != nil {
		d.mu.Unlock()
		d.tb.Fatalf("start dynalite: %v", err)
	}
	d.cmd = cmd
	exited := make(chan struct{})
	d.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	d.mu.Unlock()
	alive := func() bool {
		select {
		case <-exited:
			return false
		default:
			return true
		}
	}
	if err := waitTCP(d.addr, 20*time.Second, alive); err != nil {
		d.kill()
		d.tb.Fatalf("private dynalite on %s (dir %s): %v", d.addr, d.dir, err)
	}
}

// kill stops dynalite at once (SIGKILL to its process group) and waits until it is gone. It is
// safe to call from a proxy hook and more than once.
func (d *privateDynalite) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.tb.Errorf("dynalite pid %d did not exit", d.cmd.Process.Pid)
	}
	d.cmd = nil
}

// ---- SNS and SQS (goaws) ----

type goawsFixture struct {
	sns      *sns.Client
	sqs      *sqs.Client
	topicARN string
	raw      string // queue URL: raw delivery (attributes as SQS message attributes)
	envelope string // queue URL: the SNS JSON envelope
}

func newGoawsFixture(tb testing.TB, endpoint string) *goawsFixture {
	tb.Helper()
	g := goawstest.New(tb, endpoint, "sw-lambda-alerts")
	return &goawsFixture{
		sns: g.SNS, sqs: g.SQS, topicARN: g.TopicARN,
		raw:      g.Queue(tb, "sw-raw", map[string]string{"RawMessageDelivery": "true"}),
		envelope: g.Queue(tb, "sw-envelope", nil),
	}
}

// drain receives the messages of the queues (see goawstest.Drain).
func (f *goawsFixture) drain(tb testing.TB, want int, queues ...string) [][]sqstypes.Message {
	tb.Helper()
	return goawstest.Drain(tb, f.sqs, want, queues...)
}

// goarchHost is the architecture of the machine (the emulator runs the binary natively).
var goarchHost = runtime.GOARCH
