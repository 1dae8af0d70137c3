package terraform_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// fanoutWildcard reports whether a wildcard resource is one of the two the backfill fan-out needs:
// the objects under the trail prefix (s3:GetObject only, the * last), and the state machine's own
// child executions (states:DescribeExecution and StopExecution only).
func fanoutWildcard(actions []string, r string) bool {
	switch {
	case slices.Equal(actions, []string{"s3:GetObject"}):
		rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
		return ok && strings.Count(r, "*") == 1 && strings.HasSuffix(rest, "/*") && strings.Contains(strings.TrimSuffix(rest, "/*"), "/")
	case slices.Equal(actions, []string{"states:DescribeExecution", "states:StopExecution"}):
		return r == arnP+"states:"+region+":"+acct+":execution:secretwatch-backfill/*"
	}
	return false
}

// checkFanout: the backfill state machine's role grants exactly what its Distributed Map does, on
// the trail prefix and the function; the definition is valid JSON with an ItemReader over the
// prefix, an ItemBatcher passing the bucket in BatchInput (the Lambda's backfillBatch shape), and
// the function as the only resource it invokes.
func checkFanout(t *testing.T, docs map[string]policyDoc, def cty.Value) {
	t.Helper()
	objects := "arn:aws:s3:::" + fanoutBucket + "/" + fanoutPrefix + "*"
	want := map[string][]string{
		"s3:ListBucket":            {"arn:aws:s3:::" + fanoutBucket},
		"s3:GetObject":             {objects},
		"lambda:InvokeFunction":    {functionARN},
		"states:StartExecution":    {machineARN},
		"states:DescribeExecution": {arnP + "states:" + region + ":" + acct + ":execution:secretwatch-backfill/*"},
		"states:StopExecution":     {arnP + "states:" + region + ":" + acct + ":execution:secretwatch-backfill/*"},
	}
	role := docs["fanout_role_policy"]
	if got := grants(role); !reflect.DeepEqual(got, want) {
		t.Errorf("fan-out role grants\n  %v\nwant\n  %v", got, want)
	}
	for _, st := range role.Statements {
		if slices.Contains(st.Action, "s3:ListBucket") {
			if got := st.Condition["StringLike"]["s3:prefix"]; !reflect.DeepEqual(got, []any{fanoutPrefix + "*"}) {
				t.Errorf("s3:ListBucket condition s3:prefix = %v, want [%s*]", got, fanoutPrefix)
			}
		}
	}
	checkTrust(t, docs["fanout_assume_role_policy"], []string{"Service:states.amazonaws.com"})

	if def.IsNull() {
		t.Fatal("fanout_definition is null with fan-out")
	}
	var asl struct {
		StartAt string
		States  map[string]struct {
			Type       string
			ItemReader struct {
				Resource   string
				Parameters map[string]any
			}
			ItemBatcher *struct {
				MaxItemsPerBatch int
				BatchInput       map[string]any
			}
			MaxConcurrency int
			ItemProcessor  struct {
				ProcessorConfig struct{ Mode, ExecutionType string }
				StartAt         string
				States          map[string]struct {
					Type       string
					Resource   string
					Parameters map[string]any
					Retry      []map[string]any
					End        bool
				}
			}
			End bool
		}
	}
	js := def.AsString()
	if err := json.Unmarshal([]byte(js), &asl); err != nil {
		t.Fatalf("fanout_definition is not JSON: %v\n%s", err, js)
	}
	m, ok := asl.States[asl.StartAt]
	if !ok || len(asl.States) != 1 || m.Type != "Map" || !m.End {
		t.Fatalf("definition: start state %q of %d is %+v, want the one Map state", asl.StartAt, len(asl.States), m)
	}
	if m.ItemReader.Resource != "arn:aws:states:::s3:listObjectsV2" || m.ItemReader.Parameters["Bucket"] != fanoutBucket || m.ItemReader.Parameters["Prefix.$"] != "$.prefix" {
		t.Errorf("ItemReader %+v, want listObjectsV2 over %s with the input's prefix", m.ItemReader, fanoutBucket)
	}
	if m.ItemBatcher == nil || m.ItemBatcher.MaxItemsPerBatch < 1 || m.ItemBatcher.MaxItemsPerBatch > 1000 || !reflect.DeepEqual(m.ItemBatcher.BatchInput, map[string]any{"Bucket": fanoutBucket}) {
		t.Errorf("ItemBatcher %+v, want 1..1000 items per batch and BatchInput {Bucket: %s}", m.ItemBatcher, fanoutBucket)
	}
	if m.MaxConcurrency < 1 || m.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED" {
		t.Errorf("Map: MaxConcurrency %d, ProcessorConfig %+v; want a bounded DISTRIBUTED map", m.MaxConcurrency, m.ItemProcessor.ProcessorConfig)
	}
	task, ok := m.ItemProcessor.States[m.ItemProcessor.StartAt]
	if !ok || len(m.ItemProcessor.States) != 1 || task.Type != "Task" || !task.End {
		t.Fatalf("ItemProcessor: %+v, want one Task", m.ItemProcessor)
	}
	if task.Resource != "arn:aws:states:::lambda:invoke" || task.Parameters["FunctionName"] != functionARN || task.Parameters["Payload.$"] != "$" {
		t.Errorf("task invokes %s with %v, want lambda:invoke of %s with the batch as payload", task.Resource, task.Parameters, functionARN)
	}
	if len(task.Retry) == 0 {
		t.Errorf("task without Retry: a throttled batch would fail the backfill")
	}
	// Nothing else is named: no other function, bucket or service integration.
	for _, s := range []string{"arn:aws:lambda:", "arn:aws:s3:::", "arn:aws:states:::"} {
		if n := strings.Count(js, s); s == "arn:aws:lambda:" && n != 1 || s == "arn:aws:states:::" && n != 2 || s == "arn:aws:s3:::" && n != 0 {
			t.Errorf("definition names %q %d times", s, n)
		}
	}
}
