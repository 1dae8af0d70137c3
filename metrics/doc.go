// Package metrics publishes the counts of the detector ([detector.Stats]) as the CloudWatch
// metrics of docs/contracts.md, in two ways that implement [detector.MetricsRecorder]:
//
//   - [EMF] writes CloudWatch Embedded Metric Format lines to stdout. This is the Lambda's
//     recorder: no API call, no latency, no IAM permission beyond writing logs.
//   - metrics/cloudwatch calls PutMetricData (github.com/aws/aws-sdk-go-v2/service/cloudwatch),
//     batched to at most 1,000 data and well under 1 MB a request: for the CLI and long-running
//     use. It is a package of its own so that this one does not link the AWS SDK (the Lambda
//     imports metrics for EMF and must not carry a CloudWatch client it never calls); [Plan]
//     gives it the same data.
//
// Both publish the same data for the same call:
//
//	metric              unit          dimensions  value
//	EventsProcessed     Count         -           Stats.Records (every record read)
//	SecretReads         Count         -           Stats.Reads (fresh successful reads)
//	DeniedReads         Count         -           Stats.Denied (fresh failed reads)
//	UnexpectedReads     Count         -           Stats.Unexpected
//	ParseFailures       Count         -           Stats.ParseFailures() (malformed, not understood)
//	StoreErrors         Count         -           storeErrors (1 when the batch failed on the store)
//	ProcessingLatency   Milliseconds  -           latency of the invocation, fractional
//	Heartbeat           Count         -           1 (alarm on missing data: the dead-man switch)
//	Alerts              Count         Rule        Stats.Alerts[rule], rules with alerts only
//	SecretReads         Count         Secret      Stats.SecretReads[name], configured secrets with
//	                                              reads only (Config.Secrets, at most
//	                                              MaxSecretSeries)
//
// EventsProcessed counts every record, duplicates and skipped ones included: it is the load.
// Duplicates are not counted again in SecretReads or DeniedReads, so those stay exact under
// redelivery. The dimensionless metrics are sent on every call, zeros included; dimensioned
// series only when non-zero, which keeps the number of billed series to the rules and
// configured secrets that actually saw activity (alarm on them with
// TreatMissingData=notBreaching).
//
// EMF documents are checked in the tests against the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// _aws.Timestamp in epoch milliseconds; each directive with Namespace, Dimensions (sets of at
// most 30 keys; the empty set for dimensionless metrics) and at most 100 Metrics; every metric a
// top-level number, every dimension a top-level string of at most 1024 characters. Because a
// dimension's value is a top-level member, one document carries one value per dimension, so a
// call that has alerts of several rules, or per-secret reads, writes one extra line for each
// further rule or secret; otherwise it writes exactly one line.
package metrics
