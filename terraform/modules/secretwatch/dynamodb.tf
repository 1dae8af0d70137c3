# Single-table design of the Lambda's baseline store: pk/sk, items expire through `ttl`. No
# secondary index: every read of the store is a Query on pk (docs/dynamodb.md; an index would
# bill a write on top of every counter write).
resource "aws_dynamodb_table" "baselines" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.table_point_in_time_recovery
  }

  # enabled = false is DynamoDB's AWS owned key: the table is encrypted at rest either way.
  server_side_encryption {
    enabled     = var.table_customer_key
    kms_key_arn = var.table_customer_key ? aws_kms_key.this.arn : null
  }

  tags = local.tags
}
