package report_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secretwatch/secretwatch/baseline"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/report"
)

// randomValue is up to 400 random bytes, biased towards the dangerous ones.
func randomValue(r *rand.Rand) string {
	alphabet := []string{"\x00", "\x1b[2J", "\n", "\r", "\t", "\u202e", "\u2028", "\xff", "\xc3", "<", ">", "&", "\"", "'", "|", "`", "=", "+", "-", "@", "\\", "*", "_", "[", "]", "é", "a", "b", " "}
	var b []byte
	for range r.IntN(100) {
		b = append(b, alphabet[r.IntN(len(alphabet))]...)
	}
	return string(b)
}

// Whatever the logs hold, every human format comes out as valid UTF-8 with no control character
// but the line and cell breaks it makes itself, and the JSON decodes.
func TestRenderRandomHostileValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	st := baseline.NewMemoryStore(0)
	at := fixFrom.Add(time.Hour)
	var reads []detector.Read
	for i := range 300 {
		reads = append(reads, detector.Read{
			EventID: storetest.EventID(i), Secret: "111122223333/us-east-1/" + []string{"a", "b", "c"}[i%3],
			Principal: randomValue(r), Time: at.Add(time.Duration(i) * time.Minute), Denied: i%5 == 0,
			SourceIP: randomValue(r), UserAgent: randomValue(r), VPCEndpointID: randomValue(r), PrincipalType: randomValue(r), SecretARN: randomValue(r),
		})
	}
	if _, err := st.Record(t.Context(), reads); err != nil {
		t.Fatal(err)
	}
	rep, err := report.Build(t.Context(), st, report.Options{From: fixFrom, To: fixTo, AllowList: fixtureAllow(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range report.Formats {
		var b bytes.Buffer
		if err := report.Write(&b, rep, format); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		if format == "json" {
			var v any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Errorf("json: %v", err)
			}
			continue
		}
		if !utf8.Valid(out) {
			t.Errorf("%s: invalid UTF-8", format)
		}
		for _, c := range string(out) {
			if c != '\n' && (unicode.IsControl(c) || unicode.Is(unicode.Cf, c) || c == '\u2028' || c == '\u2029') {
				t.Errorf("%s: control character %U in the output", format, c)
				break
			}
		}
	}
}
