package dynamodb

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secretwatch/secretwatch/baseline/internal/bound"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/report"
)

// bulkItems builds the items Record writes for reads of which no two share a top chunk (secret,
// principal, hour) or a report item (secret, principal, day): one top chunk and one R# item per
// read. It lets a benchmark load a large table with BatchWriteItem (dynalite takes ~280
// conditional Record writes a second here: 1.4 M reads would take ~2 h). TestBulkItemsMatchRecord
// keeps it equal, item by item, to what Record writes.
func bulkItems(st *Store, reads []detector.Read) ([]map[string]types.AttributeValue, error) {
	seen := map[string]bool{}
	var items []map[string]types.AttributeValue
	for _, r := range reads {
		sec, prin, h := keyPart(r.Secret), principalPart(r.Principal), detector.Hour(r.Time)
		if digested(sec) || digested(prin) || r.VPCEndpointID != "" || r.SecretARN != "" {
			return nil, fmt.Errorf("bulkItems: read %s: digested keys, VPC endpoints and ARNs are not built here", r.EventID)
		}
		top := itemKey{secret: sec, principal: prin, hour: h}
		day := dayKey{secret: sec, principal: prin, day: dayOf(r.Time)}
		for _, k := range []string{top.pk() + "\x00" + top.sk(), day.pk() + "\x00" + day.sk()} {
			if seen[k] {
				return nil, fmt.Errorf("bulkItems: read %s shares an item with an earlier read", r.EventID)
			}
			seen[k] = true
		}
		n, d := "1", "0"
		if r.Denied {
			n, d = "0", "1"
		}
		t := keyOf(top)
		t[attrReads] = &types.AttributeValueMemberN{Value: n}
		t[attrDenied] = &types.AttributeValueMemberN{Value: d}
		t[attrIDs] = &types.AttributeValueMemberSS{Value: []string{encodeEventID(r.EventID)}}
		t[attrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt((h+1)*3600+int64(st.ret/time.Second), 10)}
		if !r.Denied {
			t[attrFirst] = &types.AttributeValueMemberS{Value: firstKey(r.Time, r.EventID)}
			t[attrLast] = &types.AttributeValueMemberN{Value: strconv.FormatInt(r.Time.UnixNano(), 10)}
		}
		items = append(items, t)

		rep := map[string]types.AttributeValue{
			attrPK:         &types.AttributeValueMemberS{Value: day.pk()},
			attrSK:         &types.AttributeValueMemberS{Value: day.sk()},
			attrTTL:        &types.AttributeValueMemberN{Value: strconv.FormatInt(st.dayTTL(day.day), 10)},
			attrSecretName: &types.AttributeValueMemberS{Value: bound.Text(r.Secret, maxAttrText)},
		}
		for i, v := range [3]string{r.SourceIP, r.VPCEndpointID, r.UserAgent} {
			if vs := report.AddValue(nil, v); len(vs) > 0 {
				rep[setAttrs[i]] = &types.AttributeValueMemberSS{Value: vs}
			}
		}
		if p := bound.Text(r.Principal, maxAttrText); p != "" {
			rep[attrPrincipal] = &types.AttributeValueMemberS{Value: p}
		}
		if pt := report.Bound(r.PrincipalType); pt != "" {
			rep[attrPType] = &types.AttributeValueMemberS{Value: pt}
		}
		if r.Denied {
			ns := strconv.FormatInt(r.Time.UnixNano(), 10)
			rep[attrFirstOther] = &types.AttributeValueMemberN{Value: ns}
			rep[attrLastOther] = &types.AttributeValueMemberN{Value: ns}
		}
		items = append(items, rep)
	}
	return items, nil
}

// bulkWrite writes items with BatchWriteItem (25 a request, 8 at once), retrying what comes
// back unprocessed.
func bulkWrite(ctx context.Context, client *dynamodb.Client, table string, items []map[string]types.AttributeValue) error {
	var chunks [][]map[string]types.AttributeValue
	for i := 0; i < len(items); i += 25 {
		chunks = append(chunks, items[i:min(i+25, len(items))])
	}
	return forEach(ctx, chunks, func(ctx context.Context, chunk []map[string]types.AttributeValue) error {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, it := range chunk {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		for len(reqs) > 0 {
			out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[table]
		}
		return nil
	})
}

func scanAll(t testing.TB, client *dynamodb.Client, table string) map[string]map[string]types.AttributeValue {
	t.Helper()
	all := map[string]map[string]types.AttributeValue{}
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := client.Scan(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			all[strAttr(it[attrPK])+"\x00"+strAttr(it[attrSK])] = it
		}
		if len(out.LastEvaluatedKey) == 0 {
			return all
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// The bulk loader writes exactly the items Record writes, for the benchmark's shape of reads.
func TestBulkItemsMatchRecord(t *testing.T) {
	client := newDynamoClient(dynamoEndpoint(t), 3)
	viaRecord := newTable(t, client, Options{})
	viaBulk := newTable(t, client, Options{})
	end := time.Now().UTC().Truncate(24 * time.Hour)
	var reads []detector.Read
	id := 0
	for d := range 3 {
		for s := range 4 {
			for p := range 3 {
				id++
				reads = append(reads, detector.Read{
					EventID: storetest.EventID(id), Secret: fmt.Sprintf("111122223333/us-east-1/secret-%03d", s),
					Principal: fmt.Sprintf("arn:aws:iam::111122223333:role/app-%03d", p),
					Time:      end.Add(-time.Duration(3-d)*24*time.Hour + 3*time.Hour + time.Duration(id)*time.Second),
					SourceIP:  fmt.Sprintf("10.0.%d.%d", p, d%2), UserAgent: "aws-sdk-go-v2/1.30", PrincipalType: "AssumedRole",
					Denied: id%5 == 0,
				})
			}
		}
	}
	if _, err := viaRecord.Record(t.Context(), reads); err != nil {
		t.Fatal(err)
	}
	items, err := bulkItems(viaBulk, reads)
	if err != nil {
		t.Fatal(err)
	}
	if err := bulkWrite(t.Context(), client, viaBulk.table, items); err != nil {
		t.Fatal(err)
	}
	want, got := scanAll(t, client, viaRecord.table), scanAll(t, client, viaBulk.table)
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("bulk load wrote %d items, Record %d", len(got), len(want))
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("item %q:\n bulk   %#v\n record %#v", k, got[k], want[k])
		}
	}
}
