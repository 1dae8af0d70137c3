package report_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/internal/browsertest"
	"github.com/secretwatch/secretwatch/internal/cli"
	"github.com/secretwatch/secretwatch/report"
)

var chartsDrawn = regexp.MustCompile(`data-charts-drawn="(\d+)"`)

// checkInBrowser loads an HTML report in headless Chromium: no console message at all, every
// chart drawn (the page's script measures each SVG and reports the count), no markup injected.
func checkInBrowser(t *testing.T, file string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	charts := strings.Count(string(src), `<svg class="chart"`)
	if charts == 0 {
		t.Fatal("the report has no chart")
	}
	dom := browsertest.DOM(t, file)
	m := chartsDrawn.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the page's script did not run (no data-charts-drawn):\n%.2000s", dom)
	}
	if n, _ := strconv.Atoi(m[1]); n != charts {
		t.Errorf("%d of %d charts drawn", n, charts)
	}
	return dom
}

func TestHTMLInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	var b bytes.Buffer
	if err := report.WriteHTML(&b, fixtureReport(t)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := checkInBrowser(t, file)
	// The hostile principal and user agent are text, not markup.
	for _, bad := range []string{"<b>x</b>", "<script>alert(1)", "\x1b", "\u202e"} {
		if strings.Contains(dom, bad) {
			t.Errorf("the DOM contains %q", bad)
		}
	}
	if !strings.Contains(dom, `user/&lt;b&gt;x&lt;/b&gt;|`) {
		t.Error("the hostile principal is not shown as text")
	}
}

// The browser check can fail: a page that logs an error, or throws, is caught.
func TestBrowserCatchesConsoleErrors(t *testing.T) {
	browsertest.Chromium(t)
	for name, script := range map[string]string{
		"console.error": `console.error("boom")`,
		"uncaught":      `undefinedFunction()`,
		"csp":           `var i = document.createElement("img"); i.src = "https://example.invalid/x.png"; document.body.appendChild(i)`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.html")
			page := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'"></head><body><p>x</p><script>` + script + `</script></body></html>`
			if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
				t.Fatal(err)
			}
			rec := &recorder{TB: t}
			browsertest.DOM(rec, file)
			if !rec.failed {
				t.Errorf("a page running %s passed the browser check", script)
			}
		})
	}
}

// recorder notes a failure instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.Logf("(expected) "+format, args...)
}

// The bundled example's report, as the README shows it: `secretwatch report` over
// testdata/example in one command, in a real browser; with -update its screenshot becomes
// docs/report.png.
func TestExampleReportInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	var stderr bytes.Buffer
	clock := cli.WithClock(func() time.Time { return time.Date(2026, 3, 16, 7, 0, 0, 0, time.UTC) })
	err := cli.Run(t.Context(), []string{"report", "--store", ":memory:", "--config", "../testdata/example/allowlist.yaml",
		"--format", "html", "-o", file, "../testdata/example"}, strings.NewReader(""), io.Discard, &stderr, clock)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	checkInBrowser(t, file)
	png := filepath.Join(dir, "report.png")
	browsertest.Screenshot(t, file, png, 1280, 1500)
	if *update {
		b, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../docs/report.png", b, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Println("wrote docs/report.png")
	}
}

// The tables sort in a real browser: a script appended to a copy of the page (the product has
// no test hook) clicks the overview's headers and notes the first row after each click.
func TestHTMLSortsInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	var b bytes.Buffer
	if err := report.WriteHTML(&b, fixtureReport(t)); err != nil {
		t.Fatal(err)
	}
	probe := `<script>
(function () {
  var t = document.getElementById("overview"), h = t.tHead.rows[0].cells, out = [];
  function first() { return t.tBodies[0].rows[0].cells[0].textContent.split(" ")[0] + "=" + t.tBodies[0].rows[0].cells[1].textContent; }
  h[1].click(); out.push(first()); h[1].click(); out.push(first()); h[0].click(); out.push(first());
  out.push(t.tFoot.rows[0].cells[0].textContent);
  document.documentElement.setAttribute("data-probe", out.join(","));
})();
</script>
</body>`
	page := strings.Replace(b.String(), "</body>", probe, 1)
	file := filepath.Join(t.TempDir(), "sort.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := browsertest.DOM(t, file)
	m := regexp.MustCompile(`data-probe="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatal("the probe did not run")
	}
	// Reads descending (prod/db first), ascending (a 0-read secret first: stable order keeps
	// prod/api), names descending (the unmatched ghost/* entry); the total row stays at the foot.
	want := dbKey + "=60," + apiKey + "=0,ghost/*=0,Total"
	if m[1] != want {
		t.Errorf("after sorting: %s, want %s", m[1], want)
	}
}
