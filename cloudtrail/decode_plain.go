package cloudtrail

import (
	"encoding/json"
	"unicode/utf8"
)

// decodePlain decodes a record the way CloudTrail writes it, faster than the general decoders:
// every key of a typed object (the record, userIdentity and what it holds, resources) spelt
// exactly as its field, at most once, and every typed value of its type, strings without escapes.
// It refuses anything else by returning false — a key that encoding/json would match ignoring
// case, an escape, a duplicate, a value of the wrong type, invalid UTF-8 — and the caller then
// starts again with the general decoders, so results never depend on it (FuzzDecodePlain checks
// that what it accepts, encoding/json decodes to the same). w must be zero; on false it is left
// partly filled. raw is a JSON value that has passed the scanner (or encoding/json), but
// decodePlain does not rely on it: every index is checked.
func decodePlain(raw []byte, w *wire) bool {
	d := plainDecoder{b: raw}
	d.space()
	if !d.wire(w) {
		return false
	}
	d.space()
	return d.p == len(d.b)
}

type plainDecoder struct {
	b []byte
	p int
}

func (d *plainDecoder) space() {
	for d.p < len(d.b) {
		switch d.b[d.p] {
		case ' ', '\t', '\n', '\r':
			d.p++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (d *plainDecoder) peek() byte {
	d.space()
	if d.p < len(d.b) {
		return d.b[d.p]
	}
	return 0
}

// str reads a string without escapes and returns its content; false if it is not one.
func (d *plainDecoder) str() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	start := d.p + 1
	i := start + plainPrefix(d.b[start:]) // up to a quote, a backslash or a control character
	if i >= len(d.b) || d.b[i] != '"' {
		return nil, false
	}
	s := d.b[start:i]
	if !utf8.Valid(s) {
		return nil, false // encoding/json would replace the invalid bytes
	}
	d.p = i + 1
	return s, true
}

// literal reads null, true or false.
func (d *plainDecoder) literal(word string) bool {
	if d.peek() != word[0] || len(d.b)-d.p < len(word) || string(d.b[d.p:d.p+len(word)]) != word {
		return false
	}
	d.p += len(word)
	return true
}

// skip reads any value and returns its bytes.
func (d *plainDecoder) skip() ([]byte, bool) {
	c := d.peek()
	start := d.p
	switch {
	case c == '"':
		for i := d.p + 1; i < len(d.b); i++ {
			switch d.b[i] {
			case '\\':
				i++
			case '"':
				d.p = i + 1
				return d.b[start:d.p], true
			}
		}
		return nil, false
	case c == '{' || c == '[':
		depth := 0
		for i := d.p; i < len(d.b); i++ {
			switch d.b[i] {
			case '"':
				d.p = i
				if _, ok := d.skip(); !ok {
					return nil, false
				}
				i = d.p - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					d.p = i + 1
					return d.b[start:d.p], true
				}
			}
		}
		return nil, false
	case c == 't' || c == 'f' || c == 'n' || c == '-' || c >= '0' && c <= '9':
		i := d.p
		for i < len(d.b) {
			if b := d.b[i]; b == ',' || b == '}' || b == ']' || b == ' ' || b == '\t' || b == '\n' || b == '\r' {
				break
			}
			i++
		}
		d.p = i
		return d.b[start:i], i > start
	}
	return nil, false
}

// raw reads any value into a json.RawMessage, as encoding/json does (a copy; null is "null").
func (d *plainDecoder) raw(m *json.RawMessage) bool {
	b, ok := d.skip()
	if ok {
		*m = append(json.RawMessage(nil), b...)
	}
	return ok
}

// string reads a string field: a string, or null (which leaves it as it is, as in encoding/json).
func (d *plainDecoder) string(s *string) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	b, ok := d.str()
	if ok {
		*s = string(b)
	}
	return ok
}

// boolPtr reads a *bool field: true, false or null.
func (d *plainDecoder) boolPtr(v **bool) bool {
	switch d.peek() {
	case 'n':
		*v = nil
		return d.literal("null")
	case 't':
		t := true
		*v = &t
		return d.literal("true")
	case 'f':
		f := false
		*v = &f
		return d.literal("false")
	}
	return false
}

// Objects are read with begin, then next for each key, until next reports the end:
//
//	if !d.begin() { return false }
//	for first := true; ; first = false {
//		k, end, ok := d.next(first)
//		… read the value of a known key; d.unknown(k, fold) for others
//	}
//
// Keys are taken exactly as written (escapes and non-ASCII refused).

// begin reads the '{' of an object.
func (d *plainDecoder) begin() bool {
	if d.peek() != '{' {
		return false
	}
	d.p++
	return true
}

// next reads the ',' or '}' before a key (not before the first), then the key and its ':'. end
// reports the end of the object.
func (d *plainDecoder) next(first bool) (key []byte, end, ok bool) {
	c := d.peek()
	switch {
	case c == '}':
		d.p++
		return nil, true, true
	case c == ',' && !first:
		d.p++
	case !first:
		return nil, false, false
	}
	k, ok := d.str()
	if !ok || d.peek() != ':' {
		return nil, false, false
	}
	d.p++
	return k, false, true
}

