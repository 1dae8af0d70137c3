package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/internal/testenv"
)

// These tests run against a real dynalite. Locally:
//
//	source .ci/standins.sh && standins_install && standins_start
//	go test ./baseline/ -run Dynamo
const skipMsg = "SECRETWATCH_TEST_DYNAMODB not set: start dynalite with `source .ci/standins.sh && standins_install && standins_start`"

func dynamoEndpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv("SECRETWATCH_TEST_DYNAMODB")
	if ep == "" {
		testenv.Unavailable(t, "%s", skipMsg)
	}
	return ep
}

func newDynamoClient(endpoint string, maxAttempts int) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "test"}, nil
		}),
		RetryMaxAttempts: maxAttempts,
	})
}

// countingDB counts the requests that reach DynamoDB, by operation, and can run a hook before each.
type countingDB struct {
	dynamoAPI
	update, get, query atomic.Int64
	report             atomic.Int64  // UpdateItem of the report's items (not in update)
	reportGet          atomic.Int64  // GetItem of the report's items (not in get)
	beforeUpdate       func(n int64) // called with the number of this UpdateItem (1-based)
}

func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if isReportItem(in.Key) {
		c.report.Add(1)
		return c.dynamoAPI.UpdateItem(ctx, in, o...)
	}
	n := c.update.Add(1)
	if c.beforeUpdate != nil {
		c.beforeUpdate(n)
	}
	return c.dynamoAPI.UpdateItem(ctx, in, o...)
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if isReportItem(in.Key) {
		c.reportGet.Add(1)
		return c.dynamoAPI.GetItem(ctx, in, o...)
	}
	c.get.Add(1)
	return c.dynamoAPI.GetItem(ctx, in, o...)
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.query.Add(1)
	return c.dynamoAPI.Query(ctx, in, o...)
}

func (c *countingDB) total() int64 { return c.update.Load() + c.get.Load() + c.query.Load() }

func (c *countingDB) reset() {
	c.update.Store(0)
	c.get.Store(0)
	c.query.Store(0)
	c.report.Store(0)
	c.reportGet.Store(0)
}

var tableSeq atomic.Int64

func tableName(t testing.TB) string {
	name := strings.NewReplacer("/", "-", "#", "-").Replace(t.Name())
	if len(name) > 180 {
		name = name[:180]
	}
	return fmt.Sprintf("%s-%d-%d", name, time.Now().UnixNano()%1e9, tableSeq.Add(1))
}

// newTable creates a fresh table on client and returns a store on it.
func newTable(t testing.TB, client *dynamodb.Client, opt Options) *Store {
	t.Helper()
	if opt.Table == "" {
		opt.Table = tableName(t)
	}
	st, err := New(client, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(opt.Table)})
	})
	return st
}

func TestDynamoStoreContract(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	opt := storetest.Options{Retention: 48 * time.Hour}
	storetest.Store(t, opt, func(t *testing.T) detector.Store {
		return newTable(t, client, Options{Retention: opt.Retention})
	})
	storetest.Suppressor(t, func(t *testing.T) detector.Suppressor {
		return newTable(t, client, Options{})
	})
}

// tableTruth reads the whole table (base items, consistent) and sums the counter chunks per
// series and hour — a principal's series, and the whole secret as the sum of its principals':
// what is really stored, whatever any cache says.
type truth struct {
	reads, denied map[detector.SeriesKey]int64
	hours         map[detector.SeriesKey]map[int64]int64
	items         int
	spill         int // spill chunks (per minute, per second, chain links)
	seconds       int // per-second chunks and chain links
	links         int // chain links
}

