//! The invariants, each a named check yielding violations with one line of evidence. They
//! compare a run's workspaces and GitLab's clusters (`/-/sim/clusters`) with the checkpoint
//! and with the fault-free run of the same scenario.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as J;
use terraform_provider_gitlab::protocol::value::Value;

use super::driver::{Action, Violation, Workspace, show};
use super::owners::Owner;

pub const DUPLICATE: &str = "no duplicate cluster";
pub const LOST: &str = "no cluster lost from state";
pub const FOREIGN: &str = "no foreign cluster touched";
pub const ONE_OWNER: &str = "one owner per cluster";
pub const DESTROY: &str = "no unexpected destroy";
pub const STATE_EQ: &str = "state = GitLab after apply";
pub const DATA_EQ: &str = "data = GitLab";
pub const TIME: &str = "bounded time";
pub const MEMORY: &str = "bounded memory";
pub const CONVERGE: &str = "converge succeeds";
pub const CONVERGE_EQ: &str = "converge: state = GitLab";
pub const CONVERGE_NOOP: &str = "converge: next plan empty";
pub const HARNESS: &str = "run completes (no panic)";
pub const TAKEN: &str = "the fault acted";

/// GitLab's clusters by id.
pub type Clusters = BTreeMap<i64, J>;

fn v(invariant: &'static str, detail: String) -> Violation {
    Violation { invariant, detail }
}

/// Two workspaces never hold the same cluster.
pub fn one_owner(ws: &[Workspace]) -> Vec<Violation> {
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        if let Some(id) = w.cluster_id()
            && let Some(first) = seen.insert(id, i)
        {
            out.push(v(
                ONE_OWNER,
                format!("workspaces {first} and {i} both hold cluster {id}"),
            ));
        }
    }
    out
}

