# Dead-letter queue policies, one per region: only that region's forwarding rule may send.
locals {
  dlq_policies = {
    for region, arn in var.dlq_arns : region => jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "EventBridgeSendsFromTheForwardingRule"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sqs:SendMessage"
          Resource  = arn
          Condition = { ArnEquals = { "aws:SourceArn" = var.rule_arns[region] } }
        },
        {
          Sid       = "DenyInsecureTransport"
          Effect    = "Deny"
          Principal = "*"
          Action    = "sqs:*"
          Resource  = arn
          Condition = { Bool = { "aws:SecureTransport" = "false" } }
        },
      ]
    })
  }
}
