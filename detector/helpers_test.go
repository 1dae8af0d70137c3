package detector

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// loadRecords reads a corpus file copied under testdata/detector (array, single record or
// {"Records":[…]}). The cloudtrail package has the real reader; this keeps the detector's tests
// independent of it.
func loadRecords(t *testing.T, name string) []*cloudtrail.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "detector", name))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimSpace(b)
	var recs []*cloudtrail.Record
	switch {
	case bytes.HasPrefix(b, []byte("[")):
		err = json.Unmarshal(b, &recs)
	case bytes.Contains(b[:min(len(b), 200)], []byte(`"Records"`)):
		var env struct{ Records []*cloudtrail.Record }
		err = json.Unmarshal(b, &env)
		recs = env.Records
	default:
		var r cloudtrail.Record
		err = json.Unmarshal(b, &r)
		recs = []*cloudtrail.Record{&r}
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return recs
}

func mustAllowList(t *testing.T, y string) *AllowList {
	t.Helper()
	al, _, err := ParseAllowList("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return al
}