/// Clusters no workspace owned at the checkpoint nor in the clean run are unchanged, and no
/// workspace holds one.
pub fn foreign_untouched(
    snapshot: &Clusters,
    foreign: &BTreeSet<i64>,
    now: &Clusters,
    ws: &[Workspace],
) -> Vec<Violation> {
    let mut out = Vec::new();
    for id in foreign {
        match now.get(id) {
            None => out.push(v(
                FOREIGN,
                format!("cluster {id}, owned by no workspace, was deleted"),
            )),
            Some(c) if Some(c) != snapshot.get(id) => {
                let before = snapshot.get(id).cloned().unwrap_or(J::Null);
                let changed: Vec<String> = c
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, x)| before.get(k.as_str()) != Some(x))
                    .map(|(k, x)| format!("{k}={x}"))
                    .collect();
                out.push(v(
                    FOREIGN,
                    format!(
                        "cluster {id}, owned by no workspace, was changed: {}",
                        changed.join(", ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    for (i, w) in ws.iter().enumerate() {
        if let Some(id) = w.cluster_id().filter(|id| foreign.contains(id)) {
            out.push(v(
                FOREIGN,
                format!("workspace {i} holds cluster {id}, which it never created or imported"),
            ));
        }
    }
    out
}

/// Clusters that exist now and did not at the checkpoint.
pub fn new_clusters(snapshot: &Clusters, now: &Clusters) -> Vec<i64> {
    now.keys()
        .filter(|id| !snapshot.contains_key(id))
        .copied()
        .collect()
}

/// Never more new clusters than the clean run had at the same point.
pub fn no_duplicates(snapshot: &Clusters, now: &Clusters, clean: usize) -> Vec<Violation> {
    let new = new_clusters(snapshot, now);
    if new.len() <= clean {
        return Vec::new();
    }
    let desc: Vec<String> = new
        .iter()
        .map(|id| {
            let c = &now[id];
            format!("{id} ({} / {})", c["name"], c["environment_scope"])
        })
        .collect();
    vec![v(
        DUPLICATE,
        format!(
            "{} new clusters where the clean run has {clean}: {}",
            new.len(),
            desc.join(", ")
        ),
    )]
}

/// A cluster a workspace owned (at the checkpoint or during the run), or one the run created,
/// that GitLab still has, is in some workspace's state, unless the run failed saying how to
/// import it (`import_advised`).
pub fn none_lost(
    owned: &BTreeSet<i64>,
    snapshot: &Clusters,
    now: &Clusters,
    ws: &[Workspace],
    import_advised: bool,
) -> Vec<Violation> {
    if import_advised {
        return Vec::new();
    }
    let held: BTreeSet<i64> = ws.iter().filter_map(Workspace::cluster_id).collect();
    let candidates: BTreeSet<i64> = owned
        .iter()
        .copied()
        .chain(new_clusters(snapshot, now))
        .collect();
    candidates
        .into_iter()
        .filter(|id| now.contains_key(id) && !held.contains(id))
        .map(|id| {
            v(
                LOST,
                format!(
                    "GitLab has cluster {id} ({}), no state holds it, and no error said `terraform import`",
                    now[&id]["name"]
                ),
            )
        })
        .collect()
}

fn j_str(j: &J) -> Option<&str> {
    j.as_str()
}

/// The attributes GitLab returns, compared with a workspace's state; the owner too: the
/// cluster is of the state's family and owner (the group or project the owner attribute
/// names, or the instance).
pub fn state_matches(
    invariant: &'static str,
    owner: Owner,
    i: usize,
    state: &Value,
    now: &Clusters,
) -> Vec<Violation> {
    if state.is_null() {
        return Vec::new();
    }
    let Some(id) = state.get("cluster_id").as_i64() else {
        return vec![v(
            invariant,
            format!("workspace {i}: state has no cluster_id"),
        )];
    };
    let Some(c) = now.get(&id) else {
        return vec![v(
            invariant,
            format!("workspace {i}: state holds cluster {id}, which GitLab does not have"),
        )];
    };
    let k = &c["platform_kubernetes"];
    let blank_null = |s: Option<&str>| s.filter(|s| !s.trim().is_empty()).map(str::to_string);
    let st = |a: &str| state.get(a).as_str().map(str::to_string);
    let mut diffs = Vec::new();
    let mut cmp = |attr: &str, ours: Option<String>, theirs: Option<String>| {
        if ours != theirs {
            diffs.push(format!("{attr}: state {ours:?}, GitLab {theirs:?}"));
        }
    };
    let whose = |id: Option<i64>| id.map(|id| format!("{} {id}", owner.name()));
    cmp(
        owner.attr().unwrap_or("owner"),
        whose(owner.owner_of_state(state)),
        whose(owner.owner_in(c)),
    );
    cmp("name", st("name"), j_str(&c["name"]).map(str::to_string));
    cmp(
        "environment_scope",
        st("environment_scope"),
        j_str(&c["environment_scope"]).map(str::to_string),
    );
    cmp(
        "domain",
        blank_null(st("domain").as_deref()),
        blank_null(j_str(&c["domain"])),
    );
    for b in ["enabled", "managed", "namespace_per_environment"] {
        cmp(
            b,
            state.get(b).as_bool().map(|x| x.to_string()),
            c[b].as_bool().map(|x| x.to_string()),
        );
    }
    cmp(
        "kubernetes_api_url",
        st("kubernetes_api_url").map(|s| s.trim().to_string()),
        j_str(&k["api_url"]).map(str::to_string),
    );
    cmp(
        "kubernetes_namespace",
        blank_null(st("kubernetes_namespace").as_deref()).map(|s| s.to_lowercase()),
        blank_null(j_str(&k["namespace"])),
    );
    cmp(
        "kubernetes_authorization_type",
        st("kubernetes_authorization_type"),
        j_str(&k["authorization_type"]).map(str::to_string),
    );
    if diffs.is_empty() {
        Vec::new()
    } else {
        vec![v(
            invariant,
            format!("workspace {i}, cluster {id}: {}", diffs.join("; ")),
        )]
    }
}

/// A data source's answer describes what GitLab holds: the cluster asked for (by id, of the
/// owner; or the one of that name of the owner), or exactly the owner's clusters.
pub fn data_matches(
    owner: Owner,
    type_name: &str,
    config: &Value,
    state: &Value,
    now: &Clusters,
) -> Vec<Violation> {
    let ours: Vec<(&i64, &J)> = now.iter().filter(|(_, c)| owner.holds(c)).collect();
    let wrong = |d: String| vec![v(DATA_EQ, format!("{type_name}: {d}"))];
    if type_name == owner.list() {
        let mut want: Vec<i64> = ours.iter().map(|(id, _)| **id).collect();
        let mut got: Vec<i64> = match state.get("clusters") {
            Value::List(items) => items
                .iter()
                .filter_map(|i| i.get("cluster_id").as_i64())
                .collect(),
            _ => Vec::new(),
        };
        want.sort_unstable();
        got.sort_unstable();
        if want != got {
            let shown: Vec<i64> = got.iter().take(8).copied().collect();
            return wrong(format!(
                "listed {} clusters {shown:?}…, GitLab has {want:?}",
                got.len()
            ));
        }
        return Vec::new();
    }
    let want = match config.get("cluster_id").as_i64() {
        Some(id) => ours.iter().find(|(c, _)| **c == id).copied(),
        None => ours
            .iter()
            .find(|(_, c)| c["name"].as_str() == config.get("name").as_str())
            .copied(),
    };
    let Some((id, c)) = want else {
        return wrong("GitLab has no such cluster, yet the read succeeded".into());
    };
    let got_id = state.get("cluster_id").as_i64();
    let got_name = state.get("name").as_str();
    if got_id != Some(*id) || got_name != c["name"].as_str() {
        return wrong(format!(
            "answered cluster {got_id:?} {}, GitLab's is {id} {}",
            show(state.get("name")),
            c["name"]
        ));
    }
    Vec::new()
}

/// Steps of the faulted run that destroy (delete or replace) where the clean run's same
/// step did not plan that.
pub fn unexpected_destroys(
    run: &BTreeMap<usize, (usize, Action)>,
    clean: &BTreeMap<usize, (usize, Action)>,
) -> Vec<Violation> {
    run.iter()
        .filter(|(step, (_, a))| a.destroys() && clean.get(step).map(|(_, c)| *c) != Some(*a))
        .map(|(step, (ws, a))| {
            v(
                DESTROY,
                format!(
                    "step {step}, workspace {ws}: planned {a:?} where the clean run planned {:?}",
                    clean.get(step).map(|(_, c)| *c)
                ),
            )
        })
        .collect()
}

/// Whether any error says how to re-import (`terraform import …`).
pub fn import_advised(errors: &[String]) -> bool {
    errors.iter().any(|e| e.contains("terraform import"))
}

/// `terraform import <address> <id>` commands named in errors: the ids (the last word of
/// the command's line).
pub fn advised_import_ids(errors: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for e in errors {
        for line in e.lines() {
            let Some(at) = line.find("terraform import ") else {
                continue;
            };
            let command = &line[at + "terraform import ".len()..];
            if let Some(id) = command.split_whitespace().last() {
                let id = id.trim_matches(|c: char| "`'\".,;:)(".contains(c));
                if !id.is_empty() {
                    out.push(id.to_string());
                }
            }
        }
    }
    out
}

/// The process's current and peak resident set (KiB), from /proc/self/status.
pub fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak (VmHWM) to the current RSS, after giving freed memory back.
pub fn reset_peak() {
    // SAFETY: malloc_trim only releases free heap memory; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
