# The EventBridge event pattern lives in one JSON file next to the parent module. Terraform reads it
# here; the Go tests under terraform/ read the same file and check it against the detector's list of
# handled events and against real CloudTrail records.
locals {
  event_pattern_object = jsondecode(file("${path.module}/../../event-pattern.json"))

  # eventSource => sorted event names, straight from the pattern (for outputs and documentation).
  # A source may have two branches: its API calls and its service events (Secrets Manager's
  # rotation events arrive as "AWS Service Event via CloudTrail").
  handled_events = {
    for src, names in {
      for branch in local.event_pattern_object["$or"] :
      branch.detail.eventSource[0] => branch.detail.eventName...
    } : src => sort(flatten(names))
  }
}