// unknown skips the value of a key that is no field; keys that fold to one (folded: the ASCII
// lower-case names of the fields) are refused, since encoding/json would match them.
func (d *plainDecoder) unknown(k []byte, folded map[string]bool) bool {
	if foldsToField(k, folded) {
		return false
	}
	_, ok := d.skip()
	return ok
}

// once marks field i as seen; false for a duplicate key.
func once(seen *uint64, i uint) bool {
	if *seen&(1<<i) != 0 {
		return false
	}
	*seen |= 1 << i
	return true
}

// object reads one JSON object: field reads the value of key k and returns the field's index
// (below 63; 63 for a key that is no field, whose value d.unknown skipped) and whether it read
// well. A field's key seen twice refuses the record (encoding/json would keep the last value).
func (d *plainDecoder) object(field func(k []byte) (uint, bool)) bool {
	if !d.begin() {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		k, end, ok := d.next(first)
		if end || !ok {
			return ok
		}
		i, ok := field(k)
		if !ok || i < 63 && !once(&seen, i) {
			return false
		}
	}
}

// foldsToField reports whether key, not a field's exact name, may still match one in
// encoding/json (which ignores case, with Unicode folding).
func foldsToField(k []byte, folded map[string]bool) bool {
	var buf [32]byte
	if len(k) > len(buf) {
		return false // longer than any field name (and its Unicode look-alikes are refused below)
	}
	for i, c := range k {
		if c >= 0x80 {
			return true
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return folded[string(buf[:len(k)])]
}

func foldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		b := []byte(n)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		m[string(b)] = true
	}
	return m
}

var (
	wireFold = foldSet("eventVersion", "eventTime", "eventSource", "eventName", "eventID", "eventType", "eventCategory",
		"awsRegion", "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestID", "readOnly", "managementEvent",
		"recipientAccountId", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId", "userIdentity", "requestParameters",
		"responseElements", "additionalEventData", "resources", "sessionCredentialFromConsole",
		"Records", "detail-type", "detail", "Type")
	identityFold   = foldSet("type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy", "identityProvider", "sessionContext", "onBehalfOf", "credentialId")
	contextFold    = foldSet("sessionIssuer", "webIdFederationData", "attributes", "sourceIdentity")
	attributesFold = foldSet("creationDate", "mfaAuthenticated")
	issuerFold     = foldSet("type", "principalId", "arn", "accountId", "userName")
	onBehalfFold   = foldSet("userId", "identityStoreArn")
	resourceFold   = foldSet("ARN", "accountId", "type")
)

func (d *plainDecoder) wire(w *wire) bool {
	r := w.recordAlias
	return d.object(func(k []byte) (i uint, ok bool) {
		switch string(k) {
		case "eventVersion":
			i, ok = 0, d.string(&r.EventVersion)
		case "eventTime":
			i, ok = 1, d.raw(&w.EventTime)
		case "eventSource":
			i, ok = 2, d.string(&r.EventSource)
		case "eventName":
			i, ok = 3, d.string(&r.EventName)
		case "eventID":
			i, ok = 4, d.string(&r.EventID)
		case "eventType":
			i, ok = 5, d.string(&r.EventType)
		case "eventCategory":
			i, ok = 6, d.string(&r.EventCategory)
		case "awsRegion":
			i, ok = 7, d.string(&r.AWSRegion)
		case "sourceIPAddress":
			i, ok = 8, d.string(&r.SourceIPAddress)
		case "userAgent":
			i, ok = 9, d.string(&r.UserAgent)
		case "errorCode":
			i, ok = 10, d.string(&r.ErrorCode)
		case "errorMessage":
			i, ok = 11, d.string(&r.ErrorMessage)
		case "requestID":
			i, ok = 12, d.string(&r.RequestID)
		case "readOnly":
			i, ok = 13, d.boolPtr(&r.ReadOnly)
		case "managementEvent":
			i, ok = 14, d.boolPtr(&r.ManagementEvent)
		case "recipientAccountId":
			i, ok = 15, d.string(&r.RecipientAccountID)
		case "sharedEventID":
			i, ok = 16, d.string(&r.SharedEventID)
		case "vpcEndpointId":
			i, ok = 17, d.string(&r.VPCEndpointID)
		case "vpcEndpointAccountId":
			i, ok = 18, d.string(&r.VPCEndpointAccount)
		case "userIdentity":
			i, ok = 19, d.identity(&r.UserIdentity)
		case "requestParameters":
			i, ok = 20, d.raw(&r.RequestParameters)
		case "responseElements":
			i, ok = 21, d.raw(&r.ResponseElements)
		case "additionalEventData":
			i, ok = 22, d.raw(&r.AdditionalEventData)
		case "resources":
			i, ok = 23, d.resources(&r.Resources)
		case "sessionCredentialFromConsole":
			i, ok = 24, d.raw(&r.SessionCredentialFromConsole)
		case "Records":
			i, ok = 25, d.raw(&w.Records)
		case "detail-type":
			i = 26
			if d.peek() == 'n' {
				ok = d.literal("null")
			} else {
				var s string
				ok = d.string(&s)
				w.DetailType = &s
			}
		case "detail":
			i, ok = 27, d.raw(&w.Detail)
		case "Type":
			i, ok = 28, d.string(&w.SNSType)
		default:
			i, ok = 63, d.unknown(k, wireFold)
		}
		return i, ok
	})
}

