package scenario

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// inMemory runs a scenario without files and returns its records (file order, duplicates
// included) and its truth.
func inMemory(t testing.TB, opt Options) ([]cloudtrail.Record, *Truth) {
	t.Helper()
	opt, err := opt.normalise()
	if err != nil {
		t.Fatal(err)
	}
	return records(opt)
}

func records(opt Options) ([]cloudtrail.Record, *Truth) {
	p := opt.plan()
	st := newStats(p)
	g := newGenerator(p, st)
	m := newMaterialiser(p)
	var recs []cloudtrail.Record
	for h := range g.hours() {
		for _, fb := range g.hour(h) {
			for _, e := range fb.events {
				recs = append(recs, m.record(fb.region, e).Record)
			}
		}
	}
	return recs, st.truth()
}

// defaultScenario is the 14-day scenario at scale 1 with anomalies, shared by several tests.
var defaultScenario = sync.OnceValues(func() ([]cloudtrail.Record, *Truth) {
	opt, _ := Options{InjectAnomalies: true}.normalise()
	return records(opt)
})

// generated is a small tree on disk, shared by the file tests.
var generatedTree = sync.OnceValues(func() (tree, error) {
	dir, err := os.MkdirTemp("", "scenario-test-")
	if err != nil {
		return tree{}, err
	}
	tr, err := Generate(context.Background(), dir, generatedOptions)
	return tree{dir, tr}, err
})

var generatedOptions = Options{Days: 3, Seed: 7, Scale: 0.6, InjectAnomalies: true}

type tree struct {
	dir   string
	truth *Truth
}

