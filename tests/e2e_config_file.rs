//! End-to-end, with the newest Terraform on PATH (>= 1.11) against the simulator: the
//! official provider's `config_file` + `context` provider block plans and applies unchanged,
//! takes server and token from the GitLab client configuration file, keeps the file's token
//! out of every log line, and reports a bad context at `context`.

mod support;

use std::path::PathBuf;

use serde_json::Value as J;
use support::*;

const FILE_TOKEN_VAR: &str = "SIM_TOKEN_FROM_FILE_ENV";

/// `TF_ACC_TERRAFORM_PATH`, else `terraform` on PATH, which must be >= 1.11; missing, the
/// test fails saying what to install.
fn modern_terraform() -> PathBuf {
    let candidate = std::env::var_os("TF_ACC_TERRAFORM_PATH")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join("terraform"))
                    .find(|p| p.is_file())
            })
        })
        .unwrap_or_else(|| {
            panic!(
                "no Terraform >= 1.11 found: install Terraform 1.11 or newer on PATH, or set \
                 TF_ACC_TERRAFORM_PATH to its binary"
            )
        });
    let out = std::process::Command::new(&candidate)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", candidate.display()));
    let v: J = serde_json::from_slice(&out.stdout).unwrap_or(J::Null);
    let version = v["terraform_version"].as_str().unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    assert!(
        (major, minor) >= (1, 11),
        "{} is Terraform {version:?}; this test needs Terraform >= 1.11",
        candidate.display()
    );
    candidate
}

/// A GitLab client config file for the simulator: context `sim` (the maintainer's token
/// inline) and context `sim-env` (the token from an environment variable).
fn config_file(sim: &Sim) -> String {
    format!(
        "version: gitlab.com/config/v1beta1
current-context: sim
instances:
  - name: simulator
    server: {}
auths:
  - name: maintainer-inline
    auth-info:
      personal-access-token:
        token: {MAINTAINER_TOKEN}
  - name: maintainer-env
    auth-info:
      personal-access-token:
        token-source:
          env-var: {FILE_TOKEN_VAR}
contexts:
  - name: sim
    instance: simulator
    auth: maintainer-inline
  - name: sim-env
    instance: simulator
    auth: maintainer-env
",
        sim.url
    )
}

fn work_dir(sim: &Sim, context: &str) -> TerraformCli {
    let mut tf = TerraformCli::new("1.0.3");
    tf.bin = modern_terraform();
    for k in [
        "GITLAB_TOKEN",
        "GITLAB_BASE_URL",
        "GITLAB_CONTEXT",
        "GITLAB_CONFIG_FILE",
    ] {
        tf.set_env(k, "");
    }
    tf.set_env(FILE_TOKEN_VAR, MAINTAINER_TOKEN);
    tf.write("gitlab.yaml", &config_file(sim));
    tf.write(
        "main.tf",
        &format!(
            "terraform {{\n  required_providers {{\n    gitlab = {{ source = \"gitlab-rs/gitlab\" }}\n  }}\n}}\n\n\
             provider \"gitlab\" {{\n  config_file = \"${{path.module}}/gitlab.yaml\"\n  context     = \"{context}\"\n}}\n\n{}",
            cluster_block("from_file", "")
        ),
    );
    tf.init();
    tf
}

#[test]
fn a_config_file_and_context_provider_block_plans_and_applies_on_terraform_1_11() {
    let sim = Sim::start();
    for context in ["sim", "sim-env"] {
        let mut tf = work_dir(&sim, context);
        let log = tf.dir.path().join("trace.log");
        tf.set_env("TF_LOG", "TRACE");
        tf.set_env("TF_LOG_PATH", &log.display().to_string());
        let plan = tf.plan().ok_with_code(2);
        assert!(
            plan.stdout
                .contains("gitlab_group_cluster.from_file will be created"),
            "{}",
            plan.all()
        );
        tf.apply().ok();
        let state = tf.resource("gitlab_group_cluster.from_file");
        assert_eq!(state["name"], "from_file", "{state}");
        assert!(
            sim.clusters().iter().any(|c| c["name"] == "from_file"),
            "{context}: the cluster is in GitLab: {:?}",
            sim.clusters()
        );
        tf.plan().ok_with_code(0);
        let trace = std::fs::read_to_string(&log).expect("trace log");
        assert!(
            trace.contains("authenticated to GitLab"),
            "{context}: the provider's log is in the trace"
        );
        assert!(
            !trace.contains(MAINTAINER_TOKEN),
            "{context}: the file's token leaked into the TRACE log"
        );
        tf.destroy().ok();
    }
}

#[test]
fn an_unknown_context_is_an_error_at_context_naming_the_file() {
    let sim = Sim::start();
    let tf = work_dir(&sim, "staging");
    let r = tf.plan().ok_with_code(1);
    let all = r.all();
    assert!(
        all.contains("Unknown GitLab configuration context")
            && all.contains("gitlab.yaml")
            && all.contains("\"staging\"")
            && all.contains("\"sim\", \"sim-env\""),
        "{all}"
    );
    assert!(all.contains("context"), "{all}");
    assert!(
        !sim.clusters().iter().any(|c| c["name"] == "from_file"),
        "nothing was created"
    );
}
