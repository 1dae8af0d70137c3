package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// testdata is where the corpus files copied for this package live (see SOURCES.tsv there).
const testdata = "../testdata/cloudtrail"

func collect(seq iter.Seq[Item]) []Item {
	var items []Item
	for it := range seq {
		items = append(items, it)
	}
	return items
}

func decodeBytes(b []byte) []Item { return collect(Decode(bytes.NewReader(b), "test")) }

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// elements decodes a corpus file the simple way (all in memory) into its top-level values: the
// Records of a log file, the elements of an array, or the one object.
func elements(t testing.TB, b []byte) []json.RawMessage {
	t.Helper()
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	var file struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(b, &file); err == nil && file.Records != nil {
		return file.Records
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err == nil {
		return list
	}
	return []json.RawMessage{b}
}

// kindOf names the sentinel an item's error wraps.
func kindOf(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{{ErrUnreadable, "unreadable"}, {ErrMalformed, "malformed"}, {ErrNotRecord, "notrecord"}, {ErrIncomplete, "incomplete"}, {ErrOversize, "oversize"}} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

// summary is the shape of a stream of items: one word per item, "R" for a record, the error kind
// otherwise, and "R+incomplete" for a record with defects.
func summary(items []Item) string {
	var parts []string
	for _, it := range items {
		s := kindOf(it.Err)
		if it.Record != nil {
			s = strings.TrimSuffix("R+"+s, "+")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func names(items []Item) string {
	var parts []string
	for _, it := range items {
		if it.Record != nil {
			parts = append(parts, it.Record.EventName)
		}
	}
	return strings.Join(parts, ",")
}

func repeat(s string, n int) string { return strings.TrimSpace(strings.Repeat(s+" ", n)) }

// checkItems checks what every item must satisfy, whatever the input.
func checkItems(t testing.TB, source string, items []Item) {
	t.Helper()
	for i, it := range items {
		if it.Source != source || it.Index != i {
			t.Errorf("item %d: Source %q Index %d, want %q %d", i, it.Source, it.Index, source, i)
		}
		switch {
		case it.Record == nil && it.Err == nil:
			t.Errorf("item %d: neither record nor error", i)
		case it.Record != nil && it.Err != nil && !errors.Is(it.Err, ErrIncomplete):
			t.Errorf("item %d: a record with an error that is not ErrIncomplete: %v", i, it.Err)
		case it.Record != nil && it.Raw == nil:
			t.Errorf("item %d: a record without Raw", i)
		}
		if it.Err != nil {
			if k := kindOf(it.Err); strings.HasPrefix(k, "other") {
				t.Errorf("item %d: error wraps no sentinel: %v", i, it.Err)
			}
			if want := "cloudtrail: " + source; !strings.HasPrefix(it.Err.Error(), want) {
				t.Errorf("item %d: error %q does not start with %q", i, it.Err, want)
			}
		}
	}
}

// sameRecord reports whether two records are the same once written as JSON.
func sameRecord(t testing.TB, a, b *Record) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v in %.80s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v in %.80s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// TestCorpus reads the real records in testdata and checks, file by file, what comes out: the
// records in order, the bad values as error items at their index, and for every record that Raw
// is the element of the file and that the Record survives a round trip through JSON.
func TestCorpus(t *testing.T) {
	tests := []struct {
		file    string
		summary string // see summary
		names   string // event names of the records, in order ("" to skip the check)
		line    int    // Line of every item: 1 for a file read line by line
		invalid bool   // not valid JSON: no element-by-element comparison
	}{
		{file: "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json", summary: repeat("R", 21),
			names: "GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,ListSecrets,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue,GetSecretValue"},
		{file: "stratus-red-team/aws.defense-evasion.cloudtrail-stop.json", summary: "R", names: "StopLogging"},
		{file: "trailscraper/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json", summary: "R R", names: "DescribeLaunchConfigurations,AssumeRole"},
		{file: "trailscraper/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", summary: "R R", names: "DescribeLaunchConfigurations,AssumeRole"},
		{file: "cloudgrep/cloudtrail.json", summary: "R", names: "StopInstances"},
		{file: "cloudgrep/cloudtrail_singleline.json", summary: "R", names: "PutObject", line: 1},
		{file: "cloudgrep/bad_cloudtrail.json", summary: "malformed", invalid: true},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileBadJsonFormat.json", summary: "malformed", invalid: true},
		{file: "aws-cloudtrail-processing-library/SerializerAllFieldsNull.json", summary: "R+incomplete R", names: ",eventName2"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileMissField.json", summary: "R R R R+incomplete", names: "eventName1,eventName2,eventName3,eventName4"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileNewFieldAtRandomPlaces.json", summary: "R R", names: "eventName1,eventName2"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileNewFieldName.json", summary: "notrecord R", names: "eventName2"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileNewFieldsInRoot.json", summary: "R R", names: "eventName1,eventName2"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileNewFieldsInUserIdentity.json", summary: "R R", names: "eventName1,eventName2"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileBadFieldName.json", summary: "notrecord R", names: "eventName2"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFile.json", summary: repeat("R", 6), names: "eventName1,eventName2,eventName3,eventName4,eventName5,eventName6"},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileCompact.json", summary: repeat("R", 6), names: "eventName1,eventName2,eventName3,eventName4,eventName5,eventName6", line: 1},
		{file: "aws-cloudtrail-processing-library/SerializerTestFileCompact.json.gz", summary: repeat("R", 6), names: "eventName1,eventName2,eventName3,eventName4,eventName5,eventName6", line: 1},
		{file: "aws-cloudtrail-processing-library/SerializerVariousUserIdentityTestFile.json", summary: "R", names: "eventName1"},
		{file: "aws-cloudtrail-processing-library/SQSMessageBody.json", summary: "notrecord"},
		{file: "panther-analysis/aws_secretsmanager_retrieve_secrets__00_getsecretvalue-denied.json", summary: "R", names: "GetSecretValue"},
		{file: "panther-analysis/aws_secretsmanager_retrieve_secrets_batch__00_batchgetsecretvalue.json", summary: "R+incomplete", names: "BatchGetSecretValue"},
		{file: "panther-analysis/aws_cloudtrail_event_selectors_disabled__00_event-selector-disabled.json", summary: "R", names: "PutEventSelectors"},
		{file: "panther-analysis/scenario__compromised-root-creds__attacker_cloudtrail.json", summary: repeat("R", 12)},
		{file: "streamalert/aliyun_actiontrail__75ba140d__01_updatetrail.json", summary: "R", names: "UpdateTrail"},
		{file: "streamalert/cloudtrail_critical_api_calls__75ba140d__03_stoplogging.json", summary: "R", names: "StopLogging"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := readTestdata(t, tt.file)
			items := collect(Decode(bytes.NewReader(b), tt.file))
			checkItems(t, tt.file, items)
			if got := summary(items); got != tt.summary {
				t.Errorf("items: %s\nwant:  %s", got, tt.summary)
			}
			if got := names(items); tt.names != "" && got != tt.names {
				t.Errorf("event names: %s\nwant:        %s", got, tt.names)
			}
			for _, it := range items {
				if it.Line != tt.line {
					t.Errorf("item %d: Line %d, want %d", it.Index, it.Line, tt.line)
				}
			}
			if tt.invalid {
				return
			}
			want := elements(t, b)
			if len(items) != len(want) {
				t.Fatalf("%d items for %d elements", len(items), len(want))
			}
			for i, it := range items {
				if !jsonEqual(t, it.Raw, want[i]) {
					t.Errorf("item %d: Raw is not element %d of the file", i, i)
				}
				if it.Record == nil {
					continue
				}
				// Round trip: the record written as JSON and decoded again is the same record.
				out, err := json.Marshal(it.Record)
				if err != nil {
					t.Fatal(err)
				}
				back, err := DecodeRecord(out)
				if back == nil {
					t.Fatalf("item %d: DecodeRecord(Marshal(record)): %v", i, err)
				}
				if !sameRecord(t, it.Record, back) {
					t.Errorf("item %d: the record changed in a round trip through JSON", i)
				}
				// DecodeRecord agrees with Decode on the same bytes.
				direct, err := DecodeRecord(it.Raw)
				if direct == nil || !sameRecord(t, it.Record, direct) || (err == nil) != (it.Err == nil) {
					t.Errorf("item %d: DecodeRecord(Raw) = %v, %v; Decode gave an error %v", i, direct, err, it.Err)
				}
			}
		})
	}
}

// TestCorpusFields checks the values of a few decoded fields against the files.
func TestCorpusFields(t *testing.T) {
	first := func(file string) *Record {
		t.Helper()
		for it := range Decode(bytes.NewReader(readTestdata(t, file)), file) {
			if it.Record == nil {
				t.Fatalf("%s: %v", file, it.Err)
			}
			return it.Record
		}
		t.Fatalf("%s: no item", file)
		return nil
	}

	// Panther writes eventTime as "2024-10-17 21:48:45.000000000".
	rec := first("panther-analysis/aws_secretsmanager_retrieve_secrets__00_getsecretvalue-denied.json")
	if want := time.Date(2024, 10, 17, 21, 48, 45, 0, time.UTC); !rec.EventTime.Equal(want) {
		t.Errorf("Panther eventTime = %v, want %v", rec.EventTime, want)
	}
	if rec.ErrorCode != "AccessDenied" || rec.EventSource != "secretsmanager.amazonaws.com" || !bytes.Contains(rec.RequestParameters, []byte(`"secretId": "arn:aws:secretsmanager:us-west-2:123123123123:secret:stratus-red-team-retrieve-secret-3-gscOm8"`)) {
		t.Errorf("Panther record: errorCode %q, eventSource %q, requestParameters %s", rec.ErrorCode, rec.EventSource, rec.RequestParameters)
	}

	rec = first("stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json")
	if rec.UserIdentity == nil || rec.UserIdentity.Type != "IAMUser" || rec.EventID != "b9c3d881-1e77-426c-abd3-5ca20d903380" {
		t.Errorf("Stratus record: userIdentity %+v, eventID %q", rec.UserIdentity, rec.EventID)
	}
	if want := time.Date(2024, 7, 31, 12, 36, 52, 0, time.UTC); !rec.EventTime.Equal(want) {
		t.Errorf("Stratus eventTime = %v, want %v", rec.EventTime, want)
	}

	// An AWS service appears by DNS name in sourceIPAddress; the record is kept as it is.
	rec = first("cloudgrep/cloudtrail_singleline.json")
	if rec.SourceIPAddress != "cloudtrail.amazonaws.com" || rec.UserIdentity == nil || rec.UserIdentity.InvokedBy != "cloudtrail.amazonaws.com" {
		t.Errorf("service record: sourceIPAddress %q, userIdentity %+v", rec.SourceIPAddress, rec.UserIdentity)
	}

	// The gzip and plain copies of the trailscraper log file hold the same records.
	plain := collect(Decode(bytes.NewReader(readTestdata(t, "trailscraper/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json")), "plain"))
	gz := collect(Decode(bytes.NewReader(readTestdata(t, "trailscraper/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz")), "gz"))
	if len(plain) != 2 || len(gz) != 2 {
		t.Fatalf("trailscraper: %d plain and %d gzip items, want 2 each", len(plain), len(gz))
	}
	for i := range plain {
		if !sameRecord(t, plain[i].Record, gz[i].Record) || !bytes.Equal(plain[i].Raw, gz[i].Raw) {
			t.Errorf("trailscraper record %d differs between plain and gzip", i)
		}
	}
}

// corpusRecords returns the Stratus secret-retrieval records, compact, one per element.
func corpusRecords(t testing.TB) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, e := range elements(t, readTestdata(t, "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json")) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, e); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// eventBridge wraps a record as EventBridge delivers it to a rule's target.
func eventBridge(detailType string, detail []byte) []byte {
	return fmt.Appendf(nil, `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":%q,"source":"aws.secretsmanager","account":"123456789012","time":"2024-07-31T12:36:52Z","region":"us-east-1","resources":[],"detail":%s}`, detailType, detail)
}

func TestDecodeShapes(t *testing.T) {
	recs := corpusRecords(t)
	r0, r1, r2 := string(recs[0]), string(recs[1]), string(recs[2])
	pretty := func(s string) string {
		var buf bytes.Buffer
		if err := json.Indent(&buf, []byte(s), "", "    "); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	eb := func(s string) string { return string(eventBridge("AWS API Call via CloudTrail", []byte(s))) }
	gz := func(s string) string { return string(gzipBytes(t, []byte(s))) }
	full := gzipBytes(t, readTestdata(t, "stratus-red-team/aws.credential-access.secretsmanager-retrieve-secrets.json"))
	minimal := `{"eventVersion":"1.08","eventName":"GetSecretValue","userIdentity":{},"requestParameters":null}`

	tests := []struct {
		name    string
		in      string
		summary string
		lines   []int // Line of each item, when checked
		check   func(t *testing.T, items []Item)
	}{
		{name: "NDJSON", in: r0 + "\n" + r1 + "\n" + r2 + "\n", summary: "R R R", lines: []int{1, 2, 3}},
		{name: "NDJSON CRLF, blank lines, no final newline", in: r0 + "\r\n\r\n" + r1 + "\r\n   \n" + r2, summary: "R R R", lines: []int{1, 3, 5}},
		{name: "NDJSON with a bad line", in: r0 + "\n" + `{"eventName": "Get` + "\n" + r1 + "\n" + `{"eventName":}` + "\n" + r2 + "\n",
			summary: "R malformed R malformed R", lines: []int{1, 2, 3, 4, 5}},
		{name: "NDJSON with a garbage first line", in: "garbage\n" + r0 + "\n", summary: "malformed R", lines: []int{1, 2}},
		{name: "NDJSON of log files and events", in: `{"Records":[` + r0 + "," + r1 + "]}\n" + eb(r2) + "\n" + `{"Records":[]}` + "\n" + r0 + "\n",
			summary: "R R R R", lines: []int{1, 1, 2, 4}},
		{name: "NDJSON of arrays", in: "[" + r0 + "," + r1 + "]\n[" + r2 + "]\n", summary: "R R R", lines: []int{1, 1, 2}},
		{name: "two values on a line", in: r0 + " " + r1 + "\n" + r2 + "\n", summary: "R R R", lines: []int{1, 1, 2}},
		{name: "single record, pretty", in: pretty(r0), summary: "R", lines: []int{0}},
		{name: "single record, one line", in: r0, summary: "R", lines: []int{1}},
		{name: "pretty records back to back", in: pretty(r0) + "\n" + pretty(r1) + pretty(r2), summary: "R R R"},
		{name: "array, pretty", in: pretty("[" + r0 + "," + r1 + "]"), summary: "R R"},
		{name: "array, one line", in: "[" + r0 + "," + r1 + "]", summary: "R R", lines: []int{1, 1}},
		{name: "Records, pretty", in: pretty(`{"Records":[` + r0 + "," + r1 + "]}"), summary: "R R"},
		{name: "Records not the first key", in: `{"extra":{"Records":1},"Records":[` + r0 + "," + r1 + `],"more":[1,2]}`, summary: "R R"},
		{name: "Records first, other keys after", in: pretty(`{"Records":[` + r0 + `],"x":{"Records":[1]},"y":[{"z":null}]}`), summary: "R"},
		{name: "Records empty", in: `{"Records":[]}`, summary: ""},
		{name: "Records null", in: `{"Records":null}`, summary: "notrecord"},
		{name: "Records null, not first", in: `{"a":1,"Records":null}`, summary: "notrecord"},
		{name: "Records empty, not first", in: `{"a":1,"Records":[]}`, summary: ""},
		{name: "Records object", in: `{"Records":{"a":[1,{"b":2}]}}`, summary: "notrecord"},
		{name: "Records object, not first", in: `{"a":1,"Records":{"a":[1,{"b":2}]}}`, summary: "notrecord"},
		{name: "Records of odd values", in: `{"Records":[1,"x",null,[],{},` + r0 + `]}`, summary: "notrecord notrecord notrecord notrecord notrecord R"},
		{name: "array of log files", in: `[{"Records":[` + r0 + `]},{"Records":[` + r1 + "," + r2 + `]}]`, summary: "R R R"},
		{name: "log file in a log file", in: `{"Records":[{"Records":[` + r0 + `]}]}`, summary: "notrecord"},
		{name: "log file in a log file, Records not first", in: `{"a":1,"Records":[{"Records":[` + r0 + `]}]}`, summary: "notrecord"},
		{name: "log file in a log file in an array", in: `[{"Records":[{"Records":[` + r0 + `]}]}]`, summary: "notrecord"},
		{name: "BOM", in: "\ufeff" + pretty(`{"Records":[`+r0+`]}`), summary: "R"},
		{name: "gzip Records", in: gz(`{"Records":[` + r0 + "," + r1 + "]}"), summary: "R R"},
		{name: "gzip NDJSON", in: gz(r0 + "\n" + r1 + "\n"), summary: "R R"},
		{name: "gzip, two members", in: gz(r0+"\n") + gz(r1+"\n"), summary: "R R"},
		{name: "EventBridge", in: eb(r0), summary: "R", check: func(t *testing.T, items []Item) {
			direct, _ := DecodeRecord(recs[0])
			if !sameRecord(t, items[0].Record, direct) || !bytes.Equal(items[0].Raw, recs[0]) {
				t.Errorf("EventBridge record or Raw differs from the record it wraps")
			}
		}},
		{name: "EventBridge, pretty", in: pretty(eb(r0)), summary: "R"},
		{name: "EventBridge array", in: "[" + eb(r0) + "," + eb(r1) + "]", summary: "R R"},
		{name: "EventBridge NDJSON", in: eb(r0) + "\n" + eb(r1) + "\n", summary: "R R", lines: []int{1, 2}},
		{name: "EventBridge console sign-in", in: string(eventBridge("AWS Console Sign In via CloudTrail", recs[0])), summary: "R"},
		{name: "EventBridge other detail-type", in: string(eventBridge("EC2 Instance State-change Notification", []byte(`{"instance-id":"i-1","state":"running"}`))), summary: "notrecord"},
		{name: "EventBridge without detail", in: `{"detail-type":"AWS API Call via CloudTrail","source":"aws.s3"}`, summary: "notrecord"},
		{name: "EventBridge detail not an object", in: `{"detail-type":"AWS API Call via CloudTrail","detail":[1]}`, summary: "notrecord"},
		{name: "EventBridge in EventBridge", in: eb(eb(r0)), summary: "notrecord"},
		{name: "EventBridge wrapping a log file", in: eb(`{"Records":[` + r0 + `]}`), summary: "notrecord"},
		{name: "S3 event notification", in: `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:X"},"requestParameters":{"sourceIPAddress":"192.0.2.1"}}]}`, summary: "notrecord"},
		{name: "SQS message", in: `{"Records":[{"messageId":"1","body":"{}","eventSource":"aws:sqs"}]}`, summary: "notrecord"},
		{name: "lookup-events output", in: `{"Events":[{"EventId":"1","CloudTrailEvent":"{}"}]}`, summary: "notrecord"},
		{name: "scalars", in: "1\n\"x\"\nnull\ntrue\n[]\n{}\n", summary: "notrecord notrecord notrecord notrecord notrecord", lines: []int{1, 2, 3, 4, 6}},
		{name: "binary, one error for the file", in: "PK\x03\x04\x14\x00\n\n\n{}\n\x00\x01\n" + r0 + "\n", summary: "malformed", lines: []int{0}},
		{name: "zstd", in: "\x28\xb5\x2f\xfd\x00\x58\n\n\n", summary: "malformed"},
		{name: "empty", in: "", summary: "malformed"},
		{name: "white space", in: " \n\t\r\n ", summary: "malformed"},
		{name: "BOM only", in: "\ufeff", summary: "malformed"},
		{name: "empty gzip", in: gz(""), summary: "malformed"},
		{name: "gzip magic only", in: "\x1f\x8b", summary: "malformed"},
		{name: "gzip bad header", in: "\x1f\x8b\x00\x00garbage", summary: "malformed"},
		{name: "truncated gzip", in: string(full[:len(full)/2]), check: func(t *testing.T, items []Item) {
			n := len(items)
			if n < 2 || n > 21 {
				t.Fatalf("%d items, want some records then an error", n)
			}
			if got, want := summary(items), repeat("R", n-1)+" malformed"; got != want {
				t.Errorf("items: %s\nwant:  %s", got, want)
			}
		}},
		{name: "gzip with a bad checksum", in: func() string {
			b := bytes.Clone(full)
			b[len(b)-5] ^= 0xff // the CRC-32 in the trailer
			return string(b)
		}(), check: func(t *testing.T, items []Item) {
			if got, want := summary(items), repeat("R", 21)+" malformed"; got != want {
				t.Errorf("items: %s\nwant:  %s", got, want)
			}
		}},
		{name: "truncated plain Records", in: `{"Records":[` + r0 + "," + r1[:len(r1)/2], summary: "R malformed"},
		{name: "truncated plain array", in: "[" + r0 + ",", summary: "R malformed"},
		{name: "syntax error in a pretty array stops the file", in: pretty("[" + r0 + "," + r1 + "]")[:20] + "}" + pretty("["+r0+"]"), summary: "malformed"},
		{name: "syntax error between records", in: `{"Records":[` + r0 + " " + r1 + "]}", summary: "R malformed", lines: []int{1, 1}},
		{name: "record missing userIdentity and requestParameters", in: `{"eventVersion":"1.08","eventName":"GetSecretValue"}`, summary: "R+incomplete"},
		{name: "record with null requestParameters", in: minimal, summary: "R"},
		{name: "record without eventTime", in: minimal, summary: "R", check: func(t *testing.T, items []Item) {
			if !items[0].Record.EventTime.IsZero() {
				t.Errorf("eventTime = %v, want zero", items[0].Record.EventTime)
			}
		}},
		{name: "record with a bad eventTime", in: `{"eventName":"GetSecretValue","eventTime":"noon","userIdentity":{},"requestParameters":{}}`, summary: "R+incomplete"},
		{name: "record with a numeric eventTime", in: `{"eventName":"GetSecretValue","eventTime":1722429412,"userIdentity":{},"requestParameters":{}}`, summary: "R+incomplete"},
		{name: "record with a field of the wrong type", in: `{"eventName":"GetSecretValue","awsRegion":["us-east-1"],"readOnly":"yes","userIdentity":{"type":"IAMUser","arn":7},"requestParameters":{}}`,
			summary: "R+incomplete", check: func(t *testing.T, items []Item) {
				rec := items[0].Record
				if rec.EventName != "GetSecretValue" || rec.UserIdentity == nil || rec.UserIdentity.Type != "IAMUser" {
					t.Errorf("the fields of the right type were not kept: %+v", rec)
				}
				if msg := items[0].Err.Error(); !strings.Contains(msg, "awsRegion") || strings.Contains(msg, "recordAlias") {
					t.Errorf("error %q should name the field awsRegion, and no Go type", msg)
				}
			}},
		{name: "Insights event", in: `{"eventVersion":"1.07","eventTime":"2024-01-01T00:00:00Z","awsRegion":"us-east-1","eventID":"x","eventType":"AwsCloudTrailInsight","recipientAccountId":"123456789012","sharedEventID":"y","insightDetails":{}}`, summary: "R"},
		{name: "odd IDs and addresses are kept", in: `{"eventName":"GetSecretValue","recipientAccountId":"12","sourceIPAddress":"secretsmanager.amazonaws.com","userIdentity":{"accountId":"not-an-account"},"requestParameters":{}}`, summary: "R",
			check: func(t *testing.T, items []Item) {
				if r := items[0].Record; r.RecipientAccountID != "12" || r.SourceIPAddress != "secretsmanager.amazonaws.com" {
					t.Errorf("record changed: %+v", r)
				}
			}},
		{name: "case-insensitive keys (Alibaba-style eventId)", in: `{"eventId":"abc","eventName":"UpdateTrail","userIdentity":{},"requestParameters":{}}`, summary: "R"},
		{name: "SNS notification", in: string(readTestdata(t, "aws-cloudtrail-processing-library/SQSMessageBody.json")), summary: "notrecord"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := decodeBytes([]byte(tt.in))
			checkItems(t, "test", items)
			if tt.check == nil || tt.summary != "" {
				if got := summary(items); got != tt.summary {
					t.Errorf("items: %s\nwant:  %s", got, tt.summary)
					for _, it := range items {
						t.Logf("%d: %v", it.Index, it.Err)
					}
				}
			}
			if tt.lines != nil {
				var got []int
				for _, it := range items {
					got = append(got, it.Line)
				}
				if !reflect.DeepEqual(got, tt.lines) {
					t.Errorf("lines %v, want %v", got, tt.lines)
				}
			}
			if tt.check != nil {
				tt.check(t, items)
			}
		})
	}
}

// TestErrorsHoldNoBodies makes sure error messages give positions, never request or response
// contents.
func TestErrorsHoldNoBodies(t *testing.T) {
	const secret = "s3cr3t-VALUE"
	rec := `{"eventVersion":"1.08","eventName":"GetSecretValue","eventTime":"` + secret + `","requestParameters":{"secretId":"` + secret + `"},"responseElements":{"secretString":"` + secret + `"},"userIdentity":{"userName":{"x":"` + secret + `"}},"awsRegion":{"` + secret + `":1}}`
	inputs := map[string]string{
		"incomplete":       rec,
		"syntax after":     rec + "\n" + `{"requestParameters":{"secretId":"` + secret + `"}, ` + secret + `}`,
		"syntax in stream": "[" + rec + ",\n" + `{"responseElements":{"secretString":"` + secret + `"}` + secret + "]",
		"not a record":     `{"responseElements":{"secretString":"` + secret + `"}}`,
		"eventbridge":      string(eventBridge(secret, []byte(`{"x":"`+secret+`"}`))),
		"truncated":        `{"Records":[{"requestParameters":{"secretId":"` + secret,
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			items := decodeBytes([]byte(in))
			errs := 0
			for _, it := range items {
				if it.Err == nil {
					continue
				}
				errs++
				if strings.Contains(it.Err.Error(), secret[:6]) {
					t.Errorf("error message holds input content: %v", it.Err)
				}
			}
			if errs == 0 {
				t.Errorf("no error item for %s", summary(items))
			}
			if _, err := DecodeRecord([]byte(in)); err != nil && strings.Contains(err.Error(), secret[:6]) {
				t.Errorf("DecodeRecord error holds input content: %v", err)
			}
		})
	}
}

func TestDecodeRecord(t *testing.T) {
	recs := corpusRecords(t)
	want, err := DecodeRecord(recs[0])
	if err != nil || want == nil || want.EventName != "GetSecretValue" {
		t.Fatalf("DecodeRecord(Stratus record) = %+v, %v", want, err)
	}
	tests := []struct {
		name     string
		in       []byte
		kind     string // of the error, "" for none
		isRecord bool   // a record is returned
	}{
		{name: "record", in: recs[0], isRecord: true},
		{name: "EventBridge", in: eventBridge("AWS API Call via CloudTrail", recs[0]), isRecord: true},
		{name: "padded", in: []byte("\n  " + string(recs[0]) + "\n"), isRecord: true},
		{name: "incomplete", in: []byte(`{"eventName":"GetSecretValue"}`), kind: "incomplete", isRecord: true},
		{name: "log file", in: []byte(`{"Records":[` + string(recs[0]) + `]}`), kind: "notrecord"},
		{name: "array", in: []byte(`[` + string(recs[0]) + `]`), kind: "notrecord"},
		{name: "other EventBridge event", in: eventBridge("Scheduled Event", []byte(`{}`)), kind: "notrecord"},
		{name: "SNS", in: readTestdata(t, "aws-cloudtrail-processing-library/SQSMessageBody.json"), kind: "notrecord"},
		{name: "two records", in: append(append([]byte{}, recs[0]...), recs[1]...), kind: "malformed"},
		{name: "invalid", in: []byte(`{"eventName":`), kind: "malformed"},
		{name: "empty", in: nil, kind: "malformed"},
		{name: "gzip", in: gzipBytes(t, recs[0]), kind: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := DecodeRecord(tt.in)
			if got := kindOf(err); got != tt.kind {
				t.Errorf("error %v (%q), want kind %q", err, got, tt.kind)
			}
			if (rec != nil) != tt.isRecord {
				t.Fatalf("record %v, want one: %v", rec, tt.isRecord)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "cloudtrail: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tt.isRecord && tt.kind == "" && !sameRecord(t, rec, want) {
				t.Errorf("record differs from the plain one")
			}
		})
	}
}

