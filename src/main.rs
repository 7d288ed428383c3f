//! The provider binary: parses the command line and wires logging, the provider stack
//! (`provider_stack`, built in lib.rs) and the plugin server together.

use std::process::ExitCode;

use terraform_provider_gitlab::protocol::{logging, server};
use terraform_provider_gitlab::{provider_stack, serve_options};

const USAGE: &str = "Usage: terraform-provider-gitlab [--debug | --version | --help]

Terraform/OpenTofu provider for GitLab group clusters. Terraform starts this binary itself.
  --debug     serve without Terraform's launch handshake and print TF_REATTACH_PROVIDERS
  --version   print the version and exit";

fn main() -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--version" | "-version" | "version" => {
                println!("terraform-provider-gitlab {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--help" | "-help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    // The wire layer knows the provider only by what these options say.
    let opts = serve_options().debug(debug);
    let log = opts.logging();
    let level = logging::level_from_env(&log).or(debug.then_some(tracing::Level::INFO));
    let redactor = logging::init(level, &log);
    // One thread: the provider waits on Terraform and GitLab far more than it computes
    // (its CPU is under 5% of an apply's), and one thread holds less memory than a pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-gitlab: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let provider = provider_stack(redactor);
    match runtime.block_on(server::serve(provider, opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
