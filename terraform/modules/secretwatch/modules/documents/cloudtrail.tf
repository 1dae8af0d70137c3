# Bucket policy of the optional trail: CloudTrail may check the ACL and write under AWSLogs/<account>/,
# only for this trail; nothing is readable or writable without TLS.
locals {
  trail_bucket_policy = var.trail_arn == null || var.trail_bucket_arn == null ? null : jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudTrailChecksBucketAcl"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = var.trail_bucket_arn
        Condition = { StringEquals = { "aws:SourceArn" = var.trail_arn } }
      },
      {
        Sid       = "CloudTrailWritesLogFiles"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${var.trail_bucket_arn}/AWSLogs/${var.account_id}/*"
        Condition = {
          StringEquals = {
            "s3:x-amz-acl"  = "bucket-owner-full-control"
            "aws:SourceArn" = var.trail_arn
          }
        }
      },
      merge(local.deny_insecure_transport, {
        Action   = "s3:*"
        Resource = [var.trail_bucket_arn, "${var.trail_bucket_arn}/*"]
      }),
    ]
  })
}
