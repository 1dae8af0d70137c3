# Alarms notify the module's alarms topic (plus var.alarm_actions). Every alarm name starts with
# "<name>-": the alarms topic policy only lets those alarms publish.
locals {
  alarm_actions = concat([aws_sns_topic.alarms.arn], var.alarm_actions)
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${var.name}-lambda-errors"
  alarm_description   = "The secretwatch Lambda returned errors: events are being retried and may end in the dead-letter or on-failure queue."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  alarm_name          = "${var.name}-lambda-throttles"
  alarm_description   = "The secretwatch Lambda is throttled (reserved concurrency or account limit): detection is delayed."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "async_events_dropped" {
  count = local.batch_mode ? 0 : 1

  alarm_name          = "${var.name}-async-events-dropped"
  alarm_description   = "Lambda dropped asynchronous events without delivering them to the on-failure destination: CloudTrail events were lost."
  namespace           = "AWS/Lambda"
  metric_name         = "AsyncEventsDropped"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${var.name}-dlq-not-empty"
  alarm_description   = "Events are in the secretwatch dead-letter queue: they were never processed. Fix the cause, then replay them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "on_failure_depth" {
  count = local.batch_mode ? 0 : 1

  alarm_name          = "${var.name}-on-failure-not-empty"
  alarm_description   = "Invocations that failed every retry are in the secretwatch on-failure queue (requestPayload holds the event)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.on_failure[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "batch_queue_age" {
  count = local.batch_mode ? 1 : 0

  alarm_name          = "${var.name}-batch-queue-behind"
  alarm_description   = "The secretwatch batch queue is not drained: its oldest message is older than the threshold."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.batch[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.batch_queue_age_threshold_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "parse_failures" {
  alarm_name          = "${var.name}-parse-failures"
  alarm_description   = "secretwatch received events it could not parse or understand (ParseFailures)."
  namespace           = var.metrics_namespace
  metric_name         = local.metric.parse_failures
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.parse_failure_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "store_errors" {
  alarm_name          = "${var.name}-store-errors"
  alarm_description   = "secretwatch could not read or write its DynamoDB baselines (StoreErrors); invocations fail and are retried."
  namespace           = var.metrics_namespace
  metric_name         = local.metric.store_errors
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "unexpected_reads" {
  alarm_name          = "${var.name}-unexpected-reads"
  alarm_description   = "A secret was read by a principal the allow-list does not allow (UnexpectedReads > 0). The alerts topic has the details."
  namespace           = var.metrics_namespace
  metric_name         = local.metric.unexpected_reads
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

# Spikes: SecretReads above CloudWatch's anomaly-detection band, independent of the detector's own
# read-spike rule (which raises alerts, counted as Alerts{Rule=read-spike} on the dashboard).
resource "aws_cloudwatch_metric_alarm" "read_spike" {
  count = var.enable_read_anomaly_alarm ? 1 : 0

  alarm_name          = "${var.name}-read-spike"
  alarm_description   = "Secrets Manager reads (SecretReads) are above the expected band: a spike in secret reads."
  comparison_operator = "GreaterThanUpperThreshold"
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold_metric_id = "band"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  metric_query {
    id          = "reads"
    return_data = true
    metric {
      namespace   = var.metrics_namespace
      metric_name = local.metric.secret_reads
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id          = "band"
    expression  = "ANOMALY_DETECTION_BAND(reads, ${var.read_anomaly_band_width})"
    label       = "SecretReads (expected)"
    return_data = true
  }
}

# Dead-man alarm: no event processed for dead_man_hours hours. Missing data is breaching, so a pipeline
# that breaks silently (rule disabled, trail stopped, Lambda unable to start) pages someone.
resource "aws_cloudwatch_metric_alarm" "dead_man" {
  alarm_name          = "${var.name}-no-events-processed"
  alarm_description   = "secretwatch processed no event for ${var.dead_man_hours} h: check the trail, the rule, the Lambda and its logs."
  namespace           = var.metrics_namespace
  metric_name         = local.metric.events_processed
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = var.dead_man_hours
  datapoints_to_alarm = var.dead_man_hours
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}
