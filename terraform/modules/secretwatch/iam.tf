# The Lambda execution role. Its only policy is the inline one below (no AWS managed policy is
# attached): every statement names its resources and none grants a Secrets Manager action.
resource "aws_iam_role" "lambda" {
  name                 = "${var.name}-lambda"
  description          = "secretwatch ${var.name}: Lambda execution role (no Secrets Manager access)"
  assume_role_policy   = module.documents.lambda_assume_role_policy
  max_session_duration = 3600
  tags                 = local.tags
}

resource "aws_iam_role_policy" "lambda" {
  name   = "secretwatch"
  role   = aws_iam_role.lambda.id
  policy = module.documents.lambda_role_policy
}

# Optional role for the CLI (`secretwatch replay`) to backfill the real table from old logs.
resource "aws_iam_role" "backfill" {
  count = length(var.backfill_principal_arns) > 0 ? 1 : 0

  name                 = "${var.name}-backfill"
  description          = "secretwatch ${var.name}: CLI backfill into the baseline table (no Secrets Manager access)"
  assume_role_policy   = module.documents.backfill_assume_role_policy
  max_session_duration = 3600
  tags                 = local.tags
}

resource "aws_iam_role_policy" "backfill" {
  count = length(var.backfill_principal_arns) > 0 ? 1 : 0

  name   = "secretwatch-backfill"
  role   = aws_iam_role.backfill[0].id
  policy = module.documents.backfill_role_policy
}
