//! The fault explorer (issue 20; docs/testing.md, "The fault explorer"): every scenario of
//! `tests/explorer/scenarios.rs` replayed with one fault at one recorded GitLab request, for
//! every fault kind, and held to the invariants of `tests/explorer/invariants.rs`.
//!
//! `cargo test --test fault_explorer` runs a deterministic subset: every scenario × every
//! fault kind at one request index each (rotating over scenarios and kinds). The whole grid,
//! every request index:
//!
//! ```sh
//! FAULT_EXPLORER=full cargo test --locked --test fault_explorer -- --nocapture
//! ```
//!
//! Knobs: `FAULT_EXPLORER_WORKERS` (jobs at once, default 3, each with its own simulator),
//! `FAULT_EXPLORER_ONLY` (scenarios whose name contains it). Either way the table is printed
//! and the test fails on any violation.

mod explorer;
mod grpc_support;
mod support;

use explorer::grid::{self, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_single_gitlab_answer_breaks_an_invariant() {
    let mode = match std::env::var("FAULT_EXPLORER").as_deref() {
        Ok("full") => Mode::Full,
        Ok("") | Ok("subset") | Err(_) => Mode::Subset,
        Ok(other) => panic!("FAULT_EXPLORER={other}: use `full` or `subset`"),
    };
    let workers = std::env::var("FAULT_EXPLORER_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(3);
    let only = std::env::var("FAULT_EXPLORER_ONLY").ok();
    let started = std::time::Instant::now();
    let results = grid::explore(mode, workers, only).await;
    let runs: usize = results.iter().map(|r| r.cells.len() + 1).sum();
    println!(
        "fault explorer ({mode:?}): {runs} runs in {:.1} s\n\n{}",
        started.elapsed().as_secs_f64(),
        explorer::table::render(&results)
    );
    let violations = explorer::table::violations(&results);
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}
