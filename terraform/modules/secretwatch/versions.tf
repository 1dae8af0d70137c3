terraform {
  # 1.9: validations that refer to other variables.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.x: data.aws_region.region, rule `state`, Lambda JSON logging config.
      version = ">= 6.0.0, < 7.0.0"
    }
    archive = {
      source = "hashicorp/archive"
      # Only used to pack the optional allow-list layer.
      version = ">= 2.4.0, < 3.0.0"
    }
  }
}
