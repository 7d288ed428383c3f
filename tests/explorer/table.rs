//! The grid's report: a Markdown table, scenario × owner (a row each) × fault kind → `held` /
//! the first break (invariant code @ request index), a line per owner, then every violation
//! with one line of evidence.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::faults::{self, Kind};
use super::grid::{JobResult, Outcome};
use super::invariants as inv;
use super::owners::{self, Owner};

/// A short code per invariant, for the table's cells.
pub fn code(invariant: &str) -> &'static str {
    match invariant {
        inv::DUPLICATE => "DUP",
        inv::LOST => "LOST",
        inv::FOREIGN => "FOREIGN",
        inv::ONE_OWNER => "OWNER",
        inv::DESTROY => "DESTROY",
        inv::STATE_EQ => "STATE",
        inv::DATA_EQ => "DATA",
        inv::TIME => "TIME",
        inv::MEMORY => "MEM",
        inv::CONVERGE => "CONV",
        inv::CONVERGE_EQ => "CONV-EQ",
        inv::CONVERGE_NOOP => "CONV-NOOP",
        inv::HARNESS => "PANIC",
        inv::TAKEN => "MISSED",
        "objchange" => "OBJCHANGE",
        "final plan" => "FINAL",
        "answers with diagnostics" => "GRPC",
        "clean run as designed" => "CLEAN",
        _ => "OTHER",
    }
}

pub const LEGEND: &str = "DUP no duplicate cluster · LOST no cluster lost from state (unless the error says `terraform import`) · \
FOREIGN no cluster touched or held that no workspace owned · OWNER two workspaces never hold one cluster · \
DESTROY no delete/replace the clean run did not plan · OBJCHANGE Terraform's invalid plan / inconsistent result · \
FINAL inconsistent final plan at apply · GRPC an error answered as a bare gRPC status · \
STATE state = GitLab after a successful apply/import · DATA a data source answers what GitLab holds · \
TIME run within 30 s · MEM process RSS under 512 MiB · CONV the clean converge succeeds · \
CONV-EQ state = GitLab after it · CONV-NOOP the next plan is empty · CLEAN the fault-free run fails only where designed · \
PANIC the run completed · MISSED the queued fault acted on its request";

fn cell_text(outcomes: &[(usize, &Outcome)]) -> String {
    let broken: Vec<&(usize, &Outcome)> = outcomes
        .iter()
        .filter(|(_, o)| !o.violations.is_empty())
        .collect();
    match broken.first() {
        None if outcomes.len() > 1 => format!("held ({})", outcomes.len()),
        None => "held".into(),
        Some((i, o)) => {
            let mut codes: Vec<&str> = o.violations.iter().map(|v| code(v.invariant)).collect();
            codes.dedup();
            let more = if outcomes.len() > 1 {
                format!(" ({}/{})", broken.len(), outcomes.len())
            } else {
                String::new()
            };
            format!("{}@{i}{more}", codes.join("+"))
        }
    }
}

/// The run's failure, shortened, as evidence beside a violation.
fn failed_note(o: &Outcome) -> String {
    match &o.failed {
        None => " [the run succeeded]".into(),
        Some(f) => {
            let f = f.replace('\n', " ");
            let short: String = f.chars().take(160).collect();
            let more = if short.len() < f.len() { "…" } else { "" };
            format!(" [the run failed: {short}{more}]")
        }
    }
}

