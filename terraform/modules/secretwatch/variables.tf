# ---------------------------------------------------------------------------------------------------
# Naming
# ---------------------------------------------------------------------------------------------------

variable "name" {
  description = "Name of the deployment: the Lambda function, and the prefix of every other resource name (roles, queues, topics, alarms, key alias)."
  type        = string
  default     = "secretwatch"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,23}$", var.name))
    error_message = "name must be 1-24 characters: lower-case letters, digits and hyphens, starting with a letter (it prefixes S3, SQS, IAM and alarm names)."
  }
}

variable "tags" {
  description = "Tags added to every resource that supports tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.tags) : length(k) > 0 && length(k) <= 128 && !startswith(lower(k), "aws:")])
    error_message = "Tag keys must be 1-128 characters and must not start with aws:."
  }
}

# ---------------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the deployment zip built by `make lambda-zip` (dist/secretwatch-lambda-arm64.zip): `bootstrap` and `allowlist.yaml` side by side."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "allowlist_path" {
  description = "Optional path of an allow-list YAML file. When set it is shipped as a Lambda layer (/opt/allowlist.yaml) and overrides the one bundled in the zip: editing it and running `terraform apply` redeploys without rebuilding Go. Null: use the allowlist.yaml bundled next to bootstrap."
  type        = string
  default     = null

  validation {
    condition     = var.allowlist_path == null || can(regex("\\.ya?ml$", coalesce(var.allowlist_path, "-")))
    error_message = "allowlist_path must name a .yaml or .yml file, or be null."
  }
}

variable "lambda_memory_size" {
  description = "Memory of the Lambda function in MB (CPU scales with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size
    error_message = "lambda_memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "lambda_timeout" {
  description = "Timeout of one invocation in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout >= 3 && var.lambda_timeout <= 900 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "lambda_timeout must be a whole number of seconds between 3 and 900."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the function: a cap that also protects DynamoDB and SNS from a storm. -1: unreserved (uses the account pool)."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions == -1 || (var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions)
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a whole number >= 1 (0 would stop the monitor)."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda's log group in days."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "log_level" {
  description = "SECRETWATCH_LOG_LEVEL of the Lambda."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the custom metrics (SECRETWATCH_METRICS_NAMESPACE); alarms and the dashboard read it."
  type        = string
  default     = "SecretWatch"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of [A-Za-z0-9._/#:-] and must not start with AWS/."
  }
}

variable "suppress_window" {
  description = "Alert suppression window as a Go duration (SECRETWATCH_SUPPRESS_WINDOW): repeats of one alert inside it become one alert with a count."
  type        = string
  default     = "1h"

  validation {
    condition     = can(regex("^[1-9][0-9]*(m|h)$", var.suppress_window))
    error_message = "suppress_window must be a whole number of minutes or hours, such as 30m or 1h (the Lambda refuses less than 1m)."
  }
}

variable "baseline_retention" {
  description = "Baseline retention as a Go duration (SECRETWATCH_RETENTION); items expire through the table's TTL."
  type        = string
  default     = "840h"

  validation {
    condition     = can(regex("^[1-9][0-9]*h$", var.baseline_retention)) && try(tonumber(trimsuffix(var.baseline_retention, "h")) >= 48, false)
    error_message = "baseline_retention must be a whole number of hours, at least 48h (the Lambda's minimum), such as 840h."
  }
}

variable "metric_secrets" {
  description = "Secret names that get a per-secret `Secret` dimension on SecretReads (SECRETWATCH_METRIC_SECRETS). Each one is a custom metric billed every month."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.metric_secrets) <= 50 && alltrue([for s in var.metric_secrets : length(s) > 0 && !strcontains(s, ",")])
    error_message = "metric_secrets must hold at most 50 non-empty secret names without commas."
  }
}

variable "async_max_retry_attempts" {
  description = "Direct mode: Lambda retries of a failed asynchronous invocation before it goes to the on-failure queue."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_max_retry_attempts)
    error_message = "async_max_retry_attempts must be 0, 1 or 2."
  }
}

variable "async_max_event_age_seconds" {
  description = "Direct mode: maximum age of an event waiting in Lambda's asynchronous queue before it goes to the on-failure queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.async_max_event_age_seconds >= 60 && var.async_max_event_age_seconds <= 21600
    error_message = "async_max_event_age_seconds must be between 60 and 21600."
  }
}

# ---------------------------------------------------------------------------------------------------
# Delivery: EventBridge -> Lambda (direct) or EventBridge -> SQS -> Lambda (batch)
# ---------------------------------------------------------------------------------------------------

variable "delivery_mode" {
  description = "\"direct\": EventBridge invokes the Lambda once per event (low volume). \"batch\": EventBridge sends to an SQS queue that the Lambda drains in batches with partial-batch failure reports (high volume)."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "batch"], var.delivery_mode)
    error_message = "delivery_mode must be direct or batch."
  }
}