func generated() (string, *Truth, error) {
	g, err := generatedTree()
	return g.dir, g.truth, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, _, _ := generated(); dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// principalOf normalises a caller by the allow-list convention (role ARN with its path, user
// ARN, account root). Identity Center sessions get "|" + the person, because the detector tells
// people who share a permission set apart.
func principalOf(ui *cloudtrail.UserIdentity) string {
	switch ui.Type {
	case typeAssumedRole:
		arn := ui.SessionContext.SessionIssuer.ARN
		if strings.Contains(arn, "/AWSReservedSSO_") {
			arn += "|" + ui.ARN[strings.LastIndexByte(ui.ARN, '/')+1:]
		}
		return arn
	case typeIAMUser:
		return ui.ARN
	case typeRoot, typeAWSAccount:
		return "arn:aws:iam::" + ui.AccountID + ":root"
	}
	return "other:" + ui.Type
}

// secretOf returns the name of the secret a Secrets Manager record names, or "".
func secretOf(t testing.TB, tr *Truth, rec *cloudtrail.Record) string {
	t.Helper()
	var p struct {
		SecretID string `json:"secretId"`
	}
	if len(rec.RequestParameters) > 0 {
		if err := json.Unmarshal(rec.RequestParameters, &p); err != nil {
			t.Fatalf("requestParameters of %s: %v", rec.EventID, err)
		}
	}
	if p.SecretID == "" {
		return ""
	}
	for _, s := range tr.Secrets {
		if p.SecretID == s.Name || p.SecretID == s.ARN || p.SecretID == strings.TrimSuffix(s.ARN, s.ARN[len(s.ARN)-7:]) {
			return s.Name
		}
	}
	t.Fatalf("record %s names unknown secret %q", rec.EventID, p.SecretID)
	return ""
}

func isRead(rec *cloudtrail.Record) bool {
	return rec.EventSource == srcSecretsManager && rec.EventName == opGetSecretValue
}

func dayOf(tr *Truth, at time.Time) int { return int(at.Sub(tr.Start) / (24 * time.Hour)) }

// readerKey is a (secret, principal) pair as the tests see it.
func readerKey(r Reader) string {
	p := r.Principal
	if r.Person != "" {
		p += "|" + r.Person
	}
	return r.SecretName + " " + p
}

func TestGenerateIsDeterministic(t *testing.T) {
	base := Options{Days: 2, Seed: 42, Scale: 0.3, InjectAnomalies: true}
	other := base
	other.Seed = 43
	tests := []struct {
		name string
		a, b Options
		same bool
	}{
		{"same seed", base, base, true},
		{"other seed", base, other, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			da, db := t.TempDir(), t.TempDir()
			ta, err := Generate(t.Context(), da, tt.a)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Generate(t.Context(), db, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			fa, fb := readTree(t, da), readTree(t, db)
			equal := maps.EqualFunc(fa, fb, bytes.Equal)
			if equal != tt.same {
				t.Errorf("trees equal = %v, want %v (%d and %d files)", equal, tt.same, len(fa), len(fb))
			}
			if tt.same && !reflect.DeepEqual(ta, tb) {
				t.Errorf("truths differ:\n%+v\n%+v", ta, tb)
			}
		})
	}
}

// readTree returns relative path → file bytes.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var logName = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_([A-Za-z0-9]{16})\.json\.gz$`)

var suffixRE = regexp.MustCompile(`:secret:[a-z0-9/-]+-[A-Za-z0-9]{6}$`)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// logFile is one decoded log file.
type logFile struct {
	rel     string
	region  string
	window  time.Time
	raw     []json.RawMessage
	records []cloudtrail.Record
}

func decodeTree(t *testing.T, dir string) []logFile {
	t.Helper()
	var files []logFile
	for rel, b := range readTree(t, dir) {
		rel = filepath.ToSlash(rel)
		m := logName.FindStringSubmatch(rel)
		if m == nil {
			t.Errorf("%s: not a CloudTrail log file name", rel)
			continue
		}
		if m[1] != Account || m[6] != Account || m[2] != m[7] {
			t.Errorf("%s: account or region of the path and the name disagree", rel)
		}
		w, err := time.Parse("20060102T1504Z", m[8])
		if err != nil {
			t.Fatal(err)
		}
		if w.Format("2006/01/02") != m[3]+"/"+m[4]+"/"+m[5] || w.Minute()%5 != 0 {
			t.Errorf("%s: window %s does not match its directory or a 5-minute boundary", rel, w)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		var env struct{ Records []json.RawMessage }
		dec := json.NewDecoder(bytes.NewReader(plain))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&env); err != nil {
			t.Fatalf("%s: not {\"Records\":[...]}: %v", rel, err)
		}
		if len(env.Records) == 0 {
			t.Errorf("%s: empty file", rel)
		}
		lf := logFile{rel: rel, region: m[2], window: w, raw: env.Records}
		for _, raw := range env.Records {
			var rec cloudtrail.Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			lf.records = append(lf.records, rec)
		}
		files = append(files, lf)
	}
	slices.SortFunc(files, func(a, b logFile) int { return strings.Compare(a.rel, b.rel) })
	return files
}

// writeOps are the injected calls that change something (readOnly false).
var writeOps = map[string]bool{opPutPublicPolicy: true, opForceDelete: true, opStopLogging: true, opDisableRule: true, opRotateStage: true}

func TestFilesAreCloudTrailLogFiles(t *testing.T) {
	dir, tr, err := generated()
	if err != nil {
		t.Fatal(err)
	}
	files := decodeTree(t, dir)
	if int64(len(files)) != tr.Counts.Files {
		t.Errorf("%d files, truth says %d", len(files), tr.Counts.Files)
	}
	var n int64
	regionsSeen := map[string]bool{}
	for _, f := range files {
		regionsSeen[f.region] = true
		for i, rec := range f.records {
			n++
			at := rec.EventTime.Time
			if at.Before(f.window) || !at.Before(f.window.Add(5*time.Minute)) {
				t.Errorf("%s: record %s at %s outside the file's window", f.rel, rec.EventID, at)
			}
			if rec.AWSRegion != f.region || rec.RecipientAccountID != Account || rec.EventVersion != "1.09" ||
				rec.EventType != "AwsApiCall" || rec.ReadOnly == nil || *rec.ReadOnly == writeOps[rec.EventName] || rec.ManagementEvent == nil ||
				!uuidRE.MatchString(rec.EventID) || rec.RequestID == "" || rec.UserIdentity == nil {
				t.Fatalf("%s: malformed record %s", f.rel, f.raw[i])
			}
			if want := rec.EventSource != srcS3; *rec.ManagementEvent != want || (rec.EventCategory == "Management") != want {
				t.Errorf("%s: %s %s: managementEvent %v, eventCategory %q", f.rel, rec.EventSource, rec.EventName, *rec.ManagementEvent, rec.EventCategory)
			}
			if bytes.Contains(f.raw[i], []byte(`:""`)) {
				t.Errorf("%s: record writes an empty field instead of leaving it out: %s", f.rel, f.raw[i])
			}
			var extra struct {
				TLS *tlsDetails `json:"tlsDetails"`
			}
			if err := json.Unmarshal(f.raw[i], &extra); err != nil {
				t.Fatal(err)
			}
			service := rec.UserIdentity.InvokedBy != ""
			if (extra.TLS == nil) != service || extra.TLS != nil && !strings.HasSuffix(extra.TLS.ClientProvidedHostHeader, ".amazonaws.com") {
				t.Errorf("%s: tlsDetails %+v for a call invoked by %q", f.rel, extra.TLS, rec.UserIdentity.InvokedBy)
			}
		}
	}
	if n != tr.Counts.Records {
		t.Errorf("%d records in the files, truth says %d", n, tr.Counts.Records)
	}
	if len(regionsSeen) != 2 {
		t.Errorf("regions %v, want us-east-1 and eu-west-1", slices.Collect(maps.Keys(regionsSeen)))
	}

	t.Run("names sort in time order", func(t *testing.T) {
		byRegion := map[string][]logFile{}
		for _, f := range files {
			byRegion[f.region] = append(byRegion[f.region], f)
		}
		for region, fs := range byRegion {
			for i := 1; i < len(fs); i++ { // files are sorted by path
				if fs[i].window.Before(fs[i-1].window) {
					t.Errorf("%s: %s sorts after %s but is earlier", region, fs[i].rel, fs[i-1].rel)
				}
			}
		}
	})

	t.Run("unsorted within files, like CloudTrail", func(t *testing.T) {
		unsorted := 0
		for _, f := range files {
			if !slices.IsSortedFunc(f.records, func(a, b cloudtrail.Record) int { return a.EventTime.Compare(b.EventTime.Time) }) {
				unsorted++
			}
		}
		if unsorted == 0 {
			t.Error("every file is sorted by eventTime")
		}
	})

	t.Run("same records as Records", func(t *testing.T) {
		seq, err := Records(generatedOptions)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]cloudtrail.Record{}
		for rec := range seq {
			want[rec.EventID] = append(want[rec.EventID], rec)
		}
		got := map[string][]cloudtrail.Record{}
		for _, f := range files {
			for _, rec := range f.records {
				got[rec.EventID] = append(got[rec.EventID], rec)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d distinct event IDs in files, %d from Records", len(got), len(want))
		}
		for id, w := range want {
			if !reflect.DeepEqual(got[id], w) {
				t.Fatalf("event %s: files and Records differ (nothing may be lost in the wire form):\n%+v\n%+v", id, got[id], w)
			}
		}
	})
}

func TestDuplicateDeliveries(t *testing.T) {
	dir, tr, err := generated()
	if err != nil {
		t.Fatal(err)
	}
	type where struct {
		file string
		raw  json.RawMessage
	}
	seen := map[string][]where{}
	for _, f := range decodeTree(t, dir) {
		for i, rec := range f.records {
			seen[rec.EventID] = append(seen[rec.EventID], where{f.rel, f.raw[i]})
		}
	}
	var dups, crossFile int64
	for id, ws := range seen {
		switch len(ws) {
		case 1:
		case 2:
			dups++
			if !bytes.Equal(ws[0].raw, ws[1].raw) {
				t.Errorf("event %s delivered twice with different content", id)
			}
			if ws[0].file != ws[1].file {
				crossFile++
			}
		default:
			t.Errorf("event %s delivered %d times", id, len(ws))
		}
	}
	if dups != tr.Counts.Duplicates || dups == 0 {
		t.Errorf("%d duplicated events, truth says %d (want > 0)", dups, tr.Counts.Duplicates)
	}
	if crossFile == 0 || crossFile == dups {
		t.Errorf("%d of %d duplicates in another file: want some, not all", crossFile, dups)
	}
	if rate := float64(dups) / float64(tr.Counts.Unique); rate < 0.002 || rate > 0.01 {
		t.Errorf("duplicate rate %.4f, want about 0.005", rate)
	}
}

func TestAnomaliesOnlyOnTheLastDay(t *testing.T) {
	tests := []struct {
		name   string
		opt    Options
		recs   func() ([]cloudtrail.Record, *Truth)
		wantDN int // new (secret, principal) pairs on the last day
	}{
		{"injected", Options{InjectAnomalies: true}, defaultScenario, 5},
		{"none", Options{Seed: 3, Scale: 0.3}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []cloudtrail.Record
			var tr *Truth
			if tt.recs != nil {
				recs, tr = tt.recs()
			} else {
				recs, tr = inMemory(t, tt.opt)
			}
			strangers := []string{"arn:aws:iam::111122223333:user/mallory", "arn:aws:iam::111122223333:root", "arn:aws:iam::999988887777:root"}
			learnt := map[string]bool{}
			for i := range recs {
				rec := &recs[i]
				p := principalOf(rec.UserIdentity)
				if dayOf(tr, rec.EventTime.Time) < tr.Days-1 {
					if slices.Contains(strangers, p) {
						t.Fatalf("%s acts before the last day: %s %s at %s", p, rec.EventName, rec.EventID, rec.EventTime)
					}
					if isRead(rec) && rec.ErrorCode == "" {
						learnt[secretOf(t, tr, rec)+" "+p] = true
					}
				}
			}
			newPairs := map[string]time.Time{}
			for i := range recs {
				rec := &recs[i]
				if dayOf(tr, rec.EventTime.Time) == tr.Days-1 && isRead(rec) {
					k := secretOf(t, tr, rec) + " " + principalOf(rec.UserIdentity)
					if !learnt[k] {
						if _, ok := newPairs[k]; !ok {
							newPairs[k] = rec.EventTime.Time
						}
					}
				}
			}
			if len(newPairs) != tt.wantDN {
				t.Errorf("new pairs on the last day: %v, want %d", newPairs, tt.wantDN)
			}
			for _, f := range tr.Findings {
				if f.Rule != RuleUnexpectedPrincipal {
					continue
				}
				at, ok := newPairs[f.SecretName+" "+f.Principal]
				if !ok {
					t.Errorf("finding %s %s: not a new pair on the last day", f.SecretName, f.Principal)
				} else if at.Before(f.Start) || !at.Before(f.End) {
					t.Errorf("finding %s %s: first read %s outside [%s, %s)", f.SecretName, f.Principal, at, f.Start, f.End)
				}
			}
			if !tt.opt.InjectAnomalies && len(tr.Findings) != 0 {
				t.Errorf("findings without anomalies: %+v", tr.Findings)
			}
		})
	}
}

