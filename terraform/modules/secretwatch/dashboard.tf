# The seed's dashboard: Lambda errors, Secrets Manager throttles, reads per secret, unexpected reads,
# alerts by rule; plus the health of the pipeline itself.
locals {
  ns = var.metrics_namespace

  # Secrets Manager API usage lives in AWS/Usage (Service = "Secrets Manager"). SEARCH finds whatever
  # series AWS publishes there (CallCount per API, ThrottleCount where published) without guessing
  # the exact dimension values.
  sm_calls_search     = "SEARCH('{AWS/Usage,Class,Resource,Service,Type} Service=\"Secrets Manager\" MetricName=\"CallCount\"', 'Sum', 300)"
  sm_throttles_search = "SEARCH('{AWS/Usage,Class,Resource,Service,Type} Service=\"Secrets Manager\" MetricName=\"ThrottleCount\"', 'Sum', 300)"
  reads_per_secret    = "SEARCH('{\"${local.ns}\",Secret} MetricName=\"${local.metric.secret_reads}\"', 'Sum', 300)"

  dashboard_widgets = [
    {
      type   = "text"
      x      = 0
      y      = 0
      width  = 24
      height = 2
      properties = {
        markdown = "# secretwatch `${var.name}`\nSecrets Manager reads and changes, and tampering with CloudTrail/EventBridge, from CloudTrail. Alerts: SNS `${aws_sns_topic.alerts.name}`; alarms: `${aws_sns_topic.alarms.name}`."
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 2
      width  = 8
      height = 6
      properties = {
        title  = "Lambda invocations, errors and throttles"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 300
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.this.function_name],
          ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.this.function_name, { color = "#d62728" }],
          ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.this.function_name, { color = "#ff7f0e" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 8
      y      = 2
      width  = 8
      height = 6
      properties = {
        title  = "Secrets Manager throttles (AWS/Usage)"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          [{ expression = local.sm_throttles_search, id = "throttles" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 16
      y      = 2
      width  = 8
      height = 6
      properties = {
        title  = "Secrets Manager API calls (AWS/Usage)"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          [{ expression = local.sm_calls_search, id = "calls" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 8
      width  = 12
      height = 6
      properties = {
        title  = "Secret reads, with the expected band (spikes)"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          [local.ns, local.metric.secret_reads, { id = "reads", stat = "Sum", label = local.metric.secret_reads }],
          [{ expression = "ANOMALY_DETECTION_BAND(reads, ${var.read_anomaly_band_width})", id = "band", label = "expected" }],
          [local.ns, local.metric.denied_reads, { stat = "Sum", label = local.metric.denied_reads, color = "#ff7f0e" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 8
      width  = 12
      height = 6
      properties = {
        title  = "Reads per secret (secrets in metric_secrets)"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          [{ expression = local.reads_per_secret, id = "persecret" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 14
      width  = 12
      height = 6
      properties = {
        title   = "Unexpected reads"
        region  = local.region
        view    = "timeSeries"
        stat    = "Sum"
        period  = 300
        metrics = [[local.ns, local.metric.unexpected_reads, { color = "#d62728" }]]
        annotations = {
          horizontal = [{ label = "alarm", value = 0 }]
        }
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 14
      width  = 12
      height = 6
      properties = {
        title   = "Alerts by rule"
        region  = local.region
        view    = "timeSeries"
        stat    = "Sum"
        period  = 300
        metrics = [for r in local.alert_rules : [local.ns, local.metric.alerts, "Rule", r]]
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 20
      width  = 12
      height = 6
      properties = {
        title  = "Pipeline health"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 300
        metrics = [
          [local.ns, local.metric.events_processed],
          [local.ns, local.metric.heartbeat],
          [local.ns, local.metric.parse_failures, { color = "#ff7f0e" }],
          [local.ns, local.metric.store_errors, { color = "#d62728" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dlq.name, { stat = "Maximum", label = "dead letters" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 20
      width  = 12
      height = 6
      properties = {
        title  = "Latency (p99)"
        region = local.region
        view   = "timeSeries"
        stat   = "p99"
        period = 300
        metrics = [
          ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.this.function_name],
          [local.ns, local.metric.processing_latency],
        ]
      }
    },
    {
      # The bill (issue 12): DynamoDB bills write units, not requests. The table's and its index's
      # consumed units, and write units per secret read (docs/dynamodb.md, "Cost").
      type   = "metric"
      x      = 0
      y      = 26
      width  = 24
      height = 6
      properties = {
        title  = "DynamoDB consumed capacity units (the baseline table's bill)"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", aws_dynamodb_table.baselines.name, { id = "wtable", stat = "Sum", label = "write units (table)" }],
          ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", aws_dynamodb_table.baselines.name, { id = "rtable", stat = "Sum", label = "read units (table)" }],
          [local.ns, local.metric.secret_reads, { id = "sreads", stat = "Sum", visible = false }],
          [{ expression = "wtable / sreads", id = "perread", label = "write units per secret read", yAxis = "right" }],
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
