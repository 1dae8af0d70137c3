variable "partition" {
  description = "AWS partition of the source account (aws, aws-cn, aws-us-gov)."
  type        = string

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "central_event_bus_arn" {
  description = "ARN of the central event bus the forwarder sends to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]+$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn must be an EventBridge event bus ARN."
  }
}

variable "rule_arns" {
  description = "Region => ARN of the forwarding rule in that region (aws:SourceArn of EventBridge)."
  type        = map(string)

  validation {
    condition     = length(var.rule_arns) > 0 && alltrue([for a in values(var.rule_arns) : startswith(a, "arn:")])
    error_message = "rule_arns must map regions to rule ARNs."
  }
}

variable "dlq_arns" {
  description = "Region => ARN of the forwarder's dead-letter queue in that region."
  type        = map(string)

  validation {
    condition     = alltrue([for a in values(var.dlq_arns) : startswith(a, "arn:")])
    error_message = "dlq_arns must map regions to queue ARNs."
  }
}
