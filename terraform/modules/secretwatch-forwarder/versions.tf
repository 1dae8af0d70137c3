terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.x: the per-resource `region` argument lets one module instance cover several regions.
      version = ">= 6.0.0, < 7.0.0"
    }
  }
}
