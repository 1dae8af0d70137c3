package detector

import (
	"encoding/json"
	"testing"
)

func TestParseSecretID(t *testing.T) {
	const acct, region = "111122223333", "us-east-1"
	tests := []struct {
		id        string
		wantKey   string
		wantARN   string
		wantError bool
	}{
		{"prod/payments/db", "111122223333/us-east-1/prod/payments/db", "", false},
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db", "111122223333/us-east-1/prod/payments/db", "", false},
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-AbC123", "111122223333/us-east-1/prod/payments/db",
			"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-AbC123", false},
		{"arn:aws:secretsmanager:eu-west-1:444455556666:secret:shared-key-x9Y8z7", "444455556666/eu-west-1/shared-key", "arn:aws:secretsmanager:eu-west-1:444455556666:secret:shared-key-x9Y8z7", false},
		{"arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:a-b-c", "111122223333/cn-north-1/a-b-c", "", false},
		{"  padded  ", "111122223333/us-east-1/padded", "", false},
		{"arn:aws:s3:::bucket", "", "", true},
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:", "", "", true},
		{"", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			ref, err := ParseSecretID(tt.id, acct, region)
			if (err != nil) != tt.wantError {
				t.Fatalf("err = %v, want error %v", err, tt.wantError)
			}
			if err != nil {
				return
			}
			if ref.Key() != tt.wantKey || ref.ARN != tt.wantARN {
				t.Errorf("key %q arn %q; want %q %q", ref.Key(), ref.ARN, tt.wantKey, tt.wantARN)
			}
		})
	}
}

func TestSecretIDs(t *testing.T) {
	tests := []struct {
		raw         string
		ids         []string
		wantFilters int
	}{
		{`{"secretId":"a"}`, []string{"a"}, 0},
		{`{"aRN":"arn:aws:secretsmanager:us-east-1:1:secret:x"}`, []string{"arn:aws:secretsmanager:us-east-1:1:secret:x"}, 0},
		{`{"secretIdList":["a","b"]}`, []string{"a", "b"}, 0},
		{`{"filters":[{"key":"tag-key","values":["x"]}]}`, nil, 1},
		{`null`, nil, 0},
		{``, nil, 0},
	}
	for _, tt := range tests {
		ids, f, err := secretIDs(json.RawMessage(tt.raw))
		if err != nil {
			t.Fatalf("%s: %v", tt.raw, err)
		}
		if len(ids) != len(tt.ids) || len(f) != tt.wantFilters {
			t.Errorf("%s: ids %v filters %v", tt.raw, ids, f)
		}
	}
	if _, _, err := secretIDs(json.RawMessage(`[1,2]`)); err == nil {
		t.Error("array requestParameters: want error")
	}
}

func TestMayHandle(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{`{"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue"}`, true},
		{`{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}`, true},
		{`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"events.amazonaws.com"}}`, true},
		{`{"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, false},
		{`{"eventSource":"s3.amazonaws.com","requestParameters":{"key":"secretsmanager.amazonaws.com-notes"}}`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := MayHandle([]byte(tt.raw)); got != tt.want {
			t.Errorf("MayHandle(%s) = %v, want %v", tt.raw, got, tt.want)
		}
	}
	// Every handled source is found.
	for src := range HandledEvents() {
		if !MayHandle([]byte(`{"eventSource":"` + src + `"}`)) {
			t.Errorf("%s not found", src)
		}
	}
}
