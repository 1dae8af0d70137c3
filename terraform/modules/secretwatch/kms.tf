# One customer managed key encrypts everything the monitor stores or sends: the baseline table, both
# SNS topics, the queues, the Lambda's log group and the optional trail.
resource "aws_kms_key" "this" {
  description             = "secretwatch ${var.name}: baselines, alerts, queues, logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  tags                    = local.tags
}

# The key policy names the Lambda role, so it is attached once the role exists.
resource "aws_kms_key_policy" "this" {
  key_id = aws_kms_key.this.id
  policy = module.documents.kms_key_policy
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
