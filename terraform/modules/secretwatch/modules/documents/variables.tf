variable "partition" {
  description = "AWS partition of the account (aws, aws-cn, aws-us-gov)."
  type        = string

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "region" {
  description = "Region the monitor is deployed in (used for kms:ViaService values and ARNs)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "account_id" {
  description = "12-digit ID of the account the monitor is deployed in."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "name" {
  description = "Name prefix of the deployment (alarm names start with it)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,23}$", var.name))
    error_message = "name must be 1-24 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "lambda_role_arn" {
  description = "ARN of the Lambda execution role."
  type        = string

  validation {
    condition     = startswith(var.lambda_role_arn, "arn:")
    error_message = "lambda_role_arn must be an ARN."
  }
}

variable "backfill_role_arn" {
  description = "ARN of the optional CLI backfill role, or null when it is not created."
  type        = string
  default     = null

  validation {
    condition     = var.backfill_role_arn == null || startswith(coalesce(var.backfill_role_arn, "-"), "arn:")
    error_message = "backfill_role_arn must be an ARN or null."
  }
}

variable "backfill_principal_arns" {
  description = "IAM principals allowed to assume the backfill role (empty: no backfill role)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.backfill_principal_arns : startswith(a, "arn:")])
    error_message = "backfill_principal_arns must be ARNs."
  }
}

variable "table_arn" {
  description = "ARN of the DynamoDB baseline table."
  type        = string

  validation {
    condition     = startswith(var.table_arn, "arn:")
    error_message = "table_arn must be an ARN."
  }
}

variable "table_encrypted_with_key" {
  description = "Whether the table is encrypted with kms_key_arn (false: DynamoDB's AWS owned key, so nobody needs the key through DynamoDB)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of the module's KMS key (SNS, SQS, DynamoDB, CloudWatch Logs, CloudTrail)."
  type        = string

  validation {
    condition     = startswith(var.kms_key_arn, "arn:")
    error_message = "kms_key_arn must be an ARN."
  }
}

variable "kms_key_administrator_arns" {
  description = "Principals that administer the key (no encrypt/decrypt). Empty: the account root, i.e. IAM policies decide."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_key_administrator_arns : startswith(a, "arn:")])
    error_message = "kms_key_administrator_arns must be ARNs."
  }
}

variable "kms_key_user_arns" {
  description = "Extra principals (operators, report jobs) that may decrypt through DynamoDB and SQS (and S3 when a trail is created)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_key_user_arns : startswith(a, "arn:")])
    error_message = "kms_key_user_arns must be ARNs."
  }
}

variable "alerts_topic_arn" {
  description = "ARN of the SNS topic that receives alerts (only the Lambda and the backfill role may publish)."
  type        = string

  validation {
    condition     = startswith(var.alerts_topic_arn, "arn:")
    error_message = "alerts_topic_arn must be an ARN."
  }
}

variable "alarms_topic_arn" {
  description = "ARN of the SNS topic that CloudWatch alarms publish to."
  type        = string

  validation {
    condition     = startswith(var.alarms_topic_arn, "arn:")
    error_message = "alarms_topic_arn must be an ARN."
  }
}

variable "dlq_arn" {
  description = "ARN of the SQS dead-letter queue of the EventBridge target(s) and of the batch queue."
  type        = string

  validation {
    condition     = startswith(var.dlq_arn, "arn:")
    error_message = "dlq_arn must be an ARN."
  }
}

variable "on_failure_queue_arn" {
  description = "ARN of the SQS on-failure destination of asynchronous invocations (direct mode), or null."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_queue_arn == null || startswith(coalesce(var.on_failure_queue_arn, "-"), "arn:")
    error_message = "on_failure_queue_arn must be an ARN or null."
  }
}

variable "batch_queue_arn" {
  description = "ARN of the SQS queue between EventBridge and the Lambda (batch mode), or null."
  type        = string
  default     = null

  validation {
    condition     = var.batch_queue_arn == null || startswith(coalesce(var.batch_queue_arn, "-"), "arn:")
    error_message = "batch_queue_arn must be an ARN or null."
  }
}

variable "log_group_name" {
  description = "Name of the Lambda's CloudWatch Logs log group."
  type        = string

  validation {
    condition     = startswith(var.log_group_name, "/aws/lambda/")
    error_message = "log_group_name must be the Lambda's /aws/lambda/<function> group."
  }
}

variable "rule_arns" {
  description = "ARNs of the EventBridge rules that deliver to the Lambda or the batch queue (aws:SourceArn of EventBridge)."
  type        = list(string)

  validation {
    condition     = length(var.rule_arns) > 0 && alltrue([for a in var.rule_arns : startswith(a, "arn:")])
    error_message = "rule_arns must be a non-empty list of ARNs."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the backfill role may put metrics in (cloudwatch:namespace condition)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be a custom CloudWatch namespace (not AWS/...)."
  }
}

