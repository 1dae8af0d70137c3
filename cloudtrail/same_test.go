package cloudtrail

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// itemKey is everything an item says, for comparing runs.
func itemKey(it Item) string {
	e := ""
	if it.Err != nil {
		e = it.Err.Error()
	}
	rec, _ := json.Marshal(it.Record)
	return fmt.Sprintf("%s|%d|%d|%v|%s|%s|%s", it.Source, it.Index, it.Line, it.Filtered, e, it.Raw, rec)
}

// Results are the same whatever the decoder (the fast one or encoding/json alone) and the number
// of workers, with and without the prefilter: over every test file, a benchmark trail, and records
// that the decoders could treat differently.
func TestSameWhateverDecoderAndWorkers(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join("..", "testdata"), dir}
	trailMB, minItems := 3, 5000
	if raceEnabled() {
		// The race detector slows decoding ~20×: the corpus shapes and a small trail, not the
		// bundled 14-day example (scripts/test.sh runs the whole case without -race).
		paths = []string{filepath.Join("..", "testdata", "cloudtrail"), filepath.Join("..", "testdata", "detector"), dir}
		trailMB, minItems = 1, 2000
	}
	if _, _, err := writeBenchTrail(filepath.Join(dir, "trail"), trailMB); err != nil {
		t.Fatal(err)
	}
	odd := []string{
		`{"eventID":"a","event_id":"b","eventName":"GetSecretValue","userIdentity":{},"requestParameters":{}}`,
		`{"EVENTNAME":"GetSecretValue","EventSource":"secretsmanager.amazonaws.com","USERIDENTITY":{"TYPE":"IAMUser"},"requestParameters":null}`,
		`{"eventName":"GetSecretValue","eventName":"PutSecretValue","userIdentity":{},"requestParameters":{}}`,
		"{\"eventName\":\"Get\xffSecretValue\",\"userIdentity\":{},\"requestParameters\":{}}",
		`{"eventName":"GetSecretValue","readOnly":"yes","userIdentity":{"type":7},"requestParameters":{}}`,
		`{"eventName":"GetSecretValue","userIdentity":null,"requestParameters":null,"responseElements":null,"resources":null}`,
		`{"eventName":"GetSecretValue","eventTime":null,"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":"true"}}},"requestParameters":{"secretId":"\u0041\ud83d\ude00"},"resources":[{"ARN":"x"}]}`,
		`{"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","userIdentity":{},"requestParameters":{},"Type":"Notification"}`,
		`{"eventName":"GetSecretValue","userIdentity":{},"requestParameters":{},"eventVersion":1.08}`,
		// encoding/json's case folding keeps '_' and '-' (v2's own would ignore them).
		`{"event_source":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","event-ID":"x","userIdentity":{},"requestParameters":{}}`,
		`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","detail_type":"AWS API Call via CloudTrail","userIdentity":{},"requestParameters":{}}`,
	}
	for i, s := range odd {
		writeFile(t, dir, fmt.Sprintf("odd/%d.json", i), []byte(s))
		writeFile(t, dir, fmt.Sprintf("odd/records%d.json", i), []byte(`{"Records":[`+s+`]}`))
	}
	run := func(fast bool, workers int, prefilter bool) []string {
		t.Helper()
		fastDecode = fast
		defer func() { fastDecode = true }()
		opts := []Option{WithWorkers(workers)}
		if prefilter {
			opts = append(opts, WithPrefilter(benchMayHandle))
		}
		var out []string
		for it := range Read(t.Context(), paths, opts...) {
			out = append(out, itemKey(it))
		}
		return out
	}
	for _, prefilter := range []bool{false, true} {
		want := run(false, 1, prefilter)
		if len(want) < minItems {
			t.Fatalf("only %d items", len(want))
		}
		for _, c := range []struct {
			fast    bool
			workers int
		}{{true, 1}, {true, 3}, {false, 2}} {
			got := run(c.fast, c.workers, prefilter)
			if !reflect.DeepEqual(got, want) {
				n := 0
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] && n < 3 {
						t.Errorf("fast %v, workers %d, prefilter %v: item %d:\n%.600s\nwant\n%.600s", c.fast, c.workers, prefilter, i, got[i], want[i])
						n++
					}
				}
				if len(got) != len(want) {
					t.Errorf("fast %v, workers %d: %d items, want %d", c.fast, c.workers, len(got), len(want))
				}
			}
		}
	}
}
