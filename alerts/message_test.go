package alerts

import (
	"encoding/json"
	"fmt"
	"github.com/secretwatch/secretwatch/internal/alerttest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secretwatch/secretwatch/detector"
)

func messageSize(m Message) int {
	n := len(m.Body)
	for k, v := range m.Attributes {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// checkMessage asserts what SNS needs of every message and that machines can read it.
func checkMessage(t *testing.T, m Message, a *detector.Alert) *detector.Alert {
	t.Helper()
	checkSubject(t, m.Subject)
	if n := messageSize(m); n > messageBudget {
		t.Errorf("message is %d bytes, over the budget of %d", n, messageBudget)
	}
	if !utf8.ValidString(m.Body) {
		t.Error("body is not valid UTF-8")
	}
	if !strings.Contains(m.Body, "\n"+JSONMarker+"\n") {
		t.Error("body lacks the JSON marker line")
	}
	for k, v := range m.Attributes {
		if v == "" || len(v) > maxAttrValue || asciiLine(v) != v {
			t.Errorf("attribute %s = %q", k, v)
		}
	}
	got, err := ParseMessage(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rule != a.Rule || got.Severity != a.Severity || got.Account != a.Account || got.Count != a.Count {
		t.Errorf("parsed alert %+v does not match %+v", got, a)
	}
	return got
}

func TestNewMessage(t *testing.T) {
	a := alerttest.Storm()
	m, err := NewMessage(a)
	if err != nil {
		t.Fatal(err)
	}
	got := checkMessage(t, m, a)
	if !reflect.DeepEqual(got, normalize(a)) {
		t.Errorf("JSON line does not carry the whole alert:\n got %+v\nwant %+v", got, a)
	}
	if !strings.HasPrefix(m.Body, Render(a)) {
		t.Error("body does not start with the human text")
	}
	want := map[string]string{AttrRule: "unexpected-principal", AttrSeverity: "critical", AttrSecret: "prod/db/password", AttrAccount: "123456789012"}
	if !reflect.DeepEqual(m.Attributes, want) {
		t.Errorf("attributes %v, want %v", m.Attributes, want)
	}
	var buf strings.Builder
	fmt.Fprintf(&buf, "Subject: %s\n", m.Subject)
	keys := make([]string, 0, len(m.Attributes))
	for k := range m.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&buf, "Attribute %s (String): %s\n", k, m.Attributes[k])
	}
	fmt.Fprintf(&buf, "\n%s\n", m.Body)
	golden(t, "sns-message.golden", buf.String())
}

func TestNewMessageSparse(t *testing.T) {
	a := alerttest.Sparse()
	a.Account = ""
	m, err := NewMessage(a)
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, m, a)
	if _, ok := m.Attributes[AttrAccount]; ok {
		t.Error("empty account sent as an attribute (SNS rejects empty values)")
	}
	if m.Attributes[AttrSecret] != "shared/api-key" {
		t.Errorf("secret attribute = %q", m.Attributes[AttrSecret])
	}
	if _, err := NewMessage(nil); err == nil {
		t.Error("nil alert: no error")
	}
}

// TestNewMessageHuge feeds alerts far over the SNS limit: the message must shrink below it,
// stay valid UTF-8 (cut at rune boundaries) and keep a parseable JSON line.
func TestNewMessageHuge(t *testing.T) {
	tests := map[string]func(a *detector.Alert){
		"huge reason": func(a *detector.Alert) {
			a.Reason = strings.Repeat("é1 ", 400_000) // 1.6 MB of two-byte runes
		},
		"huge everything": func(a *detector.Alert) {
			big := strings.Repeat("ü", 50_000) + "\x1b\u202e"
			a.Reason, a.NextStep, a.Session, a.SecretARN, a.Principal = big, big, big, big, big
			a.UserAgents = nil
			for i := range 10 {
				a.UserAgents = append(a.UserAgents, fmt.Sprint(i)+strings.Repeat("\x01", 100_000))
			}
		},
		"unbounded lists": func(a *detector.Alert) {
			a.EventIDs = nil
			for i := range 100_000 {
				a.EventIDs = append(a.EventIDs, fmt.Sprintf("id-%08d", i))
			}
			a.SourceIPs = a.EventIDs
		},
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			a := alerttest.Storm()
			edit(a)
			m, err := NewMessage(a)
			if err != nil {
				t.Fatal(err)
			}
			got := checkMessage(t, m, a)
			if len(got.EventIDs) > detector.MaxAlertEventIDs || len(got.SourceIPs) > detector.MaxAlertValues {
				t.Errorf("lists not bounded: %d event IDs, %d IPs", len(got.EventIDs), len(got.SourceIPs))
			}
			if strings.Contains(got.Reason, "\uFFFD") && !strings.Contains(a.Reason, "\uFFFD") {
				t.Error("a rune was split")
			}
		})
	}
}

func TestParseMessage(t *testing.T) {
	for _, body := range []string{"", "just text", "text\n{\"rule\":", "text\n{\"count\":1}"} {
		if _, err := ParseMessage(body); err == nil {
			t.Errorf("ParseMessage(%q): no error", body)
		}
	}
	a, err := ParseMessage("text\n" + JSONMarker + "\n{\"rule\":\"read-spike\"}\r\n")
	if err != nil || a.Rule != "read-spike" {
		t.Errorf("ParseMessage = %+v, %v", a, err)
	}
}

func TestFallbackMessage(t *testing.T) {
	a := alerttest.Hostile()
	a.SecretName = "prod/grüße-🔑"
	m := FallbackMessage(a)
	checkSubject(t, m.Subject)
	for i := 0; i < len(m.Body); i++ {
		if c := m.Body[i]; (c < 0x20 && c != '\n') || c > 0x7e {
			t.Fatalf("fallback body has byte %#x at %d", c, i)
		}
	}
	if len(m.Attributes) != 2 || m.Attributes[AttrRule] != a.Rule || m.Attributes[AttrSeverity] != a.Severity {
		t.Errorf("fallback attributes %v", m.Attributes)
	}
	got, err := ParseMessage(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretName != a.SecretName {
		t.Errorf("secret name %q did not survive the \\u escaping (want %q)", got.SecretName, a.SecretName)
	}
	var v any
	if err := json.Unmarshal([]byte(asciiJSON(`{"k":"𝄞é"}`)), &v); err != nil || v.(map[string]any)["k"] != "𝄞é" {
		t.Errorf("asciiJSON: %v %v", v, err)
	}
}

func FuzzNewMessage(f *testing.F) {
	f.Add("critical", "prod/db", "arn:aws:iam::1:role/x", "why", "ua", 1)
	f.Add("", "", "", "", "", 0)
	f.Add("h\xff", "é\n\x00", "\u202e", strings.Repeat("x ", 5000), strings.Repeat("\x1b", 3000), 10000)
	f.Fuzz(func(t *testing.T, severity, secret, principal, reason, ua string, count int) {
		a := &detector.Alert{Rule: "r", Severity: severity, SecretName: secret, Principal: principal,
			Reason: reason, UserAgents: []string{ua, ua}, Count: int64(count)}
		m, err := NewMessage(a)
		if err != nil {
			t.Fatal(err)
		}
		if messageSize(m) > messageBudget || !utf8.ValidString(m.Body) {
			t.Fatalf("bad message: %d bytes, valid UTF-8 %v", messageSize(m), utf8.ValidString(m.Body))
		}
		checkSubject(t, m.Subject)
		if _, err := ParseMessage(m.Body); err != nil {
			t.Fatal(err)
		}
	})
}
