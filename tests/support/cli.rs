//! The Terraform CLI in a private work directory: the provider installed into a filesystem
//! mirror (nothing reaches the internet), each run bounded by a timeout and guarded so
//! Terraform and its plugins die with the test, and what a run printed, with Terraform's
//! own consistency checks asserted silent.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value as J;

use super::binaries::{provider_binary, provider_version, terraform};
use super::fixtures::{MAINTAINER_TOKEN, provider_block};
use super::sim::Sim;
use super::sim_launcher::guard;

pub const PROVIDER_SOURCE: &str = "registry.terraform.io/gitlab-rs/gitlab";

/// The Terraform CLI in a work directory wired to the freshly built provider. (Not
/// `grpc_support::ProtocolClient`, which speaks the plugin protocol itself.)
pub struct TerraformCli {
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

impl TerraformCli {
    /// A work dir using Terraform `version`, with the provider in a filesystem mirror
    /// and direct installs disabled: nothing reaches the internet.
    pub fn new(version: &str) -> TerraformCli {
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
        TerraformCli {
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
