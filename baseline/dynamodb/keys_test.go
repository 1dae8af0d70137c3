package dynamodb

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

// A secretId or principal of any length (anyone in the account can make a denied call with a
// 2,048-character secretId, and a forged file can hold anything) gives keys DynamoDB accepts,
// counts exactly once, and reads back the same on a cold instance.
func TestDynamoLongKeyParts(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	st := newTable(t, client, Options{Retention: 48 * time.Hour})
	base := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	long2k := "111122223333/us-east-1/" + strings.Repeat("a#%", 2000/3)
	long32k := "111122223333/us-east-1/" + strings.Repeat("b", 32<<10)
	longPrin := "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 3000)
	var reads []detector.Read
	for i, c := range []struct {
		secret, principal string
		denied            bool
	}{
		{long2k, "arn:aws:iam::111122223333:role/attacker", true},
		{long32k, "arn:aws:iam::111122223333:role/attacker", true},
		{long32k, longPrin, false},
		{"111122223333/us-east-1/db", longPrin, false},
		{"111122223333/us-east-1/db", "arn:aws:iam::111122223333:role/app", false},
	} {
		reads = append(reads, detector.Read{EventID: storetest.EventID(900 + i), Secret: c.secret, Principal: c.principal, Time: base.Add(time.Duration(i) * time.Minute), Denied: c.denied})
	}
	m := storetest.NewModel()
	want := m.Add(reads)
	got, err := st.Record(t.Context(), reads)
	if err != nil {
		t.Fatalf("Record with long key parts: %v", err)
	}
	storetest.CheckRecorded(t, reads, got, want, m)
	got, err = st.Record(t.Context(), reads) // again: duplicates
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckRecorded(t, reads, got, make([]bool, len(reads)), m)

	// A cold instance reads the same series back (one Query of the secret's top chunks).
	cold, err := New(client, Options{Table: st.table, Retention: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got, err = cold.Record(t.Context(), reads)
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckRecorded(t, reads, got, make([]bool, len(reads)), m)

	// Every key within DynamoDB's limits, and the readable values kept (bounded).
	out, err := client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(st.table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var sawSecretName, sawPrincipal bool
	for _, item := range out.Items {
		str := func(a string) string { v, _ := item[a].(*types.AttributeValueMemberS); return valueOr(v) }
		if len(str(attrPK)) >= 2048 || len(str(attrSK)) >= 1024 {
			t.Errorf("item key over DynamoDB's limits: pk %d, sk %d bytes", len(str(attrPK)), len(str(attrSK)))
		}
		if n := str(attrSecretName); n != "" {
			sawSecretName = true
			if len(n) > maxAttrText || !strings.HasPrefix(n, "111122223333/us-east-1/") {
				t.Errorf("sn = %d bytes %.40q…, want the secret's beginning, ≤ %d bytes", len(n), n, maxAttrText)
			}
		}
		if p := str(attrPrincipal); strings.HasPrefix(p, "arn:aws:iam::111122223333:role/rrr") {
			sawPrincipal = true
			if len(p) > maxAttrText {
				t.Errorf("pr = %d bytes, want ≤ %d", len(p), maxAttrText)
			}
		}
	}
	if !sawSecretName || !sawPrincipal {
		t.Errorf("readable secret kept: %v, readable principal kept: %v; want both", sawSecretName, sawPrincipal)
	}

	// The suppressor's keys hold a secret and a principal too.
	key := detector.RuleUnexpectedPrincipal + "|" + long32k + "|" + longPrin
	for _, n := range []int64{1, 2} {
		if _, err := st.Claim(t.Context(), key, base, n); err != nil {
			t.Fatalf("Claim with a 35 KB key: %v", err)
		}
	}
	if err := st.MarkDelivered(t.Context(), key, base); err != nil {
		t.Fatal(err)
	}
	if a, err := st.Claim(t.Context(), key, base, 0); err != nil || a.Count != 3 || !a.Delivered {
		t.Errorf("Claim after two claims and a delivery = %+v, %v; want count 3, delivered", a, err)
	}
}

func valueOr(v *types.AttributeValueMemberS) string {
	if v == nil {
		return ""
	}
	return v.Value
}
