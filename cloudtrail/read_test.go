package cloudtrail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/secretwatch/secretwatch/internal/testenv"
)

// writeFile writes data at dir/rel, creating directories.
func writeFile(t *testing.T, dir, rel string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// logFileOf is a CloudTrail log file holding one record named name.
func logFileOf(name string) []byte {
	return fmt.Appendf(nil, `{"Records":[{"eventVersion":"1.08","eventName":%q,"userIdentity":{"type":"IAMUser"},"requestParameters":null}]}`, name)
}

// awsLogsTree builds an AWSLogs tree in which the order of the names' times is not the lexical
// order of the paths, with the files Read must skip around them. It returns the root and the
// record names in time order.
func awsLogsTree(t *testing.T) (string, []string) {
	t.Helper()
	root := t.TempDir()
	const acct = "111122223333"
	files := []struct {
		rel, record string
		gzip        bool
	}{
		// us-east-1 sorts after eu-west-1 by path, but holds the earliest file.
		{rel: "us-east-1/2024/07/31/" + acct + "_CloudTrail_us-east-1_20240731T1155Z_zzzz.json.gz", record: "first", gzip: true},
		{rel: "eu-west-1/2024/07/31/" + acct + "_CloudTrail_eu-west-1_20240731T1200Z_bbbb.json.gz", record: "second", gzip: true},
		{rel: "us-east-1/2024/07/31/" + acct + "_CloudTrail_us-east-1_20240731T1200Z_aaaa.json.gz", record: "third", gzip: true},
		// A day directory that sorts before 2024/07/31 by path, but a later time.
		{rel: "eu-west-1/2024/08/01/" + acct + "_CloudTrail_eu-west-1_20240801T0000Z_aaaa.json.gz", record: "fifth", gzip: true},
		{rel: "ap-south-1/2024/07/31/" + acct + "_CloudTrail_ap-south-1_20240731T2355Z_cccc.json", record: "fourth"}, // plain JSON
		{rel: "eu-west-1/2024/07/31/" + acct + "_CloudTrail_eu-west-1_20241231T2355Z_cccc.json.gz", record: "sixth", gzip: true},
	}
	for _, f := range files {
		data := logFileOf(f.record)
		if f.gzip {
			data = gzipBytes(t, data)
		}
		writeFile(t, root, "AWSLogs/"+acct+"/CloudTrail/"+f.rel, data)
	}
	// What must be skipped.
	digest := gzipBytes(t, []byte(`{"awsAccountId":"`+acct+`","digestStartTime":"2024-07-31T11:00:00Z","logFiles":[]}`))
	writeFile(t, root, "AWSLogs/"+acct+"/CloudTrail-Digest/us-east-1/2024/07/31/"+acct+"_CloudTrail-Digest_us-east-1_trail_us-east-1_20240731T120000Z.json.gz", digest)
	writeFile(t, root, "AWSLogs/"+acct+"/CloudTrail/us-east-1/"+acct+"_CloudTrail-Digest_us-east-1_trail_us-east-1_20240731T120000Z.json.gz", digest)
	writeFile(t, root, "AWSLogs/"+acct+"/CloudTrail/us-east-1/2024/07/31/.hidden.json", logFileOf("hidden"))
	writeFile(t, root, "AWSLogs/"+acct+"/.git/x.json", logFileOf("hidden dir"))
	writeFile(t, root, "AWSLogs/"+acct+"/CloudTrail/.DS_Store", []byte{0, 1, 2})
	writeFile(t, root, "AWSLogs/"+acct+"/CloudTrail/README.txt", []byte("notes"))
	writeFile(t, root, "AWSLogs/"+acct+"/ConfigWritabilityCheckFile", []byte{})
	return root, []string{"first", "second", "third", "fourth", "fifth", "sixth"}
}

func TestFilesTimeOrder(t *testing.T) {
	root, want := awsLogsTree(t)
	files, err := Files([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		got = append(got, filepath.ToSlash(rel))
	}
	wantFiles := []string{
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/07/31/111122223333_CloudTrail_us-east-1_20240731T1155Z_zzzz.json.gz",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/07/31/111122223333_CloudTrail_eu-west-1_20240731T1200Z_bbbb.json.gz",
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/07/31/111122223333_CloudTrail_us-east-1_20240731T1200Z_aaaa.json.gz",
		"AWSLogs/111122223333/CloudTrail/ap-south-1/2024/07/31/111122223333_CloudTrail_ap-south-1_20240731T2355Z_cccc.json",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/08/01/111122223333_CloudTrail_eu-west-1_20240801T0000Z_aaaa.json.gz",
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/07/31/111122223333_CloudTrail_eu-west-1_20241231T2355Z_cccc.json.gz",
	}
	if !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("Files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantFiles, "\n"))
	}

	var records []string
	for it := range Read(t.Context(), []string{root}) {
		if it.Err != nil {
			t.Fatalf("%v", it.Err)
		}
		records = append(records, it.Record.EventName)
	}
	if !reflect.DeepEqual(records, want) {
		t.Errorf("records in order %v, want %v", records, want)
	}
}

func TestFilesNames(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{
		"b.json", "a.JSON", "c.jsonl", "d.ndjson.gz", "e.json.gz", "x_20240101T0000Z_y.json", // kept
		"f.txt", "g.gz", "h.json.bak", "i", ".j.json", "k_CloudTrail-Digest_x.json", // skipped
	} {
		writeFile(t, root, "sub/"+name, []byte("{}"))
	}
	files, err := Files([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	// Files without a time in their names come first, by path; then by time.
	want := []string{"a.JSON", "b.json", "c.jsonl", "d.ndjson.gz", "e.json.gz", "x_20240101T0000Z_y.json"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Files = %v, want %v", got, want)
	}
}

// TestReadPaths checks that each path keeps its place, that files named on the command line are
// read whatever their names, and that "-" reads the given stdin.
func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	notes := writeFile(t, dir, "export.txt", logFileOf("from a .txt file"))
	zipped := writeFile(t, dir, "noextension", gzipBytes(t, logFileOf("gzip without .gz")))
	tree := filepath.Join(dir, "tree")
	writeFile(t, tree, "2_20240101T0000Z_.json", logFileOf("tree 1"))
	writeFile(t, tree, "1_20240101T0005Z_.json", logFileOf("tree 2"))
	stdin := strings.NewReader(`{"eventName":"from stdin","userIdentity":{},"requestParameters":{}}` + "\n")

	var got []string
	for it := range Read(t.Context(), []string{zipped, "-", tree, notes}, WithStdin(stdin)) {
		if it.Err != nil {
			t.Fatal(it.Err)
		}
		got = append(got, it.Source+": "+it.Record.EventName)
	}
	want := []string{
		zipped + ": gzip without .gz",
		"-: from stdin",
		filepath.Join(tree, "2_20240101T0000Z_.json") + ": tree 1",
		filepath.Join(tree, "1_20240101T0005Z_.json") + ": tree 2",
		notes + ": from a .txt file",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReadSymlinkedDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "real/a.json", logFileOf("a"))
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "real"), link); err != nil {
		testenv.Unavailable(t, "no symbolic links: %v", err)
	}
	files, err := Files([]string{link})
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != "a.json" {
		t.Errorf("Files(symlink to a directory) = %v, %v", files, err)
	}
}

func TestReadUnreadable(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", logFileOf("good"))
	missing := filepath.Join(dir, "missing.json")

	items := collect(Read(t.Context(), []string{missing, good, filepath.Join(dir, "nodir", "x")}))
	if got, want := summary(items), "unreadable R unreadable"; got != want {
		t.Fatalf("items: %s, want %s", got, want)
	}
	if items[0].Source != missing || !errors.Is(items[0].Err, os.ErrNotExist) || !strings.HasPrefix(items[0].Err.Error(), "cloudtrail: ") {
		t.Errorf("missing file: Source %q, error %v", items[0].Source, items[0].Err)
	}

	_, err := Files([]string{missing, good})
	if !errors.Is(err, ErrUnreadable) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Files with a missing path: %v, want ErrUnreadable", err)
	}

	if os.Geteuid() == 0 {
		t.Log("running as root: permissions are not enforced, skipping the permission cases")
		return
	}
	locked := writeFile(t, dir, "locked.json", logFileOf("locked"))
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	lockedDir := filepath.Join(dir, "lockeddir")
	writeFile(t, lockedDir, "x.json", logFileOf("x"))
	if err := os.Chmod(lockedDir, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(lockedDir, 0o755) })
	items = collect(Read(t.Context(), []string{locked, dir}))
	var unreadable int
	for _, it := range items {
		if errors.Is(it.Err, ErrUnreadable) {
			unreadable++
			if !errors.Is(it.Err, os.ErrPermission) {
				t.Errorf("%v, want a permission error", it.Err)
			}
		}
	}
	// locked.json twice (named, then in the tree) and the directory.
	if unreadable != 3 {
		t.Errorf("%d unreadable items, want 3: %s", unreadable, summary(items))
	}
}

func TestReadCancel(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.json", []byte(`[`+syntheticRecord(1)+","+syntheticRecord(2)+"]"))
	b := writeFile(t, dir, "b.json", logFileOf("b"))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var items []Item
	for it := range Read(ctx, []string{a, b}) {
		items = append(items, it)
		cancel()
	}
	if got, want := len(items), 2; got != want {
		t.Fatalf("%d items after cancel, want %d: %s", got, want, summary(items))
	}
	if items[0].Err != nil || !errors.Is(items[1].Err, context.Canceled) || items[1].Source != a {
		t.Errorf("items: %v / %v (%s), want a record then the context's error", items[0].Err, items[1].Err, items[1].Source)
	}

	// Cancelled before it starts: one item, nothing read.
	items = collect(Read(ctx, []string{a, b}))
	if len(items) != 1 || !errors.Is(items[0].Err, context.Canceled) {
		t.Errorf("items from a cancelled context: %s", summary(items))
	}
}

func TestReadBreak(t *testing.T) {
	root, _ := awsLogsTree(t)
	n := 0
	for range Read(t.Context(), []string{root, root}) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("%d items", n)
	}
}
