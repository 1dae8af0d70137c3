# The same single event-pattern file as the monitor: a forwarder sends exactly what the monitor handles.
locals {
  event_pattern_object = jsondecode(file("${path.module}/../../../secretwatch/event-pattern.json"))
}
