package detector

import (
	"bytes"
	"slices"
	"strings"
)

// Event kinds the detector understands. Everything else is counted as "not ours" and skipped.
const (
	KindRead   = "read"   // a secret value was (or was attempted to be) read
	KindChange = "change" // a secret, its value or its resource policy was changed
	KindTamper = "tamper" // the monitoring itself (CloudTrail, EventBridge) was changed
	KindList   = "list"   // secrets or their metadata were listed or described (no value)
)

// handled maps eventSource → eventName → kind. It is the single list of CloudTrail events the
// detector acts on; terraform/modules/secretwatch/event-pattern.json must select exactly these
// (a test under terraform/ checks the two against each other and against real records).
var handled = map[string]map[string]string{
	"secretsmanager.amazonaws.com": {
		"GetSecretValue":               KindRead,
		"BatchGetSecretValue":          KindRead,
		"ListSecrets":                  KindList,
		"DescribeSecret":               KindList,
		"ListSecretVersionIds":         KindList,
		"GetResourcePolicy":            KindList,
		"CreateSecret":                 KindChange,
		"PutResourcePolicy":            KindChange,
		"DeleteResourcePolicy":         KindChange,
		"DeleteSecret":                 KindChange,
		"RestoreSecret":                KindChange,
		"PutSecretValue":               KindChange,
		"UpdateSecret":                 KindChange,
		"UpdateSecretVersionStage":     KindChange,
		"RotateSecret":                 KindChange,
		"CancelRotateSecret":           KindChange,
		"ReplicateSecretToRegions":     KindChange,
		"RemoveRegionsFromReplication": KindChange,
		"StopReplicationToReplica":     KindChange,
		"TagResource":                  KindChange,
		"UntagResource":                KindChange,
		// Service events (detail-type "AWS Service Event via CloudTrail", see ServiceEvents):
		// Secrets Manager's own record of a rotation. read-spike forgives the refresh burst of
		// established readers after a RotationSucceeded.
		"RotationStarted":   KindChange,
		"RotationSucceeded": KindChange,
		"RotationFailed":    KindChange,
		"RotationAbandoned": KindChange,
	},
	"cloudtrail.amazonaws.com": {
		"StopLogging":               KindTamper,
		"DeleteTrail":               KindTamper,
		"UpdateTrail":               KindTamper,
		"PutEventSelectors":         KindTamper,
		"PutAdvancedEventSelectors": KindTamper,
	},
	// secretwatch's own Lambda, table and topic (monitor-tampering; names from MonitorConfig).
	"lambda.amazonaws.com": {
		"DeleteFunction20150331":                KindTamper,
		"UpdateFunctionCode20150331v2":          KindTamper,
		"UpdateFunctionConfiguration20150331v2": KindTamper,
		"PutFunctionConcurrency20171031":        KindTamper,
		"RemovePermission20150331v2":            KindTamper,
	},
	"dynamodb.amazonaws.com": {
		"DeleteTable": KindTamper,
	},
	"sns.amazonaws.com": {
		"DeleteTopic":        KindTamper,
		"SetTopicAttributes": KindTamper,
		"Unsubscribe":        KindTamper,
	},
	"events.amazonaws.com": {
		"DisableRule":   KindTamper,
		"DeleteRule":    KindTamper,
		"RemoveTargets": KindTamper,
		"PutRule":       KindTamper,
	},
}

// serviceEvents are the handled events that AWS itself writes (eventType AwsServiceEvent):
// EventBridge delivers them with detail-type "AWS Service Event via CloudTrail", not "AWS API
// Call via CloudTrail". No API call has these names.
var serviceEvents = map[string][]string{
	"secretsmanager.amazonaws.com": {"RotationAbandoned", "RotationFailed", "RotationStarted", "RotationSucceeded"},
}

// ServiceEvents returns eventSource → sorted names of the handled service events (a subset of
// HandledEvents), for the EventBridge pattern's test and documentation.
func ServiceEvents() map[string][]string {
	out := make(map[string][]string, len(serviceEvents))
	for src, names := range serviceEvents {
		out[src] = slices.Sorted(slices.Values(names))
	}
	return out
}

// Kind reports what the detector does with an event, and false when it does not handle it.
func Kind(eventSource, eventName string) (string, bool) {
	k, ok := handled[eventSource][eventName]
	return k, ok
}

// HandledEvents returns eventSource → sorted event names, for tests and documentation.
func HandledEvents() map[string][]string {
	out := make(map[string][]string, len(handled))
	for src, names := range handled {
		for n := range names {
			out[src] = append(out[src], n)
		}
		slices.Sort(out[src])
	}
	return out
}

// sourceHeads are the handled event sources as they appear in a record's JSON, without their
// common tail sourceTail (`"secretsmanager` for "secretsmanager.amazonaws.com"); sourceNeedles
// are those that do not end in it (none today), searched for whole.
var sourceHeads, sourceNeedles = func() (heads, needles [][]byte) {
	for src := range handled {
		if h, ok := strings.CutSuffix(`"`+src+`"`, string(sourceTail)); ok {
			heads = append(heads, []byte(h))
		} else {
			needles = append(needles, []byte(`"`+src+`"`))
		}
	}
	return heads, needles
}()

var sourceTail = []byte(`.amazonaws.com"`)

// MayHandle is a cheap test on a record's raw JSON: false means the record names none of the
// handled event sources anywhere, so decoding it is wasted work (cloudtrail.WithPrefilter). True
// only means "decode and see". CloudTrail writes these ASCII names unescaped. It makes one pass
// over raw, looking for the sources' common tail (".amazonaws.com\"", a few times in a record)
// and then at what precedes it.
func MayHandle(raw []byte) bool {
	for rest := raw; ; {
		i := bytes.Index(rest, sourceTail)
		if i < 0 {
			break
		}
		for _, h := range sourceHeads {
			if bytes.HasSuffix(rest[:i], h) {
				return true
			}
		}
		rest = rest[i+len(sourceTail):]
	}
	for _, n := range sourceNeedles {
		if bytes.Contains(raw, n) {
			return true
		}
	}
	return false
}

// MayHandleEvent is the test behind a cloudtrail.WithEventFilter: false means that a record of
// this eventSource and eventName is one the detector skips as not handled, and not a Secrets
// Manager record (which Stats.SecretsManager counts, handled or not), so decoding it is wasted
// work: the caller counts it as Process would (one record, skipped as SkipNotHandled).
func MayHandleEvent(source, name []byte) bool {
	if string(source) == secretsManagerSource {
		return true
	}
	_, ok := handled[string(source)][string(name)]
	return ok
}

const secretsManagerSource = "secretsmanager.amazonaws.com"
