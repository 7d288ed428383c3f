//! The guide "Testing your modules offline", run as written: the example modules
//! `examples/modules/group-clusters/` (one group cluster per environment) and
//! `examples/modules/shared-cluster/` (one cluster of each kind: group, project and instance,
//! the last through an aliased provider with an administrator's token) and their
//! `terraform test` suites, through the guide's own script (`examples/modules/test-offline.sh`:
//! gitlab-sim in the background, the provider from a filesystem mirror, `terraform test` in
//! each module), with the newest Terraform on this machine — never the internet.
//!
//! Terraform comes from `TF_ACC_TERRAFORM_PATH` if set, else `terraform` on PATH, and must be
//! at least 1.6 (the first with `terraform test`); otherwise the test fails saying what to
//! install.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// The example modules, next to the guide's script.
const MODULES: &str = "examples/modules";
/// Each example module, with the `run` blocks its `terraform test` must pass.
const SUITES: [(&str, &[&str]); 2] = [
    (
        "group-clusters",
        &[
            "creates_one_cluster_per_environment",
            "refuses_an_environment_name_that_is_not_a_plain_name",
            "refuses_a_plain_http_api_url",
            "updates_a_cluster_in_place_when_its_domain_and_name_change",
            "plans_new_clusters_when_the_group_changes",
            "replaces_the_clusters_in_the_new_group",
            "leaves_no_cluster_in_the_old_group",
        ],
    ),
    (
        "shared-cluster",
        &[
            "creates_one_cluster_of_each_kind",
            "gitlab_holds_each_cluster_at_its_level",
            "changes_the_environment_scope_in_place_at_every_level",
            "removes_the_instance_cluster_alone",
        ],
    ),
];
/// The first Terraform release with `terraform test` and its `.tftest.hcl` syntax.
const MINIMUM: (u64, u64) = (1, 6);

/// The Terraform to use: `explicit` (`TF_ACC_TERRAFORM_PATH`) or `terraform` on PATH, with
/// its version; an error saying what to install when there is none, or it is too old.
fn newest_terraform(explicit: Option<PathBuf>) -> Result<(PathBuf, String), String> {
    let install = "install Terraform 1.6 or newer (1.11 is what this project tests with; \
                   `.ci/fetch-tools terraform 1.11.4` prints the path of one) and put it on PATH \
                   or set TF_ACC_TERRAFORM_PATH to it";
    let (bin, origin) = match explicit {
        Some(p) => (p, "TF_ACC_TERRAFORM_PATH"),
        None => (PathBuf::from("terraform"), "PATH"),
    };
    let out = Command::new(&bin)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "no Terraform from {origin} ({}: {e}): {install}",
                bin.display()
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["terraform_version"].as_str().map(str::to_string))
        .ok_or_else(|| {
            format!(
                "{} (from {origin}) did not report its version as JSON ({text:?}): {install}",
                bin.display()
            )
        })?;
    let mut parts = version
        .split(['.', '-'])
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < MINIMUM {
        return Err(format!(
            "{} (from {origin}) is Terraform {version}, too old for `terraform test`: {install}",
            bin.display()
        ));
    }
    Ok((bin, version))
}

/// Copies the modules (without any `.terraform` a local run left) so the checkout stays clean.
fn copy_module(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("module dir");
    for entry in std::fs::read_dir(from).expect("read module") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == ".terraform" || name == ".terraform.lock.hcl" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().expect("file type").is_dir() {
            copy_module(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy module file");
        }
    }
}

