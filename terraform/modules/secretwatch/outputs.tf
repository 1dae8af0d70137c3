output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "lambda_role_arn" {
  description = "ARN of the Lambda execution role."
  value       = aws_iam_role.lambda.arn
}

output "log_group_name" {
  description = "CloudWatch Logs log group of the Lambda."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "table_name" {
  description = "Name of the DynamoDB baseline table (SECRETWATCH_TABLE)."
  value       = aws_dynamodb_table.baselines.name
}

output "table_arn" {
  description = "ARN of the DynamoDB baseline table."
  value       = aws_dynamodb_table.baselines.arn
}

output "alerts_topic_arn" {
  description = "ARN of the SNS alerts topic (SECRETWATCH_TOPIC_ARN)."
  value       = aws_sns_topic.alerts.arn
}

output "alarms_topic_arn" {
  description = "ARN of the SNS topic the CloudWatch alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "ARN of the module's KMS key."
  value       = aws_kms_key.this.arn
}

output "kms_key_alias" {
  description = "Alias of the module's KMS key."
  value       = aws_kms_alias.this.name
}

output "rule_arns" {
  description = "ARNs of the EventBridge rules, by bus (default, central)."
  value       = { for k, r in aws_cloudwatch_event_rule.this : k => r.arn }
}

output "event_pattern" {
  description = "The event pattern of the rules (JSON), from event-pattern.json."
  value       = module.documents.event_pattern
}

output "central_event_bus_arn" {
  description = "ARN of the central event bus that forwarders send to (null when not created)."
  value       = var.create_central_event_bus ? aws_cloudwatch_event_bus.central[0].arn : null
}

output "dlq_url" {
  description = "URL of the dead-letter queue (undeliverable events; replay them from here)."
  value       = aws_sqs_queue.dlq.id
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "on_failure_queue_url" {
  description = "URL of the on-failure destination queue of asynchronous invocations (null in batch mode)."
  value       = local.batch_mode ? null : aws_sqs_queue.on_failure[0].id
}

output "batch_queue_url" {
  description = "URL of the batch queue between EventBridge and the Lambda (null in direct mode)."
  value       = local.batch_mode ? aws_sqs_queue.batch[0].id : null
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.lambda_errors.alarm_name,
      aws_cloudwatch_metric_alarm.lambda_throttles.alarm_name,
      aws_cloudwatch_metric_alarm.dlq_depth.alarm_name,
      aws_cloudwatch_metric_alarm.parse_failures.alarm_name,
      aws_cloudwatch_metric_alarm.store_errors.alarm_name,
      aws_cloudwatch_metric_alarm.unexpected_reads.alarm_name,
      aws_cloudwatch_metric_alarm.dead_man.alarm_name,
    ],
    aws_cloudwatch_metric_alarm.async_events_dropped[*].alarm_name,
    aws_cloudwatch_metric_alarm.on_failure_depth[*].alarm_name,
    aws_cloudwatch_metric_alarm.batch_queue_age[*].alarm_name,
    aws_cloudwatch_metric_alarm.read_spike[*].alarm_name,
  )
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (null when not created)."
  value       = var.create_dashboard ? aws_cloudwatch_dashboard.this[0].dashboard_name : null
}

output "trail_arn" {
  description = "ARN of the trail created by the module (null when create_trail is false)."
  value       = var.create_trail ? aws_cloudtrail.this[0].arn : null
}

output "trail_bucket_name" {
  description = "S3 bucket of the created trail (null when create_trail is false)."
  value       = var.create_trail ? aws_s3_bucket.trail[0].id : null
}

output "backfill_role_arn" {
  description = "ARN of the CLI backfill role (null when backfill_principal_arns is empty)."
  value       = length(aws_iam_role.backfill) > 0 ? aws_iam_role.backfill[0].arn : null
}

output "backfill_state_machine_arn" {
  description = "ARN of the backfill fan-out state machine (null when backfill_fanout_bucket is null)."
  value       = length(aws_sfn_state_machine.backfill) > 0 ? aws_sfn_state_machine.backfill[0].arn : null
}

output "report_bucket_name" {
  description = "Bucket of the scheduled report's files (null when not created)."
  value       = local.report_bucket ? aws_s3_bucket.report[0].id : null
}

output "report_schedule_arn" {
  description = "ARN of the weekly report's EventBridge Scheduler schedule (null when disabled)."
  value       = local.report_schedule ? aws_scheduler_schedule.report[0].arn : null
}
