# Optional backfill fan-out (docs/backfill.md): a Step Functions state machine whose Distributed Map
# lists the trail bucket under a prefix and invokes the Lambda with batches of keys. Off unless
# backfill_fanout_bucket is set. Its definition and policies come from the documents module.
resource "aws_iam_role" "fanout" {
  count = var.backfill_fanout_bucket == null ? 0 : 1

  name                 = "${var.name}-backfill-fanout"
  description          = "secretwatch ${var.name}: Step Functions backfill fan-out (lists and reads the trail prefix, invokes the function)"
  assume_role_policy   = module.documents.fanout_assume_role_policy
  max_session_duration = 3600
  tags                 = local.tags
}

resource "aws_iam_role_policy" "fanout" {
  count = var.backfill_fanout_bucket == null ? 0 : 1

  name   = "secretwatch-backfill-fanout"
  role   = aws_iam_role.fanout[0].id
  policy = module.documents.fanout_role_policy
}

resource "aws_sfn_state_machine" "backfill" {
  count = var.backfill_fanout_bucket == null ? 0 : 1

  name       = "${var.name}-backfill"
  role_arn   = aws_iam_role.fanout[0].arn
  definition = module.documents.fanout_definition
  type       = "STANDARD"
  tags       = local.tags

  depends_on = [aws_iam_role_policy.fanout]
}
