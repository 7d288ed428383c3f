//! GitLab API client for the group clusters endpoints: HTTP, retries, typed bodies and
//! errors. Knows nothing about Terraform.
pub mod client;
pub mod config_file;
pub mod error;
pub mod pacer;
pub mod tls;
pub mod types;

pub use client::{Client, ClientConfig, ConfigError, Created};
pub use error::Error;
