//! GitLab API client for the certificate-based cluster endpoints: configuration
//! (`config.rs`), the transport with its retry decision (`transport.rs`, `retry.rs`,
//! `pacer.rs`), the endpoints of a cluster owner (`clusters.rs`) and creation that survives
//! a lost answer (`create.rs`), typed bodies and errors, TLS, and GitLab's client config
//! file (`config_file.rs`, read with the small YAML reader `yaml.rs`). Knows nothing about Terraform.
pub mod client;
pub mod clusters;
pub mod config;
pub mod config_file;
pub mod create;
pub mod error;
#[cfg(test)]
mod fake_gitlab;
pub mod pacer;
pub mod retry;
pub mod tls;
mod transport;
pub mod types;
pub mod yaml;

pub use client::Client;
pub use clusters::ClusterOwner;
pub use config::{ClientConfig, ConfigError};
pub use create::Created;
pub use error::Error;
