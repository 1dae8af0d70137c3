# The optional backfill fan-out: a Step Functions state machine whose Distributed Map lists the trail
# bucket (ItemReader, ListObjectsV2 under a prefix given at start) and hands the Lambda batches of
# keys (ItemBatcher, the bucket in BatchInput); see docs/backfill.md. Off unless fanout_bucket_name
# is set.
locals {
  fanout             = var.fanout_bucket_name != null && var.lambda_function_arn != null
  fanout_bucket_arn  = local.fanout ? "arn:${var.partition}:s3:::${var.fanout_bucket_name}" : null
  fanout_objects_arn = local.fanout ? "arn:${var.partition}:s3:::${var.fanout_bucket_name}/${var.fanout_prefix}*" : null
  fanout_machine_arn = "arn:${var.partition}:states:${var.region}:${var.account_id}:stateMachine:${var.name}-backfill"
  fanout_exec_arn    = "arn:${var.partition}:states:${var.region}:${var.account_id}:execution:${var.name}-backfill/*"

  # The Lambda reads the objects of its batches.
  lambda_fanout_statements = local.fanout ? [
    {
      Sid      = "ReadTrailObjectsForBackfill"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = [local.fanout_objects_arn]
    },
  ] : []

  fanout_assume_role_policy = local.fanout ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "StepFunctionsAssumesTheBackfillRole"
        Effect    = "Allow"
        Principal = { Service = "states.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
    ]
  }) : null

  fanout_role_policy = local.fanout ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The ItemReader lists the bucket, only under the prefix.
        Sid       = "ListTrailPrefix"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [local.fanout_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["${var.fanout_prefix}*"] } }
      },
      {
        Sid      = "ReadTrailObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [local.fanout_objects_arn]
      },
      {
        Sid      = "InvokeTheFunction"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [var.lambda_function_arn]
      },
      {
        # A Distributed Map runs its batches as child executions of the state machine itself.
        Sid      = "StartChildExecutions"
        Effect   = "Allow"
        Action   = ["states:StartExecution"]
        Resource = [local.fanout_machine_arn]
      },
      {
        Sid      = "ManageChildExecutions"
        Effect   = "Allow"
        Action   = ["states:DescribeExecution", "states:StopExecution"]
        Resource = [local.fanout_exec_arn]
      },
    ]
  }) : null

  # Amazon States Language. The execution input names the prefix to backfill, at or below
  # fanout_prefix ({"prefix": "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/03/"}); the
  # role's s3:prefix condition refuses any other.
  fanout_definition = local.fanout ? jsonencode({
    Comment = "secretwatch ${var.name}: backfill the baselines from the CloudTrail logs under a prefix of ${var.fanout_bucket_name}"
    StartAt = "Objects"
    States = {
      Objects = {
        Type = "Map"
        ItemReader = {
          Resource   = "arn:${var.partition}:states:::s3:listObjectsV2"
          Parameters = { Bucket = var.fanout_bucket_name, "Prefix.$" = "$.prefix" }
        }
        ItemBatcher = {
          MaxItemsPerBatch = var.fanout_batch_size
          BatchInput       = { Bucket = var.fanout_bucket_name }
        }
        MaxConcurrency             = var.fanout_max_concurrency
        ToleratedFailurePercentage = 0
        ItemProcessor = {
          ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" }
          StartAt         = "Process"
          States = {
            Process = {
              Type           = "Task"
              Resource       = "arn:${var.partition}:states:::lambda:invoke"
              Parameters     = { FunctionName = var.lambda_function_arn, "Payload.$" = "$" }
              ResultSelector = { "result.$" = "$.Payload" }
              # S3 or DynamoDB errors fail the invocation; the store counts each event once, so
              # a retried batch changes no count.
              Retry = [
                {
                  ErrorEquals     = ["States.ALL"]
                  IntervalSeconds = 2
                  MaxAttempts     = 6
                  BackoffRate     = 2
                  JitterStrategy  = "FULL"
                },
              ]
              End = true
            }
          }
        }
        ResultSelector = { "batches.$" = "$.ProcessedItemCount" }
        End            = true
      }
    }
  }) : null
}
