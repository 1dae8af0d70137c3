// Package alerts turns a [detector.Alert] into what people and machines receive, and delivers
// it: to a terminal ([Terminal]) or to an SNS topic ([github.com/secretwatch/secretwatch/alerts/sns.Publisher]).
//
// # Forms
//
//   - [Text] / [Render]: the human form. A headline (severity, rule, secret, principal, count),
//     then Who, What, When (UTC), From where, Why (the detector's Reason, verbatim apart from
//     wrapping at word boundaries), Next step, and the first CloudTrail event IDs. Plain text,
//     deterministic, prose wrapped at 78 columns. Values from CloudTrail are shown with control
//     and bidi-formatting characters escaped.
//   - [Subject]: one printable-ASCII line under 100 characters for the SNS subject (the email
//     subject, the first thing a phone shows); long names are shortened in the middle.
//   - [JSONLine]: one JSON object per line, field names from the struct tags of
//     detector.Alert, for `replay --format json`, SIEMs and scripts.
//
// # SNS message structure: one String message, text first, JSON last
//
// The options pull apart:
//
//   - MessageStructure=json sends a different body per protocol (human text to email, JSON to
//     SQS/Lambda/HTTPS), but SNS then does not deliver message attributes to subscribers, and
//     attribute filter policies are the simple, well-supported way to route by severity.
//   - A plain String message keeps the attributes (delivered as real SQS message attributes with
//     raw delivery, inside the JSON envelope otherwise) but has one body for everybody.
//   - A JSON-only body with payload-based filter policies (FilterPolicyScope=MessageBody) would
//     route too, but the on-call engineer would read raw JSON on the phone.
//
// We publish a plain String message:
//
//	Subject:  [CRITICAL] unexpected-principal: prod/db/password read by role/ci-deploy x42
//	Message:  <the human text of Render>
//	          -- the same alert as JSON (one line) --
//	          {"rule":"unexpected-principal","severity":"critical",...}
//	Attributes (String): rule, severity, secret (the secret's name), account
//
// A person reads the subject and the text from the top (email, email-to-SMS, a chat bridge that
// shows the body). A machine takes the body's last line, which is always the whole alert as one
// JSON object ([ParseMessage] does it in Go); it never has to parse the text. Routing uses the
// attributes: a subscription filter policy such as
//
//	{"severity": ["critical", "high"]}
//
// sends only those to the pager's subscription, and {"rule": ["read-spike"]} or
// {"account": ["123456789012"]} (or a prefix match on "secret") routes by rule, account or
// secret. rule and severity are the contract of docs/contracts.md; secret and account are
// extras. Four attributes leave room under SQS's limit of ten for raw delivery.
//
// Subscribers that want a specific JSON shape (AWS Chatbot custom notifications, the PagerDuty
// Events API) need a small transform (EventBridge Pipes, a Lambda) from the last line in either
// design, and SMS subscribers get the whole body split into several texts: page phones through
// email or a paging service rather than raw SMS.
//
// # Limits
//
// SNS accepts at most 256 KiB ([MaxMessageBytes]) of body plus attributes. A real alert is a few
// KiB because detector.Alert keeps at most 10 event IDs and 10 values per list. [NewMessage]
// still keeps every message under half of that, so the copy SNS wraps in its JSON envelope for
// SQS and HTTPS (escaping each newline and quote) fits as well: if an alert would not, every
// string in it is clipped at a UTF-8 boundary, more and more tightly, in the text and in the
// JSON alike, and the JSON stays valid. The subject is ASCII and under 100 characters;
// attribute values are printable ASCII, at most 256 bytes, and never empty (SNS rejects empty
// ones).
//
// # Errors
//
// Notify returns an error whenever the alert was not delivered, so the Lambda invocation fails
// and is retried (and lands in the dead-letter queue if it keeps failing): throttling, 5xx and
// network errors as they are (wrapped with %w), refusals that a retry will not fix (no
// permission, no such topic, KMS) wrapped with sns.ErrRejected as well. When SNS refuses the
// message itself as invalid, Notify publishes once more in a conservative ASCII-only fallback
// form and logs a warning, rather than losing the page.
//
// # Local testing with goaws
//
// The SNS tests run against goaws v0.4.5 (an SNS topic with SQS queues subscribed: raw, enveloped,
// and raw with a severity filter policy; messages read back through SQS) when
// SECRETWATCH_TEST_SNS names its endpoint, and are skipped otherwise. Classification of
// throttling, 5xx and refusals, and the fallback, are tested against an httptest server that
// speaks the SNS query protocol. What goaws does, compared with AWS (probed with SDK v1.48):
//
//   - Protocols: the SDK's SNS client speaks the AWS query protocol, which goaws implements (the
//     SDK has no JSON protocol for SNS, so nothing to switch). SQS in the current SDK speaks AWS
//     JSON 1.0, which goaws rejects; the tests switch their SQS client to the query protocol in
//     an option function (sqs.New overwrites Options.Protocol).
//   - Works as in AWS: Publish with Subject and String message attributes; raw delivery puts the
//     attributes on the SQS message, enveloped delivery puts Subject, Message and
//     MessageAttributes in the JSON envelope; a FilterPolicy of exact string matches.
//   - Differs from AWS: attributes are delivered (and filtered on) with MessageStructure=json
//     too, so goaws cannot catch that mistake; an attribute with an empty value is dropped
//     silently instead of rejected; String.Array values arrive empty; subjects of any length,
//     with non-ASCII characters or line breaks, and messages over 256 KiB are accepted (the unit
//     tests check those limits instead); with raw delivery a plain String body that happens to
//     be a JSON object with a "default" key is replaced by its "sqs" or "default" member (our
//     bodies never are such objects); a missing topic is 400
//     AWS.SimpleNotificationService.NonExistentTopic rather than 404 NotFound (both are
//     classified as ErrRejected).
//   - Missing: prefix, anything-but and numeric filter policies, FilterPolicyScope=MessageBody,
//     throttling and 5xx.
package alerts
