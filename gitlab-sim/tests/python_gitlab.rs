//! Third-party fidelity check: python-gitlab (fetched from PyPI by `.ci/fetch-tools`) drives
//! the real `gitlab-sim` binary through `tests/python/group_clusters.py` and
//! `tests/python/project_clusters.py` (project clusters, and instance clusters over its raw
//! HTTP helpers).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use gitlab_sim::{Sim, guard};

/// How long `.ci/fetch-tools` may take to install python-gitlab (or find it installed).
const FETCH_LIMIT: Duration = Duration::from_secs(600);
/// How long the python-gitlab script may run.
const SCRIPT_LIMIT: Duration = Duration::from_secs(300);

fn python() -> PathBuf {
    // The workspace's tool fetcher, one level above this package.
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut cmd = Command::new(root.join(".ci/fetch-tools"));
    cmd.arg("python-gitlab");
    let out = guard::output(cmd, FETCH_LIMIT, ".ci/fetch-tools python-gitlab");
    assert!(
        out.status.success(),
        "fetch-tools python-gitlab failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Runs `tests/python/<script>` with python-gitlab against `sim`, with `env` added; its stdout.
fn run_script(sim: &Sim, script: &str, env: &[(&str, &str)]) -> String {
    let python = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .env("GITLAB_SIM_URL", &sim.url)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = guard::output(cmd, SCRIPT_LIMIT, "the python-gitlab script");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python-gitlab script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("checks passed"), "{stdout}");
    stdout
}

#[test]
fn python_gitlab_creates_pages_gets_updates_deletes_and_gets_gitlab_errors() {
    let sim = Sim::start(&[]);
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["kubernetes.example.com".to_string()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_pem = params.self_signed(&key).expect("cert").pem();
    let stdout = run_script(&sim, "group_clusters.py", &[("GITLAB_SIM_CA_PEM", &ca_pem)]);
    println!("{stdout}");
}

#[test]
fn python_gitlab_drives_project_clusters_and_instance_clusters_over_raw_http() {
    let sim = Sim::start(&[]);
    let stdout = run_script(&sim, "project_clusters.py", &[]);
    println!("{stdout}");
}
