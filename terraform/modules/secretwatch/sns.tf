# Alerts (from the Lambda) and alarms (from CloudWatch) go to two KMS-encrypted topics, so that the
# alerts topic can refuse every publisher but the monitor itself.
resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  display_name      = "secretwatch alerts"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = module.documents.alerts_topic_policy
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  display_name      = "secretwatch alarms"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = module.documents.alarms_topic_policy
}

# Severity routing: the Lambda publishes alerts with the String message attributes `rule` and
# `severity`; a subscription with severities only receives those.
resource "aws_sns_topic_subscription" "alerts" {
  for_each = { for s in var.alert_subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn           = aws_sns_topic.alerts.arn
  protocol            = each.value.protocol
  endpoint            = each.value.endpoint
  filter_policy_scope = length(each.value.severities) > 0 ? "MessageAttributes" : null
  filter_policy       = length(each.value.severities) > 0 ? jsonencode({ severity = each.value.severities }) : null
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each = { for s in var.alarm_subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}
