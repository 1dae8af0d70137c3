package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
)

// The benchmark trail of BENCHMARKS.md ("Replay throughput"): a CloudTrail tree like a busy
// account's, where ~80 % of the records are other services' (S3 data events, EC2 describes, STS,
// IAM with escaped policy documents, Lambda) and the rest Secrets Manager reads plus the KMS
// decrypts Secrets Manager makes for them (which name secretsmanager.amazonaws.com, so the
// prefilter keeps them). Written by
//
//	go test ./cloudtrail -run '^TestWriteBenchTrail$' -benchtrail DIR -benchtrail-mb 250
var (
	benchTrailDir = flag.String("benchtrail", "", "write the benchmark trail into this directory")
	benchTrailMB  = flag.Int("benchtrail-mb", 250, "uncompressed size of the benchmark trail, MB")
)

const benchAccount = "111122223333"

// benchRecord writes record number i of the benchmark trail, at time t.
func benchRecord(w io.Writer, r *rand.Rand, i int, t time.Time) {
	ts := t.Format(time.RFC3339)
	user := r.IntN(40)
	ident := fmt.Sprintf(`{"type":"AssumedRole","principalId":"AROAEXAMPLEID%03d:session-%d","arn":"arn:aws:sts::%s:assumed-role/app-%d/session-%d","accountId":"%s","accessKeyId":"ASIAEXAMPLE%08d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID%03d","arn":"arn:aws:iam::%s:role/app-%d","accountId":"%s","userName":"app-%d"},"webIdFederationData":{},"attributes":{"creationDate":"%s","mfaAuthenticated":"false"}}}`,
		user, i, benchAccount, user, i, benchAccount, i, user, benchAccount, user, benchAccount, user, ts)
	common := fmt.Sprintf(`"eventTime":"%s","awsRegion":"us-east-1","sourceIPAddress":"10.%d.%d.%d","userAgent":"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/%d","requestID":"%08x-1111-2222-3333-%012x","eventID":"%08x-4444-5555-6666-%012x","recipientAccountId":"%s"`,
		ts, r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(9), r.Uint32(), i, r.Uint32(), i, benchAccount)
	secret := fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:prod/app-%d/db-AbCdEf", benchAccount, r.IntN(12))
	switch x := r.IntN(100); {
	case x < 12: // Secrets Manager read
		fmt.Fprintf(w, `{"eventVersion":"1.09","userIdentity":%s,%s,"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","requestParameters":{"secretId":"%s"},"responseElements":null,"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"secretsmanager.us-east-1.amazonaws.com"}}`,
			ident, common, secret)
	case x < 20: // the KMS decrypt behind it
		fmt.Fprintf(w, `{"eventVersion":"1.09","userIdentity":%s,%s,"eventSource":"kms.amazonaws.com","eventName":"Decrypt","requestParameters":{"encryptionContext":{"SecretARN":"%s","SecretVersionId":"%08x-aaaa-bbbb-cccc-%012x"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,"resources":[{"accountId":"%s","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:%s:key/%08x-1234-5678-9abc-def012345678"}],"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","invokedBy":"secretsmanager.amazonaws.com"}`,
			ident, common, secret, r.Uint32(), i, benchAccount, benchAccount, r.Uint32())
	case x < 55: // S3 data event
		fmt.Fprintf(w, `{"eventVersion":"1.10","userIdentity":%s,%s,"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"bucketName":"data-lake-%d","Host":"data-lake-%d.s3.us-east-1.amazonaws.com","key":"year=2026/month=03/day=%02d/part-%05d-%08x.snappy.parquet"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"%016x/%016x=","bytesTransferredOut":%d},"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data-lake-%d/year=2026/month=03/day=%02d/part-%05d.snappy.parquet"},{"accountId":"%s","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::data-lake-%d"}],"readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"eventCategory":"Data"}`,
			ident, common, x%7, x%7, t.Day(), i%100000, r.Uint32(), r.Uint64(), r.Uint64(), r.IntN(1<<24), x%7, t.Day(), i%100000, benchAccount, x%7)
	case x < 75: // EC2 describe
		fmt.Fprintf(w, `{"eventVersion":"1.09","userIdentity":%s,%s,"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","requestParameters":{"instancesSet":{},"filterSet":{"items":[{"name":"tag:aws:autoscaling:groupName","valueSet":{"items":[{"value":"web-%d"}]}},{"name":"instance-state-name","valueSet":{"items":[{"value":"running"},{"value":"pending"}]}}]}},"responseElements":null,"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management"}`,
			ident, common, x%5)
	case x < 88: // STS
		fmt.Fprintf(w, `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"lambda.amazonaws.com"},%s,"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{"roleArn":"arn:aws:iam::%s:role/app-%d","roleSessionName":"session-%d"},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE%08d","sessionToken":"IQoJb3JpZ2luX2VjE%040x","expiration":"Mar 2, 2026, 1:00:00 PM"},"assumedRoleUser":{"assumedRoleId":"AROAEXAMPLEID%03d:session-%d","arn":"arn:aws:sts::%s:assumed-role/app-%d/session-%d"}},"resources":[{"accountId":"%s","type":"AWS::IAM::Role","ARN":"arn:aws:iam::%s:role/app-%d"}],"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","sharedEventID":"%08x-7777-8888-9999-%012x"}`,
			common, benchAccount, user, i, i, r.Uint64(), user, i, benchAccount, user, i, benchAccount, benchAccount, user, r.Uint32(), i)
	case x < 94: // IAM with an escaped policy document
		fmt.Fprintf(w, `{"eventVersion":"1.09","userIdentity":%s,%s,"eventSource":"iam.amazonaws.com","eventName":"PutRolePolicy","requestParameters":{"roleName":"app-%d","policyName":"inline-%d","policyDocument":"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\", \"s3:ListBucket\"], \"Resource\": \"arn:aws:s3:::data-lake-%d/*\", \"Condition\": {\"StringEquals\": {\"aws:PrincipalTag/team\": \"{data}\"}}}]\n}"},"responseElements":null,"readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management"}`,
			ident, common, user, i, x%7)
	default: // Lambda
		fmt.Fprintf(w, `{"eventVersion":"1.08","userIdentity":%s,%s,"eventSource":"lambda.amazonaws.com","eventName":"Invoke","requestParameters":{"functionName":"arn:aws:lambda:us-east-1:%s:function:worker-%d","invocationType":"Event","payload":"{\"id\":%d,\"note\":\"a \\\"quoted\\\" [brace] {x}\"}"},"responseElements":null,"additionalEventData":{"functionVersion":"arn:aws:lambda:us-east-1:%s:function:worker-%d:$LATEST"},"resources":[{"accountId":"%s","type":"AWS::Lambda::Function","ARN":"arn:aws:lambda:us-east-1:%s:function:worker-%d"}],"readOnly":false,"eventType":"AwsApiCall","managementEvent":false,"eventCategory":"Data"}`,
			ident, common, benchAccount, x%4, i, benchAccount, x%4, benchAccount, benchAccount, x%4)
	}
}