func TestIsEnvelope(t *testing.T) {
	recs := corpusRecords(t)
	tests := []struct {
		in   string
		want bool
	}{
		{in: `{"Records":[]}`, want: true},
		{in: string(eventBridge("AWS API Call via CloudTrail", recs[0])), want: true},
		{in: string(eventBridge("Scheduled Event", []byte(`{}`))), want: true},
		{in: string(recs[0]), want: false},
		{in: `[]`, want: false},
		{in: `{"Records":`, want: false},
		{in: ``, want: false},
	}
	for _, tt := range tests {
		if got := IsEnvelope([]byte(tt.in)); got != tt.want {
			t.Errorf("IsEnvelope(%.60s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestDecodeStops checks that Decode stops calling yield when the consumer breaks out of the loop
// (a range-over-func loop panics otherwise), whatever the shape.
func TestDecodeStops(t *testing.T) {
	recs := corpusRecords(t)
	r0, r1 := string(recs[0]), string(recs[1])
	inputs := []string{
		`{"Records":[` + r0 + "," + r1 + "]}",
		"{\n" + `"Records":[` + r0 + "," + r1 + "]}",
		"[" + r0 + "," + r1 + "]",
		r0 + "\n" + r1 + "\n",
		`[{"Records":[` + r0 + "," + r1 + "]}]",
		`{"Records":{}}` + "\n" + r0,
		"{\n" + `"Records":null, "x": 1}` + r0,
		"x\ny\n",
		"",
	}
	for _, in := range inputs {
		n := 0
		for range Decode(strings.NewReader(in), "test") {
			n++
			break
		}
		if n != 1 {
			t.Errorf("%.40q: %d items before break", in, n)
		}
	}
}

// failingReader returns some bytes, then an I/O error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestDecodeReadError checks that an I/O error of the reader is ErrUnreadable, not ErrMalformed,
// in every reading mode, and ends the stream.
func TestDecodeReadError(t *testing.T) {
	recs := corpusRecords(t)
	r0 := string(recs[0])
	ioErr := errors.New("input/output error")
	for name, in := range map[string]string{
		"nothing":   "",
		"NDJSON":    r0 + "\n" + r0[:40],
		"Records":   `{"Records":[` + r0 + ",",
		"pretty":    "[\n" + r0 + ",\n",
		"gzip":      string(gzipBytes(t, []byte(r0+"\n"+r0+"\n"))[:30]),
		"long line": `{"Records":[` + r0 + "," + strings.Repeat(r0+",", 100),
	} {
		t.Run(name, func(t *testing.T) {
			items := collect(Decode(&failingReader{data: []byte(in), err: ioErr}, "test"))
			checkItems(t, "test", items)
			if len(items) == 0 {
				t.Fatal("no items")
			}
			last := items[len(items)-1]
			if !errors.Is(last.Err, ErrUnreadable) || !errors.Is(last.Err, ioErr) {
				t.Errorf("last item: %v, want ErrUnreadable wrapping the I/O error", last.Err)
			}
			for _, it := range items[:len(items)-1] {
				if it.Err != nil {
					t.Errorf("item %d: %v", it.Index, it.Err)
				}
			}
		})
	}
}

// syntheticRecord is a small but complete GetSecretValue record, numbered i.
func syntheticRecord(i int) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:session-%d","arn":"arn:aws:sts::123456789012:assumed-role/app/session-%d","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789012:role/app","accountId":"123456789012","userName":"app"},"attributes":{"creationDate":"2024-07-31T12:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-07-31T12:%02d:%02dZ","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","awsRegion":"us-east-1","sourceIPAddress":"10.0.%d.%d","userAgent":"aws-sdk-go-v2/1.30.3","requestParameters":{"secretId":"prod/db/password-%d"},"responseElements":null,"requestID":"req-%d","eventID":"evt-%d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`,
		i, i, i/60%60, i%60, i/256%256, i%256, i%100, i, i)
}

// smallRecord is a short GetSecretValue record, numbered i.
func smallRecord(i int) string {
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/u%d"},"eventTime":"2024-07-31T12:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","requestParameters":{"secretId":"s%d"},"eventID":"evt-%d"}`, i%100, i%10, i)
}

// writeRecordsFile writes n records made by record as one {"Records":[…]} value on one line, the
// way CloudTrail writes its log files.
func writeRecordsFile(w io.Writer, n int, record func(int) string) error {
	if _, err := io.WriteString(w, `{"Records":[`); err != nil {
		return err
	}
	for i := range n {
		sep := ","
		if i == 0 {
			sep = ""
		}
		if _, err := io.WriteString(w, sep+record(i)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}")
	return err
}

// TestDecodeHugeFile reads a 200,000-record log file through the iterator and checks that the heap
// stays far below the file's size: records are decoded one at a time, never the whole file.
func TestDecodeHugeFile(t *testing.T) {
	n := 200_000
	if testing.Short() || raceEnabled() {
		n = 40_000 // still a file several times the bound below
	}
	path := filepath.Join(t.TempDir(), "123456789012_CloudTrail_us-east-1_20240731T1200Z_big.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	if err := writeRecordsFile(bw, n, smallRecord); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := live()
	var peak uint64
	count := 0
	for it := range Read(t.Context(), []string{path}) {
		if it.Err != nil {
			t.Fatalf("item %d: %v", it.Index, it.Err)
		}
		if want := fmt.Sprintf("evt-%d", count); it.Record.EventID != want || it.Index != count {
			t.Fatalf("item %d: eventID %q, want %q", it.Index, it.Record.EventID, want)
		}
		count++
		if count%(n/10) == 0 {
			peak = max(peak, live())
		}
	}
	if count != n {
		t.Fatalf("%d records, want %d", count, n)
	}
	grew := int64(peak) - int64(base)
	t.Logf("file %d MB, live heap grew by at most %d KB while reading", fi.Size()>>20, grew>>10)
	if limit := fi.Size() / 8; grew > limit || grew > 16<<20 {
		t.Errorf("live heap grew by %d bytes while reading a %d-byte file: not streaming", grew, fi.Size())
	}
}

// raceEnabled reports whether the test binary was built with -race, which makes decoding ten
// times slower.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// BenchmarkDecode decodes a gzip log file of about 10 MB of JSON.
func BenchmarkDecode(b *testing.B) {
	var plain bytes.Buffer
	const n = 12_000 // ≈ 10 MB
	if err := writeRecordsFile(&plain, n, syntheticRecord); err != nil {
		b.Fatal(err)
	}
	gz := gzipBytes(b, plain.Bytes())
	b.SetBytes(int64(plain.Len()))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		for it := range Decode(bytes.NewReader(gz), "bench") {
			if it.Err != nil {
				b.Fatal(it.Err)
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
