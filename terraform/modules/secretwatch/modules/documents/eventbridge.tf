# Resource policy of the optional central event bus: forwarders in the named accounts (or in the named
# organization) may put events on it, nothing else.
locals {
  central_bus_statements = concat(
    length(var.source_account_ids) == 0 ? [] : [
      {
        Sid       = "SourceAccountsPutEvents"
        Effect    = "Allow"
        Principal = { AWS = [for a in var.source_account_ids : "arn:${var.partition}:iam::${a}:root"] }
        Action    = "events:PutEvents"
        Resource  = var.central_event_bus_arn
      },
    ],
    var.source_organization_id == null ? [] : [
      {
        Sid       = "OrganizationAccountsPutEvents"
        Effect    = "Allow"
        Principal = "*"
        Action    = "events:PutEvents"
        Resource  = var.central_event_bus_arn
        Condition = { StringEquals = { "aws:PrincipalOrgID" = var.source_organization_id } }
      },
    ],
  )

  central_bus_policy = var.central_event_bus_arn == null || length(local.central_bus_statements) == 0 ? null : jsonencode({
    Version   = "2012-10-17"
    Statement = local.central_bus_statements
  })
}