// writeBenchTrail writes about mb MB (uncompressed) of log files of 2,000 records under dir, in
// the AWSLogs layout, 5 minutes apart.
func writeBenchTrail(dir string, mb int) (files, records int, err error) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var total int64
	for f := 0; total < int64(mb)<<20; f++ {
		t := t0.Add(time.Duration(f) * 5 * time.Minute)
		sub := filepath.Join(dir, "AWSLogs", benchAccount, "CloudTrail", "us-east-1", t.Format("2006/01/02"))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return files, records, err
		}
		name := fmt.Sprintf("%s_CloudTrail_us-east-1_%s_%08x.json.gz", benchAccount, t.Format("20060102T1504Z"), r.Uint32())
		out, err := os.Create(filepath.Join(sub, name))
		if err != nil {
			return files, records, err
		}
		zw := gzip.NewWriter(out)
		cw := &countWriter{w: zw}
		bw := bufio.NewWriter(cw)
		bw.WriteString(`{"Records":[`)
		for i := range 2000 {
			if i > 0 {
				bw.WriteByte(',')
			}
			benchRecord(bw, r, records, t.Add(time.Duration(i)*150*time.Millisecond))
			records++
		}
		bw.WriteString("]}")
		if err := bw.Flush(); err != nil {
			return files, records, err
		}
		if err := zw.Close(); err != nil {
			return files, records, err
		}
		if err := out.Close(); err != nil {
			return files, records, err
		}
		total += cw.n
		files++
	}
	return files, records, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func TestWriteBenchTrail(t *testing.T) {
	dir, mb := *benchTrailDir, *benchTrailMB
	if dir == "" {
		// Without -benchtrail: a small trail, read back, so that the generator the throughput
		// benchmarks rely on is itself tested (file layout, record count, service mix).
		dir, mb = t.TempDir(), 2
	}
	files, records, err := writeBenchTrail(dir, mb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files, %d records in %s", files, records, dir)
	if *benchTrailDir != "" {
		return
	}
	n, other := 0, 0
	for it := range Read(t.Context(), []string{dir}) {
		if it.Err != nil {
			t.Fatalf("reading the generated trail: %v", it.Err)
		}
		n++
		if it.Record.EventSource != "secretsmanager.amazonaws.com" {
			other++
		}
	}
	if files == 0 || n != records {
		t.Fatalf("read %d records from %d files, the generator says %d", n, files, records)
	}
	if f := float64(other) / float64(n); f < 0.7 || f > 0.9 {
		t.Errorf("%.0f %% other-service records, want about 80 %% like a real trail", 100*f)
	}
}

// benchMayHandle is detector.MayHandle (which imports this package): some handled event source,
// quoted, in raw, found in one pass over the sources' common tail.
func benchMayHandle(raw []byte) bool {
	tail := []byte(`.amazonaws.com"`)
	for rest := raw; ; {
		i := bytes.Index(rest, tail)
		if i < 0 {
			return false
		}
		for _, h := range []string{`"secretsmanager`, `"cloudtrail`, `"events`} {
			if bytes.HasSuffix(rest[:i], []byte(h)) {
				return true
			}
		}
		rest = rest[i+len(tail):]
	}
}

// benchMayHandleEvent is detector.MayHandleEvent for the benchmark trail's services: Secrets
// Manager records and the handled events of the other sources it holds (none).
func benchMayHandleEvent(e RawEvent) bool {
	return string(e.Source) == "secretsmanager.amazonaws.com" || string(e.Source) == "cloudtrail.amazonaws.com" && string(e.Name) == "StopLogging"
}

var benchTrail = sync.OnceValues(func() (string, error) {
	if *benchTrailDir != "" {
		return *benchTrailDir, nil // written before: go test -run TestWriteBenchTrail -benchtrail DIR
	}
	dir, err := os.MkdirTemp("", "benchtrail")
	if err != nil {
		return "", err
	}
	_, _, err = writeBenchTrail(dir, 24)
	return dir, err
})

// BenchmarkReadTrail reads a 24 MB benchmark trail (18,000 records, ~80 % other services) with the
// replay's filters (the event filter, then the raw prefilter); MB/s are of decompressed JSON.
func BenchmarkReadTrail(b *testing.B) {
	dir, err := benchTrail()
	if err != nil {
		b.Fatal(err)
	}
	files, err := Files([]string{dir})
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, f := range files {
		data, _ := os.ReadFile(f)
		zr, _ := gzip.NewReader(bytes.NewReader(data))
		n, _ := io.Copy(io.Discard, zr)
		size += n
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			defer reportCPU(b)()
			records := 0
			for b.Loop() {
				records = 0
				for it := range Read(b.Context(), files, WithWorkers(workers), WithEventFilter(benchMayHandleEvent), WithPrefilter(benchMayHandle)) {
					if it.Err != nil && it.Record == nil {
						b.Fatal(it.Err)
					}
					records++
				}
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkInflate compares the inflaters on the benchmark trail's files (MB/s of output).
func BenchmarkInflate(b *testing.B) {
	dir, err := benchTrail()
	if err != nil {
		b.Fatal(err)
	}
	files, _ := Files([]string{dir})
	var data [][]byte
	var size int64
	for _, f := range files {
		d, _ := os.ReadFile(f)
		data = append(data, d)
		zr, _ := gzip.NewReader(bytes.NewReader(d))
		n, _ := io.Copy(io.Discard, zr)
		size += n
	}
	buf := make([]byte, scanBufSize)
	for _, tc := range []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"compress-gzip", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"klauspost-gzip", func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(size)
			defer reportCPU(b)()
			for b.Loop() {
				for _, d := range data {
					zr, err := tc.open(bytes.NewReader(d))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{zr}, buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// reportCPU reports the process's CPU time per operation (user+system, all threads) next to the
// wall time: on a shared machine it is the steadier figure. Call as defer reportCPU(b)().
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScan runs the reader over the benchmark trail's decompressed files in memory with a
// prefilter that rejects everything: the scanner alone (record boundaries and syntax), no
// inflating and no decoding. MB/s are of JSON.
func BenchmarkScan(b *testing.B) {
	dir, err := benchTrail()
	if err != nil {
		b.Fatal(err)
	}
	files, _ := Files([]string{dir})
	var data [][]byte
	var size int64
	for _, f := range files {
		d, _ := os.ReadFile(f)
		zr, _ := gzip.NewReader(bytes.NewReader(d))
		j, _ := io.ReadAll(zr)
		data = append(data, j)
		size += int64(len(j))
	}
	none := func([]byte) bool { return false }
	b.SetBytes(size)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		for _, d := range data {
			decodeStream(bytes.NewReader(d), "bench", filters{keep: none}, func(it Item) bool {
				if it.Err != nil {
					b.Fatal(it.Err)
				}
				return true
			})
		}
	}
}
