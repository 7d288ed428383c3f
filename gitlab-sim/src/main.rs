//! gitlab-sim: a faithful simulator of GitLab's certificate-based clusters REST API (the
//! Group, Project and Instance clusters APIs) for the provider's tests, benchmarks and quickstart. Entry point: parses the CLI,
//! loads the seed or state (plus any `--group`), binds, prints `listening on <url>` (and, without
//! a seed file, `token <maintainer token>`), writes the run files and serves until
//! SIGINT/SIGTERM. See docs/simulator.md.
#![recursion_limit = "256"]

mod api;
mod app;
mod cli;
mod control;
mod db;
mod entities;
mod families;
mod fault_kinds;
mod faults;
mod http;
mod pagination;
mod params;
mod persist;
mod quickstart;
mod runfiles;
mod seed;
mod server;
mod services;
mod stats;
mod streams;
mod timefmt;
mod tls;
mod validation;

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::db::Db;
use crate::faults::{FaultQueue, RandomFaults, RateLimiter};
use crate::persist::Persister;
use crate::stats::Stats;

/// The loaded data and, without a seed file, the Maintainer token the startup lines print.
fn load_db(args: &cli::Args) -> Result<(Db, Option<String>), String> {
    let (mut seed, origin) = if let Some(state) = args.state.as_ref().filter(|s| s.exists()) {
        let text =
            std::fs::read_to_string(state).map_err(|e| format!("{}: {e}", state.display()))?;
        let origin = state.display().to_string();
        (
            seed::parse(&text).map_err(|e| format!("{origin}: {e}"))?,
            origin,
        )
    } else {
        let (text, origin) = match &args.seed {
            Some(path) => (
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
                path.display().to_string(),
            ),
            None => (seed::DEFAULT_SEED.to_string(), "built-in seed".to_string()),
        };
        (
            seed::parse(&text).map_err(|e| format!("{origin}: {e}"))?,
            origin,
        )
    };
    quickstart::add_groups(&mut seed, &args.group).map_err(|e| format!("{origin}: {e}"))?;
    let token = match args.seed {
        Some(_) => None,
        None => quickstart::maintainer_token(&seed),
    };
    let db = Db::from_seed(seed).map_err(|e| format!("{origin}: {e}"))?;
    Ok((db, token))
}

/// Registers SIGINT/SIGTERM handlers now (before the listening line is printed, so a signal
/// sent right after it is never fatal) and returns a future resolving on either.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

async fn run(args: cli::Args) -> Result<(), String> {
    args.check()?;
    let (db, token) = load_db(&args)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key, args.client_ca.as_deref())?),
        _ => None,
    };
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let stop = shutdown_signal()?;
    let app = Arc::new(App {
        db: Mutex::new(db),
        checkpoint: Mutex::new(None),
        stats: Stats::default(),
        faults: Mutex::new(FaultQueue::default()),
        limiter: args.rate_limit.map(RateLimiter::new),
        random_faults: args
            .fault_rate
            .filter(|r| *r > 0.0)
            .map(|r| RandomFaults::new(r, args.fault_seed.unwrap_or_else(|| fastrand::u64(..)))),
        control: args.control,
        persist: args.state.clone().map(Persister::new),
        scheme,
        listen: local,
    });
    // One write, so a reader that stops after the first line never breaks the second.
    let mut lines = format!("listening on {scheme}://{local}\n");
    if let Some(token) = &token {
        lines.push_str(&format!("token {token}\n"));
    }
    let mut files = runfiles::RunFiles::default();
    let written = (|| {
        let mut out = std::io::stdout().lock();
        out.write_all(lines.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
        // The ready file last: once it exists, everything else is there.
        if let Some(path) = &args.pid_file {
            files.write(path, &format!("{}\n", std::process::id()))?;
        }
        if let Some(path) = &args.ready_file {
            files.write(path, &lines)?;
        }
        Ok::<(), String>(())
    })();
    if let Err(e) = written {
        files.remove();
        return Err(e);
    }
    let (tx, rx) = watch::channel(false);
    let server = tokio::spawn(server::run(app, listener, tls, rx));
    stop.await;
    let _ = tx.send(true);
    let _ = server.await;
    files.remove();
    Ok(())
}

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gitlab-sim: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gitlab-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