/// Whether any process of the group `pgid` (the guide's script and what it started) exists.
fn group_alive(pgid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks; the group is this test's child's.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

#[test]
fn the_example_module_passes_its_terraform_tests_against_gitlab_sim_as_the_guide_runs_them() {
    let explicit = std::env::var_os("TF_ACC_TERRAFORM_PATH").map(PathBuf::from);
    let (terraform, version) = newest_terraform(explicit).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("tempdir");

    // The provider in a filesystem mirror, as `terraform init` would find a downloaded one.
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
    let modules = dir.path().join("modules");
    copy_module(&repo_root().join(MODULES), &modules);

    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new("bash");
    child
        .arg(modules.join("test-offline.sh"))
        .args(SUITES.map(|(module, _)| module))
        .current_dir(&modules)
        .env("PROVIDER_MIRROR", &mirror)
        .env("GITLAB_SIM", sim_launcher::binary())
        .env("TERRAFORM", &terraform)
        .env("HOME", dir.path())
        .env_remove("TF_CLI_CONFIG_FILE")
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"));
    // The shared guard: its own process group (the simulator the script starts included),
    // killed on drop, and killed with this test binary by any signal.
    let _waiting = sim_launcher::guard::waiting_for(
        "the guide's test-offline.sh (terraform test)",
        Duration::from_secs(930),
    );
    let mut script = sim_launcher::guard::spawn(child, "the guide's test-offline.sh");
    let status = script
        .wait_within(Duration::from_secs(900))
        .unwrap_or_else(|| panic!("test-offline.sh did not finish within 15 minutes"));
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let all = format!("Terraform {version}\n{stdout}\n{stderr}");
    assert!(status.success(), "test-offline.sh failed:\n{all}");
    for (module, runs) in SUITES {
        // The script announces each module, then Terraform reports that module's runs.
        let report = stdout
            .split_once(&format!("== {module}\n"))
            .map(|(_, rest)| rest.split("\n== ").next().unwrap_or(rest))
            .unwrap_or_else(|| panic!("the script did not run the tests of {module}:\n{all}"));
        for run in runs {
            assert!(
                report.contains(&format!("run \"{run}\"... pass")),
                "{module}: run {run:?} did not pass:\n{all}"
            );
        }
        assert!(
            report.contains(&format!("Success! {} passed, 0 failed.", runs.len())),
            "{module}:\n{all}"
        );
    }
    for bad in [
        "inconsistent result after apply",
        "inconsistent final plan",
        "Provider produced invalid plan",
        "panic:",
    ] {
        assert!(!all.contains(bad), "terraform reported {bad:?}:\n{all}");
    }
    // The script stopped the simulator it started (SIGTERM, clean exit) before it ended.
    let deadline = Instant::now() + Duration::from_secs(10);
    while group_alive(script.pgid()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !group_alive(script.pgid()),
        "the simulator outlived the script"
    );
}

#[test]
fn the_guide_shows_the_script_module_and_tests_this_suite_runs() {
    let guide = std::fs::read_to_string(repo_root().join("docs/guides/testing-modules-offline.md"))
        .expect("the guide");
    for file in [
        "test-offline.sh",
        "group-clusters/main.tf",
        "group-clusters/tests/clusters.tftest.hcl",
        "shared-cluster/main.tf",
        "shared-cluster/tests/shared.tftest.hcl",
    ] {
        let text = std::fs::read_to_string(repo_root().join(MODULES).join(file)).expect(file);
        assert!(
            guide.contains(text.trim()),
            "the guide does not show {MODULES}/{file} as it is; run `cargo run --bin gen-docs`"
        );
    }
}

#[test]
fn a_terraform_without_terraform_test_is_refused_saying_what_to_install() {
    let old = terraform("1.0.3");
    let err = newest_terraform(Some(old.clone())).expect_err("1.0.3 has no terraform test");
    assert!(err.contains("Terraform 1.0.3, too old"), "{err}");
    assert!(err.contains("install Terraform 1.6 or newer"), "{err}");
    let missing = newest_terraform(Some(PathBuf::from("/nonexistent/terraform")))
        .expect_err("no such binary");
    assert!(
        missing.contains("TF_ACC_TERRAFORM_PATH") && missing.contains("install Terraform"),
        "{missing}"
    );
}