func TestFindings(t *testing.T) {
	_, tr := defaultScenario()
	day := func(hms string) time.Time {
		d, _ := time.ParseDuration(hms)
		return DefaultStart.AddDate(0, 0, 13).Add(d)
	}
	type want struct {
		rule, scope, secret, principal, ptype string
		start, end                            time.Time
		records                               int64
	}
	wants := []want{
		{RuleUnexpectedPrincipal, ScopePrincipal, "prod/payments/db", "arn:aws:iam::111122223333:role/search-indexer-task", "AssumedRole", day("10h12m07s"), day("10h13m43s"), 3},
		{RuleBatchRetrieval, ScopePrincipal, "", "arn:aws:iam::111122223333:role/platform-admin", "AssumedRole", day("11h20m05s"), day("11h20m06s"), 0},
		{RuleUnexpectedPrincipal, ScopePrincipal, "prod/payments/stripe-key", "arn:aws:iam::111122223333:user/mallory", "IAMUser", day("13h42m30s"), day("13h42m32s"), 2},
		{RuleUnexpectedPrincipal, ScopePrincipal, "prod/identity/jwt-signing-key", "arn:aws:iam::111122223333:user/mallory", "IAMUser", day("13h43m05s"), day("13h43m53s"), 2},
		{RulePolicyChange, ScopePrincipal, "shared/datadog-api-key", "arn:aws:iam::111122223333:user/mallory", "IAMUser", day("13h45m10s"), day("13h45m11s"), 0},
		{RuleSecretLifecycle, ScopePrincipal, "prod/search/api-key", "arn:aws:iam::111122223333:user/mallory", "IAMUser", day("13h46m02s"), day("13h46m03s"), 0},
		{RuleTrailTampering, ScopePrincipal, "", "arn:aws:iam::111122223333:user/mallory", "IAMUser", day("13h47m30s"), day("13h47m31s"), 0},
		{RuleMonitorTampering, ScopePrincipal, "", "arn:aws:iam::111122223333:user/mallory", "IAMUser", day("13h47m55s"), day("13h47m56s"), 0},
		{RuleReadSpike, ScopeSecret, "prod/orders/db", "", "", day("14h"), day("16h"), -1},
		{RuleReadSpike, ScopePrincipal, "prod/orders/db", "arn:aws:iam::111122223333:role/orders-api-task", "AssumedRole", day("14h"), day("16h"), -1},
		{RuleNetworkPath, ScopePrincipal, "prod/identity/jwt-signing-key", "arn:aws:iam::111122223333:role/lambda/identity-token-issuer", "AssumedRole", day("17h12m40s"), day("17h13m02s"), 2},
		{RuleRootAccess, ScopePrincipal, "", "arn:aws:iam::111122223333:root", "Root", day("19h04m10s"), day("19h04m11s"), 0},
		{RuleRootAccess, ScopePrincipal, "prod/payments/db", "arn:aws:iam::111122223333:root", "Root", day("19h04m40s"), day("19h04m41s"), 0},
		{RuleRootAccess, ScopePrincipal, "prod/payments/db", "arn:aws:iam::111122223333:root", "Root", day("19h05m44s"), day("19h05m45s"), 0},
		{RuleUnexpectedPrincipal, ScopePrincipal, "prod/payments/db", "arn:aws:iam::111122223333:root", "Root", day("19h05m44s"), day("19h05m45s"), 1},
		{RuleUnexpectedPrincipal, ScopePrincipal, "shared/datadog-api-key", "arn:aws:iam::999988887777:root", "AWSAccount", day("21h30m15s"), day("21h47m03s"), 2},
	}
	if len(tr.Findings) != len(wants) {
		t.Fatalf("%d findings, want %d: %+v", len(tr.Findings), len(wants), tr.Findings)
	}
	for i, w := range wants {
		f := tr.Findings[i]
		got := want{f.Rule, f.Scope, f.SecretName, f.Principal, f.PrincipalType, f.Start, f.End, f.Records}
		if w.records < 0 {
			got.records = -1
			if f.Records < 800 || f.Factor < 20 {
				t.Errorf("spike %s: %d reads, factor %v: want about 40× a weekend afternoon", f.Scope, f.Records, f.Factor)
			}
		}
		arnOK := f.SecretName == "" && f.SecretARN == "" || strings.HasPrefix(f.SecretARN, "arn:aws:secretsmanager:us-east-1:111122223333:secret:"+f.SecretName+"-")
		if got != w || f.Account != Account || f.Region != PrimaryRegion || !arnOK {
			t.Errorf("finding %d:\n got %+v\nwant %+v", i, f, w)
		}
	}
}

