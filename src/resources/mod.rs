//! The GitLab mapping: the provider's configuration, the `gitlab_group_cluster` resource
//! and its data sources, each on typed structs over the framework.
pub mod cluster;
pub mod errors;
pub mod group_cluster;
pub mod group_cluster_data;
pub mod group_clusters_data;
pub mod provider;
mod provider_client;

pub use provider::GitlabProvider;

/// The registry address the provider is published under.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/gitlab-rs/gitlab";
