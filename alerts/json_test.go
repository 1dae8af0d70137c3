package alerts

import (
	"bytes"
	"encoding/json"
	"github.com/secretwatch/secretwatch/internal/alerttest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

func TestJSONLine(t *testing.T) {
	var buf bytes.Buffer
	a := alerttest.Fixture(detector.RuleReadSpike)
	if err := JSONLine(&buf, a); err != nil {
		t.Fatal(err)
	}
	golden(t, "read-spike.json.golden", buf.String())

	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("not one line: %q", out)
	}
	var back detector.Alert
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, a) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", back, *a)
	}
}

// TestJSONLineFieldNames checks the keys against the struct tags of detector.Alert, which are
// the product's interface.
func TestJSONLineFieldNames(t *testing.T) {
	var want []string
	typ := reflect.TypeFor[detector.Alert]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			want = append(want, name)
		}
	}
	var buf bytes.Buffer
	a := alerttest.Fixture(detector.RuleUnexpectedPrincipal)
	// Set only by some rules (omitempty): the resource a non-read event acted on, the workload.
	a.Resource, a.Workload = "trail:org-trail", "ECS task 0123456789abcdef0123456789abcdef"
	if err := JSONLine(&buf, a); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
}

func TestJSONLineSparse(t *testing.T) {
	var buf bytes.Buffer
	a := alerttest.Sparse()
	a.FirstSeen = a.FirstSeen.In(time.FixedZone("X", 3600))
	if err := JSONLine(&buf, a); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"eventIDs", "sourceIPs", "userAgents", "vpcEndpointIds"} {
		if v, ok := m[k].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", k, m[k])
		}
	}
	for _, k := range []string{"secretARN", "session"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s present although empty and omitempty", k)
		}
	}
	if m["firstSeen"] != "2025-03-04T05:06:07Z" {
		t.Errorf("firstSeen = %v, want UTC", m["firstSeen"])
	}
	if a.SourceIPs != nil {
		t.Error("JSONLine changed the caller's alert")
	}
}

func TestJSONLineOddValues(t *testing.T) {
	a := alerttest.Hostile()
	a.Reason = "<b>&amp;</b> \xff"
	a.LastSeen = time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC) // not representable in RFC 3339
	var buf bytes.Buffer
	if err := JSONLine(&buf, a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"<b>&amp;</b> `) {
		t.Errorf("HTML escaped: %s", buf.String())
	}
	var back detector.Alert
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.LastSeen.IsZero() {
		t.Errorf("lastSeen = %v, want zero", back.LastSeen)
	}
	if err := JSONLine(&buf, nil); err == nil {
		t.Error("nil alert: no error")
	}
}
