package detector

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// MaxFieldBytes bounds every free-text field a Read or an Event keeps from a record (source IP,
// user agent, VPC endpoint, principal type, secret ARN).
const MaxFieldBytes = 256

// maxRemembered bounds each of the normaliser's memories (names and ARNs seen).
const maxRemembered = 100_000

// Event is one handled CloudTrail record, normalised once for every rule and for learning.
type Event struct {
	Record    *cloudtrail.Record
	Kind      string // KindRead, KindChange, KindTamper
	Name      string // eventName
	Source    string // eventSource
	Time      time.Time
	Principal Principal
	// Secret is the (first) secret the call names; HasSecret says whether there is one.
	Secret    SecretRef
	HasSecret bool
	// Secrets are all the secrets the call names (BatchGetSecretValue by id list: several).
	Secrets []SecretRef
	Filters []string // BatchGetSecretValue / ListSecrets filters, as key=v1,v2
	Denied  bool     // errorCode set
	// Recorded: the event is a GetSecretValue counted in the store (Read is filled); Fresh: the
	// store had not seen its event ID before.
	Recorded bool
	Fresh    bool
	Read     Read
}

// Normaliser turns records into events. It remembers the full ARNs and the plain names it has
// seen, so that every form of one secret lands on one key. It is shared by the detector and the
// learner (one function, one answer). Not safe for concurrent use.
type Normaliser struct {
	now   func() time.Time
	skew  time.Duration
	arns  map[string]string   // secret key → full ARN seen
	names map[string]struct{} // keys of secrets named by a plain name
}

// NewNormaliser returns a normaliser. now (nil: time.Now) and skew (≤0: 15 min) bound event
// times: a record dated later than now+skew is refused (SkipFutureDated).
func NewNormaliser(now func() time.Time, skew time.Duration) *Normaliser {
	if now == nil {
		now = time.Now
	}
	if skew <= 0 {
		skew = 15 * time.Minute
	}
	return &Normaliser{now: now, skew: skew, arns: map[string]string{}, names: map[string]struct{}{}}
}

// Normalise turns a handled record into an event, or says why it cannot (a Skip reason). Records
// of events the detector does not handle give SkipNotHandled.
func (n *Normaliser) Normalise(rec *cloudtrail.Record) (Event, string) {
	if rec == nil {
		return Event{}, SkipMalformed
	}
	kind, ok := Kind(rec.EventSource, rec.EventName)
	if !ok {
		return Event{}, SkipNotHandled
	}
	if rec.EventID == "" {
		return Event{}, SkipNoEventID
	}
	if rec.EventTime.IsZero() {
		return Event{}, SkipNoEventTime
	}
	if rec.EventTime.After(n.now().Add(n.skew)) {
		return Event{}, SkipFutureDated
	}
	p, err := NormalisePrincipal(rec.UserIdentity)
	if err != nil {
		return Event{}, SkipNoIdentity
	}
	if part := partitionOfRegion(rec.AWSRegion); part != "aws" && strings.HasPrefix(p.ARN, "arn:aws:") &&
		(p.Type == TypeRoot || p.Type == TypeAWSAccount || p.Type == TypeIAMUser) && !strings.HasPrefix(rec.UserIdentity.ARN, "arn:aws:") {
		// Built from an account id alone: the record's region says the partition.
		p.ARN = "arn:" + part + p.ARN[len("arn:aws"):]
	}
	p.ARN = cleanKey(p.ARN)
	ev := Event{Record: rec, Kind: kind, Name: rec.EventName, Source: rec.EventSource, Time: rec.EventTime.Time,
		Principal: p, Denied: rec.ErrorCode != ""}
	if rec.EventSource == "secretsmanager.amazonaws.com" {
		ids, filters, _ := secretIDs(rec.RequestParameters)
		ev.Filters = filters
		if len(ids) == 0 && ev.Denied {
			ids = deniedSecretIDs(rec)
		}
		if len(ids) == 0 && rec.EventType == "AwsServiceEvent" {
			ids = serviceEventSecretIDs(rec)
		}
		for _, id := range ids {
			ref, err := n.secret(id, rec.RecipientAccountID, rec.AWSRegion)
			if err != nil || ref.Account == "" && ref.Region == "" {
				continue
			}
			ev.Secrets = append(ev.Secrets, ref)
			if len(ev.Secrets) == maxSecretsPerEvent {
				break
			}
		}
		if len(ev.Secrets) > 0 {
			ev.Secret, ev.HasSecret = ev.Secrets[0], true
		}
	}
	if rec.EventName == "GetSecretValue" {
		if !ev.HasSecret {
			if ev.Denied {
				// A denied attempt whose secret cannot be recovered: still an attempt (counted
				// as denied by the caller), but there is no key to record it under.
				return ev, ""
			}
			return Event{}, SkipNoSecret
		}
		ev.Recorded = true
		ev.Read = Read{
			EventID:       rec.EventID,
			Secret:        ev.Secret.Key(),
			Principal:     p.ARN,
			Time:          rec.EventTime.Time,
			Denied:        ev.Denied,
			SourceIP:      bound(rec.SourceIPAddress),
			UserAgent:     bound(rec.UserAgent),
			VPCEndpointID: bound(rec.VPCEndpointID),
			PrincipalType: bound(p.Type),
			SecretARN:     bound(ev.Secret.ARN),
		}
	}
	return ev, ""
}

