# The smallest useful deployment: direct mode (EventBridge -> Lambda), alerts by email, the account's
# existing trail.
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
  description = "Region to monitor (EventBridge rules are regional)."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_zip_path" {
  description = "The zip built by `make lambda-zip`."
  type        = string
  default     = "../../../dist/secretwatch-lambda-arm64.zip"
}

variable "alert_email" {
  description = "Address that receives every alert (confirm the subscription e-mail AWS sends)."
  type        = string
}

module "secretwatch" {
  source = "../../modules/secretwatch"

  lambda_zip_path     = var.lambda_zip_path
  alert_subscriptions = [{ protocol = "email", endpoint = var.alert_email }]
  alarm_subscriptions = [{ protocol = "email", endpoint = var.alert_email }]
}

output "function_name" {
  description = "The Lambda function."
  value       = module.secretwatch.function_name
}

output "alerts_topic_arn" {
  description = "The SNS alerts topic."
  value       = module.secretwatch.alerts_topic_arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.secretwatch.dashboard_name
}
