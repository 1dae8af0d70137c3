package main

// Benchmarks of the Lambda (results and commands in BENCHMARKS.md, "Lambda runtime"). The
// handler ones run the real handler in this process against dynalite (SECRETWATCH_TEST_DYNAMODB)
// and count the DynamoDB requests its client sends; the emulator ones run the built bootstrap
// under aws-lambda-rie (SECRETWATCH_TEST_RIE). They skip without the stand-ins:
//
//	source .ci/standins.sh && standins_install && standins_start
//	go test ./cmd/secretwatch-lambda/ -run '^$' -bench . -benchtime 2000x ...   (see BENCHMARKS.md)

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	ddbstore "github.com/secretwatch/secretwatch/baseline/dynamodb"
	"github.com/secretwatch/secretwatch/detector"
	metricspkg "github.com/secretwatch/secretwatch/metrics"
)

// Synthetic traffic: benchSecrets secrets read by benchPrincipals IAM users of one account, all
// allowed by testdata/lambda/allowlist.yaml (entry bench/*), so the hot path is measured (no
// alerts). Event times start at a fixed past hour, so every hour is settled.
const (
	benchSecrets    = 3
	benchPrincipals = 5
	benchAccount    = "111122223333"
)

var (
	benchBase  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	benchSeq   atomic.Int64 // event IDs never repeat within a test binary run
	benchTmpl  map[string]any
	benchTmplO sync.Once
)

