package terraform_test

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/detector"
)

// ---------------------------------------------------------------------------------------------------
// A small EventBridge pattern matcher, for exactly the features event-pattern.json uses: nested objects,
// arrays of exact values (strings, numbers, booleans, null) and $or. Anything else in a pattern (prefix,
// anything-but, exists, numeric, wildcard, ...) is rejected by compilePattern, so the pattern cannot
// start using a feature these tests do not understand.
// ---------------------------------------------------------------------------------------------------

type eventPattern struct{ root map[string]any }

func compilePattern(raw []byte) (*eventPattern, error) {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("pattern is not a JSON object: %w", err)
	}
	if err := checkPatternObject(root, ""); err != nil {
		return nil, err
	}
	return &eventPattern{root: root}, nil
}

func checkPatternObject(p map[string]any, path string) error {
	if len(p) == 0 {
		return fmt.Errorf("%s: empty pattern object", orRoot(path))
	}
	for k, v := range p {
		at := path + "/" + k
		if k == "$or" {
			branches, ok := v.([]any)
			if !ok || len(branches) < 2 {
				return fmt.Errorf("%s: $or needs an array of at least two patterns", at)
			}
			for i, b := range branches {
				bo, ok := b.(map[string]any)
				if !ok {
					return fmt.Errorf("%s[%d]: $or branch is not an object", at, i)
				}
				if err := checkPatternObject(bo, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
			continue
		}
		if strings.HasPrefix(k, "$") {
			return fmt.Errorf("%s: unsupported operator %s", at, k)
		}
		switch x := v.(type) {
		case map[string]any:
			if err := checkPatternObject(x, at); err != nil {
				return err
			}
		case []any:
			if len(x) == 0 {
				return fmt.Errorf("%s: empty value array matches nothing", at)
			}
			for i, lit := range x {
				switch lit.(type) {
				case string, float64, bool, nil:
				case map[string]any:
					return fmt.Errorf("%s[%d]: content filters (prefix, anything-but, exists, ...) are not supported by this matcher", at, i)
				default:
					return fmt.Errorf("%s[%d]: unsupported value %T", at, i, lit)
				}
			}
		default:
			return fmt.Errorf("%s: a pattern leaf must be an array of values, not %T", at, v)
		}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func (p *eventPattern) Match(event map[string]any) bool { return matchObject(p.root, event) }

func matchObject(p map[string]any, e map[string]any) bool {
	for k, pv := range p {
		if k == "$or" {
			matched := false
			for _, b := range pv.([]any) {
				if matchObject(b.(map[string]any), e) {
					matched = true
					break
				}
			}
			if !matched {
				return false
			}
			continue
		}
		ev, present := e[k]
		if !present {
			return false
		}
		switch x := pv.(type) {
		case map[string]any:
			sub, ok := ev.(map[string]any)
			if !ok || !matchObject(x, sub) {
				return false
			}
		case []any:
			if !matchValues(x, ev) {
				return false
			}
		}
	}
	return true
}

// matchValues: the event value (or, for an array, any of its elements) equals one of the values.
func matchValues(allowed []any, ev any) bool {
	candidates := []any{ev}
	if arr, ok := ev.([]any); ok {
		candidates = arr
	}
	for _, c := range candidates {
		if _, isObj := c.(map[string]any); isObj {
			continue
		}
		for _, a := range allowed {
			if a == c {
				return true
			}
		}
	}
	return false
}

func TestMatcher(t *testing.T) {
	pattern := `{
		"detail-type": ["AWS API Call via CloudTrail"],
		"$or": [
			{"source": ["aws.a"], "detail": {"eventName": ["X", "Y"], "n": [3, null]}},
			{"source": ["aws.b"], "detail": {"eventName": ["Z"], "flag": [true]}}
		]
	}`
	p, err := compilePattern([]byte(pattern))
	if err != nil {
		t.Fatal(err)
	}
	ev := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name  string
		event string
		want  bool
	}{
		{"first branch", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"Y","n":3}}`, true},
		{"null value matches null", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"X","n":null}}`, true},
		{"second branch", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.b","detail":{"eventName":"Z","flag":true}}`, true},
		{"array field: any element", `{"detail-type":"AWS API Call via CloudTrail","source":["aws.c","aws.a"],"detail":{"eventName":["Q","X"],"n":[1,3]}}`, true},
		{"extra fields are ignored", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","region":"x","detail":{"eventName":"X","n":3,"other":{"a":1}}}`, true},
		{"name from the other branch", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"Z","n":3}}`, false},
		{"source from the other branch", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.b","detail":{"eventName":"X","flag":true}}`, false},
		{"wrong detail-type", `{"detail-type":"AWS Service Event via CloudTrail","source":"aws.a","detail":{"eventName":"X","n":3}}`, false},
		{"missing detail-type", `{"source":"aws.a","detail":{"eventName":"X","n":3}}`, false},
		{"missing nested field", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"X"}}`, false},
		{"number differs", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"X","n":4}}`, false},
		{"string is not a number", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"X","n":"3"}}`, false},
		{"bool differs", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.b","detail":{"eventName":"Z","flag":false}}`, false},
		{"detail is not an object", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":"X"}`, false},
		{"case matters", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"x","n":3}}`, false},
		{"prefix is not a match", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":"XX","n":3}}`, false},
		{"object element is never a value", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.a","detail":{"eventName":[{"X":1}],"n":3}}`, false},
	}
	for _, c := range cases {
		if got := p.Match(ev(c.event)); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}

	bad := map[string]string{
		"prefix":            `{"source":[{"prefix":"aws."}]}`,
		"anything-but":      `{"source":[{"anything-but":"aws.a"}]}`,
		"exists":            `{"detail":{"errorCode":[{"exists":false}]}}`,
		"empty array":       `{"source":[]}`,
		"scalar leaf":       `{"source":"aws.a"}`,
		"unknown operator":  `{"$and":[{"a":["b"]},{"c":["d"]}]}`,
		"$or of one":        `{"$or":[{"a":["b"]}]}`,
		"$or not an object": `{"$or":[{"a":["b"]},"c"]}`,
		"empty object":      `{"detail":{}}`,
		"not an object":     `["aws.a"]`,
	}
	for name, s := range bad {
		if _, err := compilePattern([]byte(s)); err == nil {
			t.Errorf("%s: compilePattern accepted %s", name, s)
		}
	}
}

