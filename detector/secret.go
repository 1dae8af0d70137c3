package detector

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SecretRef is one secret, however the caller named it.
type SecretRef struct {
	Account string
	Region  string
	Name    string
	ARN     string // full ARN with the 6-character suffix, when the caller gave it
	// Ambiguous: the id was NAME-XXXXXX and both "NAME with suffix XXXXXX" and "secret named
	// NAME-XXXXXX" have been seen; the key follows Secrets Manager's rule (a full ARN).
	Ambiguous bool
}

// Key is the canonical key of the secret: account/region/name. Every form of the secret id
// (name, partial ARN, full ARN) of one secret gives the same key.
func (s SecretRef) Key() string { return s.Account + "/" + s.Region + "/" + s.Name }

// PartialARN is the ARN without the random suffix, the form allow-list patterns match.
func (s SecretRef) PartialARN() string {
	return "arn:aws:secretsmanager:" + s.Region + ":" + s.Account + ":secret:" + s.Name
}

// SplitKey is the inverse of Key (the report rebuilds a secret's reference from a stored key).
func SplitKey(key string) (account, region, name string) {
	a, rest, _ := strings.Cut(key, "/")
	r, n, _ := strings.Cut(rest, "/")
	return a, r, n
}

// ParseSecretID normalises a secretId as a caller passes it. account and region are the
// record's recipientAccountId and awsRegion, used when the id is a bare name.
//
// A full ARN ends in "-" and 6 random characters that Secrets Manager appends; a partial ARN does
// not. The two cannot always be told apart (a name may itself end in "-abc123"): an ARN whose
// last 7 characters are "-" + 6 alphanumerics is taken as a full ARN, as Secrets Manager does.
func ParseSecretID(id, account, region string) (SecretRef, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return SecretRef{}, fmt.Errorf("detector: empty secret id")
	}
	if !strings.HasPrefix(id, "arn:") {
		return SecretRef{Account: account, Region: region, Name: id}, nil
	}
	// arn:partition:secretsmanager:region:account:secret:name[-suffix]
	f := strings.SplitN(id, ":", 7)
	if len(f) != 7 || f[2] != "secretsmanager" || f[5] != "secret" || f[6] == "" {
		return SecretRef{}, fmt.Errorf("detector: secret id %q: not a Secrets Manager secret ARN", id)
	}
	ref := SecretRef{Region: f[3], Account: f[4], Name: f[6]}
	if ref.Region == "" {
		ref.Region = region
	}
	if ref.Account == "" {
		ref.Account = account
	}
	if base, ok := stripSuffix(ref.Name); ok {
		ref.Name = base
		ref.ARN = id
	}
	return ref, nil
}

// stripSuffix removes Secrets Manager's "-XXXXXX" suffix.
func stripSuffix(name string) (string, bool) {
	if len(name) < 8 || name[len(name)-7] != '-' {
		return name, false
	}
	for _, c := range name[len(name)-6:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return name, false
		}
	}
	return name[:len(name)-7], true
}

// secretParams is the part of requestParameters that names secrets. Older events spell the
// ARN field "aRN".
type secretParams struct {
	SecretID     string   `json:"secretId"`
	ARN          string   `json:"aRN"`
	Name         string   `json:"name"`
	SecretIDList []string `json:"secretIdList"`
	Filters      []struct {
		Key    string   `json:"key"`
		Values []string `json:"values"`
	} `json:"filters"`
}

// secretIDs returns the secret ids named by a record's requestParameters (one for most calls,
// several for BatchGetSecretValue by id list, none for a filter), and the filters, if any.
func secretIDs(raw json.RawMessage) (ids []string, filters []string, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, nil
	}
	if id, ok := plainSecretID(raw); ok {
		if id == "" {
			return nil, nil, nil
		}
		return []string{id}, nil, nil
	}
	var p secretParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("detector: requestParameters: %w", err)
	}
	switch {
	case p.SecretID != "":
		ids = []string{p.SecretID}
	case p.ARN != "":
		ids = []string{p.ARN}
	case len(p.SecretIDList) > 0:
		ids = p.SecretIDList
	case p.Name != "":
		ids = []string{p.Name}
	}
	for _, f := range p.Filters {
		filters = append(filters, f.Key+"="+strings.Join(f.Values, ","))
	}
	return ids, filters, nil
}

// plainSecretID reads requestParameters written as CloudTrail writes most Secrets Manager calls'
// ({"secretId":"…","versionStage":"…"}) without encoding/json: an object whose keys are plain
// ASCII, secretId at most once, every other key one that matches no field of secretParams even
// ignoring case, and every value a string; secretId's printable ASCII without escapes. ok is
// false for anything else (secretIDs then decodes it; FuzzSecretIDs checks they agree).
func plainSecretID(raw []byte) (id string, ok bool) {
	i := 0
	next := func(c byte) bool {
		if i < len(raw) && raw[i] == c {
			i++
			return true
		}
		return false
	}
	// str reads a string and returns its raw content and whether it holds a backslash.
	str := func() (s []byte, escaped, ok bool) {
		if !next('"') {
			return nil, false, false
		}
		start := i
		for ; i < len(raw); i++ {
			switch c := raw[i]; {
			case c == '"':
				i++
				return raw[start : i-1], escaped, true
			case c == '\\':
				escaped = true
				if i+1 >= len(raw) || !strings.ContainsRune(`"\\/bfnrt`, rune(raw[i+1])) {
					return nil, false, false // \u… and bad escapes: encoding/json decides
				}
				i++
			case c < 0x20:
				return nil, false, false
			}
		}
		return nil, false, false
	}
	if !next('{') {
		return "", false
	}
	seen := false
	for first := true; ; first = false {
		if next('}') {
			return id, i == len(raw)
		}
		if !first && !next(',') {
			return "", false
		}
		k, escaped, ok := str()
		if !ok || escaped || !next(':') {
			return "", false
		}
		v, vEscaped, ok := str()
		if !ok {
			return "", false
		}
		if string(k) == "secretId" {
			if seen || vEscaped {
				return "", false
			}
			for _, c := range v {
				if c < 0x20 || c >= 0x7f {
					return "", false
				}
			}
			seen, id = true, string(v)
			continue
		}
		for _, c := range k {
			if c >= 0x80 {
				return "", false // Unicode folding: "ſ" matches "s"
			}
		}
		for _, f := range []string{"secretId", "aRN", "name", "secretIdList", "filters"} {
			if strings.EqualFold(string(k), f) {
				return "", false
			}
		}
	}
}
