# The role EventBridge uses to put events on the central bus (required for a bus in another account or
# region). Its one statement names the bus.
locals {
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EventBridgeAssumesTheForwarderRole"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })

  role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PutEventsOnTheCentralBus"
        Effect   = "Allow"
        Action   = ["events:PutEvents"]
        Resource = [var.central_event_bus_arn]
      },
    ]
  })
}
