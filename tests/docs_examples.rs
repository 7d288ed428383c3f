//! The examples the docs include are `terraform fmt`-clean, checked with the real
//! Terraform CLI (fetched by .ci/fetch-tools).

mod support;

use std::process::Command;
use std::time::Duration;

use support::sim_launcher::guard;
use support::{repo_root, terraform};

fn fmt_check(tf_version: &str, dir: &std::path::Path) -> (i32, String) {
    let mut cmd = Command::new(terraform(tf_version));
    cmd.args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
        .arg(dir)
        .env("CHECKPOINT_DISABLE", "1");
    let out = guard::output(cmd, Duration::from_secs(120), "terraform fmt -check");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn examples_are_terraform_fmt_clean(tf_version: &str) {
    let (code, out) = fmt_check(tf_version, &repo_root().join("examples"));
    assert_eq!(
        code, 0,
        "terraform fmt -check found unformatted examples; run `terraform fmt -recursive examples`:\n{out}"
    );
}

fn fmt_check_does_fail_on_an_unformatted_file(tf_version: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("nested")).expect("mkdir");
    std::fs::write(
        dir.path().join("nested/bad.tf"),
        "variable \"x\" {\ntype=string\n}\n",
    )
    .expect("write");
    let (code, out) = fmt_check(tf_version, dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("nested/bad.tf"), "{out}");
}

on_every_terraform!(
    examples_are_terraform_fmt_clean,
    fmt_check_does_fail_on_an_unformatted_file,
);
