//! The fault explorer (issues 20 and 23): replays each scenario, for each owner of clusters
//! (group, project, instance), once per recorded API request and per fault kind, with the
//! fault at that request, and checks invariants after the run and after one clean converge.
//! One job per module:
//!
//! - [`simctl`]: the simulator's control API, asynchronously (checkpoint/restore, request log,
//!   clusters, faults, outside edits, fixtures).
//! - [`driver`]: a small Terraform core over the in-process provider (refresh, plan with
//!   replacement, apply with the final-plan check, saved plans, import, data sources) that
//!   collects what Terraform would reject as violations.
//! - [`owners`]: the family dimension: what differs between group, project and instance
//!   clusters (resource, data sources, owner attribute and spellings, import id, routes,
//!   token), as data.
//! - [`scenarios`]: what users do, written once for every owner: create, update, replace,
//!   owner respelling (also as a saved plan), import, drift, delete, a saved plan after an
//!   outside change, both data sources, two states sharing an owner.
//! - [`faults`]: the fault kinds as simulator fault specs aimed at one request.
//! - [`invariants`]: the named checks.
//! - [`grid`]: setup (with decoys of the other families) → checkpoint → clean run → per cell
//!   restore, fault, run, check, converge, check; jobs (a scenario, an owner, some fault
//!   kinds) on a few workers, each with its own simulator.
//! - [`table`]: the report.

pub mod driver;
pub mod faults;
pub mod grid;
pub mod invariants;
pub mod owners;
pub mod scenarios;
pub mod simctl;
pub mod table;