// maxSecretsPerEvent bounds the secrets one event names (BatchGetSecretValue takes up to 20).
const maxSecretsPerEvent = 100

// secret parses a secret id and settles the "-XXXXXX" ambiguity with what was seen before: a
// partial ARN whose name ends in a hyphen and 6 characters is only a full ARN when no plain name
// said otherwise.
func (n *Normaliser) secret(id, account, region string) (SecretRef, error) {
	ref, err := ParseSecretID(id, account, region)
	if err != nil {
		return ref, err
	}
	ref.Name, ref.ARN = cleanKey(ref.Name), cleanKey(ref.ARN)
	switch {
	case !strings.HasPrefix(strings.TrimSpace(id), "arn:"):
		n.remember(n.names, ref.Key())
		if ref.ARN == "" {
			ref.ARN = n.arns[ref.Key()]
		}
		// A plain name that also reads as NAME-XXXXXX of a secret known by full ARN only is
		// ambiguous; the plain name is authoritative (Secrets Manager resolves names first).
	case ref.ARN != "":
		// NAME-XXXXXX: a full ARN of NAME (AWS's rule), or a partial ARN of a secret whose name
		// itself ends in a hyphen and six characters. Plain names seen decide.
		whole := ref
		whole.Name, whole.ARN = cleanKey(ref.Name+ref.ARN[len(ref.ARN)-7:]), ""
		_, wholeNamed := n.names[whole.Key()]
		_, baseNamed := n.names[ref.Key()]
		switch {
		case wholeNamed && !baseNamed:
			whole.ARN = n.arns[whole.Key()]
			return whole, nil
		case wholeNamed && baseNamed:
			ref.Ambiguous = true // both secrets exist: AWS's rule decides, and the alert says so
		}
		if len(n.arns) < maxRemembered {
			n.arns[ref.Key()] = ref.ARN
		}
	default:
		ref.ARN = n.arns[ref.Key()]
	}
	return ref, nil
}

func (n *Normaliser) remember(m map[string]struct{}, k string) {
	if len(m) < maxRemembered {
		m[k] = struct{}{}
	}
}

// deniedSecretIDs recovers the secret of a denied call logged with null requestParameters: from
// resources[], or from errorMessage ("… on resource: arn:aws:secretsmanager:…").
// serviceEventSecretIDs recovers the secret of a Secrets Manager service event (RotationSucceeded
// and the like): its requestParameters are null; it names the secret in additionalEventData.SecretId
// or in resources.
func serviceEventSecretIDs(rec *cloudtrail.Record) []string {
	var d struct {
		SecretID string `json:"SecretId"`
	}
	if len(rec.AdditionalEventData) > 0 && json.Unmarshal(rec.AdditionalEventData, &d) == nil && d.SecretID != "" {
		return []string{d.SecretID}
	}
	for _, r := range rec.Resources {
		if strings.Contains(r.ARN, ":secretsmanager:") && strings.Contains(r.ARN, ":secret:") {
			return []string{r.ARN}
		}
	}
	return nil
}

func deniedSecretIDs(rec *cloudtrail.Record) []string {
	for _, r := range rec.Resources {
		if strings.Contains(r.ARN, ":secretsmanager:") && strings.Contains(r.ARN, ":secret:") {
			return []string{r.ARN}
		}
	}
	msg := rec.ErrorMessage
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	i := strings.Index(msg, "arn:")
	for i >= 0 {
		rest := msg[i:]
		end := strings.IndexFunc(rest, func(r rune) bool {
			return r == ' ' || r == '"' || r == '\'' || r == ',' || r == ')' || r == '\n' || r == '\t' || r == ';'
		})
		if end < 0 {
			end = len(rest)
		}
		cand := strings.TrimRight(rest[:end], ".")
		if strings.Contains(cand, ":secretsmanager:") && strings.Contains(cand, ":secret:") {
			return []string{cand}
		}
		j := strings.Index(rest[4:], "arn:")
		if j < 0 {
			break
		}
		i += 4 + j
	}
	return nil
}

// bound cuts s to MaxFieldBytes (on a rune boundary) and replaces control characters.
func bound(s string) string {
	if len(s) > MaxFieldBytes {
		cut := MaxFieldBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return cleanKey(s)
}

// cleanKey replaces control characters (and invalid UTF-8) so that a key can never carry a
// newline, an escape sequence or a NUL into a store, a log line or an alert.
func cleanKey(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// partitionOfRegion is the partition of an AWS region name.
func partitionOfRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	}
	return "aws"
}
