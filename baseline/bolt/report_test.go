package bolt

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secretwatch/secretwatch/baseline/internal/localstate"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
	"github.com/secretwatch/secretwatch/report"
)

func TestBoltStoreReportSource(t *testing.T) {
	storetest.ReportSource(t, storetest.Options{Retention: testRetention}, func(t *testing.T) storetest.ReportStore { return openBolt(t) })
}

// Day rows survive a close and reopen, and a replay into the reopened store counts nothing twice.
func TestBoltStoreReportReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sw.db")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	reads := []detector.Read{
		{EventID: storetest.EventID(1), Secret: "a/r/s", Principal: "p", Time: at, SourceIP: "192.0.2.1"},
		{EventID: storetest.EventID(2), Secret: "a/r/s", Principal: "p", Time: at.Add(time.Minute), Denied: true, SourceIP: "192.0.2.2"},
	}
	for range 2 {
		s, err := Open(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(t.Context(), reads); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows []*report.DayRow
	if err := s.Days(t.Context(), time.Time{}, at.AddDate(0, 0, 1), func(r *report.DayRow) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Reads != 1 || rows[0].Denied != 1 || len(rows[0].SourceIPs) != 2 || !rows[0].Day.Equal(report.Day(at)) {
		t.Fatalf("rows after reopen: %+v", rows)
	}
}

func TestDayRowEncoding(t *testing.T) {
	in := &report.DayRow{
		Reads: 12, Denied: 3, FirstSeen: time.Date(2026, 3, 2, 9, 0, 0, 5, time.UTC), LastSeen: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC),
		SecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf", PrincipalType: "AssumedRole",
		SourceIPs: []string{"192.0.2.1", "lambda.amazonaws.com"}, VPCEndpointIDs: []string{"vpce-1"}, UserAgents: []string{"a\x00b", ""},
	}
	out, err := decodeDayRow(encodeDayRow(in))
	if err != nil {
		t.Fatal(err)
	}
	if out.Reads != in.Reads || out.Denied != in.Denied || !out.FirstSeen.Equal(in.FirstSeen) || !out.LastSeen.Equal(in.LastSeen) ||
		out.SecretARN != in.SecretARN || out.PrincipalType != in.PrincipalType || strings.Join(out.SourceIPs, ",") != strings.Join(in.SourceIPs, ",") ||
		strings.Join(out.VPCEndpointIDs, ",") != "vpce-1" || len(out.UserAgents) != 2 || out.UserAgents[0] != "a\x00b" {
		t.Errorf("round trip: %+v", out)
	}
	enc := encodeDayRow(in)
	for i := range len(enc) {
		if _, err := decodeDayRow(enc[:i]); err == nil {
			t.Errorf("decode of %d of %d bytes: want error", i, len(enc))
		}
	}
	if _, err := decodeDayRow(append(enc, 0)); err == nil {
		t.Error("trailing byte: want error")
	}
}

func FuzzDecodeDayRow(f *testing.F) {
	f.Add(encodeDayRow(&report.DayRow{Reads: 1, SourceIPs: []string{"x"}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeDayRow(b)
		if err != nil {
			return
		}
		if len(r.SourceIPs) > report.MaxValues || len(r.UserAgents) > report.MaxValues || len(r.VPCEndpointIDs) > report.MaxValues {
			t.Fatalf("decoded more than %d values", report.MaxValues)
		}
		if _, err := decodeDayRow(encodeDayRow(r)); err != nil {
			t.Fatalf("re-encoding fails: %v", err)
		}
	})
}

// A damaged day row is an error that names it, both when reading a period and when a later
// Record would merge into it — never silently zeroed or overwritten.
func TestStoreCorruptDayRow(t *testing.T) {
	s := openBolt(t)
	at := time.Now().UTC().Add(-48 * time.Hour)
	read := detector.Read{EventID: storetest.EventID(1), Secret: "a/r/s", Principal: "p", Time: at}
	if _, err := s.Record(t.Context(), []detector.Read{read}); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDays).Put(dayRowKeyBytes(localstate.DayRowKey{Day: localstate.DayOf(at), Secret: "a/r/s", Principal: "p"}), []byte{dayRowVersion, 0xff})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Days(t.Context(), time.Time{}, at.AddDate(0, 0, 1), func(*report.DayRow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "corrupt day row") || !strings.Contains(err.Error(), at.Format(time.DateOnly)) {
		t.Errorf("Days over a corrupt row: %v", err)
	}
	read.EventID = storetest.EventID(2)
	if _, err := s.Record(t.Context(), []detector.Read{read}); err == nil || !strings.Contains(err.Error(), "corrupt day row") {
		t.Errorf("Record into a corrupt row: %v", err)
	}
}
