# Provider-free: computes the forwarder's policy documents and reads the shared event pattern, so it
# can be validated and evaluated offline.
terraform {
  required_version = ">= 1.9.0, < 2.0.0"
}
