# The rule(s). State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is required: GetSecretValue and
# BatchGetSecretValue are read-only management events, which a plain ENABLED rule never receives.
resource "aws_cloudwatch_event_bus" "central" {
  count = var.create_central_event_bus ? 1 : 0

  name = var.central_event_bus_name
  tags = local.tags
}

resource "aws_cloudwatch_event_bus_policy" "central" {
  count = var.create_central_event_bus && (length(var.central_bus_source_account_ids) > 0 || var.central_bus_source_organization_id != null) ? 1 : 0

  event_bus_name = aws_cloudwatch_event_bus.central[0].name
  policy         = module.documents.central_bus_policy
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.event_buses

  name           = var.name
  description    = "secretwatch: Secrets Manager reads and changes, CloudTrail and EventBridge tampering"
  event_bus_name = each.key == "central" ? aws_cloudwatch_event_bus.central[0].name : "default"
  event_pattern  = module.documents.event_pattern
  state          = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
  tags           = local.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.event_buses

  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = aws_cloudwatch_event_rule.this[each.key].event_bus_name
  target_id      = "secretwatch"
  arn            = local.batch_mode ? aws_sqs_queue.batch[0].arn : aws_lambda_function.this.arn

  retry_policy {
    maximum_retry_attempts       = var.target_retry_attempts
    maximum_event_age_in_seconds = var.target_max_event_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }

  depends_on = [
    aws_lambda_permission.eventbridge,
    aws_sqs_queue_policy.batch,
    aws_sqs_queue_policy.dlq,
  ]
}
