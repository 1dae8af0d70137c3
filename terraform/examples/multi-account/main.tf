# Multi-account, multi-region: the monitor runs once, in the security account, on a central bus; every
# member account forwards its Secrets Manager and tampering events from each region it uses.
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

variable "home_region" {
  description = "Region of the central bus and the monitor."
  type        = string
  default     = "eu-west-1"
}

variable "security_account_role_arn" {
  description = "Role Terraform assumes in the security account."
  type        = string
}

variable "member_account_role_arn" {
  description = "Role Terraform assumes in the member account."
  type        = string
}

variable "member_account_id" {
  description = "The member account that forwards (add more accounts with more provider/module pairs, or use central_bus_source_organization_id)."
  type        = string
}

variable "member_regions" {
  description = "Regions of the member account to forward from."
  type        = list(string)
  default     = ["eu-west-1", "eu-central-1", "us-east-1"]
}

variable "lambda_zip_path" {
  description = "The zip built by `make lambda-zip`."
  type        = string
  default     = "../../../dist/secretwatch-lambda-arm64.zip"
}

variable "alert_email" {
  description = "Receives alerts and alarms."
  type        = string
}

provider "aws" {
  alias  = "security"
  region = var.home_region
  assume_role {
    role_arn = var.security_account_role_arn
  }
}

provider "aws" {
  alias  = "member"
  region = var.home_region
  assume_role {
    role_arn = var.member_account_role_arn
  }
}

# The monitor, in the security account: a rule on its own default bus and one on the central bus.
module "secretwatch" {
  source    = "../../modules/secretwatch"
  providers = { aws = aws.security }

  lambda_zip_path                = var.lambda_zip_path
  delivery_mode                  = "batch"
  create_central_event_bus       = true
  central_bus_source_account_ids = [var.member_account_id]
  alert_subscriptions            = [{ protocol = "email", endpoint = var.alert_email }]
  alarm_subscriptions            = [{ protocol = "email", endpoint = var.alert_email }]
}

# The security account's other regions forward to its own central bus as well (its home region is
# already covered by the monitor's rule on the default bus).
locals {
  security_other_regions = [for r in var.member_regions : r if r != var.home_region]
}

module "security_account_forwarder" {
  source    = "../../modules/secretwatch-forwarder"
  providers = { aws = aws.security }
  count     = length(local.security_other_regions) > 0 ? 1 : 0

  central_event_bus_arn = module.secretwatch.central_event_bus_arn
  regions               = local.security_other_regions
}

# A member account: one rule per region, one role, one dead-letter queue per region.
module "member_forwarder" {
  source    = "../../modules/secretwatch-forwarder"
  providers = { aws = aws.member }

  central_event_bus_arn = module.secretwatch.central_event_bus_arn
  regions               = var.member_regions
}

output "central_event_bus_arn" {
  description = "The central bus."
  value       = module.secretwatch.central_event_bus_arn
}

output "member_rule_arns" {
  description = "Forwarding rules of the member account, by region."
  value       = module.member_forwarder.rule_arns
}

output "member_dlq_urls" {
  description = "Dead-letter queues of the member account's forwarders, by region."
  value       = module.member_forwarder.dlq_urls
}
