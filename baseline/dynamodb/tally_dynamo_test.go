package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

func TestDynamoTallierContract(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	storetest.Tallier(t, func(t *testing.T) detector.Tallier { return newTable(t, client, Options{}) })
}

// Write units of Tally calls, as dynalite reports them (ReturnConsumedCapacity TOTAL): one
// member per call (the Lambda's single-event delivery) until the set is full, then calls on the
// full set from a cold instance (a failed condition: AWS bills it as a write of the item's size;
// dynalite reports no units, capacityDB counts 1).
func TestDynamoTallyCapacity(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	w := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, limit := range []int{12, 100, 200} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			st := newTable(t, client, Options{})
			c := &capacityDB{dynamoAPI: client}
			st.db = c
			key := "bulk|arn:aws:iam::111122223333:role/" + strings.Repeat("r", 40)
			for i := range limit {
				n, err := st.Tally(t.Context(), key, w, []string{fmt.Sprintf("111122223333/us-east-1/prod/service-%04d/db", i)}, limit)
				if err != nil || n != i+1 {
					t.Fatalf("Tally %d = %d, %v", i, n, err)
				}
			}
			fill := c.wcu
			if c.updates != limit || c.failed != 0 || c.gets != 0 {
				t.Errorf("%d UpdateItem (%d failed), %d GetItem for %d members; want %d, 0, 0", c.updates, c.failed, c.gets, limit, limit)
			}
			cold, err := New(c, Options{Table: st.table})
			if err != nil {
				t.Fatal(err)
			}
			c.wcu, c.rcu, c.updates, c.failed, c.gets = 0, 0, 0, 0, 0
			if n, err := cold.Tally(t.Context(), key, w, []string{"one more"}, limit); err != nil || n != limit {
				t.Fatalf("Tally on a full set = %d, %v", n, err)
			}
			if c.updates != 1 || c.failed != 1 || c.gets != 1 {
				t.Errorf("full set, cold: %d UpdateItem (%d failed), %d GetItem; want 1 failed + 1 GetItem (dynalite)", c.updates, c.failed, c.gets)
			}
			t.Logf("limit %d: filling one member per call: %.0f WCU in %d writes (%.2f per call); full set, cold: 1 failed write + %.1f RCU GetItem",
				limit, fill, limit, fill/float64(limit), c.rcu)
			// No write costs more than the full item: keys, ttl and limit × 16 B (≤ 4 KB at 200).
			if most := float64(limit * ((limit*16 + 200 + 1023) / 1024)); fill > most {
				t.Errorf("%.0f WCU to fill %d members, want ≤ %.0f", fill, limit, most)
			}
		})
	}
}

// noTallier hides the store's Tallier: the detector falls back to its in-process tally.
type noTallier struct{ *Store }

func (n noTallier) Tally() {} // a method of another signature: not a detector.Tallier

// notifier records the alerts delivered.
type notifier struct {
	mu     sync.Mutex
	alerts []detector.Alert
}

func (n *notifier) Notify(_ context.Context, a *detector.Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.alerts = append(n.alerts, *a)
	return nil
}

func (n *notifier) count(rule string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, a := range n.alerts {
		if a.Rule == rule {
			c++
		}
	}
	return c
}

const stratusFile = "../../testdata/detector/stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"

func stratusRecords(t *testing.T) []*cloudtrail.Record {
	t.Helper()
	b, err := os.ReadFile(stratusFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var recs []*cloudtrail.Record
	for _, r := range raw {
		rec, err := cloudtrail.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// The Lambda's shape: every event its own invocation, invocations spread over two containers
// (two detectors, two stores) sharing one table. The 20 GetSecretValue of 20 secrets in the
// Stratus capture raise exactly one bulk-retrieval alert — because the tally lives in the table.
// Through a store without Tallier (each container counting what it saw) they raise none.
func TestDynamoTallyAcrossInvocations(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	recs := stratusRecords(t)
	for _, withTallier := range []bool{true, false} {
		name := "tallier"
		if !withTallier {
			name = "in-process"
		}
		t.Run(name, func(t *testing.T) {
			first := newTable(t, client, Options{})
			n := &notifier{}
			type container struct {
				det *detector.Detector
				sup detector.Suppressor
			}
			var cs []container
			for range 2 {
				st, err := New(client, Options{Table: first.table})
				if err != nil {
					t.Fatal(err)
				}
				var ds detector.Store = st
				if !withTallier {
					ds = noTallier{st}
				}
				if _, ok := ds.(detector.Tallier); ok != withTallier {
					t.Fatalf("store is a Tallier: %v, want %v", ok, withTallier)
				}
				det, err := detector.New(detector.Config{AllowList: &detector.AllowList{}}, ds)
				if err != nil {
					t.Fatal(err)
				}
				cs = append(cs, container{det, st})
			}
			for i, rec := range recs {
				c := cs[i%2]
				res, err := c.det.Process(t.Context(), []*cloudtrail.Record{rec})
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if _, err := detector.Deliver(t.Context(), res.Alerts, c.sup, n); err != nil {
					t.Fatalf("event %d: deliver: %v", i, err)
				}
			}
			want := 0
			if withTallier {
				want = 1
			}
			if got := n.count(detector.RuleBulkRetrieval); got != want {
				t.Errorf("%d bulk-retrieval alerts, want %d", got, want)
			}
			if got := n.count(detector.RuleUnexpectedPrincipal); got != 20 {
				t.Errorf("%d unexpected-principal alerts, want 20", got)
			}
		})
	}
}
