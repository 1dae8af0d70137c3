output "role_arn" {
  description = "ARN of the role EventBridge uses to put events on the central bus."
  value       = aws_iam_role.forwarder.arn
}

output "rule_arns" {
  description = "Region => ARN of the forwarding rule."
  value       = { for r, rule in aws_cloudwatch_event_rule.forward : r => rule.arn }
}

output "dlq_urls" {
  description = "Region => URL of the forwarder's dead-letter queue."
  value       = { for r, q in aws_sqs_queue.dlq : r => q.id }
}

output "regions" {
  description = "Regions the forwarder covers."
  value       = sort(tolist(local.regions))
}
