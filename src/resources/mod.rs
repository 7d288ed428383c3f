//! The GitLab mapping: the provider's configuration, and the certificate-based cluster
//! resource and data sources of each owner (group, project, instance), written once over the
//! owner's [`family::Family`], on typed structs over the framework.
pub mod cluster;
pub mod cluster_data;
pub mod cluster_resource;
pub mod clusters_data;
pub mod errors;
pub mod family;
pub mod provider;
mod provider_client;

pub use provider::GitlabProvider;

/// The registry address the provider is published under.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/gitlab-rs/gitlab";