func TestNormalReadersReadWhileLearning(t *testing.T) {
	tests := []Options{
		{InjectAnomalies: true},
		{Seed: 5, Scale: 0.05, InjectAnomalies: true},
		{Seed: 6, Days: 2, Scale: 0.2, InjectAnomalies: true},
		{Seed: 7, Days: 4, Start: DefaultStart.AddDate(0, 0, 2), Scale: 0.2, InjectAnomalies: true}, // Wednesday to Saturday
		{Seed: 8, Days: 9, Start: DefaultStart.AddDate(0, 0, 4), Scale: 0.2},
	}
	for _, opt := range tests {
		t.Run(fmt.Sprintf("seed%d-days%d-scale%v", opt.Seed, opt.Days, opt.Scale), func(t *testing.T) {
			var recs []cloudtrail.Record
			var tr *Truth
			if opt == (Options{InjectAnomalies: true}) {
				recs, tr = defaultScenario()
			} else {
				recs, tr = inMemory(t, opt)
			}
			first := map[string]time.Time{}
			for i := range recs {
				rec := &recs[i]
				if isRead(rec) && rec.ErrorCode == "" {
					k := secretOf(t, tr, rec) + " " + principalOf(rec.UserIdentity)
					if f, ok := first[k]; !ok || rec.EventTime.Before(f) {
						first[k] = rec.EventTime.Time
					}
				}
			}
			learnEnd := tr.Start.AddDate(0, 0, max(tr.Days-1, 1))
			warm := tr.Start.AddDate(0, 0, 7) // the detector's first-seen warm-up
			if len(tr.Readers) < 20 {
				t.Errorf("%d readers, want the full cast", len(tr.Readers))
			}
			for _, r := range tr.Readers {
				k := readerKey(r)
				f, ok := first[k]
				switch {
				case !ok:
					t.Errorf("%s never reads", k)
				case !f.Before(learnEnd) || !f.Before(warm):
					t.Errorf("%s first reads at %s: want before %s and %s", k, f, learnEnd, warm)
				case r.LearnReads < 1 || !r.FirstRead.Equal(f):
					t.Errorf("%s: truth says %d learning reads, first %s; records say first %s", k, r.LearnReads, r.FirstRead, f)
				}
			}
		})
	}
}

