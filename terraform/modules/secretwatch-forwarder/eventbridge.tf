# One rule per region on the default bus, with the monitor's own pattern, forwarding to the central
# bus. ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS: without it GetSecretValue (a read-only management
# event) never reaches the rule.
resource "aws_cloudwatch_event_rule" "forward" {
  for_each = local.regions

  region        = each.key
  name          = var.name
  description   = "secretwatch: forward Secrets Manager and monitoring-tampering events to the central bus"
  event_pattern = module.documents.event_pattern
  state         = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
  tags          = local.tags
}

resource "aws_cloudwatch_event_target" "forward" {
  for_each = local.regions

  region    = each.key
  rule      = aws_cloudwatch_event_rule.forward[each.key].name
  target_id = "central-bus"
  arn       = var.central_event_bus_arn
  role_arn  = aws_iam_role.forwarder.arn

  retry_policy {
    maximum_retry_attempts       = var.target_retry_attempts
    maximum_event_age_in_seconds = var.target_max_event_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq[each.key].arn
  }

  depends_on = [
    aws_iam_role_policy.forwarder,
    aws_sqs_queue_policy.dlq,
  ]
}