func tableTruth(t testing.TB, client *dynamodb.Client, table string) truth {
	t.Helper()
	tr := truth{reads: map[detector.SeriesKey]int64{}, denied: map[detector.SeriesKey]int64{}, hours: map[detector.SeriesKey]map[int64]int64{}}
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := client.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			pk := item[attrPK].(*types.AttributeValueMemberS).Value
			sk := item[attrSK].(*types.AttributeValueMemberS).Value
			var secret, principal string
			var hour int64
			switch {
			case strings.HasPrefix(pk, "S#"):
				k, ok := parseTopSK(sk)
				if !ok {
					continue // not a top chunk
				}
				secret, principal, hour = k.secret, k.principal, k.hour
			case strings.HasPrefix(pk, "C#"):
				i := strings.LastIndexByte(pk, '#')
				secret = pk[2:i]
				hour, err = strconv.ParseInt(pk[i+1:], 10, 64)
				if err != nil {
					t.Fatalf("spill chunk %q: %v", pk, err)
				}
				principal, _, _ = strings.Cut(sk, "#")
				tr.spill++
				if strings.Contains(sk, "#s") {
					tr.seconds++
				}
				if strings.Count(sk, "#") == 2 {
					tr.links++
				}
			default:
				continue
			}
			n, d := numAttr(item[attrReads]), numAttr(item[attrDenied])
			ids := item[attrIDs].(*types.AttributeValueMemberSS).Value
			if int64(len(ids)) != n+d {
				t.Errorf("item %s %s: %d IDs but n+d = %d", pk, sk, len(ids), n+d)
			}
			keys := []detector.SeriesKey{{Secret: unesc(secret)}}
			if principal != unknownPrincipal {
				keys = append(keys, detector.SeriesKey{Secret: unesc(secret), Principal: unesc(principal)})
			}
			for _, k := range keys {
				tr.reads[k] += n
				tr.denied[k] += d
				if tr.hours[k] == nil {
					tr.hours[k] = map[int64]int64{}
				}
				if n > 0 {
					tr.hours[k][hour] += n
				}
			}
			tr.items++
		}
		if len(out.LastEvaluatedKey) == 0 {
			return tr
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// checkTruth compares the stored counters with the model (all of it: the model is never older
// than the retention window in these tests).
func checkTruth(t testing.TB, tr truth, m *storetest.Model) {
	t.Helper()
	if len(tr.reads) != len(m.Series) {
		t.Errorf("table has %d series, model %d", len(tr.reads), len(m.Series))
	}
	for k, s := range m.Series {
		if tr.reads[k] != s.Reads || tr.denied[k] != s.Denied {
			t.Errorf("table %+v: reads %d denied %d, want %d %d", k, tr.reads[k], tr.denied[k], s.Reads, s.Denied)
		}
		for h, n := range s.Hours {
			if tr.hours[k][h] != n {
				t.Errorf("table %+v hour %d: %d, want %d", k, h, tr.hours[k][h], n)
			}
		}
	}
}

var (
	testSecrets    = []string{"111122223333/us-east-1/prod/db", "111122223333/us-east-1/prod/api", "111122223333/us-east-1/hot"}
	testPrincipals = []string{"arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/batch", "arn:aws:iam::111122223333:role/ci", "arn:aws:iam::111122223333:user/alice", "arn:aws:sts::111122223333:assumed-role/admin/bob"}
	// A fixed past time: every hour is settled, so no cache refresh muddles the request counts.
	testBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

func TestDynamoExactWithTable(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	st := newTable(t, client, Options{Retention: 72 * time.Hour})
	m := storetest.NewModel()
	reads := storetest.Mix(3000, 1, testSecrets, testPrincipals, testBase, 30)
	// Batches, then everything again in single events (all duplicates), then mixed.
	for len(reads) > 0 {
		n := min(len(reads), 700)
		chunk := reads[:n]
		reads = reads[n:]
		want := m.Add(chunk)
		got, err := st.Record(t.Context(), chunk)
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckRecorded(t, chunk, got, want, m)
	}
	all := storetest.Mix(3000, 1, testSecrets, testPrincipals, testBase, 30)
	for i := 0; i < len(all); i += 97 {
		got, err := st.Record(t.Context(), all[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckRecorded(t, all[i:i+1], got, []bool{false}, m)
	}
	checkTruth(t, tableTruth(t, client, st.table), m)

	// A second store on the same table (another Lambda instance, cold cache) sees the same.
	st2, err := New(client, Options{Table: st.table, Retention: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st2.Record(t.Context(), all[:50])
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckRecorded(t, all[:50], got, make([]bool, 50), m)
}

// Two instances record overlapping, shuffled copies of the same reads at the same time: the
// conditions, not the caches, keep the counts exact.
func TestDynamoConcurrentInstances(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	st := newTable(t, client, Options{})
	reads := storetest.Mix(2000, 1, testSecrets[:2], testPrincipals[:2], testBase, 2)
	m := storetest.NewModel()
	m.Add(reads)
	var wg sync.WaitGroup
	fresh := make([][]bool, 4)
	for w := range 4 {
		inst, err := New(client, Options{Table: st.table})
		if err != nil {
			t.Fatal(err)
		}
		size := []int{1, 13, 250, 2000}[w]
		var chunks [][]detector.Read
		for i := 0; i < len(reads); i += size {
			chunks = append(chunks, reads[i:min(len(reads), i+size)])
		}
		if w%2 == 1 {
			slices.Reverse(chunks) // walk backwards
		}
		wg.Go(func() {
			for _, c := range chunks {
				got, err := inst.Record(context.Background(), c)
				if err != nil {
					t.Error(err)
					return
				}
				fresh[w] = append(fresh[w], got.Fresh...)
			}
		})
	}
	wg.Wait()
	checkTruth(t, tableTruth(t, client, st.table), m)
	var nFresh int
	for _, f := range fresh {
		for _, x := range f {
			if x {
				nFresh++
			}
		}
	}
	if nFresh != len(reads) {
		t.Errorf("%d reads answered Fresh across instances, want exactly %d", nFresh, len(reads))
	}
}

// A shard that fills up freezes and spills into per-minute items, a full minute into per-second
// items; duplicates still land where their first copy did.
func TestDynamoSpill(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	defer func(a int64, c int) { softOverride, maxWriteIDs = a, c }(softOverride, maxWriteIDs)
	softOverride, maxWriteIDs = 20, 30 // → minute chunks → second chunks → chain links
	st := newTable(t, client, Options{})
	m := storetest.NewModel()
	// 400 reads in 2 seconds of one hour, one secret, two principals.
	reads := storetest.Mix(400, 1, testSecrets[:1], testPrincipals[:2], testBase, 1)
	for i := range reads {
		reads[i].Time = testBase.Add(time.Duration(i/200)*time.Second + time.Duration(i)*time.Microsecond)
	}
	for _, size := range []int{1, 3, 60, 100, 236} {
		chunk := reads[:size]
		reads = reads[size:]
		want := m.Add(chunk)
		got, err := st.Record(t.Context(), chunk)
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckRecorded(t, chunk, got, want, m)
	}
	all := storetest.Mix(400, 1, testSecrets[:1], testPrincipals[:2], testBase, 1)
	for i := range all {
		all[i].Time = testBase.Add(time.Duration(i/200)*time.Second + time.Duration(i)*time.Microsecond)
	}
	// Redeliver everything through a cold instance and through the warm one.
	st2, _ := New(client, Options{Table: st.table})
	for _, s := range []*Store{st2, st} {
		got, err := s.Record(t.Context(), all)
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckRecorded(t, all, got, make([]bool, len(all)), m)
	}
	tr := tableTruth(t, client, st.table)
	checkTruth(t, tr, m)
	if tr.spill == 0 || tr.seconds == 0 || tr.links == 0 {
		t.Errorf("%d spill chunks, %d of them per second, %d links: the test did not fill a top chunk, a minute and a second", tr.spill, tr.seconds, tr.links)
	}
	t.Logf("%d chunks, %d spill chunks, %d links", tr.items, tr.spill, tr.links)
}

// The request budget: 1 write per read when reads come one at a time (its chunk: no whole-secret
// item any more); far fewer in batches, and one write per chunk however hot the secret is.
func TestDynamoRequestBudget(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)

	t.Run("Single", func(t *testing.T) {
		db := &countingDB{dynamoAPI: client}
		st := newTable(t, client, Options{})
		st.db = db
		reads := storetest.Mix(300, 1, testSecrets, testPrincipals, testBase, 2)
		for _, r := range reads {
			if _, err := st.Record(t.Context(), []detector.Read{r}); err != nil {
				t.Fatal(err)
			}
		}
		per := float64(db.total()) / float64(len(reads))
		t.Logf("single: %d reads, %d UpdateItem, %d Query, %d GetItem: %.3f requests/read (cold start included)",
			len(reads), db.update.Load(), db.query.Load(), db.get.Load(), per)
		if db.query.Load() != int64(len(testSecrets)) {
			t.Errorf("%d Query, want one per secret (the cold load)", db.query.Load())
		}
		if w := float64(db.update.Load()+db.get.Load()) / float64(len(reads)); w > 1 {
			t.Errorf("%.3f writes per read in single mode, budget 1", w)
		}
		// Warm: each further read costs exactly its one UpdateItem.
		db.reset()
		more := storetest.Mix(100, 10000, testSecrets, testPrincipals, testBase.Add(time.Hour), 1)
		for _, r := range more {
			if _, err := st.Record(t.Context(), []detector.Read{r}); err != nil {
				t.Fatal(err)
			}
		}
		if got := db.total(); got != int64(len(more)) {
			t.Errorf("warm single mode: %d requests for %d reads, want %d", got, len(more), len(more))
		}
		// A duplicate costs one conditional failure per item (plus the GetItem dynalite needs).
		db.reset()
		if _, err := st.Record(t.Context(), more[:1]); err != nil {
			t.Fatal(err)
		}
		t.Logf("duplicate single read: %d UpdateItem, %d GetItem (AWS: %d requests)", db.update.Load(), db.get.Load(), db.update.Load())
	})

	t.Run("Batch", func(t *testing.T) {
		db := &countingDB{dynamoAPI: client}
		st := newTable(t, client, Options{})
		st.db = db
		// 10,000 reads for 3 secrets in 5 minutes, 80% of them on the hot secret.
		reads := make([]detector.Read, 10000)
		for i := range reads {
			sec := testSecrets[2]
			if i%5 == 0 {
				sec = testSecrets[i/5%2] // 20% on the other two
			}
			reads[i] = detector.Read{
				EventID:   storetest.EventID(i + 1),
				Secret:    sec,
				Principal: testPrincipals[i/3%len(testPrincipals)],
				Time:      testBase.Add(58*time.Minute + time.Duration(i)*30*time.Millisecond), // crosses an hour
				Denied:    i%50 == 0,
			}
		}
		m := storetest.NewModel()
		want := m.Add(reads)
		got, err := st.Record(t.Context(), reads)
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckRecorded(t, reads, got, want, m)
		per := float64(db.total()) / float64(len(reads))
		t.Logf("batch: %d reads, %d UpdateItem, %d Query, %d GetItem: %.4f requests/read", len(reads), db.update.Load(), db.query.Load(), db.get.Load(), per)
		// One write per chunk: 3 secrets × 5 principals × 2 hours = 30 top chunks (each takes
		// its first ~26 reads), and the minute chunks the rest spills to (a new chunk takes its
		// whole group in one write).
		items := map[itemKey]bool{}
		for _, r := range reads {
			h := detector.Hour(r.Time)
			items[itemKey{secret: r.Secret, principal: r.Principal, hour: h}] = true
			items[itemKey{secret: r.Secret, principal: r.Principal, hour: h, lvl: 1, sub: int(r.Time.Unix()-h*3600) / 60}] = true
		}
		// testBase is long settled: every (series, hour) that spilled also bumps its top chunk's
		// version once (docs/dynamodb.md, "Roll-ups").
		tops := 0
		for k := range items {
			if k.lvl == 0 {
				tops++
			}
		}
		if db.update.Load() > int64(len(items)+tops) || per > 0.03 {
			t.Errorf("batch: %d UpdateItem for ≤ %d chunks and %d bumps (%.4f requests/read), want at most one per chunk and bump and ≤ 0.03/read", db.update.Load(), len(items), tops, per)
		}
		checkTruth(t, tableTruth(t, client, st.table), m)

		// The same batch redelivered to a cold instance: a failed condition per item, nothing counted.
		db2 := &countingDB{dynamoAPI: client}
		st2, _ := New(db2, Options{Table: st.table})
		got, err = st2.Record(t.Context(), reads)
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckRecorded(t, reads, got, make([]bool, len(reads)), m)
		t.Logf("batch redelivered, cold: %d UpdateItem, %d Query, %d GetItem", db2.update.Load(), db2.query.Load(), db2.get.Load())
		checkTruth(t, tableTruth(t, client, st.table), m)
	})
}

// ---- outage: a private dynalite on disk, killed during a large Record ----

type dynalite struct {
	t         *testing.T
	node, cli string
	dir, addr string
	cmd       *exec.Cmd
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (d *dynalite) start() {
	d.t.Helper()
	_, port, _ := net.SplitHostPort(d.addr)
	d.cmd = exec.Command(d.node, d.cli, "--host", "127.0.0.1", "--port", port, "--path", d.dir,
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	log, err := os.Create(filepath.Join(d.t.TempDir(), "dynalite.log"))
	if err != nil {
		d.t.Fatal(err)
	}
	d.cmd.Stdout, d.cmd.Stderr = log, log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	for range 200 {
		resp, err := http.Get("http://" + d.addr + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.stop()
	d.t.Fatalf("private dynalite on %s did not start", d.addr)
}

func (d *dynalite) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
		d.cmd = nil
	}
}

func TestDynamoOutage(t *testing.T) {
	dynamoEndpoint(t)
	node, cli := os.Getenv("SECRETWATCH_TEST_NODE"), os.Getenv("SECRETWATCH_TEST_DYNALITE")
	if node == "" || cli == "" {
		testenv.Unavailable(t, "SECRETWATCH_TEST_NODE / SECRETWATCH_TEST_DYNALITE not set: run standins_start from .ci/standins.sh")
	}
	// The large Record writes ~300 chunks (3 secrets × 5 principals × 20 hours): kill dynalite
	// early and later in it.
	for _, killAt := range []int64{40, 150} {
		t.Run(fmt.Sprintf("KillAtWrite%d", killAt), func(t *testing.T) {
			d := &dynalite{t: t, node: node, cli: cli, dir: t.TempDir(), addr: freePort(t)}
			d.start()
			defer d.stop()

			client := newDynamoClient("http://"+d.addr, 2)
			db := &countingDB{dynamoAPI: client}
			st, err := New(db, Options{Table: "outage"})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CreateTable(t.Context()); err != nil {
				t.Fatal(err)
			}
			m := storetest.NewModel()
			before := storetest.Mix(500, 1, testSecrets, testPrincipals, testBase, 10)
			m.Add(before)
			if _, err := st.Record(t.Context(), before); err != nil {
				t.Fatal(err)
			}

			big := storetest.Mix(6000, 100000, testSecrets, testPrincipals, testBase.Add(5*time.Hour), 20)
			start := db.update.Load()
			var once sync.Once
			db.beforeUpdate = func(n int64) {
				if n-start == killAt {
					once.Do(d.stop)
				}
			}
			_, err = st.Record(t.Context(), big)
			db.beforeUpdate = nil
			if err == nil {
				t.Fatal("Record with dynalite killed mid-way returned no error")
			}
			t.Logf("Record during outage: %.200s (after %d UpdateItems)", err, db.update.Load()-start)

			// Restart on the same data; redeliver the batch to the same instance.
			d.start()
			want := m.Add(big)
			got, err := st.Record(t.Context(), big)
			if err != nil {
				t.Fatal(err)
			}
			var complete int // reads in both items before the crash: not fresh again
			for i, f := range got.Fresh {
				if want[i] && !f {
					complete++
				}
			}
			t.Logf("%d of %d reads were complete before the crash", complete, len(big))
			if killAt > 100 && complete == 0 {
				t.Errorf("killed after %d writes, yet no read was complete before it", killAt)
			}
			for k, s := range got.Series {
				if d := storetest.EqualSeries(s, m.Series[k]); d != "" {
					t.Errorf("after retry, Series[%+v]: %s", k, d)
				}
			}
			checkTruth(t, tableTruth(t, client, "outage"), m)

			// Everything once more through a cold instance: all duplicates, same series.
			all := append(slices.Clone(before), big...)
			st2, _ := New(client, Options{Table: "outage"})
			again, err := st2.Record(t.Context(), all)
			if err != nil {
				t.Fatal(err)
			}
			storetest.CheckRecorded(t, all, again, make([]bool, len(all)), m)
			checkTruth(t, tableTruth(t, client, "outage"), m)
		})
	}
}

// An hour cached while open is read again once it has settled: instance A then sees what
// instance B wrote into that hour.
func TestDynamoSettledRefresh(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	var now atomic.Int64
	hour := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	now.Store(hour.Add(10 * time.Minute).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	dbA := &countingDB{dynamoAPI: client}
	a := newTable(t, client, Options{Clock: clock})
	a.db = dbA
	b, _ := New(client, Options{Table: a.table, Clock: clock})
	sec, p := testSecrets[0], testPrincipals[0]
	read := func(n int, at time.Duration) []detector.Read {
		return []detector.Read{{EventID: storetest.EventID(n), Secret: sec, Principal: p, Time: hour.Add(at)}}
	}
	mustRecord := func(s *Store, r []detector.Read) detector.Recorded {
		t.Helper()
		got, err := s.Record(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	mustRecord(a, read(1, time.Minute))
	mustRecord(b, read(2, 5*time.Minute))
	mustRecord(b, read(3, 50*time.Minute))
	key := detector.SeriesKey{Secret: sec, Principal: p}
	// Still inside the hour: A knows only its own read of it.
	now.Store(hour.Add(55 * time.Minute).UnixNano())
	if got := mustRecord(a, read(4, 56*time.Minute)).Series[key].Hours[detector.Hour(hour)]; got != 4 {
		// A's write of the same item returns the item as it is: all four.
		t.Errorf("same item, fresh from the write: Hours = %d, want 4", got)
	}
	// Next hour, settled: the first Record re-reads the past hour once.
	now.Store(hour.Add(time.Hour + 20*time.Minute).UnixNano())
	mustRecord(b, read(5, 59*time.Minute)) // a late event B records in the settled hour
	dbA.reset()
	got := mustRecord(a, read(6, time.Hour+10*time.Minute)).Series[key]
	if got.Hours[detector.Hour(hour)] != 5 || got.Reads != 6 {
		t.Errorf("after settling: Hours[%d] = %d, Reads = %d; want 5 and 6", detector.Hour(hour), got.Hours[detector.Hour(hour)], got.Reads)
	}
	if q := dbA.query.Load(); q != 1 {
		t.Errorf("%d Query for the refresh, want 1", q)
	}
	dbA.reset()
	mustRecord(a, read(7, time.Hour+11*time.Minute))
	if q := dbA.query.Load(); q != 0 {
		t.Errorf("%d Query on the next Record, want 0 (refreshed once)", q)
	}
}

func TestDynamoErrorsWrapped(t *testing.T) {
	// Nothing listens on this port: connection refused must come back wrapped, not swallowed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	st, err := New(newDynamoClient("http://"+addr, 1), Options{Table: "none"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Record(t.Context(), []detector.Read{{EventID: storetest.EventID(1), Secret: "s", Principal: "p", Time: testBase}})
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Record against a closed port: %v, want an error wrapping ECONNREFUSED", err)
	}
	if _, err := st.Claim(t.Context(), "k", testBase, 1); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Claim against a closed port: %v, want an error wrapping ECONNREFUSED", err)
	}
}

func TestEncodeEventID(t *testing.T) {
	u := "3038ebd2-c98a-4c65-9b6e-e22506292313"
	if got := encodeEventID(u); len(got) != 22 {
		t.Errorf("encodeEventID(uuid) = %q, want 22 characters", got)
	}
	seen := map[string]string{}
	for _, id := range []string{u, strings.ToUpper(u), "not-a-uuid", "", "3038ebd2-c98a-4c65-9b6e-e2250629231z"} {
		e := encodeEventID(id)
		if prev, dup := seen[e]; dup {
			t.Errorf("%q and %q encode the same: %q", prev, id, e)
		}
		seen[e] = id
	}
	for _, k := range []itemKey{
		{secret: keyPart("a#b%c"), principal: keyPart("arn:x#y"), hour: 493000},
		{secret: keyPart("a#b%c"), principal: unknownPrincipal, hour: 493000},
		{secret: keyPart(strings.Repeat("#", 300)), principal: keyPart(strings.Repeat("p", 5000)), hour: 493000},
	} {
		if got, ok := parseTopSK(k.sk()); !ok || got != k {
			t.Errorf("parseTopSK(sk(%+v)) = %+v, %v", k, got, ok)
		}
	}
}

// BenchmarkDynamoRecord reports requests/event and ns/event against dynalite, one event per
// Record (single mode) and 2,000 per Record (batch mode).
func BenchmarkDynamoRecord(b *testing.B) {
	client := newDynamoClient(dynamoEndpoint(b), 3)
	for _, mode := range []struct {
		name  string
		batch int
	}{{"single", 1}, {"batch", 2000}} {
		b.Run(mode.name, func(b *testing.B) {
			db := &countingDB{dynamoAPI: client}
			st := newTable(b, client, Options{})
			st.db = db
			id := 0
			var events int64
			b.ResetTimer()
			for b.Loop() {
				reads := make([]detector.Read, mode.batch)
				for i := range reads {
					id++
					reads[i] = detector.Read{
						EventID:   storetest.EventID(id),
						Secret:    testSecrets[id%3],
						Principal: testPrincipals[id%len(testPrincipals)],
						Time:      testBase.Add(time.Duration(id) * 100 * time.Millisecond),
					}
				}
				if _, err := st.Record(context.Background(), reads); err != nil {
					b.Fatal(err)
				}
				events += int64(len(reads))
			}
			b.ReportMetric(float64(db.total())/float64(events), "requests/event")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
		})
	}
}

// A spilled hour's roll-up: built by the first cold instance after the hour settles, read as is
// by the next one (one Query, no spill Query), invalidated by a late spill write (a version bump)
// and built again — the series exact at every step.
func TestDynamoRollup(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	defer func(a int64) { softOverride = a }(softOverride)
	softOverride = 5
	var now atomic.Int64
	hour := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	now.Store(hour.Add(10 * time.Minute).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	a := newTable(t, client, Options{Clock: clock})
	sec, p := testSecrets[0], testPrincipals[0]
	m := storetest.NewModel()
	var reads []detector.Read
	for i := range 30 {
		reads = append(reads, detector.Read{EventID: storetest.EventID(70000 + i), Secret: sec, Principal: p, Time: hour.Add(time.Duration(i) * 7 * time.Second)})
	}
	for _, r := range reads { // one by one, while the hour is open: top chunk, minutes, seconds
		want := m.Add([]detector.Read{r})
		got, err := a.Record(t.Context(), []detector.Read{r})
		if err != nil {
			t.Fatal(err)
		}
		storetest.CheckRecorded(t, []detector.Read{r}, got, want, m)
	}
	top := itemKey{secret: keyPart(sec), principal: principalPart(p), hour: detector.Hour(hour)}
	rollup := func() (counts, bool) {
		t.Helper()
		out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(a.table), Key: keyOf(top), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return rollupOf(out.Item)
	}
	if _, ok := rollup(); ok {
		t.Fatal("a roll-up before the hour settled")
	}
	// Settled: a cold instance loads the secret and builds the roll-up.
	now.Store(hour.Add(time.Hour + 20*time.Minute).UnixNano())
	later := detector.Read{EventID: storetest.EventID(79999), Secret: sec, Principal: p, Time: hour.Add(time.Hour + 5*time.Minute)}
	record := func(what string, r detector.Read) *countingDB {
		t.Helper()
		db := &countingDB{dynamoAPI: client}
		st, _ := New(db, Options{Table: a.table, Clock: clock})
		want := m.Add([]detector.Read{r})
		got, err := st.Record(t.Context(), []detector.Read{r})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		storetest.CheckRecorded(t, []detector.Read{r}, got, want, m)
		return db
	}
	record("cold instance after the hour settled", later)
	if r, ok := rollup(); !ok || r.n != 25 {
		t.Fatalf("roll-up after the first cold load: %+v valid %v, want the 25 spilled reads", r, ok)
	}
	// The next cold instance reads it: one Query, no spill Query, no roll-up write (and the
	// duplicate is answered by the top chunk's ID set the Query returned: no write either).
	db := record("second cold instance", later)
	if q, u, g := db.query.Load(), db.update.Load(), db.get.Load(); q != 1 || u != 0 || g != 0 {
		t.Errorf("second cold instance: %d Query, %d UpdateItem, %d GetItem; want 1, 0, 0", q, u, g)
	}
	// A late event of the settled hour (into a spill chunk): the version moves, the roll-up is
	// invalid, and the next cold instance builds it again with the late read.
	late := detector.Read{EventID: storetest.EventID(79998), Secret: sec, Principal: p, Time: hour.Add(59 * time.Minute)}
	if db := record("late event", late); db.update.Load() != 2 {
		t.Errorf("late event: %d UpdateItem, want 2 (its spill chunk, the version bump)", db.update.Load())
	}
	if _, ok := rollup(); ok {
		t.Error("roll-up still valid after a late spill write")
	}
	record("cold instance after the late write", later)
	if r, ok := rollup(); !ok || r.n != 26 {
		t.Errorf("roll-up rebuilt: %+v valid %v, want 26 spilled reads", r, ok)
	}
}

// Another instance's principal in the current hour is part of the whole secret's series within a
// minute: a Record re-reads the open hours' top chunks (one Query) at most once a minute.
func TestDynamoOpenHourRefresh(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	var now atomic.Int64
	hour := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	now.Store(hour.Add(10 * time.Minute).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	dbA := &countingDB{dynamoAPI: client}
	a := newTable(t, client, Options{Clock: clock})
	a.db = dbA
	b, _ := New(client, Options{Table: a.table, Clock: clock})
	sec := testSecrets[0]
	read := func(n int, p string, at time.Duration) []detector.Read {
		return []detector.Read{{EventID: storetest.EventID(n), Secret: sec, Principal: p, Time: hour.Add(at)}}
	}
	whole := func(s *Store, r []detector.Read) int64 {
		t.Helper()
		got, err := s.Record(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		return got.Series[detector.SeriesKey{Secret: sec}].Reads
	}
	whole(a, read(1, testPrincipals[0], time.Minute))
	whole(b, read(2, testPrincipals[1], 2*time.Minute))
	dbA.reset()
	if n := whole(a, read(3, testPrincipals[0], 3*time.Minute)); n != 2 || dbA.query.Load() != 0 {
		t.Errorf("within the minute: whole secret %d reads with %d Query, want 2 (B's principal not seen yet) and 0", n, dbA.query.Load())
	}
	now.Add(int64(2 * time.Minute))
	dbA.reset()
	if n := whole(a, read(4, testPrincipals[0], 4*time.Minute)); n != 4 || dbA.query.Load() != 1 {
		t.Errorf("a minute later: whole secret %d reads with %d Query, want 4 and 1", n, dbA.query.Load())
	}
}
