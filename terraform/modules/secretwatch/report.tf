# The scheduled weekly report: an EventBridge Scheduler schedule invokes the monitor function with
# {"secretwatch":"weekly-report","days":N}; the function writes the report files to the report
# bucket (when created) and publishes a summary to the alerts topic. Policies come from the
# documents module (report.tf there).
locals {
  report_schedule = var.report_schedule_expression != null
  report_bucket   = local.report_schedule && var.report_bucket_enabled
  # Built from the name, not from aws_lambda_function.this: the documents module feeds the role
  # the function depends on.
  report_function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.function_name}"
}

resource "aws_s3_bucket" "report" {
  count = local.report_bucket ? 1 : 0

  bucket_prefix = "${var.name}-report-"
  force_destroy = var.report_bucket_force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_ownership_controls" "report" {
  count = local.report_bucket ? 1 : 0

  bucket = aws_s3_bucket.report[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "report" {
  count = local.report_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.report[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "report" {
  count = local.report_bucket ? 1 : 0

  bucket = aws_s3_bucket.report[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "report" {
  count = local.report_bucket ? 1 : 0

  bucket = aws_s3_bucket.report[0].id
  rule {
    id     = "expire-reports"
    status = "Enabled"
    filter {}
    expiration {
      days = var.report_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "report" {
  count = local.report_bucket ? 1 : 0

  bucket = aws_s3_bucket.report[0].id
  policy = module.documents.report_bucket_policy

  depends_on = [aws_s3_bucket_public_access_block.report]
}

resource "aws_iam_role" "scheduler" {
  count = local.report_schedule ? 1 : 0

  name                 = "${var.name}-report-scheduler"
  description          = "secretwatch ${var.name}: EventBridge Scheduler invokes the monitor for the weekly report"
  assume_role_policy   = module.documents.scheduler_assume_role_policy
  max_session_duration = 3600
  tags                 = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.report_schedule ? 1 : 0

  name   = "secretwatch-report-scheduler"
  role   = aws_iam_role.scheduler[0].id
  policy = module.documents.scheduler_role_policy
}

resource "aws_scheduler_schedule" "report" {
  count = local.report_schedule ? 1 : 0

  name                         = "${var.name}-weekly-report"
  description                  = "secretwatch ${var.name}: the weekly \"who accessed this secret\" report"
  schedule_expression          = var.report_schedule_expression
  schedule_expression_timezone = var.report_schedule_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = jsonencode({ secretwatch = "weekly-report", days = var.report_days })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}