/// The table and the list of violations.
pub fn render(results: &[JobResult]) -> String {
    let mut by_scenario: BTreeMap<(usize, Owner), Vec<&JobResult>> = BTreeMap::new();
    for r in results {
        by_scenario
            .entry((r.scenario, r.owner))
            .or_default()
            .push(r);
    }
    let mut out = String::new();
    let kinds: Vec<Kind> = faults::ALL.to_vec();
    let _ = write!(out, "| scenario | owner | requests | runs | time | clean |");
    for k in &kinds {
        let _ = write!(out, " {} |", k.name());
    }
    out.push('\n');
    out.push_str(&"| --- ".repeat(kinds.len() + 6));
    out.push_str("|\n");
    let mut details = String::new();
    for jobs in by_scenario.values() {
        let first = jobs[0];
        let runs: usize = jobs.iter().map(|j| j.cells.len() + 1).sum();
        let took: f64 = jobs
            .iter()
            .flat_map(|j| j.cells.iter().map(|c| c.outcome.took).chain([j.clean.took]))
            .map(|d| d.as_secs_f64())
            .sum();
        let owner = first.owner.name();
        let _ = write!(
            out,
            "| {} | {owner} | {} | {runs} | {took:.0} s |  {} |",
            first.name,
            first.requests.len(),
            cell_text(&[(0, &first.clean)])
                .replace("@0", "")
                .replace("held", "ok")
        );
        for v in &first.clean.violations {
            let _ = writeln!(
                details,
                "- {} · {owner} · clean · {}: {}{}",
                first.name,
                v.invariant,
                v.detail.replace('\n', " "),
                failed_note(&first.clean)
            );
        }
        for k in &kinds {
            let cells: Vec<_> = jobs
                .iter()
                .flat_map(|j| j.cells.iter())
                .filter(|c| c.kind == *k)
                .collect();
            let text = if cells.is_empty() {
                if jobs.iter().any(|j| j.not_applicable.contains(k)) {
                    "n/a".to_string()
                } else {
                    "-".to_string()
                }
            } else {
                let outcomes: Vec<(usize, &Outcome)> =
                    cells.iter().map(|c| (c.index, &c.outcome)).collect();
                cell_text(&outcomes)
            };
            let _ = write!(out, " {text} |");
            for c in cells {
                for v in &c.outcome.violations {
                    let _ = writeln!(
                        details,
                        "- {} · {owner} · {} @{} ({}) · {}: {}{}",
                        first.name,
                        k.name(),
                        c.index,
                        c.request,
                        v.invariant,
                        v.detail.replace('\n', " "),
                        failed_note(&c.outcome)
                    );
                }
            }
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "\nCells: `held` (every run held every invariant; `(n)`: n request indices tried), \
         `CODES@i` (the first run that broke, at request index i; `(b/n)`: b of n broke), \
         `n/a` (no request of that kind to hit), `-` (not run for this owner: the subset runs \
         each scenario × kind for one owner).\n{LEGEND}\n\n"
    );
    for owner in owners::ALL {
        let jobs: Vec<&JobResult> = results.iter().filter(|r| r.owner == owner).collect();
        if jobs.is_empty() {
            continue;
        }
        let cells: Vec<&Outcome> = jobs
            .iter()
            .flat_map(|j| j.cells.iter().map(|c| &c.outcome))
            .collect();
        let broke = cells.iter().filter(|o| !o.violations.is_empty()).count()
            + jobs
                .iter()
                .filter(|j| !j.clean.violations.is_empty())
                .count();
        let scenarios: BTreeSet<usize> = jobs.iter().map(|j| j.scenario).collect();
        let kinds: BTreeSet<Kind> = jobs
            .iter()
            .flat_map(|j| j.cells.iter().map(|c| c.kind))
            .collect();
        let _ = writeln!(
            out,
            "- {}: {} runs ({} cells, {} clean runs) over {} scenarios and {} fault kinds; {}",
            owner.name(),
            cells.len() + jobs.len(),
            cells.len(),
            jobs.len(),
            scenarios.len(),
            kinds.len(),
            if broke == 0 {
                "all held".to_string()
            } else {
                format!("{broke} broke")
            }
        );
    }
    out.push_str("\nRequests recorded by the clean runs:\n");
    for jobs in by_scenario.values() {
        let reqs: Vec<String> = jobs[0]
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{i} {r}"))
            .collect();
        let _ = writeln!(
            out,
            "- {} · {}: {}",
            jobs[0].name,
            jobs[0].owner.name(),
            reqs.join(" · ")
        );
    }
    if !details.is_empty() {
        out.push_str("\nViolations:\n");
        out.push_str(&details);
    }
    out
}

/// Every violation, one line each (for the assertion message).
pub fn violations(results: &[JobResult]) -> Vec<String> {
    let mut out = Vec::new();
    for r in results {
        for v in &r.clean.violations {
            out.push(format!(
                "{} · {} · clean · {}: {}",
                r.name,
                r.owner.name(),
                v.invariant,
                v.detail
            ));
        }
        for c in &r.cells {
            for v in &c.outcome.violations {
                out.push(format!(
                    "{} · {} · {} @{} ({}) · {}: {}",
                    r.name,
                    r.owner.name(),
                    c.kind.name(),
                    c.index,
                    c.request,
                    v.invariant,
                    v.detail
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
