# Every policy document and the event pattern come from the provider-free documents module, so they
# can be evaluated and checked offline (see terraform/terraform_test.go).
module "documents" {
  source = "./modules/documents"

  partition  = local.partition
  region     = local.region
  account_id = local.account_id
  name       = var.name

  lambda_role_arn         = aws_iam_role.lambda.arn
  backfill_role_arn       = length(aws_iam_role.backfill) > 0 ? aws_iam_role.backfill[0].arn : null
  backfill_principal_arns = var.backfill_principal_arns

  table_arn                = aws_dynamodb_table.baselines.arn
  table_encrypted_with_key = var.table_customer_key

  kms_key_arn                = aws_kms_key.this.arn
  kms_key_administrator_arns = var.kms_key_administrator_arns
  kms_key_user_arns          = var.kms_key_user_arns

  alerts_topic_arn     = aws_sns_topic.alerts.arn
  alarms_topic_arn     = aws_sns_topic.alarms.arn
  dlq_arn              = aws_sqs_queue.dlq.arn
  on_failure_queue_arn = local.batch_mode ? null : aws_sqs_queue.on_failure[0].arn
  batch_queue_arn      = local.batch_mode ? aws_sqs_queue.batch[0].arn : null

  log_group_name    = local.log_group_name
  rule_arns         = values(local.rule_arns)
  metrics_namespace = var.metrics_namespace

  trail_arn        = var.create_trail ? "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}" : null
  trail_bucket_arn = var.create_trail ? aws_s3_bucket.trail[0].arn : null

  lambda_function_arn    = var.backfill_fanout_bucket == null ? null : aws_lambda_function.this.arn
  fanout_bucket_name     = var.backfill_fanout_bucket
  fanout_prefix          = var.backfill_fanout_prefix
  fanout_batch_size      = var.backfill_fanout_batch_size
  fanout_max_concurrency = var.backfill_fanout_max_concurrency
  report_bucket_arn      = local.report_bucket ? aws_s3_bucket.report[0].arn : null
  report_prefix          = var.report_prefix
  report_function_arn    = local.report_schedule ? local.report_function_arn : null

  central_event_bus_arn  = var.create_central_event_bus ? aws_cloudwatch_event_bus.central[0].arn : null
  source_account_ids     = var.central_bus_source_account_ids
  source_organization_id = var.central_bus_source_organization_id
}
