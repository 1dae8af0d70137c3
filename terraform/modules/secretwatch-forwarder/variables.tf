variable "name" {
  description = "Name of the forwarding rules, prefix of the role and queue names."
  type        = string
  default     = "secretwatch-forward"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "central_event_bus_arn" {
  description = "ARN of the central bus created by the secretwatch module (output central_event_bus_arn) in the security account."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]+$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn must be an EventBridge event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)."
  }
}

variable "regions" {
  description = "Regions of this account to forward from (one rule and one dead-letter queue in each). Empty: the provider's region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))]) && length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must be distinct region names such as eu-west-1."
  }
}

variable "target_retry_attempts" {
  description = "EventBridge retries of an event it cannot put on the central bus before it goes to the dead-letter queue."
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
  description = "Message retention of the dead-letter queues, in seconds."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_retention_seconds >= 60 && var.dlq_retention_seconds <= 1209600
    error_message = "dlq_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "alarm_actions_by_region" {
  description = "Region => ARNs (SNS topics in that region) notified when that region's dead-letter queue is not empty. Alarm actions must be in the alarm's region."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for arns in values(var.alarm_actions_by_region) : alltrue([for a in arns : startswith(a, "arn:")])])
    error_message = "alarm_actions_by_region values must be lists of ARNs."
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