variable "trail_arn" {
  description = "ARN of the trail this module creates, or null when it creates none."
  type        = string
  default     = null

  validation {
    condition     = var.trail_arn == null || startswith(coalesce(var.trail_arn, "-"), "arn:")
    error_message = "trail_arn must be an ARN or null."
  }
}

variable "trail_bucket_arn" {
  description = "ARN of the S3 bucket of the trail this module creates, or null."
  type        = string
  default     = null

  validation {
    condition     = var.trail_bucket_arn == null || startswith(coalesce(var.trail_bucket_arn, "-"), "arn:")
    error_message = "trail_bucket_arn must be an ARN or null."
  }
}

variable "central_event_bus_arn" {
  description = "ARN of the central event bus this module creates, or null."
  type        = string
  default     = null

  validation {
    condition     = var.central_event_bus_arn == null || startswith(coalesce(var.central_event_bus_arn, "-"), "arn:")
    error_message = "central_event_bus_arn must be an ARN or null."
  }
}

variable "source_account_ids" {
  description = "Accounts whose forwarders may put events on the central bus."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.source_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "source_account_ids must be 12-digit account IDs."
  }
}

variable "source_organization_id" {
  description = "AWS Organizations ID whose accounts may put events on the central bus, or null."
  type        = string
  default     = null

  validation {
    condition     = var.source_organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", coalesce(var.source_organization_id, "-")))
    error_message = "source_organization_id must look like o-abcdefghij."
  }
}

variable "lambda_function_arn" {
  description = "ARN of the Lambda function (the backfill state machine invokes it); null without fan-out."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_function_arn == null || startswith(coalesce(var.lambda_function_arn, "-"), "arn:")
    error_message = "lambda_function_arn must be an ARN or null."
  }
}

variable "fanout_bucket_name" {
  description = "Trail bucket the optional backfill state machine (Step Functions Distributed Map) reads; null: no fan-out."
  type        = string
  default     = null

  validation {
    condition     = var.fanout_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.fanout_bucket_name, "-")))
    error_message = "fanout_bucket_name must be an S3 bucket name or null."
  }
}

variable "fanout_prefix" {
  description = "Key prefix of the CloudTrail logs in the trail bucket (e.g. AWSLogs/ or AWSLogs/o-abc123/): the fan-out reads nothing else."
  type        = string
  default     = "AWSLogs/"

  validation {
    condition     = can(regex("^([A-Za-z0-9!_.()'-]+/)*$", var.fanout_prefix))
    error_message = "fanout_prefix must be empty or end with /, without wildcards."
  }
}

variable "fanout_batch_size" {
  description = "Objects per Lambda invocation of the fan-out (the Distributed Map's ItemBatcher MaxItemsPerBatch)."
  type        = number
  default     = 100

  validation {
    condition     = var.fanout_batch_size >= 1 && var.fanout_batch_size <= 1000
    error_message = "fanout_batch_size must be 1 to 1000 (the Lambda refuses bigger batches)."
  }
}

variable "fanout_max_concurrency" {
  description = "Lambda invocations of the fan-out at once (the Distributed Map's MaxConcurrency)."
  type        = number
  default     = 100

  validation {
    condition     = var.fanout_max_concurrency >= 1 && var.fanout_max_concurrency <= 10000
    error_message = "fanout_max_concurrency must be 1 to 10000."
  }
}

variable "report_bucket_arn" {
  description = "ARN of the bucket the scheduled weekly report is written to, or null (no bucket: the summary goes to the alerts topic only)."
  type        = string
  default     = null

  validation {
    condition     = var.report_bucket_arn == null || startswith(coalesce(var.report_bucket_arn, "-"), "arn:")
    error_message = "report_bucket_arn must be an ARN or null."
  }
}

variable "report_prefix" {
  description = "Key prefix of the report files in report_bucket_arn (the Lambda may put objects under it only)."
  type        = string
  default     = "reports/"

  validation {
    condition     = can(regex("^([A-Za-z0-9._-]+/)+$", var.report_prefix))
    error_message = "report_prefix must be one or more path segments of letters, digits and ._-, ending in /."
  }
}

variable "report_function_arn" {
  description = "ARN of the Lambda function the EventBridge Scheduler schedule invokes for the weekly report, or null (no schedule)."
  type        = string
  default     = null

  validation {
    condition     = var.report_function_arn == null || startswith(coalesce(var.report_function_arn, "-"), "arn:")
    error_message = "report_function_arn must be an ARN or null."
  }
}