func (d *plainDecoder) identity(p **UserIdentity) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	u := new(UserIdentity)
	*p = u
	return d.object(func(k []byte) (i uint, ok bool) {
		switch string(k) {
		case "type":
			i, ok = 0, d.string(&u.Type)
		case "principalId":
			i, ok = 1, d.string(&u.PrincipalID)
		case "arn":
			i, ok = 2, d.string(&u.ARN)
		case "accountId":
			i, ok = 3, d.string(&u.AccountID)
		case "accessKeyId":
			i, ok = 4, d.string(&u.AccessKeyID)
		case "userName":
			i, ok = 5, d.string(&u.UserName)
		case "invokedBy":
			i, ok = 6, d.string(&u.InvokedBy)
		case "identityProvider":
			i, ok = 7, d.string(&u.IdentityProvider)
		case "sessionContext":
			i, ok = 8, d.sessionContext(&u.SessionContext)
		case "onBehalfOf":
			i, ok = 9, d.onBehalfOf(&u.OnBehalfOf)
		case "credentialId":
			i, ok = 10, d.string(&u.CredentialID)
		default:
			i, ok = 63, d.unknown(k, identityFold)
		}
		return i, ok
	})
}

func (d *plainDecoder) sessionContext(p **SessionContext) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	c := new(SessionContext)
	*p = c
	return d.object(func(k []byte) (i uint, ok bool) {
		switch string(k) {
		case "sessionIssuer":
			i, ok = 0, d.sessionIssuer(&c.SessionIssuer)
		case "webIdFederationData":
			i, ok = 1, d.raw(&c.WebIDFederationData)
		case "attributes":
			i, ok = 2, d.attributes(&c.Attributes.CreationDate, &c.Attributes.MFAAuthenticated)
		case "sourceIdentity":
			i, ok = 3, d.string(&c.SourceIdentity)
		default:
			i, ok = 63, d.unknown(k, contextFold)
		}
		return i, ok
	})
}

// attributes reads sessionContext.attributes (a struct, not a pointer: null leaves it as it is).
func (d *plainDecoder) attributes(creationDate, mfa *string) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	return d.object(func(k []byte) (i uint, ok bool) {
		switch string(k) {
		case "creationDate":
			i, ok = 0, d.string(creationDate)
		case "mfaAuthenticated":
			i, ok = 1, d.string(mfa)
		default:
			i, ok = 63, d.unknown(k, attributesFold)
		}
		return i, ok
	})
}

func (d *plainDecoder) sessionIssuer(p **SessionIssuer) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	s := new(SessionIssuer)
	*p = s
	return d.object(func(k []byte) (i uint, ok bool) {
		switch string(k) {
		case "type":
			i, ok = 0, d.string(&s.Type)
		case "principalId":
			i, ok = 1, d.string(&s.PrincipalID)
		case "arn":
			i, ok = 2, d.string(&s.ARN)
		case "accountId":
			i, ok = 3, d.string(&s.AccountID)
		case "userName":
			i, ok = 4, d.string(&s.UserName)
		default:
			i, ok = 63, d.unknown(k, issuerFold)
		}
		return i, ok
	})
}

func (d *plainDecoder) onBehalfOf(p **OnBehalfOf) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	o := new(OnBehalfOf)
	*p = o
	return d.object(func(k []byte) (i uint, ok bool) {
		switch string(k) {
		case "userId":
			i, ok = 0, d.string(&o.UserID)
		case "identityStoreArn":
			i, ok = 1, d.string(&o.IdentityStoreARN)
		default:
			i, ok = 63, d.unknown(k, onBehalfFold)
		}
		return i, ok
	})
}

// resources reads the resources array: objects only (null elements and the like are refused).
func (d *plainDecoder) resources(p *[]Resource) bool {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '[':
	default:
		return false
	}
	d.p++
	rs := make([]Resource, 0, 2)
	if d.peek() == ']' {
		d.p++
		*p = rs
		return true
	}
	for {
		rs = append(rs, Resource{})
		if !d.resource(&rs[len(rs)-1]) {
			return false
		}
		switch d.peek() {
		case ',':
			d.p++
		case ']':
			d.p++
			*p = rs
			return true
		default:
			return false
		}
	}
}

func (d *plainDecoder) resource(r *Resource) bool {
	return d.object(func(k []byte) (i uint, ok bool) {
		switch string(k) {
		case "ARN":
			i, ok = 0, d.string(&r.ARN)
		case "accountId":
			i, ok = 1, d.string(&r.AccountID)
		case "type":
			i, ok = 2, d.string(&r.Type)
		default:
			i, ok = 63, d.unknown(k, resourceFold)
		}
		return i, ok
	})
}