func TestDiurnalAndWeekendShape(t *testing.T) {
	recs, tr := defaultScenario()
	var perDay [14]float64
	var business, night, bizHours, nightHours float64
	for i := range recs {
		rec := &recs[i]
		at := rec.EventTime.Time
		d := dayOf(tr, at)
		if d >= tr.Days-1 {
			continue // the anomalies' day
		}
		perDay[d]++
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		switch h := at.Hour(); {
		case h >= 9 && h < 17:
			business++
		case h < 5:
			night++
		}
	}
	for d := range tr.Days - 1 {
		if wd := tr.Start.AddDate(0, 0, d).Weekday(); wd != time.Saturday && wd != time.Sunday {
			bizHours += 8
			nightHours += 5
		}
	}
	b, n := business/bizHours, night/nightHours
	if !(b > 2*n && n > 0) {
		t.Errorf("weekday records per hour: business %.1f, night %.1f: want business > 2 × night > 0", b, n)
	}
	for d := range tr.Days - 1 {
		wd := tr.Start.AddDate(0, 0, d).Weekday()
		weekend := wd == time.Saturday || wd == time.Sunday
		if weekend && perDay[d] > 0.7*perDay[0] || !weekend && perDay[d] < 0.85*perDay[0] {
			t.Errorf("day %d (%s): %.0f records vs Monday %.0f", d+1, wd, perDay[d], perDay[0])
		}
	}
	other := float64(tr.Counts.Other) / float64(tr.Counts.Unique)
	if other < 0.25 || other > 0.35 {
		t.Errorf("other services make %.2f of the records, want about 0.30", other)
	}
	if tr.Counts.Unique < 20_000 || tr.Counts.Unique > 60_000 {
		t.Errorf("%d records at scale 1: want a few tens of thousands", tr.Counts.Unique)
	}
}

