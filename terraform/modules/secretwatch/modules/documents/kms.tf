# Key policy of the module's customer managed key. In a key policy "Resource": "*" means "this key"
# and is the only valid value, so every statement here is scoped by principal and condition instead.
# Encrypt/decrypt is never delegated to IAM wholesale: only the principals named below can use the key.
locals {
  key_administrators = length(var.kms_key_administrator_arns) > 0 ? var.kms_key_administrator_arns : [local.account_root]

  # The Lambda uses the key through DynamoDB (baselines), SNS (alerts) and, when it has a queue to read
  # or write, SQS.
  lambda_kms_services = compact([
    var.table_encrypted_with_key ? local.via_dynamodb : "",
    local.via_sns,
    var.on_failure_queue_arn != null || var.batch_queue_arn != null ? local.via_sqs : "",
    var.report_bucket_arn != null ? local.via_s3 : "", # the report bucket is encrypted with the key
  ])

  backfill_kms_services = compact([var.table_encrypted_with_key ? local.via_dynamodb : "", local.via_sns])

  key_user_kms_services = compact([
    var.table_encrypted_with_key ? local.via_dynamodb : "",
    local.via_sqs,
    var.trail_arn != null ? local.via_s3 : "",
  ])

  kms_statements = concat(
    [
      {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.key_administrators }
        Action = [
          "kms:CancelKeyDeletion",
          "kms:CreateAlias",
          "kms:DeleteAlias",
          "kms:DescribeKey",
          "kms:DisableKey",
          "kms:DisableKeyRotation",
          "kms:EnableKey",
          "kms:EnableKeyRotation",
          "kms:GetKeyPolicy",
          "kms:GetKeyRotationStatus",
          "kms:ListAliases",
          "kms:ListGrants",
          "kms:ListKeyPolicies",
          "kms:ListResourceTags",
          "kms:PutKeyPolicy",
          "kms:RevokeGrant",
          "kms:RotateKeyOnDemand",
          "kms:ScheduleKeyDeletion",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:UpdateAlias",
          "kms:UpdateKeyDescription",
        ]
        Resource = "*"
      },
      {
        Sid       = "LambdaUsesKeyThroughItsServices"
        Effect    = "Allow"
        Principal = { AWS = var.lambda_role_arn }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = local.lambda_kms_services
            "kms:CallerAccount" = var.account_id
          }
        }
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheLambdaLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action = [
          "kms:Decrypt",
          "kms:DescribeKey",
          "kms:Encrypt",
          "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
        ]
        Resource = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn }
        }
      },
      {
        # EventBridge writes to the encrypted dead-letter queue (and the batch queue in batch mode).
        Sid       = "EventBridgeWritesEncryptedQueues"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          ArnEquals = { "aws:SourceArn" = var.rule_arns }
        }
      },
      {
        # CloudWatch alarms publish to the encrypted alarms topic: only on behalf of this account's
        # alarms (the alarms topic policy further restricts which alarms may publish).
        Sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
        }
      },
    ],
    !var.table_encrypted_with_key ? [] : [
      {
        # Creating the table with this key makes DynamoDB create a grant for itself.
        Sid       = "DynamoDBGrantsForTheTable"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = ["kms:CreateGrant", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = local.via_dynamodb
            "kms:CallerAccount" = var.account_id
          }
        }
      },
    ],
    var.backfill_role_arn == null ? [] : [
      {
        Sid       = "BackfillRoleUsesKeyThroughItsServices"
        Effect    = "Allow"
        Principal = { AWS = var.backfill_role_arn }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = local.backfill_kms_services
            "kms:CallerAccount" = var.account_id
          }
        }
      },
    ],
    length(var.kms_key_user_arns) == 0 ? [] : [
      {
        Sid       = "KeyUsersReadThroughServices"
        Effect    = "Allow"
        Principal = { AWS = var.kms_key_user_arns }
        Action    = ["kms:Decrypt", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = local.key_user_kms_services
            "kms:CallerAccount" = var.account_id
          }
        }
      },
    ],
    var.trail_arn == null ? [] : [
      {
        Sid       = "CloudTrailEncryptsLogs"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = ["kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringLike   = { "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${var.partition}:cloudtrail:*:${var.account_id}:trail/*" }
          StringEquals = { "aws:SourceArn" = var.trail_arn }
        }
      },
      {
        Sid       = "CloudTrailDescribesKey"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = ["kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceArn" = var.trail_arn }
        }
      },
    ],
  )

  kms_key_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.kms_statements
  })
}
