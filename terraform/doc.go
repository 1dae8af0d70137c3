// Package terraform holds the Terraform of secretwatch: the reusable modules (modules/secretwatch,
// modules/secretwatch-forwarder), their provider-free documents sub-modules and the examples.
//
// Its Go tests check the configuration offline, without the AWS provider: canonical formatting,
// the EventBridge event pattern against the detector and against real CloudTrail records, every IAM
// and resource policy (evaluated from the documents modules), the Lambda environment against the
// Lambda's code, variables, outputs and references. Where a terraform binary is installed they also
// run `terraform fmt`, and init, validate and plan the provider-free modules.
package terraform
