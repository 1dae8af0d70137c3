output "event_pattern" {
  description = "The EventBridge event pattern (JSON) read from event-pattern.json."
  value       = jsonencode(local.event_pattern_object)
}

output "handled_events" {
  description = "eventSource => sorted event names the pattern selects (must equal detector.HandledEvents())."
  value       = local.handled_events
}

output "lambda_assume_role_policy" {
  description = "Trust policy of the Lambda execution role."
  value       = local.lambda_assume_role_policy
}

output "lambda_role_policy" {
  description = "Identity policy of the Lambda execution role."
  value       = local.lambda_role_policy
}

output "backfill_assume_role_policy" {
  description = "Trust policy of the optional CLI backfill role (null when no backfill principals are given)."
  value       = local.backfill_assume_role_policy
}

output "backfill_role_policy" {
  description = "Identity policy of the optional CLI backfill role (null when no backfill principals are given)."
  value       = local.backfill_role_policy
}

output "kms_key_policy" {
  description = "Key policy of the module's KMS key."
  value       = local.kms_key_policy
}

output "alerts_topic_policy" {
  description = "Topic policy of the alerts topic: only the Lambda (and backfill role) may publish."
  value       = local.alerts_topic_policy
}

output "alarms_topic_policy" {
  description = "Topic policy of the alarms topic: only this deployment's CloudWatch alarms may publish."
  value       = local.alarms_topic_policy
}

output "dlq_policy" {
  description = "Queue policy of the dead-letter queue."
  value       = local.dlq_policy
}

output "batch_queue_policy" {
  description = "Queue policy of the batch queue (null in direct mode)."
  value       = local.batch_queue_policy
}

output "on_failure_queue_policy" {
  description = "Queue policy of the on-failure destination queue (null in batch mode)."
  value       = local.on_failure_queue_policy
}

output "trail_bucket_policy" {
  description = "Bucket policy of the optional trail's S3 bucket (null when no trail is created)."
  value       = local.trail_bucket_policy
}

output "central_bus_policy" {
  description = "Resource policy of the optional central event bus (null when there is none or nobody may put events)."
  value       = local.central_bus_policy
}

output "fanout_assume_role_policy" {
  description = "Trust policy of the backfill state machine's role (null without fan-out)."
  value       = local.fanout_assume_role_policy
}

output "fanout_role_policy" {
  description = "Identity policy of the backfill state machine's role (null without fan-out)."
  value       = local.fanout_role_policy
}

output "fanout_definition" {
  description = "Amazon States Language definition of the backfill state machine (null without fan-out)."
  value       = local.fanout_definition
}
