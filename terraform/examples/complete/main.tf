# Every option: batch mode (EventBridge -> SQS -> Lambda), an allow-list layer that redeploys without a
# Go rebuild, severity routing, a trail for an account that has none, a central bus for forwarders, a
# CLI backfill role, per-secret metrics and key users.
terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4.0, < 3.0.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the monitor and of the central bus."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_zip_path" {
  description = "The zip built by `make lambda-zip`."
  type        = string
  default     = "../../../dist/secretwatch-lambda-arm64.zip"
}

variable "allowlist_path" {
  description = "The allow-list shipped as a layer (edit it and re-apply: no Go rebuild)."
  type        = string
  default     = "../../../allowlist.yaml"
}

variable "oncall_email" {
  description = "Receives critical and high alerts, and the operational alarms."
  type        = string
}

variable "security_team_email" {
  description = "Receives every alert."
  type        = string
}

variable "siem_webhook_url" {
  description = "HTTPS endpoint of a SIEM or chat bridge (receives every alert as JSON)."
  type        = string
}

variable "organization_id" {
  description = "AWS Organizations ID whose accounts forward to the central bus."
  type        = string
}

variable "ops_role_arn" {
  description = "Role of the operators: may assume the backfill role and read the dead-letter queue."
  type        = string
}

module "secretwatch" {
  source = "../../modules/secretwatch"

  name            = "secretwatch"
  lambda_zip_path = var.lambda_zip_path
  allowlist_path  = var.allowlist_path

  delivery_mode            = "batch"
  batch_size               = 500
  batch_max_window_seconds = 10
  batch_max_concurrency    = 10

  lambda_memory_size             = 512
  lambda_timeout                 = 60
  reserved_concurrent_executions = 20
  log_retention_days             = 30
  log_level                      = "info"

  metrics_namespace  = "SecretWatch"
  suppress_window    = "1h"
  baseline_retention = "840h"
  metric_secrets     = ["prod/db/password", "prod/payments/api-key"]

  alert_subscriptions = [
    { protocol = "email", endpoint = var.oncall_email, severities = ["critical", "high"] },
    { protocol = "email", endpoint = var.security_team_email },
    { protocol = "https", endpoint = var.siem_webhook_url },
  ]
  alarm_subscriptions = [{ protocol = "email", endpoint = var.oncall_email }]

  create_trail             = true
  trail_log_retention_days = 365

  create_central_event_bus           = true
  central_bus_source_organization_id = var.organization_id

  backfill_principal_arns = [var.ops_role_arn]
  kms_key_user_arns       = [var.ops_role_arn]

  dead_man_hours = 6

  tags = {
    team = "security"
  }
}

output "central_event_bus_arn" {
  description = "Give this to the forwarders (examples/multi-account)."
  value       = module.secretwatch.central_event_bus_arn
}

output "batch_queue_url" {
  description = "The batch queue."
  value       = module.secretwatch.batch_queue_url
}

output "dlq_url" {
  description = "The dead-letter queue."
  value       = module.secretwatch.dlq_url
}

output "backfill_role_arn" {
  description = "Role for `secretwatch replay` backfills."
  value       = module.secretwatch.backfill_role_arn
}

output "alarm_names" {
  description = "The alarms."
  value       = module.secretwatch.alarm_names
}