// ---------------------------------------------------------------------------------------------------
// The pattern against the detector.
// ---------------------------------------------------------------------------------------------------

func loadEventPattern(t *testing.T) ([]byte, *eventPattern) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(tfRoot(t), eventPatternFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compilePattern(raw)
	if err != nil {
		t.Fatalf("%s: %v", eventPatternFile, err)
	}
	return raw, p
}

// patternEvents extracts eventSource => event names from the pattern, checking its shape: per
// $or branch one detail-type (API calls, or AWS service events), one source, one eventSource that
// agrees with it, and event names. service holds the names of the service-event branches.
func patternEvents(t *testing.T, raw []byte) (all, service map[string][]string) {
	t.Helper()
	var p struct {
		Or []struct {
			DetailType []string `json:"detail-type"`
			Source     []string `json:"source"`
			Detail     struct {
				EventSource []string `json:"eventSource"`
				EventName   []string `json:"eventName"`
			} `json:"detail"`
		} `json:"$or"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s has an unexpected shape: %v", eventPatternFile, err)
	}
	all, service = map[string][]string{}, map[string][]string{}
	seen := map[string]bool{}
	for i, b := range p.Or {
		if len(b.Source) != 1 || len(b.Detail.EventSource) != 1 || len(b.DetailType) != 1 {
			t.Fatalf("$or[%d]: want exactly one detail-type, source and eventSource, got %v %v %v", i, b.DetailType, b.Source, b.Detail.EventSource)
		}
		isService := false
		switch b.DetailType[0] {
		case apiCall:
		case serviceEvent:
			isService = true
		default:
			t.Errorf("$or[%d]: detail-type %q, want %q or %q", i, b.DetailType[0], apiCall, serviceEvent)
		}
		src := b.Detail.EventSource[0]
		if want := "aws." + strings.SplitN(src, ".", 2)[0]; b.Source[0] != want {
			t.Errorf("$or[%d]: source %q does not match eventSource %q (want %q)", i, b.Source[0], src, want)
		}
		if k := b.DetailType[0] + " " + src; seen[k] {
			t.Errorf("$or[%d]: eventSource %q appears twice for %s", i, src, b.DetailType[0])
		} else {
			seen[k] = true
		}
		names := append([]string(nil), b.Detail.EventName...)
		if !sort.StringsAreSorted(names) {
			t.Errorf("$or[%d]: keep the event names sorted (%v)", i, names)
		}
		all[src] = append(all[src], names...)
		sort.Strings(all[src])
		if isService {
			service[src] = append(service[src], names...)
			sort.Strings(service[src])
		}
	}
	return all, service
}

const (
	apiCall      = "AWS API Call via CloudTrail"
	serviceEvent = "AWS Service Event via CloudTrail"
)

// TestEventPatternEqualsDetectorHandledEvents: the pattern selects exactly detector.HandledEvents().
func TestEventPatternEqualsDetectorHandledEvents(t *testing.T) {
	raw, p := loadEventPattern(t)
	got, gotService := patternEvents(t, raw)
	want := detector.HandledEvents()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("event-pattern.json selects\n  %v\nbut the detector handles\n  %v", got, want)
	}
	if wantService := detector.ServiceEvents(); !reflect.DeepEqual(gotService, wantService) {
		t.Fatalf("event-pattern.json selects the service events\n  %v\nbut the detector's are\n  %v", gotService, wantService)
	}
	isService := func(src, name string) bool { return slices.Contains(gotService[src], name) }
	if n := len(compactJSON(t, raw)); n > 4096 {
		t.Errorf("pattern is %d bytes; EventBridge accepts at most 4096", n)
	}

	// Every handled (eventSource, eventName) matches; every cross combination of a handled name with
	// another handled source does not (PutResourcePolicy exists in CloudTrail too, for instance), and
	// neither do other detail-types or unhandled names.
	names := map[string]bool{}
	for _, ns := range want {
		for _, n := range ns {
			names[n] = true
		}
	}
	for src := range want {
		for n := range names {
			_, handled := detector.Kind(src, n)
			ev := wrapRecord(map[string]any{"eventSource": src, "eventName": n, "eventVersion": "1.09"})
			right, wrong := apiCall, serviceEvent
			if isService(src, n) {
				right, wrong = serviceEvent, apiCall
			}
			ev["detail-type"] = right
			if got := p.Match(ev); got != handled {
				t.Errorf("%s %s: match = %v, detector handles = %v", src, n, got, handled)
			}
			if handled {
				ev["detail-type"] = wrong
				if p.Match(ev) {
					t.Errorf("%s %s matched with detail-type %q", src, n, ev["detail-type"])
				}
				ev["detail-type"] = right
				ev["source"] = "custom.app"
				if p.Match(ev) {
					t.Errorf("%s %s matched with source custom.app", src, n)
				}
			}
		}
		for _, n := range []string{"ListSecrets", "DescribeSecret", "CreateSecret", "StartLogging", "GetEventSelectors", "EnableRule", "PutTargets", "GetSecretValue2"} {
			if _, handled := detector.Kind(src, n); handled {
				continue
			}
			if p.Match(wrapRecord(map[string]any{"eventSource": src, "eventName": n})) {
				t.Errorf("%s %s (not handled) matched", src, n)
			}
		}
	}
}

// wrapRecord wraps a CloudTrail record as EventBridge delivers it.
func wrapRecord(rec map[string]any) map[string]any {
	src, _ := rec["eventSource"].(string)
	ev := map[string]any{
		"version":     "0",
		"id":          "00000000-0000-0000-0000-000000000000",
		"detail-type": "AWS API Call via CloudTrail",
		"source":      "aws." + strings.SplitN(src, ".", 2)[0],
		"resources":   []any{},
		"detail":      rec,
	}
	if rec["eventType"] == "AwsServiceEvent" {
		ev["detail-type"] = serviceEvent // as EventBridge delivers what AWS itself did
	}
	if acct, ok := rec["recipientAccountId"].(string); ok {
		ev["account"] = acct
	}
	if region, ok := rec["awsRegion"].(string); ok {
		ev["region"] = region
	}
	if tm, ok := rec["eventTime"].(string); ok {
		ev["time"] = tm
	}
	return ev
}

func compactJSON(t *testing.T, raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ---------------------------------------------------------------------------------------------------
// The pattern against real CloudTrail records (testdata/terraform, copied from ../shared/corpus).
// ---------------------------------------------------------------------------------------------------

type corpusRecord struct {
	file string
	idx  int
	rec  map[string]any
}

func corpusDir(t *testing.T) string { return filepath.Join(repoRoot(t), "testdata", "terraform") }

// readRecords reads every shape in the corpus: a JSON array of records, {"Records": [...]}, a single
// record, each optionally gzip-compressed.
func readRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer gz.Close()
		r = gz
	}
	var doc any
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var items []any
	switch x := doc.(type) {
	case []any:
		items = x
	case map[string]any:
		if recs, ok := x["Records"].([]any); ok {
			items = recs
		} else {
			items = []any{x}
		}
	default:
		t.Fatalf("%s: unexpected JSON %T", path, doc)
	}
	var out []map[string]any
	for i, it := range items {
		rec, ok := it.(map[string]any)
		if !ok {
			t.Fatalf("%s: record %d is %T", path, i, it)
		}
		out = append(out, rec)
	}
	return out
}

// corpusSources reads SOURCES.tsv and checks it names exactly the files of the folder.
func corpusSources(t *testing.T) []string {
	t.Helper()
	dir := corpusDir(t)
	f, err := os.Open(filepath.Join(dir, "SOURCES.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"local_file", "repo", "path", "commit", "licence"}; !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("SOURCES.tsv header = %v, want %v", rows[0], want)
	}
	listed := map[string]bool{}
	var files []string
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell == "" {
				t.Errorf("SOURCES.tsv: %s: empty %s", row[0], rows[0][i])
			}
		}
		if len(row[3]) != 40 {
			t.Errorf("SOURCES.tsv: %s: commit %q is not a full hash", row[0], row[3])
		}
		listed[row[0]] = true
		files = append(files, row[0])
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if rel == "SOURCES.tsv" || rel == "README.md" {
			return nil
		}
		if !listed[rel] {
			t.Errorf("testdata/terraform/%s is not listed in SOURCES.tsv", rel)
		}
		delete(listed, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range listed {
		t.Errorf("SOURCES.tsv lists %s, which is missing", rel)
	}
	return files
}

func TestEventPatternAgainstRealRecords(t *testing.T) {
	_, p := loadEventPattern(t)
	files := corpusSources(t)
	if len(files) < 50 {
		t.Fatalf("only %d corpus files", len(files))
	}
	var all []corpusRecord
	for _, rel := range files {
		recs := readRecords(t, filepath.Join(corpusDir(t), filepath.FromSlash(rel)))
		if len(recs) == 0 {
			t.Errorf("%s: no records", rel)
		}
		for i, rec := range recs {
			all = append(all, corpusRecord{file: rel, idx: i, rec: rec})
		}
	}

	matchedNames := map[string]int{}
	matched, skipped := 0, 0
	for _, r := range all {
		src, _ := r.rec["eventSource"].(string)
		name, _ := r.rec["eventName"].(string)
		_, handled := detector.Kind(src, name)
		got := p.Match(wrapRecord(r.rec))
		if got != handled {
			t.Errorf("%s record %d (%s %s): pattern match = %v, detector handles = %v", r.file, r.idx, src, name, got, handled)
		}
		if got {
			matched++
			matchedNames[src+" "+name]++
		} else {
			skipped++
		}
	}
	t.Logf("%d records: %d match (%v), %d do not", len(all), matched, matchedNames, skipped)

	// Both sides must be exercised for the test to mean something.
	if matched < 30 || skipped < 200 {
		t.Errorf("matched %d / not matched %d: the corpus no longer exercises both sides", matched, skipped)
	}
	for _, must := range []string{
		"secretsmanager.amazonaws.com GetSecretValue",
		"secretsmanager.amazonaws.com BatchGetSecretValue",
		"secretsmanager.amazonaws.com PutResourcePolicy",
		"cloudtrail.amazonaws.com StopLogging",
		"cloudtrail.amazonaws.com UpdateTrail",
		"cloudtrail.amazonaws.com DeleteTrail",
		"cloudtrail.amazonaws.com PutEventSelectors",
	} {
		if matchedNames[must] == 0 {
			t.Errorf("no real record of %s matched", must)
		}
	}
	// Stratus Red Team's secret retrieval: 20 GetSecretValue and its ListSecrets (enumeration) match.
	if n := countMatches(p, all, "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"); n != 21 {
		t.Errorf("stratus secretsmanager-retrieve-secrets: %d records match, want 21", n)
	}
	// Panther's record pairs eventSource cloudtrail.amazonaws.com with DeleteRule, an EventBridge API
	// name: a pattern that flattened sources and names together would match it; ours must not.
	if n := countMatches(p, all, "panther-analysis/aws_security_configuration_change__04_security-configuration-changed-allowlisted-user.json"); n != 0 {
		t.Errorf("cloudtrail.amazonaws.com DeleteRule matched %d time(s)", n)
	}
	// Alibaba Cloud ActionTrail's UpdateTrail is not AWS CloudTrail tampering.
	const aliyun = "streamalert/aliyun_actiontrail__75ba140d__01_updatetrail.json"
	found := false
	for _, r := range all {
		if r.file != aliyun {
			continue
		}
		found = true
		if r.rec["eventName"] != "UpdateTrail" {
			t.Errorf("%s: expected the UpdateTrail record, got %v", aliyun, r.rec["eventName"])
		}
		if p.Match(wrapRecord(r.rec)) {
			t.Errorf("%s: the Alibaba ActionTrail record matched the pattern", aliyun)
		}
		// Even forged into an aws.cloudtrail event it must not match: its eventSource is not AWS's.
		forged := wrapRecord(r.rec)
		forged["source"] = "aws.cloudtrail"
		if p.Match(forged) {
			t.Errorf("%s: matched once its source was set to aws.cloudtrail (eventSource %v)", aliyun, r.rec["eventSource"])
		}
	}
	if !found {
		t.Errorf("%s missing from testdata", aliyun)
	}
}

func countMatches(p *eventPattern, all []corpusRecord, file string) int {
	n := 0
	for _, r := range all {
		if r.file == file && p.Match(wrapRecord(r.rec)) {
			n++
		}
	}
	return n
}
