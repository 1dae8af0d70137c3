# Names shared with the Lambda (docs/contracts.md). The Go tests check these against the contract, and
# that alarms and the dashboard name custom metrics only through local.metric.
locals {
  metric = {
    events_processed   = "EventsProcessed"
    secret_reads       = "SecretReads"
    denied_reads       = "DeniedReads"
    unexpected_reads   = "UnexpectedReads"
    alerts             = "Alerts"
    parse_failures     = "ParseFailures"
    store_errors       = "StoreErrors"
    processing_latency = "ProcessingLatency"
    heartbeat          = "Heartbeat"
  }

  # Values of the `Rule` dimension of Alerts.
  alert_rules = [
    "unexpected-principal", "first-seen-principal", "read-spike", "root-access", "policy-change", "secret-lifecycle",
    "trail-tampering", "monitor-tampering", "batch-retrieval", "bulk-retrieval", "access-denied-burst", "enumeration",
    "human-access", "unexpected-network-path",
  ]
}
