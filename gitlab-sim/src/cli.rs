//! Command-line interface (clap).

use std::path::PathBuf;

use clap::Parser;

/// A simulator of GitLab's Group clusters REST API (certificate-based clusters), for testing
/// Terraform modules and GitLab clients offline.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "gitlab-sim",
    version,
    after_help = AFTER_HELP,
    after_long_help = AFTER_HELP
)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Seed file (JSON: groups, projects, users with tokens and roles, clusters; see
    /// docs/simulator.md). Without it the built-in data is used: groups `qa` and
    /// `qa/platform`, and a Maintainer of both whose token is printed at start.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Also create this group (a full path; missing parents are created too) with the
    /// built-in Maintainer as its Maintainer. Repeatable. Not with --seed: a seed file lists
    /// its own groups.
    #[arg(long, value_name = "PATH", conflicts_with = "seed")]
    pub group: Vec<String>,
    /// Write the process id to FILE once listening; removed on a clean stop.
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Write the startup lines (`listening on <url>`, `token <token>`) to FILE once
    /// listening, atomically, so its existence means ready; removed on a clean stop.
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    /// State file: loaded on start when present (instead of the seed), rewritten atomically
    /// after every mutation.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Enable the test controls under /-/sim/.
    #[arg(long)]
    pub control: bool,
    /// Answer 429 like GitLab's rate limiter past this many requests per second (whole server).
    #[arg(long, value_name = "RPS")]
    pub rate_limit: Option<f64>,
    /// Fraction (0..=1) of API requests answered 502/503 without being applied.
    #[arg(long, value_name = "FRACTION")]
    pub fault_rate: Option<f64>,
    /// Seed of the fault-rate random sequence (deterministic faults).
    #[arg(long, value_name = "N")]
    pub fault_seed: Option<u64>,
    /// Serve HTTPS with this PEM certificate chain.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by this PEM CA.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
}

/// Shown after the options by `--help`.
const AFTER_HELP: &str = "\
Startup: the first line on stdout is `listening on <url>` (http://127.0.0.1:<port>, or
https:// with --tls-cert). Without --seed a second line `token <token>` gives a Maintainer's
personal access token. The GitLab API is at <url>/api/v4/; point a client there, e.g. the
Terraform provider with GITLAB_BASE_URL=<url>/api/v4/ and GITLAB_TOKEN=<token>.

Background use:
  gitlab-sim --group platform/infra --ready-file sim.ready --pid-file sim.pid &
  while [ ! -e sim.ready ]; do sleep 0.1; done
  url=\"$(sed -n 's/^listening on //p' sim.ready)\"; token=\"$(sed -n 's/^token //p' sim.ready)\"
  ...
  kill \"$(cat sim.pid)\"    # SIGTERM or SIGINT: stops cleanly, exit 0

Data lives in memory (use --state FILE to keep it). Errors at start go to stderr, exit 1.
Full reference: docs/simulator.md, shipped next to this binary as simulator.md.";

impl Args {
    pub fn check(&self) -> Result<(), String> {
        if let Some(r) = self.rate_limit
            && !(r.is_finite() && r > 0.0)
        {
            return Err("--rate-limit must be a positive number".into());
        }
        if let Some(f) = self.fault_rate
            && !(0.0..=1.0).contains(&f)
        {
            return Err("--fault-rate must be between 0 and 1".into());
        }
        for g in &self.group {
            crate::quickstart::check_group_path(g)?;
        }
        Ok(())
    }
}
