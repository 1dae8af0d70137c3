# The scheduled weekly report: the role EventBridge Scheduler assumes to invoke the function (that
# function only), and the report bucket's policy (TLS only). The Lambda's s3:PutObject grant on the
# report prefix is in iam.tf.
locals {
  report_bucket_statements = var.report_bucket_arn == null ? [] : [
    {
      Sid      = "WriteWeeklyReports"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${var.report_bucket_arn}/${var.report_prefix}*"]
    },
  ]

  scheduler_assume_role_policy = var.report_function_arn == null ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "SchedulerAssumesTheReportRole"
        Effect    = "Allow"
        Principal = { Service = "scheduler.amazonaws.com" }
        Action    = "sts:AssumeRole"
        # Only schedules of this account (confused deputy).
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
    ]
  })

  scheduler_role_policy = var.report_function_arn == null ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeTheMonitorForTheWeeklyReport"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [var.report_function_arn]
      },
    ]
  })

  report_bucket_policy = var.report_bucket_arn == null ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      merge(local.deny_insecure_transport, {
        Action   = "s3:*"
        Resource = [var.report_bucket_arn, "${var.report_bucket_arn}/*"]
      }),
    ]
  })
}

output "scheduler_assume_role_policy" {
  description = "Trust policy of the role EventBridge Scheduler uses for the weekly report (null without a schedule)."
  value       = local.scheduler_assume_role_policy
}

output "scheduler_role_policy" {
  description = "Identity policy of the scheduler role: invoke the monitor function only (null without a schedule)."
  value       = local.scheduler_role_policy
}

output "report_bucket_policy" {
  description = "Policy of the report bucket: TLS only (null without a bucket)."
  value       = local.report_bucket_policy
}