variable "batch_size" {
  description = "Batch mode: maximum number of messages per invocation."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && (var.batch_size <= 10 || var.batch_max_window_seconds >= 1)
    error_message = "batch_size must be between 1 and 10000, and above 10 SQS requires batch_max_window_seconds >= 1."
  }
}

variable "batch_max_window_seconds" {
  description = "Batch mode: maximum batching window in seconds (how long Lambda gathers messages before invoking)."
  type        = number
  default     = 5

  validation {
    condition     = var.batch_max_window_seconds >= 0 && var.batch_max_window_seconds <= 300
    error_message = "batch_max_window_seconds must be between 0 and 300."
  }
}

variable "batch_max_concurrency" {
  description = "Batch mode: maximum concurrent invocations the SQS event source may start (2-1000), or null for no limit."
  type        = number
  default     = null

  validation {
    condition     = var.batch_max_concurrency == null || (coalesce(var.batch_max_concurrency, 2) >= 2 && coalesce(var.batch_max_concurrency, 2) <= 1000)
    error_message = "batch_max_concurrency must be between 2 and 1000, or null."
  }
}

variable "batch_max_receive_count" {
  description = "Batch mode: receives of one message before SQS moves it to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.batch_max_receive_count >= 1 && var.batch_max_receive_count <= 1000
    error_message = "batch_max_receive_count must be between 1 and 1000."
  }
}

variable "target_retry_attempts" {
  description = "EventBridge retries of an event it cannot deliver to the target before it goes to the dead-letter queue."
  type        = number
  default     = 185

  validation {
    condition     = var.target_retry_attempts >= 0 && var.target_retry_attempts <= 185
    error_message = "target_retry_attempts must be between 0 and 185."
  }
}

variable "target_max_event_age_seconds" {
  description = "Maximum age of an event EventBridge keeps retrying before it goes to the dead-letter queue."
  type        = number
  default     = 86400

  validation {
    condition     = var.target_max_event_age_seconds >= 60 && var.target_max_event_age_seconds <= 86400
    error_message = "target_max_event_age_seconds must be between 60 and 86400."
  }
}

variable "dlq_retention_seconds" {
  description = "Message retention of the dead-letter and on-failure queues, in seconds (time you have to replay them)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_retention_seconds >= 60 && var.dlq_retention_seconds <= 1209600
    error_message = "dlq_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Event buses (multi-account / multi-region)
# ---------------------------------------------------------------------------------------------------

variable "monitor_default_bus" {
  description = "Put a rule on this account's default event bus in this region (the account and region the module is applied to)."
  type        = bool
  default     = true

  validation {
    condition     = var.monitor_default_bus || var.create_central_event_bus
    error_message = "At least one of monitor_default_bus and create_central_event_bus must be true, or nothing is monitored."
  }
}

variable "create_central_event_bus" {
  description = "Create a central event bus that secretwatch-forwarder modules in other accounts or regions send to, with a rule on it."
  type        = bool
  default     = false
}

variable "central_event_bus_name" {
  description = "Name of the central event bus."
  type        = string
  default     = "secretwatch-central"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,256}$", var.central_event_bus_name)) && var.central_event_bus_name != "default"
    error_message = "central_event_bus_name must be 1-256 characters of [A-Za-z0-9._-] and not \"default\"."
  }
}

variable "central_bus_source_account_ids" {
  description = "Accounts whose forwarders may put events on the central bus."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.central_bus_source_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "central_bus_source_account_ids must be 12-digit account IDs."
  }
}

variable "central_bus_source_organization_id" {
  description = "AWS Organizations ID whose accounts may put events on the central bus, or null."
  type        = string
  default     = null

  validation {
    condition     = var.central_bus_source_organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", coalesce(var.central_bus_source_organization_id, "-")))
    error_message = "central_bus_source_organization_id must look like o-abcdefghij, or be null."
  }
}

# ---------------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------------

variable "table_name" {
  description = "Name of the DynamoDB baseline table (SECRETWATCH_TABLE). Null: the deployment name."
  type        = string
  default     = null

  validation {
    condition     = var.table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", coalesce(var.table_name, "-")))
    error_message = "table_name must be 3-255 characters of [A-Za-z0-9_.-], or null."
  }
}

variable "table_deletion_protection" {
  description = "Deletion protection of the baseline table (turn off only to destroy the deployment)."
  type        = bool
  default     = true
}

variable "table_customer_key" {
  description = "Encrypt the baseline table with the module's KMS key (customer managed). False: DynamoDB's AWS owned key (no KMS cost or permissions for DynamoDB)."
  type        = bool
  default     = true
}