// TestNoSpikeButTheInjectedOne applies the detector's seasonal spike statistic (docs/detection.md:
// same hour on prior days of the same kind; median and 1.4826·MAD floored at sqrt(median);
// spike when count ≥ 20, ≥ median+6σ and ≥ 5×median, after 3 samples) to every series: each
// (secret, principal) and each secret as a whole. Only the injected hours may trip it.
func TestNoSpikeButTheInjectedOne(t *testing.T) {
	tests := []Options{
		{Seed: 0, Scale: 1, InjectAnomalies: true},
		{Seed: 1, Scale: 1, InjectAnomalies: true},
		{Seed: 2, Scale: 0.1, InjectAnomalies: true},
		{Seed: 3, Scale: 4, InjectAnomalies: true},
		{Seed: 4, Scale: 1, Days: 28, Start: DefaultStart.AddDate(0, 0, 3), InjectAnomalies: true},
	}
	for _, opt := range tests {
		t.Run(fmt.Sprintf("seed%d-scale%v-days%d", opt.Seed, opt.Scale, opt.Days), func(t *testing.T) {
			opt, err := opt.normalise()
			if err != nil {
				t.Fatal(err)
			}
			p := opt.plan()
			g := newGenerator(p, nil)
			type key struct{ secret, principal string }
			counts := map[key]map[int]int{}
			firstHour := map[key]int{}
			add := func(k key, h int) {
				if counts[k] == nil {
					counts[k] = map[int]int{}
					firstHour[k] = h
				}
				counts[k][h]++
			}
			for h := range g.hours() {
				for _, fb := range g.hour(h) {
					for _, e := range fb.events {
						st := p.ac.streams[e.stream]
						if e.kind != evCall || !st.isRead() || e.fail != failNone {
							continue
						}
						add(key{st.secret.key(), st.actor.principal() + "|" + st.actor.session}, h)
						add(key{st.secret.key(), ""}, h)
					}
				}
			}
			spikeDay := opt.Days - 1
			var tripped []string
			for k, c := range counts {
				for h, n := range c {
					if spikeTrips(p, c, firstHour[k], h, n) {
						if k.secret == Account+"/us-east-1/"+secretOrdersDB && h/24 == spikeDay && h%24 >= spikeHour && h%24 < spikeHour+spikeHours &&
							(k.principal == "" || strings.Contains(k.principal, "orders-api-task")) {
							continue
						}
						// The refresh burst after the benign rotation of day N is one by design (the
						// detector forgives it: rotation awareness).
						if k.secret == Account+"/us-east-1/"+secretOrdersDB && h/24 == spikeDay && h%24 == 9 {
							continue
						}
						tripped = append(tripped, fmt.Sprintf("%v day %d %02d:00 (%d reads)", k, h/24+1, h%24, n))
					}
				}
			}
			slices.Sort(tripped)
			if len(tripped) > 0 {
				t.Errorf("normal hours look like spikes:\n%s", strings.Join(tripped, "\n"))
			}
			// The injected hours must trip it.
			k := key{Account + "/us-east-1/" + secretOrdersDB, ""}
			for h := spikeDay*24 + spikeHour; h < spikeDay*24+spikeHour+spikeHours; h++ {
				if !spikeTrips(p, counts[k], firstHour[k], h, counts[k][h]) {
					t.Errorf("injected spike hour %d not detectable: %d reads", h%24, counts[k][h])
				}
			}
		})
	}
}

