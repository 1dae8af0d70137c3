output "event_pattern" {
  description = "The EventBridge event pattern (JSON) read from ../secretwatch/event-pattern.json."
  value       = jsonencode(local.event_pattern_object)
}

output "assume_role_policy" {
  description = "Trust policy of the forwarder role (EventBridge)."
  value       = local.assume_role_policy
}

output "role_policy" {
  description = "Identity policy of the forwarder role: events:PutEvents on the central bus only."
  value       = local.role_policy
}

output "dlq_policies" {
  description = "Region => queue policy of the forwarder's dead-letter queue."
  value       = local.dlq_policies
}
