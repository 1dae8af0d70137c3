package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report (and docs/report.png when Chromium is there)")

const goldenDir = "../testdata/report"

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report/ -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./report/ -update rewrites it):\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	r := fixtureReport(t)
	for _, f := range []struct{ format, file string }{
		{"text", "fixture.txt"}, {"markdown", "fixture.md"}, {"csv", "fixture.csv"}, {"json", "fixture.json"}, {"html", "fixture.html"},
	} {
		t.Run(f.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, r, f.format); err != nil {
				t.Fatal(err)
			}
			golden(t, f.file, b.Bytes())
		})
	}
}

// No hostile byte reaches a human format raw.
func TestHumanFormatsEscape(t *testing.T) {
	r := fixtureReport(t)
	for _, format := range []string{"text", "markdown", "csv", "html"} {
		var b bytes.Buffer
		if err := report.Write(&b, r, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, bad := range []string{"\x1b", "\u202e", "<script>alert", "<b>x"} {
			if strings.Contains(out, bad) && (format == "html" || bad[0] != '<') { // markup is harmless text elsewhere
				t.Errorf("%s output contains %q", format, bad)
			}
		}
		if format != "csv" && strings.Contains(out, evilUA[:20]+"\n") {
			t.Errorf("%s: a newline of a value reached the output", format)
		}
	}
}

func TestCSVInjection(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteCSV(&b, fixtureReport(t)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(report.CSVHeader, ",") {
		t.Fatalf("header %q", rows[0])
	}
	found := false
	for _, row := range rows[1:] {
		if len(row) != len(report.CSVHeader) {
			t.Fatalf("row of %d cells: %q", len(row), row)
		}
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("cell %q starts a formula", c)
			}
			if strings.HasPrefix(c, "'=HYPERLINK") || strings.HasPrefix(c, "'+1 | @SUM") {
				found = true
			}
		}
	}
	if !found {
		t.Error("the hostile cells are missing (defused) from the CSV")
	}
}

// The JSON form decodes into the documented shape, hostile values intact.
func TestJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, fixtureReport(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		From    string `json:"from"`
		To      string `json:"to"`
		Secrets []struct {
			Secret, SecretARN string
			Reads, Denied     int64
			Principals        []map[string]any
			AllowedUnused     []string
			Alerts            map[string]int64
		} `json:"secrets"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.From != "2026-03-09T00:00:00Z" || doc.To != "2026-03-16T00:00:00Z" || len(doc.Secrets) != 4 {
		t.Fatalf("doc %+v", doc)
	}
	for _, s := range doc.Secrets {
		if s.Principals == nil || s.AllowedUnused == nil || s.Alerts == nil {
			t.Errorf("%s: a list or map is null, want [] or {}", s.Secret)
		}
		for _, p := range s.Principals {
			for _, k := range []string{"principal", "principalType", "reads", "denied", "firstSeen", "lastSeen", "new", "sourceIPs", "vpcEndpointIds", "userAgents"} {
				if _, ok := p[k]; !ok {
					t.Errorf("principal lacks %q: %v", k, p)
				}
			}
			if p["principal"] == evilPrincipal && p["userAgents"].([]any)[0] != evilUA {
				t.Errorf("JSON changed a value: %v", p["userAgents"])
			}
		}
	}
}
