# Queue policies: EventBridge may send only from this deployment's rules.
locals {
  eventbridge_sends_from_rules = {
    Sid       = "EventBridgeSendsFromTheMonitorRules"
    Effect    = "Allow"
    Principal = { Service = "events.amazonaws.com" }
    Action    = "sqs:SendMessage"
    Condition = { ArnEquals = { "aws:SourceArn" = var.rule_arns } }
  }

  dlq_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      merge(local.eventbridge_sends_from_rules, { Resource = var.dlq_arn }),
      merge(local.deny_insecure_transport, { Action = "sqs:*", Resource = var.dlq_arn }),
    ]
  })

  batch_queue_policy = var.batch_queue_arn == null ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      merge(local.eventbridge_sends_from_rules, { Resource = var.batch_queue_arn }),
      merge(local.deny_insecure_transport, { Action = "sqs:*", Resource = var.batch_queue_arn }),
    ]
  })

  on_failure_queue_policy = var.on_failure_queue_arn == null ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      merge(local.deny_insecure_transport, { Action = "sqs:*", Resource = var.on_failure_queue_arn }),
    ]
  })
}