func spikeTrips(p *plan, c map[int]int, first, h, n int) bool {
	weekend := func(h int) bool { wd := p.weekday(h / 24); return wd == time.Saturday || wd == time.Sunday }
	var samples []float64
	for ph := h - 24; ph >= first-first%24; ph -= 24 {
		if weekend(ph) == weekend(h) {
			samples = append(samples, float64(c[ph]))
		}
	}
	if len(samples) < 3 {
		return false
	}
	med := median(samples)
	dev := make([]float64, len(samples))
	for i, x := range samples {
		dev[i] = math.Abs(x - med)
	}
	sigma := max(1.4826*median(dev), math.Sqrt(max(med, 1)))
	return float64(n) >= max(20, med+6*sigma, 5*max(med, 1))
}

func median(x []float64) float64 {
	s := slices.Sorted(slices.Values(x))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func TestRecordShapes(t *testing.T) {
	recs, tr := defaultScenario()
	type forms struct{ name, partial, full int }
	bySecret := map[string]*forms{}
	errorsBy := map[string]int{}
	types := map[string]int{}
	var reads, failed, vpce, invokedBy, cross, describe, list int
	for i := range recs {
		rec := &recs[i]
		types[rec.UserIdentity.Type]++
		if rec.EventSource != srcSecretsManager {
			continue
		}
		switch rec.EventName {
		case opDescribeSecret:
			describe++
		case opListSecrets:
			list++
		}
		if !isRead(rec) {
			continue
		}
		reads++
		if rec.ErrorCode != "" {
			failed++
			errorsBy[rec.ErrorCode]++
			if p := principalOf(rec.UserIdentity); strings.Contains(p, "mallory") || strings.HasSuffix(p, ":root") && !strings.Contains(p, PartnerAccount) {
				t.Errorf("failed read by an injected principal %s", p)
			}
		}
		if rec.VPCEndpointID != "" {
			vpce++
			if !strings.HasPrefix(rec.SourceIPAddress, "10.") || rec.VPCEndpointAccount != Account {
				t.Errorf("VPC endpoint read from %s, endpoint account %q", rec.SourceIPAddress, rec.VPCEndpointAccount)
			}
		}
		if rec.UserIdentity.InvokedBy != "" {
			invokedBy++
			if rec.SourceIPAddress != rec.UserIdentity.InvokedBy {
				t.Errorf("service call with sourceIPAddress %q", rec.SourceIPAddress)
			}
		}
		if rec.UserIdentity.Type == typeAWSAccount {
			cross++
			if rec.SharedEventID == "" || !strings.Contains(string(rec.RequestParameters), "arn:aws:secretsmanager:") {
				t.Errorf("cross-account read without sharedEventID or ARN: %s", rec.RequestParameters)
			}
		}
		name := secretOf(t, tr, rec)
		if bySecret[name] == nil {
			bySecret[name] = &forms{}
		}
		switch id := string(rec.RequestParameters); {
		case !strings.Contains(id, "arn:"):
			bySecret[name].name++
		case strings.Contains(id, name+`"`):
			bySecret[name].partial++
		default:
			bySecret[name].full++
		}
	}
	if rate := float64(failed) / float64(reads); rate < 0.005 || rate > 0.02 || errorsBy["AccessDeniedException"] == 0 || errorsBy["ResourceNotFoundException"] == 0 {
		t.Errorf("failed reads %.4f of all, by code %v: want about 1%% of both kinds", rate, errorsBy)
	}
	var f forms
	for _, s := range bySecret {
		f.name += s.name
		f.partial += s.partial
		f.full += s.full
	}
	if s := bySecret[secretStripe]; f.name == 0 || f.partial == 0 || f.full == 0 || s.name == 0 || s.partial == 0 || s.full == 0 {
		t.Errorf("secretId forms: all %+v, stripe key %+v: want names, partial and full ARNs, also for one secret", f, s)
	}
	if vpce == 0 || invokedBy == 0 || cross == 0 || describe == 0 || list == 0 {
		t.Errorf("vpce %d, invokedBy %d, cross-account %d, describe %d, list %d: want all", vpce, invokedBy, cross, describe, list)
	}
	for _, ty := range []string{typeAssumedRole, typeAWSAccount, typeAWSService, typeIAMUser, typeRoot} {
		if types[ty] == 0 {
			t.Errorf("no userIdentity of type %s (%v)", ty, types)
		}
	}
	if len(tr.Secrets) < 6 || len(tr.Secrets) > 10 {
		t.Errorf("%d secrets, want 6–10", len(tr.Secrets))
	}
	var eu int64
	for _, s := range tr.Secrets {
		if !suffixRE.MatchString(s.ARN) || s.Reads == 0 {
			t.Errorf("secret %+v", s)
		}
		if s.Region == SecondaryRegion {
			eu += s.Reads
		}
	}
	if eu == 0 {
		t.Error("no reads in eu-west-1")
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"negative days", Options{Days: -1}, false},
		{"too many days", Options{Days: 1000}, false},
		{"anomalies need two days", Options{Days: 1, InjectAnomalies: true}, false},
		{"one day without anomalies", Options{Days: 1}, true},
		{"start not midnight", Options{Start: DefaultStart.Add(time.Hour)}, false},
		{"negative scale", Options{Scale: -1}, false},
		{"NaN scale", Options{Scale: math.NaN()}, false},
		{"scale and target", Options{Scale: 2, TargetBytes: 1 << 20}, false},
		{"negative target", Options{TargetBytes: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Records(tt.opt)
			if (err == nil) != tt.ok {
				t.Errorf("Records(%+v): error %v, want ok=%v", tt.opt, err, tt.ok)
			}
		})
	}
	if _, err := Generate(t.Context(), t.TempDir(), Options{Days: -1, Scale: -1}); err == nil ||
		!strings.Contains(err.Error(), "days") || !strings.Contains(err.Error(), "scale") {
		t.Errorf("Generate reports every problem at once: got %v", err)
	}
}

func TestGenerateRefusesToMixTrees(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Days: 1, Scale: 0.05}
	if _, err := Generate(t.Context(), dir, opt); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(t.Context(), dir, opt); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second Generate into the same tree: %v", err)
	}
}

func TestTargetBytes(t *testing.T) {
	const target = 3 << 20
	dir := t.TempDir()
	tr, err := Generate(t.Context(), dir, Options{Days: 2, TargetBytes: target, InjectAnomalies: true})
	if err != nil {
		t.Fatal(err)
	}
	var onDisk int64
	for _, b := range readTree(t, dir) {
		onDisk += int64(len(b))
	}
	if onDisk != tr.Counts.Bytes {
		t.Errorf("%d bytes on disk, truth says %d", onDisk, tr.Counts.Bytes)
	}
	if r := float64(onDisk) / target; r < 0.9 || r > 1.1 {
		t.Errorf("%d bytes for a target of %d (scale %v)", onDisk, target, tr.Scale)
	}
}

func TestGenerateStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), Options{Scale: 0.1}); err == nil {
		t.Error("Generate ignored a cancelled context")
	}
}
