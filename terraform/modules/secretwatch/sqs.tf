# Queues, all encrypted with the module's key:
# - dlq: events EventBridge could not deliver (after target_retry_attempts), and in batch mode messages
#   the Lambda failed batch_max_receive_count times. Both hold the original EventBridge event, so they
#   can be replayed as they are.
# - on_failure (direct mode): Lambda's record of an asynchronous invocation that failed every retry.
# - batch (batch mode): the buffer between EventBridge and the Lambda.
resource "aws_sqs_queue" "dlq" {
  name                              = "${var.name}-dlq"
  message_retention_seconds         = var.dlq_retention_seconds
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 3600
  tags                              = local.tags
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = module.documents.dlq_policy
}

resource "aws_sqs_queue" "on_failure" {
  count = local.batch_mode ? 0 : 1

  name                              = "${var.name}-on-failure"
  message_retention_seconds         = var.dlq_retention_seconds
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 3600
  tags                              = local.tags
}

resource "aws_sqs_queue_policy" "on_failure" {
  count = local.batch_mode ? 0 : 1

  queue_url = aws_sqs_queue.on_failure[0].id
  policy    = module.documents.on_failure_queue_policy
}

resource "aws_sqs_queue" "batch" {
  count = local.batch_mode ? 1 : 0

  name = "${var.name}-batch"
  # AWS asks for at least six times the function timeout, so a batch being retried is not redelivered.
  visibility_timeout_seconds        = 6 * var.lambda_timeout + var.batch_max_window_seconds
  message_retention_seconds         = 345600
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 3600

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.batch_max_receive_count
  })

  tags = local.tags
}

resource "aws_sqs_queue_policy" "batch" {
  count = local.batch_mode ? 1 : 0

  queue_url = aws_sqs_queue.batch[0].id
  policy    = module.documents.batch_queue_policy
}