variable "table_point_in_time_recovery" {
  description = "Point-in-time recovery of the baseline table."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------
# KMS
# ---------------------------------------------------------------------------------------------------

variable "kms_key_administrator_arns" {
  description = "Principals that administer the module's KMS key (never encrypt or decrypt with it). Empty: the account root, i.e. whoever IAM allows to. If you name principals, include the one that runs Terraform or key creation fails the lockout check."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_key_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", a))])
    error_message = "kms_key_administrator_arns must be IAM ARNs."
  }
}

variable "kms_key_user_arns" {
  description = "Extra principals (operators reading the dead-letter queue, the weekly report job) that may decrypt through DynamoDB and SQS (and S3 when a trail is created)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_key_user_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", a))])
    error_message = "kms_key_user_arns must be IAM ARNs."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the KMS key is deleted after `terraform destroy`."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

# ---------------------------------------------------------------------------------------------------
# SNS
# ---------------------------------------------------------------------------------------------------

variable "alert_subscriptions" {
  description = "Subscriptions to the alerts topic. severities filters on the `severity` message attribute (critical, high, medium, low); empty: every alert."
  type = list(object({
    protocol   = string
    endpoint   = string
    severities = optional(list(string), [])
  }))
  default = []

  validation {
    condition = alltrue([
      for s in var.alert_subscriptions :
      contains(["email", "email-json", "https"], s.protocol)
      && length(s.endpoint) > 0
      && (s.protocol != "https" || startswith(s.endpoint, "https://"))
      && alltrue([for v in s.severities : contains(["critical", "high", "medium", "low"], v)])
    ])
    error_message = "Each alert subscription needs protocol email, email-json or https (with an https:// endpoint), and severities among critical, high, medium, low."
  }
}

variable "alarm_subscriptions" {
  description = "Subscriptions to the alarms topic (operational alarms: errors, dead letters, dead-man)."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition = alltrue([
      for s in var.alarm_subscriptions :
      contains(["email", "email-json", "https"], s.protocol) && length(s.endpoint) > 0 && (s.protocol != "https" || startswith(s.endpoint, "https://"))
    ])
    error_message = "Each alarm subscription needs protocol email, email-json or https (with an https:// endpoint)."
  }
}

variable "alarm_actions" {
  description = "Extra ARNs (e.g. an existing on-call SNS topic) notified by every alarm, besides the module's alarms topic."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_actions : startswith(a, "arn:")])
    error_message = "alarm_actions must be ARNs."
  }
}

# ---------------------------------------------------------------------------------------------------
# CloudTrail
# ---------------------------------------------------------------------------------------------------

variable "create_trail" {
  description = "Create a multi-region trail logging management events (Read and Write) to a new encrypted S3 bucket. Only for accounts without one: a second trail of management events is billed."
  type        = bool
  default     = false
}

variable "trail_log_retention_days" {
  description = "Days the created trail's log files are kept in S3."
  type        = number
  default     = 365

  validation {
    condition     = var.trail_log_retention_days >= 1 && var.trail_log_retention_days <= 3653
    error_message = "trail_log_retention_days must be between 1 and 3653."
  }
}

variable "trail_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the trail bucket with its log files."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------------
# Alarms and dashboard
# ---------------------------------------------------------------------------------------------------

variable "dead_man_hours" {
  description = "Dead-man alarm: hours without a single EventsProcessed before it fires (missing data counts as breaching). Pick more than the longest quiet gap of the account."
  type        = number
  default     = 6

  validation {
    condition     = var.dead_man_hours >= 1 && var.dead_man_hours <= 24 && floor(var.dead_man_hours) == var.dead_man_hours
    error_message = "dead_man_hours must be a whole number between 1 and 24."
  }
}

variable "enable_read_anomaly_alarm" {
  description = "Alarm when SecretReads rise above CloudWatch's anomaly-detection band (a spike check independent of the detector's read-spike rule)."
  type        = bool
  default     = true
}

variable "read_anomaly_band_width" {
  description = "Width of the anomaly-detection band in standard deviations."
  type        = number
  default     = 3

  validation {
    condition     = var.read_anomaly_band_width >= 1 && var.read_anomaly_band_width <= 10
    error_message = "read_anomaly_band_width must be between 1 and 10."
  }
}

variable "parse_failure_threshold" {
  description = "Alarm when more than this many ParseFailures happen in 5 minutes."
  type        = number
  default     = 0

  validation {
    condition     = var.parse_failure_threshold >= 0
    error_message = "parse_failure_threshold must be >= 0."
  }
}

variable "batch_queue_age_threshold_seconds" {
  description = "Batch mode: alarm when the oldest message in the batch queue is older than this."
  type        = number
  default     = 900

  validation {
    condition     = var.batch_queue_age_threshold_seconds >= 60
    error_message = "batch_queue_age_threshold_seconds must be >= 60."
  }
}

