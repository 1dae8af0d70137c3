locals {
  account_root = "arn:${var.partition}:iam::${var.account_id}:root"

  # Services that call KMS on a principal's behalf (values of kms:ViaService).
  via_dynamodb = "dynamodb.${var.region}.amazonaws.com"
  via_sns      = "sns.${var.region}.amazonaws.com"
  via_sqs      = "sqs.${var.region}.amazonaws.com"
  via_s3       = "s3.${var.region}.amazonaws.com"

  log_group_arn = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${var.log_group_name}"

  # Roles that may publish alerts: the Lambda and, when created, the backfill role.
  alert_publishers = compact([var.lambda_role_arn, var.backfill_role_arn == null ? "" : var.backfill_role_arn])

  # Actions on the baseline table, exactly the calls the store (baseline/dynamodb) makes at run
  # time; terraform/dynamodb_ops_test.go derives them from its source and compares.
  table_actions = [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
  ]

  # Denies any request to a resource that does not use TLS. Used by every resource policy.
  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }
}
