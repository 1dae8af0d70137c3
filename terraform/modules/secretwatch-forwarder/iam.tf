# One role for every region: IAM is global.
resource "aws_iam_role" "forwarder" {
  name                 = var.name
  description          = "secretwatch forwarder: EventBridge puts matching events on the central bus"
  assume_role_policy   = module.documents.assume_role_policy
  max_session_duration = 3600
  tags                 = local.tags
}

resource "aws_iam_role_policy" "forwarder" {
  name   = "put-events-on-central-bus"
  role   = aws_iam_role.forwarder.id
  policy = module.documents.role_policy
}
