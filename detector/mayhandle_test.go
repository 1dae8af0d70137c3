package detector

import (
	"bytes"
	"testing"
)

// mayHandleSimple is MayHandle's definition: some handled source appears, quoted, in raw.
func mayHandleSimple(raw []byte) bool {
	for src := range handled {
		if bytes.Contains(raw, []byte(`"`+src+`"`)) {
			return true
		}
	}
	return false
}

// FuzzMayHandle checks the one-pass MayHandle against its definition.
func FuzzMayHandle(f *testing.F) {
	for _, s := range []string{
		`{"eventSource":"secretsmanager.amazonaws.com"}`, `"xsecretsmanager.amazonaws.com"`, `"events.amazonaws.com".amazonaws.com"`,
		`"cloudtrail.amazonaws.com`, `secretsmanager.amazonaws.com"`, `"s3.amazonaws.com","events.amazonaws.com"`, `.amazonaws.com"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, want := MayHandle(raw), mayHandleSimple(raw); got != want {
			t.Errorf("MayHandle(%q) = %v, want %v", raw, got, want)
		}
	})
}
