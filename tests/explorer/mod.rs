//! The fault explorer (issue 20): replays each scenario once per recorded API request and per
//! fault kind, with the fault at that request, and checks invariants after the run and after
//! one clean converge. One job per module:
//!
//! - [`simctl`]: the simulator's control API, asynchronously (checkpoint/restore, request log,
//!   clusters, faults, outside edits, fixtures).
//! - [`driver`]: a small Terraform core over the in-process provider (refresh, plan with
//!   replacement, apply with the final-plan check, saved plans, import, data sources) that
//!   collects what Terraform would reject as violations.
//! - [`scenarios`]: what users do: create, update, replace, group respelling (also as a saved
//!   plan), import, drift, delete, a saved plan after an outside change, both data sources,
//!   two states sharing a group.
//! - [`faults`]: the fault kinds as simulator fault specs aimed at one request.
//! - [`invariants`]: the named checks.
//! - [`grid`]: setup → checkpoint → clean run → per cell restore, fault, run, check,
//!   converge, check; jobs on a few workers, each with its own simulator.
//! - [`table`]: the report.

pub mod driver;
pub mod faults;
pub mod grid;
pub mod invariants;
pub mod scenarios;
pub mod simctl;
pub mod table;
