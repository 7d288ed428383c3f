//! End-to-end test support, one job per module:
//!
//! - [`binaries`]: the Terraform CLI to run (fetched via `.ci/fetch-tools`, or the newest
//!   >= 1.11 on this machine) and the freshly built provider.
//! - [`sim`]: the GitLab simulator started with the test seed, and its test controls.
//! - [`cli`]: [`TerraformCli`], Terraform run in a private work directory whose filesystem
//!   mirror holds the provider, with a timeout, and what each run printed.
//! - [`fixtures`]: the seed's tokens and the HCL the tests write.
//! - [`families`]: the three owners of clusters (group, project, instance) as data, so that
//!   one test body runs for each.
//!
//! Everything is re-exported here, so a test writes `use support::*;`.
#![allow(dead_code)]

/// The one launcher of the simulator and guard of every child (the `gitlab-sim` package's
/// test harness, a dev-dependency).
pub use gitlab_sim as sim_launcher;

pub mod binaries;
pub mod cli;
pub mod families;
pub mod fixtures;
pub mod sim;

use std::path::PathBuf;

#[allow(unused_imports)]
pub use binaries::{
    EVERY_TERRAFORM, FETCH_LIMIT, MODERN, MODERN_MIN, provider_binary, provider_version, terraform,
    terraform_modern, terraform_modern_version,
};
#[allow(unused_imports)]
pub use cli::{PROVIDER_SOURCE, Run, TerraformCli};
#[allow(unused_imports)]
pub use families::{ADMIN_TOKEN, Family, providers, writers};
#[allow(unused_imports)]
pub use fixtures::{
    DEVELOPER_TOKEN, KUBE_TOKEN, MAINTAINER_OAUTH_TOKEN, MAINTAINER_TOKEN, ca_cert_pem,
    cluster_block, provider_block,
};
#[allow(unused_imports)]
pub use sim::Sim;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}
