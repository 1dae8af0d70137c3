# Topic policies. The alerts topic is the seed's "bouncer": only the Lambda (and the optional backfill
# role) may publish, everybody else is denied explicitly, whatever their IAM policies say.
locals {
  alerts_topic_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "OnlySecretWatchPublishes"
        Effect    = "Allow"
        Principal = { AWS = local.alert_publishers }
        Action    = "sns:Publish"
        Resource  = var.alerts_topic_arn
      },
      {
        Sid       = "DenyEveryOtherPublisher"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = var.alerts_topic_arn
        Condition = { StringNotEquals = { "aws:PrincipalArn" = local.alert_publishers } }
      },
      merge(local.deny_insecure_transport, { Action = "sns:Publish", Resource = var.alerts_topic_arn }),
    ]
  })

  alarms_topic_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "OnlyThisDeploymentsAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = var.alarms_topic_arn
        Condition = {
          ArnLike      = { "aws:SourceArn" = "arn:${var.partition}:cloudwatch:${var.region}:${var.account_id}:alarm:${var.name}-*" }
          StringEquals = { "aws:SourceAccount" = var.account_id }
        }
      },
      merge(local.deny_insecure_transport, { Action = "sns:Publish", Resource = var.alarms_topic_arn }),
    ]
  })
}
