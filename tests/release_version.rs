//! The version is said once, in Cargo.toml: the binary's `--version`, the changelog's latest
//! release and the package file names (tests/release_package.rs) all follow it.

mod support;

use std::process::Command;
use std::time::Duration;

use support::sim_launcher::guard;
use support::*;

fn changelog() -> String {
    std::fs::read_to_string(repo_root().join("CHANGELOG.md")).expect("CHANGELOG.md")
}

/// The `## [...]` headings of the changelog, in order.
fn release_headings(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("## ["))
        .collect()
}

#[test]
fn version_flag_prints_the_cargo_version() {
    let mut cmd = Command::new(provider_binary());
    cmd.arg("--version");
    let out = guard::output(
        cmd,
        Duration::from_secs(60),
        "terraform-provider-gitlab --version",
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("terraform-provider-gitlab {}\n", provider_version())
    );
}

#[test]
fn changelog_keeps_an_unreleased_section_above_the_current_version() {
    let text = changelog();
    assert!(text.contains("[Keep a Changelog](https://keepachangelog.com/"));
    let headings = release_headings(&text);
    assert_eq!(headings.first(), Some(&"Unreleased]"), "{headings:?}");
    let latest = headings.get(1).copied().unwrap_or_default();
    let (version, date) = latest
        .split_once("] - ")
        .unwrap_or_else(|| panic!("release heading {latest:?} is not \"[x.y.z] - YYYY-MM-DD\""));
    assert_eq!(
        version,
        provider_version(),
        "the changelog's latest release is not Cargo.toml's version"
    );
    let date_ok = date.len() == 10
        && date.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    assert!(date_ok, "release date {date:?} is not YYYY-MM-DD");
    for l in text.lines().filter_map(|l| l.strip_prefix("### ")) {
        assert!(
            [
                "Added",
                "Changed",
                "Deprecated",
                "Removed",
                "Fixed",
                "Security"
            ]
            .contains(&l),
            "{l:?} is not a Keep a Changelog section"
        );
    }
}
