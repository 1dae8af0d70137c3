package cloudtrail

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2024-07-31T12:36:52Z", want: utc("2024-07-31T12:36:52Z")},                    // what CloudTrail writes
		{in: "2024-07-31T12:36:52.123Z", want: utc("2024-07-31T12:36:52.123Z")},            // fractional seconds
		{in: "2024-07-31T14:36:52+02:00", want: utc("2024-07-31T12:36:52Z")},               // an offset, taken to UTC
		{in: "2024-10-17 21:48:45.000000000", want: utc("2024-10-17T21:48:45Z")},           // Panther
		{in: "2024-10-17 21:48:45.123456789", want: utc("2024-10-17T21:48:45.123456789Z")}, // Panther, nanoseconds
		{in: "2024-10-17 21:48:45", want: utc("2024-10-17T21:48:45Z")},                     // no fraction
		{in: "2024-10-17 21:48:45Z", want: utc("2024-10-17T21:48:45Z")},
		{in: "2024-10-17T21:48:45", want: utc("2024-10-17T21:48:45Z")}, // no zone: UTC
		{in: "  2024-07-31T12:36:52Z\n", want: utc("2024-07-31T12:36:52Z")},
		{in: "", wantErr: true},
		{in: "ThisIsAWrongEventTime", wantErr: true}, // aws-cloudtrail-processing-library MissField fixture
		{in: "2024-13-01T00:00:00Z", wantErr: true},
		{in: "2024-02-30 00:00:00", wantErr: true},
		{in: "1722429412", wantErr: true}, // epoch seconds are not a form CloudTrail uses
		{in: "2024-07-31", wantErr: true},
		{in: "2024-10-17 21:48:45.000000000 UTC", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseTime(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTime(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseTime(%q) = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}

func TestTimeJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    string // RFC 3339, "" for the zero time
		wantErr bool
	}{
		{in: `"2024-07-31T12:36:52Z"`, want: "2024-07-31T12:36:52Z"},
		{in: `"2024-10-17 21:48:45.000000000"`, want: "2024-10-17T21:48:45Z"},
		{in: `"2024-10-17 21:48:45.5"`, want: "2024-10-17T21:48:45.5Z"},
		{in: `null`},
		{in: `""`},
		{in: `"yesterday"`, wantErr: true},
		{in: `1722429412`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got Time
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if tt.want == "" {
				if !got.IsZero() {
					t.Fatalf("Unmarshal(%s) = %v, want the zero time", tt.in, got)
				}
			} else if s := got.UTC().Format(time.RFC3339Nano); s != tt.want {
				t.Fatalf("Unmarshal(%s) = %s, want %s", tt.in, s, tt.want)
			}
			// Round trip: what MarshalJSON writes, UnmarshalJSON reads back.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var back Time
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal(Marshal(%v) = %s): %v", got, b, err)
			}
			if !back.Equal(got.Time) {
				t.Errorf("round trip of %v through %s gave %v", got, b, back)
			}
		})
	}
}
