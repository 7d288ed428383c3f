//! The example provider (`examples/keeper.rs`) run end to end by Terraform: found through a
//! `dev_overrides` CLI configuration of its own (nothing reaches the internet, no
//! checkpoint), it creates, plans no change, updates in place, takes a provider attribute
//! from the environment, and destroys. Needs Terraform >= 1.11 on PATH (or
//! `TF_ACC_TERRAFORM_PATH`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example binary `cargo test` built beside this test (`target/<profile>/examples/`),
/// or built now when only this test was asked for.
fn keeper_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = profile_dir.join("examples").join("keeper");
    if !bin.is_file() {
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
        cargo.args(["build", "--example", "keeper", "-p", "tfplugin"]);
        if profile_dir.ends_with("release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build --example keeper");
        assert!(status.success(), "cargo build --example keeper failed");
    }
    bin
}

fn terraform() -> PathBuf {
    if let Some(p) = std::env::var_os("TF_ACC_TERRAFORM_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
        .expect("these tests need Terraform >= 1.11 on PATH (or TF_ACC_TERRAFORM_PATH)")
}

struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().expect("tempdir");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).expect("plugins dir");
        std::fs::copy(keeper_binary(), plugins.join("terraform-provider-keeper"))
            .expect("copy the example provider");
        std::fs::write(
            dir.path().join("cli.tfrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"example/keeper\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                plugins.display()
            ),
        )
        .expect("cli config");
        std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
        Work { dir }
    }

    fn config(&self, value: &str) {
        std::fs::write(
            self.dir.path().join("work/main.tf"),
            format!(
                r#"terraform {{
  required_providers {{
    keeper = {{ source = "example/keeper" }}
  }}
}}

resource "keeper_value" "greeting" {{
  value = "{value}"
}}

output "id" {{
  value = keeper_value.greeting.id
}}
"#
            ),
        )
        .expect("main.tf");
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = Command::new(terraform())
            .args(args)
            .current_dir(self.dir.path().join("work"))
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("KEEPER_PREFIX")
            .envs(env.iter().copied())
            .output()
            .expect("run terraform");
        let all = text(&out);
        for bad in [
            "inconsistent result after apply",
            "inconsistent final plan",
            "produced an invalid new value",
            "panic:",
            "Plugin did not respond",
        ] {
            assert!(!all.contains(bad), "terraform reported {bad:?}:\n{all}");
        }
        out
    }

    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(args, env);
        assert!(
            out.status.success(),
            "terraform {args:?} failed:\n{}",
            text(&out)
        );
        text(&out)
    }

    fn id(&self) -> String {
        let out = self.ok(&["output", "-raw", "id"], &[]);
        out.lines().next().unwrap_or_default().to_string()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn terraform_creates_keeps_updates_and_destroys_a_kept_value() {
    let w = Work::new();
    w.config("hello");
    w.ok(&["apply", "-auto-approve", "-input=false"], &[]);
    assert_eq!(w.id(), "kept-hello");

    // Nothing changed: the plan says so (exit 0 under -detailed-exitcode).
    let plan = w.run(&["plan", "-detailed-exitcode", "-input=false"], &[]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    // A new value is an update in place, and the id (stable) stays.
    w.config("world");
    let plan = w.ok(&["plan", "-input=false"], &[]);
    assert!(plan.contains("1 to change"), "{plan}");
    w.ok(&["apply", "-auto-approve", "-input=false"], &[]);
    assert_eq!(w.id(), "kept-hello");
    let state = w.ok(&["show", "-json"], &[]);
    assert!(state.contains(r#""value":"world""#), "{state}");

    w.ok(&["destroy", "-auto-approve", "-input=false"], &[]);
    let state = w.ok(&["show", "-json"], &[]);
    assert!(!state.contains("keeper_value"), "{state}");
}

#[test]
fn the_provider_attribute_comes_from_the_environment() {
    let w = Work::new();
    w.config("x");
    w.ok(
        &["apply", "-auto-approve", "-input=false"],
        &[("KEEPER_PREFIX", "env-")],
    );
    assert_eq!(w.id(), "env-x");
}

#[test]
fn the_readme_shows_the_example_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join("examples/keeper.rs")).expect("example");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    assert!(
        readme.contains(example.trim_end()),
        "README.md's provider is not examples/keeper.rs: copy the example into it"
    );
}