variable "create_dashboard" {
  description = "Create the CloudWatch dashboard."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------
# CLI backfill role
# ---------------------------------------------------------------------------------------------------

variable "backfill_principal_arns" {
  description = "IAM principals allowed to assume a role for `secretwatch replay` backfilling the table from old logs (table, alerts topic, PutMetricData in the namespace). Empty: no role."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.backfill_principal_arns : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:", a))])
    error_message = "backfill_principal_arns must be IAM ARNs."
  }
}

# ---------------------------------------------------------------------------------------------------
# Backfill fan-out (Step Functions Distributed Map), off by default
# ---------------------------------------------------------------------------------------------------

variable "backfill_fanout_bucket" {
  description = "Trail bucket to backfill from with a Step Functions Distributed Map fanning out over the Lambda (docs/backfill.md). Null: no state machine, and the Lambda gets no S3 access."
  type        = string
  default     = null

  validation {
    condition     = var.backfill_fanout_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.backfill_fanout_bucket, "-")))
    error_message = "backfill_fanout_bucket must be an S3 bucket name or null."
  }
}

variable "backfill_fanout_prefix" {
  description = "Key prefix of the CloudTrail logs in backfill_fanout_bucket (AWSLogs/, or AWSLogs/o-abc123/ for an organisation trail): the state machine and the Lambda may read nothing else."
  type        = string
  default     = "AWSLogs/"

  validation {
    condition     = can(regex("^([A-Za-z0-9!_.()'-]+/)*$", var.backfill_fanout_prefix))
    error_message = "backfill_fanout_prefix must be empty or end with /, without wildcards."
  }
}

variable "backfill_fanout_batch_size" {
  description = "Log objects per Lambda invocation of the fan-out (ItemBatcher MaxItemsPerBatch)."
  type        = number
  default     = 100

  validation {
    condition     = var.backfill_fanout_batch_size >= 1 && var.backfill_fanout_batch_size <= 1000
    error_message = "backfill_fanout_batch_size must be 1 to 1000."
  }
}

variable "backfill_fanout_max_concurrency" {
  description = "Lambda invocations of the fan-out at once (Distributed Map MaxConcurrency); mind the account's Lambda concurrency and the table's capacity."
  type        = number
  default     = 100

  validation {
    condition     = var.backfill_fanout_max_concurrency >= 1 && var.backfill_fanout_max_concurrency <= 10000
    error_message = "backfill_fanout_max_concurrency must be 1 to 10000."
  }
}
# ---- Scheduled weekly report (docs/report.md, "Scheduled delivery") ----

variable "report_schedule_expression" {
  description = "EventBridge Scheduler expression of the weekly report (e.g. cron(0 6 ? * MON *): Mondays 06:00 in report_schedule_timezone), or null for no scheduled report."
  type        = string
  default     = "cron(0 6 ? * MON *)"

  validation {
    condition     = var.report_schedule_expression == null || can(regex("^(cron|rate|at)\\(.+\\)$", coalesce(var.report_schedule_expression, "-")))
    error_message = "report_schedule_expression must be a cron(...), rate(...) or at(...) expression, or null."
  }
}

variable "report_schedule_timezone" {
  description = "Time zone of report_schedule_expression (IANA name). The report itself always covers whole UTC days."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", var.report_schedule_timezone))
    error_message = "report_schedule_timezone must be an IANA time zone name such as UTC or Europe/Paris."
  }
}

variable "report_days" {
  description = "Days the scheduled report covers: the whole UTC days before the day it runs."
  type        = number
  default     = 7

  validation {
    condition     = var.report_days >= 1 && var.report_days <= 31 && floor(var.report_days) == var.report_days
    error_message = "report_days must be a whole number between 1 and 31."
  }
}

variable "report_bucket_enabled" {
  description = "Create a private, encrypted bucket for the scheduled report's files (HTML, CSV and JSON). Without it the report is only summarised on the alerts topic."
  type        = bool
  default     = true
}

variable "report_prefix" {
  description = "Key prefix of the report files in the report bucket."
  type        = string
  default     = "reports/"

  validation {
    condition     = can(regex("^([A-Za-z0-9._-]+/)+$", var.report_prefix))
    error_message = "report_prefix must be one or more path segments of letters, digits and ._-, ending in /."
  }
}

variable "report_retention_days" {
  description = "Days the report files are kept in the report bucket."
  type        = number
  default     = 400

  validation {
    condition     = var.report_retention_days >= 1 && var.report_retention_days <= 3653
    error_message = "report_retention_days must be between 1 and 3653."
  }
}

variable "report_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the report bucket with its files."
  type        = bool
  default     = false
}
