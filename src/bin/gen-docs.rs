//! `gen-docs`: writes the Terraform Registry pages under `docs/` from the provider's
//! schemas, the templates in `src/docs/templates/` and the files of `examples/`.
//!
//!   cargo run --bin gen-docs              write docs/ (only the files that change)
//!   cargo run --bin gen-docs -- --check   exit 1 listing the files that differ

use std::path::PathBuf;
use std::process::ExitCode;

use terraform_provider_gitlab::docs;

const USAGE: &str = "Usage: gen-docs [--check] [--root DIR]

Generates the Registry documentation (docs/index.md, docs/resources/, docs/data-sources/)
from the provider's schema, src/docs/templates/ and examples/.
  --check      change nothing; exit 1 and list the files that differ from the generated ones
  --root DIR   the repository root (default: this crate's directory)";

fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => return usage_error("--root needs a directory"),
            },
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&format!("unknown argument {other:?}")),
        }
    }
    let pages = match docs::generate(&root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gen-docs: {e}");
            return ExitCode::from(2);
        }
    };
    if check {
        match docs::check(&root, &pages) {
            Ok(drift) if drift.is_empty() => {
                println!("docs are up to date ({} pages)", pages.len());
                ExitCode::SUCCESS
            }
            Ok(drift) => {
                eprintln!("gen-docs: the docs differ from what the schema and templates generate:");
                for d in &drift {
                    eprintln!("  {d}");
                }
                eprintln!("Run `cargo run --bin gen-docs` and commit the result.");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("gen-docs: {e}");
                ExitCode::from(2)
            }
        }
    } else {
        match docs::write(&root, &pages) {
            Ok(changed) if changed.is_empty() => {
                println!("docs are up to date ({} pages)", pages.len());
                ExitCode::SUCCESS
            }
            Ok(changed) => {
                for p in changed {
                    println!("updated {}", p.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("gen-docs: {e}");
                ExitCode::from(2)
            }
        }
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("gen-docs: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}
