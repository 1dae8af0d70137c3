resource "aws_cloudwatch_log_group" "lambda" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = local.tags

  # CloudWatch Logs checks at creation that the key policy lets it use the key.
  depends_on = [aws_kms_key_policy.this]
}

# Optional allow-list layer: the YAML file at var.allowlist_path becomes /opt/allowlist.yaml.
data "archive_file" "allowlist" {
  count = var.allowlist_path == null ? 0 : 1

  type        = "zip"
  output_path = "${path.root}/.terraform/secretwatch/${var.name}-allowlist-layer.zip"

  source {
    content  = file(var.allowlist_path)
    filename = "allowlist.yaml"
  }
}

resource "aws_lambda_layer_version" "allowlist" {
  count = var.allowlist_path == null ? 0 : 1

  layer_name               = "${var.name}-allowlist"
  description              = "secretwatch allow-list (${var.name})"
  filename                 = data.archive_file.allowlist[0].output_path
  source_code_hash         = data.archive_file.allowlist[0].output_base64sha256
  compatible_runtimes      = ["provided.al2023"]
  compatible_architectures = ["arm64"]
}

resource "aws_lambda_function" "this" {
  function_name = local.function_name
  description   = "secretwatch: watches Secrets Manager reads and changes, and tampering with the monitoring"
  role          = aws_iam_role.lambda.arn

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["arm64"]
  layers           = aws_lambda_layer_version.allowlist[*].arn

  memory_size                    = var.lambda_memory_size
  timeout                        = var.lambda_timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions

  # Names only, never a secret value (docs/contracts.md lists these variables).
  environment {
    variables = {
      SECRETWATCH_TABLE             = aws_dynamodb_table.baselines.name
      SECRETWATCH_TOPIC_ARN         = aws_sns_topic.alerts.arn
      SECRETWATCH_METRICS_NAMESPACE = var.metrics_namespace
      SECRETWATCH_ALLOWLIST         = local.allowlist_file
      SECRETWATCH_SUPPRESS_WINDOW   = var.suppress_window
      SECRETWATCH_RETENTION         = var.baseline_retention
      SECRETWATCH_METRIC_SECRETS    = join(",", var.metric_secrets)
      SECRETWATCH_LOG_LEVEL         = var.log_level
      SECRETWATCH_EVENT_RULE        = var.name
      SECRETWATCH_REPORT_BUCKET     = local.report_bucket ? aws_s3_bucket.report[0].id : ""
      SECRETWATCH_REPORT_PREFIX     = var.report_prefix
    }
  }

  # JSON logs into the module's log group. The application log level is left to SECRETWATCH_LOG_LEVEL:
  # a Lambda-side filter could drop the Embedded Metric Format lines, which carry no level.
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.lambda.name
  }

  tags = local.tags

  depends_on = [
    aws_iam_role_policy.lambda,
    aws_cloudwatch_log_group.lambda,
  ]
}

# Direct mode: retries and the on-failure destination of asynchronous invocations.
resource "aws_lambda_function_event_invoke_config" "this" {
  count = local.batch_mode ? 0 : 1

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_max_retry_attempts
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.on_failure[0].arn
    }
  }
}

resource "aws_lambda_permission" "eventbridge" {
  for_each = local.batch_mode ? {} : local.event_buses

  statement_id   = "AllowEventBridge-${each.key}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.this[each.key].arn
  source_account = local.account_id
}

# Batch mode: the Lambda drains the batch queue and reports partial batch failures, so one bad message
# is retried alone instead of the whole batch.
resource "aws_lambda_event_source_mapping" "batch" {
  count = local.batch_mode ? 1 : 0

  event_source_arn                   = aws_sqs_queue.batch[0].arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batch_max_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.batch_max_concurrency == null ? [] : [var.batch_max_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }

  depends_on = [aws_iam_role_policy.lambda]
}
