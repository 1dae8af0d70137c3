package detector_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

// A record dated 2099 (a broken clock, a forged file) is counted and skipped as future-dated and
// never reaches the store; its neighbours are processed.
func TestProcessFutureDated(t *testing.T) {
	al, _, _ := detector.ParseAllowList("a.yaml", []byte(allowNobody))
	st := baseline.NewMemoryStore(0)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	d, err := detector.New(detector.Config{AllowList: al, Now: func() time.Time { return now }}, st)
	if err != nil {
		t.Fatal(err)
	}
	recs := []*cloudtrail.Record{
		read("ok-1", now.Add(-time.Hour), "intruder", "app/db"),
		read("future-1", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), "intruder", "app/db"),
		read("future-2", now.Add(20*time.Minute), "intruder", "app/db"),
		read("skew-ok", now.Add(10*time.Minute), "intruder", "app/db"),
	}
	res, err := d.Process(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Skipped[detector.SkipFutureDated] != 2 || res.Stats.Reads != 2 {
		t.Errorf("stats %+v: want 2 future-dated skips and 2 reads", res.Stats)
	}
	s := st.Series(detector.SeriesKey{Secret: "111122223333/us-east-1/app/db"})
	if s == nil || s.Reads != 2 || s.LastSeen.After(now.Add(15*time.Minute)) {
		t.Errorf("store series %+v: the future-dated reads must not be recorded", s)
	}
}

// learn writes only what check-config accepts, whatever the account ids of (anonymised) logs.
func TestLearnerOutputPassesCheckConfig(t *testing.T) {
	l := detector.NewLearner()
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for i, acct := range []string{"111122223333", "12345678901", "", "ANONYMIZED"} {
		r := read(fmt.Sprintf("l-%d", i), at, "app", "app/db")
		r.RecipientAccountID = acct
		r.UserIdentity.AccountID = acct
		l.Add(r)
	}
	odd := read("l-odd", at, "app", "odd name with spaces")
	l.Add(odd)
	weird := read("l-weird", at, "app", "app/x")
	weird.UserIdentity = &cloudtrail.UserIdentity{Type: "Mystery", PrincipalID: "p q"}
	l.Add(weird)
	var buf bytes.Buffer
	if err := l.WriteYAML(&buf, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := detector.ParseAllowList("learnt.yaml", buf.Bytes()); err != nil {
		t.Fatalf("learn wrote a file check-config rejects: %v\n%s", err, buf.String())
	}
	if !bytes.Contains(buf.Bytes(), []byte(`account: "111122223333"`)) {
		t.Errorf("valid account not kept:\n%s", buf.String())
	}
}

var _ = json.Marshal

// Denied attempts with requestParameters null are counted as denied, recovered secret or not.
func TestProcessDeniedNullParameters(t *testing.T) {
	al, _, _ := detector.ParseAllowList("a.yaml", []byte(allowNobody))
	st := baseline.NewMemoryStore(0)
	d, err := detector.New(detector.Config{AllowList: al}, st)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Process(t.Context(), load(t, "written/getsecretvalue-denied-null-params.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Denied != 3 || res.Stats.Reads != 0 || len(res.Stats.Skipped) != 0 {
		t.Errorf("stats %+v: want 3 denied, nothing skipped", res.Stats)
	}
	if s := st.Series(detector.SeriesKey{Secret: "111122223333/us-east-1/prod/db", Principal: "arn:aws:iam::111122223333:role/intruder"}); s == nil || s.Denied != 1 {
		t.Errorf("denied attempt not recorded under its secret: %+v", s)
	}
}

// learn proposes network: expectations for secrets every read of which came through a VPC
// endpoint (or a service), and none for a secret also read from anywhere else.
func TestLearnerProposesNetworkPaths(t *testing.T) {
	l := detector.NewLearner()
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for i := range 25 {
		r := read(fmt.Sprintf("v-%d", i), at.Add(time.Duration(i)*time.Minute), "app", "app/private")
		r.VPCEndpointID = "vpce-0aaa"
		l.Add(r)
		p := read(fmt.Sprintf("p-%d", i), at.Add(time.Duration(i)*time.Minute), "app", "app/public")
		if i > 0 {
			p.VPCEndpointID = "vpce-0aaa"
		}
		l.Add(p)
	}
	cfn := read("cfn", at, "cfn-exec", "app/private")
	cfn.UserIdentity.InvokedBy = "cloudformation.amazonaws.com"
	l.Add(cfn)
	var buf bytes.Buffer
	if err := l.WriteYAML(&buf, "test"); err != nil {
		t.Fatal(err)
	}
	al, _, err := detector.ParseAllowList("learnt.yaml", buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	for _, e := range al.Entries {
		switch e.Secret {
		case "app/private":
			if e.Network == nil || fmt.Sprint(e.Network.VPCEndpoints, e.Network.Via) != "[vpce-0aaa] [cloudformation.amazonaws.com]" {
				t.Errorf("app/private: network %+v\n%s", e.Network, buf.String())
			}
		case "app/public":
			if e.Network != nil {
				t.Errorf("app/public read once from outside, yet network %+v proposed", e.Network)
			}
		}
	}
}
