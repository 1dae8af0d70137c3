# Provider-free on purpose: this module only computes JSON documents (the event pattern and every
# IAM, KMS, SNS, SQS, S3 and EventBridge policy of the parent module) from names and ARNs. Without a
# provider it can be `terraform init`ed, validated and evaluated offline, and the Go tests under
# terraform/ evaluate the same expressions with the HCL library.
terraform {
  required_version = ">= 1.9.0, < 2.0.0"
}