// benchEvent returns a GetSecretValue record, wrapped as an EventBridge event, for read i of a
// stream in which reads are `every` apart.
func benchEvent(tb testing.TB, i int64, every time.Duration) []byte {
	tb.Helper()
	benchTmplO.Do(func() {
		b, err := os.ReadFile(e2eCorpus)
		if err != nil {
			tb.Fatal(err)
		}
		var recs []map[string]any
		if err := json.Unmarshal(b, &recs); err != nil {
			tb.Fatal(err)
		}
		benchTmpl = recs[0]
	})
	seq := benchSeq.Add(1)
	rec := make(map[string]any, len(benchTmpl))
	for k, v := range benchTmpl {
		rec[k] = v
	}
	s, p := i%benchSecrets, (i/benchSecrets)%benchPrincipals
	t := benchBase.Add(time.Duration(i) * every)
	user := fmt.Sprintf("app-%d", p)
	rec["eventID"] = fmt.Sprintf("%08x-%04x-4000-8000-%012x", seq>>16, seq&0xffff, seq)
	rec["requestID"] = rec["eventID"]
	rec["eventTime"] = t.Format(time.RFC3339)
	rec["awsRegion"] = "us-east-1"
	rec["recipientAccountId"] = benchAccount
	rec["requestParameters"] = map[string]any{
		"secretId": fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:bench/s%d-AbCdEf", benchAccount, s)}
	rec["userIdentity"] = map[string]any{"type": "IAMUser", "principalId": "AIDABENCH" + strconv.FormatInt(p, 10),
		"arn": "arn:aws:iam::" + benchAccount + ":user/" + user, "accountId": benchAccount, "userName": user,
		"accessKeyId": "AKIABENCH"}
	ev, err := json.Marshal(map[string]any{
		"version": "0", "id": rec["eventID"], "detail-type": "AWS API Call via CloudTrail",
		"source": "aws.secretsmanager", "account": benchAccount, "time": rec["eventTime"],
		"region": "us-east-1", "resources": []string{}, "detail": rec,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// benchBatch is an SQS batch of n events starting at read `from`.
func benchBatch(tb testing.TB, from int64, n int, every time.Duration) []byte {
	tb.Helper()
	var e events.SQSEvent
	for i := range int64(n) {
		id := fmt.Sprintf("m-%d", from+i)
		e.Records = append(e.Records, events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id,
			Body: string(benchEvent(tb, from+i, every)), EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:" + benchAccount + ":secretwatch-events", AWSRegion: "us-east-1"})
	}
	b, err := json.Marshal(e)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// benchHandler is the Lambda's handler as main.go wires it, but built here so that its
// DynamoDB client's requests can be counted: the real DynamoDB store on a fresh table in
// dynalite, the allow-list the Lambda bundles, EMF to io.Discard, and a notifier that keeps
// alerts in memory (the traffic raises none; SNS latency is not part of these numbers).
func benchHandler(b *testing.B) (*handler, *countingTransport, *collectNotifier) {
	b.Helper()
	env := needEnv(b, envTestDynamo)
	ct := &countingTransport{base: awshttp.NewBuildableClient().GetTransport()}
	client := newDDB(env[envTestDynamo], &http.Client{Transport: ct})
	table := createTable(b, client, false)
	log := slog.New(slog.DiscardHandler)
	store, err := ddbstore.New(client, ddbstore.Options{Table: table, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	al, err := detector.LoadAllowList(e2eAllowList)
	if err != nil {
		b.Fatal(err)
	}
	det, err := detector.New(detector.Config{AllowList: al, Logger: log}, store)
	if err != nil {
		b.Fatal(err)
	}
	emf, err := metricspkg.NewEMF(io.Discard, metricspkg.Config{})
	if err != nil {
		b.Fatal(err)
	}
	n := &collectNotifier{}
	ct.take()
	return &handler{det: det, sup: store, notify: n, metrics: emf, log: log, now: time.Now}, ct, n
}

// cpuTime is the CPU time (user and system) this process used so far: the handler's own cost,
// without dynalite's (a separate process).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportRequests(b *testing.B, calls map[string]int, events int) {
	b.ReportMetric(float64(sumCounts(calls))/float64(events), "ddb-req/event")
	b.ReportMetric(float64(calls["UpdateItem"])/float64(events), "ddb-update/event")
	b.ReportMetric(float64(calls["Query"]+calls["GetItem"])/float64(events), "ddb-read/event")
}

// BenchmarkHandlerSingle: EventBridge → Lambda, one event per invocation (a warm instance: the
// first 30 events, which load each secret's baselines, are not measured).
func BenchmarkHandlerSingle(b *testing.B) {
	h, ct, n := benchHandler(b)
	ctx := context.Background()
	const every = 100 * time.Millisecond
	var i int64
	for ; i < 30; i++ {
		if _, err := h.Handle(ctx, benchEvent(b, i, every)); err != nil {
			b.Fatal(err)
		}
	}
	evs := make([][]byte, b.N)
	for k := range evs {
		evs[k] = benchEvent(b, i+int64(k), every)
	}
	ct.take()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for _, ev := range evs {
		if _, err := h.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/event")
	reportRequests(b, ct.take(), b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	if len(n.alerts) != 0 {
		b.Fatalf("%d alerts: the benchmark traffic must be allowed", len(n.alerts))
	}
}

// BenchmarkHandlerBatch1000: EventBridge → SQS → Lambda, batches of 1,000 events (a warm
// instance: one batch first, not measured). Reads are 10 ms apart (100 reads/s for the account,
// about 7 per second per (secret, principal) series).
func BenchmarkHandlerBatch1000(b *testing.B) {
	const size = 1000
	h, ct, n := benchHandler(b)
	ctx := context.Background()
	const every = 10 * time.Millisecond
	if resp, err := h.Handle(ctx, benchBatch(b, 0, size, every)); err != nil || len(resp.(events.SQSEventResponse).BatchItemFailures) != 0 {
		b.Fatal(err, resp)
	}
	batches := make([][]byte, b.N)
	for k := range batches {
		batches[k] = benchBatch(b, int64(size*(k+1)), size, every)
	}
	ct.take()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for _, batch := range batches {
		resp, err := h.Handle(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		if f := resp.(events.SQSEventResponse).BatchItemFailures; len(f) != 0 {
			b.Fatalf("%d messages failed", len(f))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N*size), "cpu-ns/event")
	reportRequests(b, ct.take(), b.N*size)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/event")
	if len(n.alerts) != 0 {
		b.Fatalf("%d alerts: the benchmark traffic must be allowed", len(n.alerts))
	}
}

// BenchmarkHandlerBatch10000Memory: the peak heap while the handler processes one batch of
// 10,000 events (sampled every 0.5 ms through runtime/metrics, above the heap after a GC with
// the payload already in memory), and what it allocates. Each iteration uses a fresh instance.
func BenchmarkHandlerBatch10000Memory(b *testing.B) {
	const size = 10_000
	ctx := context.Background()
	var peakMax, allocSum, payloadMB float64
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		h, ct, _ := benchHandler(b)
		batch := benchBatch(b, 0, size, 10*time.Millisecond)
		payloadMB = float64(len(batch)) / (1 << 20)
		runtime.GC()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
		metrics.Read(sample)
		base, alloc0 := sample[0].Value.Uint64(), sample[1].Value.Uint64()
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			tick := time.NewTicker(500 * time.Microsecond)
			defer tick.Stop()
			for {
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		b.StartTimer()
		resp, err := h.Handle(ctx, batch)
		b.StopTimer()
		close(stop)
		<-done
		if err != nil || len(resp.(events.SQSEventResponse).BatchItemFailures) != 0 {
			b.Fatal(err, resp)
		}
		metrics.Read(sample)
		if p := float64(peak.Load()-min(peak.Load(), base)) / (1 << 20); p > peakMax {
			peakMax = p
		}
		allocSum += float64(sample[1].Value.Uint64()-alloc0) / (1 << 20)
		calls := ct.take()
		if it == b.N-1 {
			reportRequests(b, calls, size)
		}
	}
	b.ReportMetric(peakMax, "peak-heap-MB")
	b.ReportMetric(allocSum/float64(b.N), "alloc-MB/batch")
	b.ReportMetric(payloadMB, "payload-MB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/event")
}

// ---- under the emulator ----

// listSecretsEvent is the corpus' ListSecrets call: the function reads it and touches no
// service, so the first invocation's extra time is the cold start itself.
func listSecretsEvent(tb testing.TB) []byte {
	for _, ev := range loadCorpus(tb) {
		if ev.Name == "ListSecrets" {
			return ev.Body
		}
	}
	tb.Fatal("no ListSecrets record in the corpus")
	return nil
}

// BenchmarkEmulatorInit: a cold start of bootstrap under aws-lambda-rie, per iteration: time
// until the emulator accepts invocations, the first invocation's round trip (the emulator starts
// bootstrap then: process start, Go runtime, configuration, allow-list, AWS clients) and a warm
// one's; cold-extra-ms, their difference, is the init time. (The emulator's own "Init Duration"
// in its REPORT line is ~0.02 ms here: it only times its bookkeeping, so it is not used.)
func BenchmarkEmulatorInit(b *testing.B) {
	env := needEnv(b, envTestRIE)
	taskDir := buildBootstrap(b, goarchHost)
	ev := listSecretsEvent(b)
	var ready, first, warm time.Duration
	for it := 0; it < b.N; it++ {
		// Nothing answers on these endpoints; the ListSecrets event never reaches them.
		fenv := lambdaEnv(b, taskDir, "unused", "arn:aws:sns:us-east-1:"+e2eAccount+":unused",
			"http://127.0.0.1:9", "http://127.0.0.1:9")
		t0 := time.Now()
		e := startEmulator(b, env[envTestRIE], taskDir, fenv)
		t1 := time.Now()
		if body := e.invoke(ev); string(body) != "null" {
			b.Fatalf("first invocation: %s", body)
		}
		t2 := time.Now()
		if body := e.invoke(ev); string(body) != "null" {
			b.Fatalf("warm invocation: %s", body)
		}
		t3 := time.Now()
		ready += t1.Sub(t0)
		first += t2.Sub(t1)
		warm += t3.Sub(t2)
		e.stop()
	}
	n := float64(b.N)
	b.ReportMetric(float64(ready.Milliseconds())/n, "ready-ms")
	b.ReportMetric(float64(first.Microseconds())/1000/n, "first-invoke-ms")
	b.ReportMetric(float64(warm.Microseconds())/1000/n, "warm-invoke-ms")
	b.ReportMetric(float64(first.Microseconds()-warm.Microseconds())/1000/n, "cold-extra-ms")
}

// BenchmarkEmulatorBatchRSS: the resident memory of bootstrap under the emulator (VmHWM, the
// peak, from /proc) after one cold invocation, then after the largest SQS batch that fits
// Lambda's 6 MB invocation payload, against dynalite and goaws.
func BenchmarkEmulatorBatchRSS(b *testing.B) {
	env := needEnv(b, envTestDynamo, envTestSNS, envTestRIE)
	taskDir := buildBootstrap(b, goarchHost)
	ddb := newDDB(env[envTestDynamo], nil)
	sns := newGoawsFixture(b, env[envTestSNS])
	ev := listSecretsEvent(b)
	// The largest batch (in hundreds) under Lambda's 6 MB invocation payload (6,291,456 bytes).
	per := len(benchBatch(b, 0, 100, 10*time.Millisecond)) / 100
	size := (6<<20)/per/100*100 + 100
	for size > 100 && len(benchBatch(b, 0, size, 10*time.Millisecond)) >= 6<<20 {
		size -= 100
	}
	b.StopTimer()
	var idle, peak float64
	for it := 0; it < b.N; it++ {
		table := createTable(b, ddb, false)
		e := startEmulator(b, env[envTestRIE], taskDir, lambdaEnv(b, taskDir, table, sns.topicARN, env[envTestDynamo], env[envTestSNS]))
		if body := e.invoke(ev); string(body) != "null" {
			b.Fatalf("first invocation: %s", body)
		}
		pid := e.bootstrapPID()
		if pid == 0 {
			b.Fatal("no bootstrap process under the emulator")
		}
		idle += vmHWM(b, pid)
		batch := benchBatch(b, int64(it*size), size, 10*time.Millisecond)
		b.StartTimer()
		body := e.invoke(batch)
		b.StopTimer()
		var resp events.SQSEventResponse
		if err := json.Unmarshal(body, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatalf("batch response: %s", lastBytes(string(body), 500))
		}
		peak += vmHWM(b, pid)
		e.stop()
	}
	n := float64(b.N)
	b.ReportMetric(float64(size), "events/batch")
	b.ReportMetric(idle/n, "VmHWM-cold-MB")
	b.ReportMetric(peak/n, "VmHWM-after-batch-MB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/event")
}

func vmHWM(tb testing.TB, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	tb.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// ---- package size ----

var packageSizes sync.Map // arch → [2]int64{bootstrap, zip}

// BenchmarkPackageSize builds the Lambda package with scripts/build-lambda.sh (stripped
// bootstrap and the zip with the allow-list) for each architecture and reports the sizes. It
// needs only Go; it builds once per architecture and test binary run.
func BenchmarkPackageSize(b *testing.B) {
	if testing.Short() {
		b.Skip("builds two binaries")
	}
	for _, arch := range []string{"arm64", "amd64"} {
		b.Run(arch, func(b *testing.B) {
			v, ok := packageSizes.Load(arch)
			if !ok {
				dist := b.TempDir()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, "bash", "scripts/build-lambda.sh", arch, "testdata/lambda/allowlist.yaml", dist)
				cmd.Dir = filepath.Join("..", "..")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("build-lambda.sh %s: %v\n%s", arch, err, out)
				}
				bin, err := os.Stat(filepath.Join(dist, arch, "bootstrap"))
				if err != nil {
					b.Fatal(err)
				}
				zip, err := os.Stat(filepath.Join(dist, "secretwatch-lambda-"+arch+".zip"))
				if err != nil {
					b.Fatal(err)
				}
				v = [2]int64{bin.Size(), zip.Size()}
				packageSizes.Store(arch, v)
			}
			sz := v.([2]int64)
			for b.Loop() {
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(sz[0]), "bootstrap-bytes")
			b.ReportMetric(float64(sz[1]), "zip-bytes")
		})
	}
}
