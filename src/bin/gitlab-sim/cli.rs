//! Command-line interface (clap).

use std::path::PathBuf;

use clap::Parser;

/// A simulator of GitLab's Group clusters REST API (certificate-based clusters).
#[derive(Parser, Debug, Clone)]
#[command(name = "gitlab-sim", version)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Seed file (JSON, see docs/simulator.md); a built-in default is used without it.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
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
        Ok(())
    }
}
