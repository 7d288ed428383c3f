//! terraform-provider-gitlab: a Terraform/OpenTofu provider for GitLab group clusters.
pub mod protocol;
