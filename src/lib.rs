//! terraform-provider-gitlab: a Terraform/OpenTofu provider for GitLab group clusters.
//!
//! Layers, one direction: `protocol` (wire) → `framework` (typed resources, plan rules) →
//! `resources` (the GitLab mapping) → `gitlab` (API client).
pub mod docs;
pub mod framework;
pub mod gitlab;
pub mod protocol;
pub mod resources;
pub mod secret;
pub mod tls_provider;
