data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  batch_mode = var.delivery_mode == "batch"

  function_name  = var.name
  log_group_name = "/aws/lambda/${var.name}"
  table_name     = coalesce(var.table_name, var.name)
  trail_name     = "${var.name}-trail"

  # One rule per monitored bus: this account's default bus and/or the central bus.
  event_buses = merge(
    var.monitor_default_bus ? { default = "default" } : {},
    var.create_central_event_bus ? { central = var.central_event_bus_name } : {},
  )

  # Rule ARNs are known from their names, so policies that name them do not wait for the rules.
  rule_arns = {
    for k, bus in local.event_buses :
    k => bus == "default"
    ? "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.name}"
    : "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${bus}/${var.name}"
  }

  # The allow-list: bundled next to bootstrap, or shipped as a layer when allowlist_path is set.
  allowlist_file = var.allowlist_path == null ? "/var/task/allowlist.yaml" : "/opt/allowlist.yaml"

  tags = merge({ "secretwatch:deployment" = var.name }, var.tags)
}
