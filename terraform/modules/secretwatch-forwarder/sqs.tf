# A dead-letter queue per region for events that could not be put on the central bus. Encrypted with
# SQS-managed keys (no KMS key per region to manage); it holds CloudTrail records, never secret values.
resource "aws_sqs_queue" "dlq" {
  for_each = local.regions

  region                    = each.key
  name                      = "${var.name}-dlq"
  message_retention_seconds = var.dlq_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue_policy" "dlq" {
  for_each = local.regions

  region    = each.key
  queue_url = aws_sqs_queue.dlq[each.key].id
  policy    = module.documents.dlq_policies[each.key]
}

resource "aws_cloudwatch_metric_alarm" "dlq" {
  for_each = local.regions

  region              = each.key
  alarm_name          = "${var.name}-dlq-not-empty"
  alarm_description   = "secretwatch forwarder could not put events on the central bus (${var.central_event_bus_arn}); they wait in this dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = lookup(var.alarm_actions_by_region, each.key, [])
  ok_actions          = lookup(var.alarm_actions_by_region, each.key, [])
  tags                = local.tags
}
