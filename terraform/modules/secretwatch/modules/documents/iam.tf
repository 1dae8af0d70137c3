# Identity policies. Every statement names its resources; the single "*" is cloudwatch:PutMetricData,
# an action that supports no resource-level permissions, and it is pinned to one namespace by the
# cloudwatch:namespace condition. There is no Secrets Manager permission: the detector reads CloudTrail
# records about secrets, never a secret.
locals {
  lambda_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LambdaAssumesTheExecutionRole"
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })

  lambda_statements = concat(
    [
      {
        Sid      = "WriteOwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${local.log_group_arn}:*"]
      },
      {
        Sid      = "BaselineTable"
        Effect   = "Allow"
        Action   = local.table_actions
        Resource = [var.table_arn]
      },
      {
        Sid      = "PublishAlerts"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [var.alerts_topic_arn]
      },
    ],
    var.on_failure_queue_arn == null ? [] : [
      {
        # Lambda sends the record of an asynchronous invocation that failed every retry here.
        Sid      = "OnFailureDestination"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [var.on_failure_queue_arn]
      },
    ],
    local.report_bucket_statements,
    var.batch_queue_arn == null ? [] : [
      {
        # The SQS event source mapping polls with the execution role's permissions.
        Sid    = "ConsumeBatchQueue"
        Effect = "Allow"
        Action = [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:ReceiveMessage",
        ]
        Resource = [var.batch_queue_arn]
      },
    ],
    local.lambda_fanout_statements,
    [
      {
        Sid      = "UseModuleKeyThroughItsServices"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
        Condition = {
          StringEquals = { "kms:ViaService" = local.lambda_kms_services }
        }
      },
    ],
  )

  lambda_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.lambda_statements
  })

  # The optional role for `secretwatch replay` backfilling the real table from old logs: the same
  # table and topic access as the Lambda, plus PutMetricData because the CLI has no EMF agent.
  backfill_assume_role_policy = length(var.backfill_principal_arns) == 0 ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "NamedPrincipalsAssumeTheBackfillRole"
        Effect    = "Allow"
        Principal = { AWS = var.backfill_principal_arns }
        Action    = "sts:AssumeRole"
      },
    ]
  })

  backfill_role_policy = length(var.backfill_principal_arns) == 0 ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "BaselineTable"
        Effect   = "Allow"
        Action   = local.table_actions
        Resource = [var.table_arn]
      },
      {
        Sid      = "PublishAlerts"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [var.alerts_topic_arn]
      },
      {
        # PutMetricData has no resource type: "*" is the only valid resource. The condition limits
        # the grant to the monitor's own namespace.
        Sid       = "PutMetricsInOwnNamespace"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = ["*"]
        Condition = { StringEquals = { "cloudwatch:namespace" = var.metrics_namespace } }
      },
      {
        Sid      = "UseModuleKeyThroughItsServices"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
        Condition = {
          StringEquals = { "kms:ViaService" = local.backfill_kms_services }
        }
      },
    ]
  })
}
