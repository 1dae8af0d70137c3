data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  regions    = toset(length(var.regions) > 0 ? var.regions : [data.aws_region.current.region])

  rule_arns = { for r in local.regions : r => "arn:${local.partition}:events:${r}:${local.account_id}:rule/${var.name}" }

  tags = merge({ "secretwatch:forwarder" = var.name }, var.tags)
}

module "documents" {
  source = "./modules/documents"

  partition             = local.partition
  central_event_bus_arn = var.central_event_bus_arn
  rule_arns             = local.rule_arns
  dlq_arns              = { for r, q in aws_sqs_queue.dlq : r => q.arn }
}
