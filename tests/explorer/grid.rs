//! The grid: for each scenario and owner (group, project, instance: `owners.rs`), a
//! simulator of its own (the families seed, plus decoys of the other two families), the
//! setup once, then a checkpoint;
//! the clean run (its API requests, planned actions and end state are the baseline); then,
//! per fault kind and recorded request index, restore → queue the fault → run → check →
//! clear faults → clean converge → check again. Jobs (a scenario and some fault kinds) run
//! on a few workers at once; kinds that can grow memory run alone, so the process's peak RSS
//! is theirs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use terraform_provider_gitlab::protocol::value::Value;
use tokio::sync::RwLock;

use super::driver::{Action, Failed, Run, Tf, Violation, Workspace};
use super::faults::{self, Decoys, Kind};
use super::invariants::{self as inv, Clusters};
use super::owners::{self, Owner};
use super::scenarios::{self, DataBy, Scenario, Step, Target};
use super::simctl::{Request, SimCtl};

/// How long one run of a scenario (its steps, faulted), or one converge apply, may take: with
/// a 1 s request timeout and 2 retries a legitimate run takes a few seconds. Kept well
/// under the test watchdog's 3 minutes for a whole job (see `explore`).
pub const RUN_BOUND: Duration = Duration::from_secs(30);
/// The test process's resident set (the in-process provider shares it) must stay below this.
pub const RSS_BOUND_KIB: u64 = 512 * 1024;
/// Step numbers of the converge's applies (one per workspace), after any scenario step.
const CONVERGE_STEP: usize = 1000;

/// Which part of the grid to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every scenario × every kind at one request index and for one owner, rotating, so
    /// that every scenario and every kind runs for each owner (`cargo test`).
    Subset,
    /// Every scenario × every owner × every kind × every request index it applies to.
    Full,
}

/// What one run (clean or faulted) came to.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub violations: Vec<Violation>,
    /// The error that ended the run, if one did.
    pub failed: Option<String>,
    pub took: Duration,
}

/// One cell of the grid: a fault kind at one request of a scenario.
#[derive(Clone, Debug)]
pub struct Cell {
    pub kind: Kind,
    pub index: usize,
    pub request: Request,
    pub outcome: Outcome,
}

/// A job's results: its scenario's clean run (for its owner) and its cells.
#[derive(Clone, Debug)]
pub struct JobResult {
    pub scenario: usize,
    pub owner: Owner,
    pub name: &'static str,
    pub requests: Vec<Request>,
    pub clean: Outcome,
    pub cells: Vec<Cell>,
    /// Kinds of this job with no request to hit.
    pub not_applicable: Vec<Kind>,
}

/// The fault-free run: what faulted runs are held to.
#[derive(Clone, Default)]
struct Baseline {
    requests: Vec<Request>,
    actions: BTreeMap<usize, (usize, Action)>,
    /// Destructive actions the clean run (steps and converge) planned, per workspace.
    destroys: BTreeSet<(usize, Action)>,
    ever_owned: BTreeSet<i64>,
    new_after_run: usize,
    new_after_converge: usize,
}

/// A scenario set up and checkpointed in its own simulator.
struct Prepared {
    sc: Scenario,
    ctl: SimCtl,
    tf: Tf,
    fixtures: BTreeMap<&'static str, i64>,
    ws0: Vec<Workspace>,
    snapshot: Clusters,
    base: Baseline,
}

fn heavy_lock() -> &'static RwLock<()> {
    static L: OnceLock<RwLock<()>> = OnceLock::new();
    L.get_or_init(|| RwLock::new(()))
}

fn resolve(t: &Target, run: &Run, fixtures: &BTreeMap<&'static str, i64>) -> Option<i64> {
    match t {
        Target::Ws(w) => run.ws[*w].cluster_id(),
        Target::Fixture(f) => fixtures.get(f).copied(),
    }
}

/// Runs the steps; the index of the step that failed, if one did. Checks after each
/// successful apply or import that state is what GitLab holds, and each data source's answer.
async fn run_steps(
    run: &mut Run,
    steps: &[Step],
    ctl: &SimCtl,
    fixtures: &BTreeMap<&'static str, i64>,
) -> Option<(usize, Failed)> {
    let r = run.tf.resource().clone();
    let owner = run.tf.owner;
    let cfg =
        |c: &Option<scenarios::ClusterCfg>| c.as_ref().map_or(Value::Null, |c| c.value(owner, &r));
    for (i, step) in steps.iter().enumerate() {
        let mut check_ws = None;
        let res = match step {
            Step::Apply(w, c) => {
                check_ws = Some(*w);
                run.apply(i, *w, cfg(c)).await
            }
            Step::PlanSaved(w, c, slot) => run.plan_saved(i, *w, cfg(c), slot).await,
            Step::ApplySaved(slot) => {
                check_ws = run.saved.get(slot).map(|(w, _)| *w);
                run.apply_saved(slot).await
            }
            Step::Import(w, t) => {
                check_ws = Some(*w);
                match resolve(t, run, fixtures) {
                    Some(id) => run.import(*w, &owner.import_id(id)).await,
                    None => Err(Failed("nothing to import".into())),
                }
            }
            Step::ReadCluster(by) => {
                let ds = &run.tf.schemas.data_sources[owner.resource()];
                let config = match by {
                    DataBy::Id(t) => match resolve(t, run, fixtures) {
                        Some(id) => owner.object(ds, false, &[("cluster_id", Value::int(id))]),
                        None => return Some((i, Failed("no cluster to read".into()))),
                    },
                    DataBy::Name(n) => owner.object(ds, false, &[("name", (*n).into())]),
                };
                run.read_data(i, owner.resource(), config).await
            }
            Step::ReadClusters => {
                let ds = &run.tf.schemas.data_sources[owner.list()];
                let config = owner.object(ds, false, &[]);
                run.read_data(i, owner.list(), config).await
            }
            Step::Outside(t, fields) => {
                if let Some(id) = resolve(t, run, fixtures) {
                    ctl.patch_cluster(id, fields.clone()).await;
                }
                Ok(())
            }
        };
        if let Err(f) = res {
            return Some((i, f));
        }
        let is_data = matches!(step, Step::ReadCluster(_) | Step::ReadClusters);
        if check_ws.is_some() || is_data {
            let now = ctl.clusters().await;
            if let Some(w) = check_ws {
                let state = run.ws[w].state.clone();
                run.violations
                    .extend(inv::state_matches(inv::STATE_EQ, owner, w, &state, &now));
            }
            if is_data && let Some((_, ty, config, state)) = run.data.last().cloned() {
                run.violations
                    .extend(inv::data_matches(owner, ty, &config, &state, &now));
            }
        }
    }
    None
}

impl Prepared {
    /// Starts a simulator (the families seed), makes the fixtures of `owner` and a decoy of
    /// each other family, runs the setup, checkpoints, and records the clean run. Returns the
    /// simulator too: it lives as long as the job.
    async fn new(sc: Scenario, owner: Owner) -> (Prepared, crate::support::Sim, Outcome) {
        let sim = tokio::task::spawn_blocking(|| {
            crate::support::Sim::start_seed(
                &crate::support::sim_launcher::families_seed_file(),
                &[],
            )
        })
        .await
        .expect("start gitlab-sim");
        let ctl = SimCtl::new(&sim.url);
        let schemas = {
            let servers = crate::grpc_support::serve_in_process().await;
            let mut c = servers.v6.clone();
            Arc::new(c.schemas().await.expect("GetProviderSchema"))
        };
        let tf = Tf {
            schemas,
            api_url: ctl.api_url(),
            owner,
        };
        let mut fixtures = BTreeMap::new();
        for (label, name, scope) in &sc.fixtures {
            fixtures.insert(*label, ctl.create_cluster(owner, name, scope).await);
        }
        // Decoys of the other families, named and scoped as the scenario's cluster: a lookup
        // on the wrong route, or an answer of the wrong family believed, would find them.
        let p = scenarios::PROD;
        for other in owner.others() {
            let id = ctl.create_cluster(other, p.name, p.scope).await;
            fixtures.insert(other.decoy_label(), id);
        }
        let mut run = Run::new(tf.clone(), vec![Workspace::default(); sc.workspaces]);
        if let Some((i, Failed(e))) = run_steps(&mut run, &sc.setup, &ctl, &fixtures).await {
            panic!("{}: setup step {i} failed: {e}", sc.name);
        }
        assert!(
            run.violations.is_empty(),
            "{}: setup: {:?}",
            sc.name,
            run.violations
        );
        ctl.checkpoint().await;
        let snapshot = ctl.clusters().await;
        let mut p = Prepared {
            sc,
            ctl,
            tf,
            fixtures,
            ws0: run.ws,
            snapshot,
            base: Baseline::default(),
        };
        let (clean, base) = p.execute(None).await;
        p.base = base;
        (p, sim, clean)
    }

    /// The clusters `foreign` answers name: the owner's `decoy`, and the decoy of the next
    /// family (group → project → instance → group).
    fn decoys(&self) -> Decoys {
        let owner = self.tf.owner;
        let kin = owners::ALL[(owners::ALL.iter().position(|o| *o == owner).unwrap_or(0) + 1) % 3];
        Decoys {
            own: self.fixtures["decoy"],
            kin: self.fixtures[kin.decoy_label()],
        }
    }

    /// Clusters no workspace owns: the checkpoint's, less those a workspace held then or
    /// during the clean run.
    fn foreign(&self) -> BTreeSet<i64> {
        let owned: BTreeSet<i64> = self
            .ws0
            .iter()
            .filter_map(Workspace::cluster_id)
            .chain(self.base.ever_owned.iter().copied())
            .collect();
        self.snapshot
            .keys()
            .filter(|id| !owned.contains(id))
            .copied()
            .collect()
    }

    /// One run from the checkpoint, with `fault` (kind, request index) or none (the clean
    /// run, which then also makes the baseline).
    async fn execute(&self, fault: Option<(Kind, usize)>) -> (Outcome, Baseline) {
        let started = Instant::now();
        let heavy = fault.is_some_and(|(k, _)| k.heavy());
        let (_shared, _alone) = if heavy {
            (None, Some(heavy_lock().write().await))
        } else {
            (Some(heavy_lock().read().await), None)
        };
        self.ctl.restore().await;
        if heavy {
            inv::reset_peak();
        }
        if let Some((k, i)) = fault {
            self.ctl
                .fault(k.spec(&self.base.requests, i, self.decoys()))
                .await;
        }
        let mut run = Run::new(self.tf.clone(), self.ws0.clone());
        let steps = &self.sc.steps;
        let failed = match tokio::time::timeout(
            RUN_BOUND,
            run_steps(&mut run, steps, &self.ctl, &self.fixtures),
        )
        .await
        {
            Ok(f) => f,
            Err(_) => {
                run.violate(
                    inv::TIME,
                    format!("the run did not end within {RUN_BOUND:?}"),
                );
                Some((usize::MAX, Failed("timed out".into())))
            }
        };
        // A delayed request is applied when its delay ends, after the provider gave up on
        // it: let that happen inside this cell (the checks and the converge see it), never
        // in the next cell's freshly restored database.
        if fault.is_some_and(|(k, _)| k == Kind::Delay) {
            tokio::time::sleep(faults::DELAY + Duration::from_millis(300)).await;
        }
        let (rss, peak) = inv::rss_kib();
        let measured = if heavy { peak } else { rss };
        if heavy {
            // Give what the run freed back, so later runs' RSS is their own.
            inv::reset_peak();
        }
        if measured > RSS_BOUND_KIB {
            run.violate(
                inv::MEMORY,
                format!(
                    "test process RSS {} MiB (bound {} MiB)",
                    measured / 1024,
                    RSS_BOUND_KIB / 1024
                ),
            );
        }
        let requests = self.ctl.requests().await;
        if std::env::var_os("FAULT_EXPLORER_TRACE").is_some() {
            let raw = self.ctl.raw_log().await;
            let log: Vec<String> = raw
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    format!(
                        "{} {} {} {} {}",
                        e["method"], e["path"], e["status"], e["fault"], e["body"]
                    )
                })
                .collect();
            println!(
                "trace {} {fault:?}: {} | {:?}",
                self.sc.name,
                log.join(" · "),
                failed.as_ref().map(|(_, f)| &f.0)
            );
        }
        if let Some((k, i)) = fault
            && !self.ctl.fault_taken().await
        {
            run.violate(
                inv::TAKEN,
                format!(
                    "the {} fault queued for request {i} ({}) never acted",
                    k.name(),
                    self.base.requests[i]
                ),
            );
        }
        self.ctl.clear_faults().await;
        if fault.is_none() && !self.sc.clean.allows(failed.as_ref().map(|(i, _)| *i)) {
            let what = failed
                .as_ref()
                .map_or("no step failed".to_string(), |(i, f)| {
                    format!("step {i}: {}", f.0)
                });
            run.violate(
                "clean run as designed",
                format!("designed: {:?}; {what}", self.sc.clean),
            );
        }
        let clean = fault.is_none();
        let base = if clean {
            Baseline {
                ever_owned: run.ever_owned.clone(),
                actions: run.actions.clone(),
                ..Baseline::default()
            }
        } else {
            self.base.clone()
        };
        let foreign = if clean {
            let mut p = self.snapshot.keys().copied().collect::<BTreeSet<_>>();
            for id in self
                .ws0
                .iter()
                .filter_map(Workspace::cluster_id)
                .chain(run.ever_owned.iter().copied())
            {
                p.remove(&id);
            }
            p
        } else {
            self.foreign()
        };
        let owned0: BTreeSet<i64> = self
            .ws0
            .iter()
            .filter_map(Workspace::cluster_id)
            .chain(run.ever_owned.iter().copied())
            .collect();

        // After the run.
        let now = self.ctl.clusters().await;
        let new_after_run = inv::new_clusters(&self.snapshot, &now).len();
        let mut v = std::mem::take(&mut run.violations);
        v.extend(inv::one_owner(&run.ws));
        v.extend(inv::foreign_untouched(
            &self.snapshot,
            &foreign,
            &now,
            &run.ws,
        ));
        if !clean {
            v.extend(inv::no_duplicates(&self.snapshot, &now, base.new_after_run));
            v.extend(inv::unexpected_destroys(&run.actions, &base.actions));
        }
        v.extend(inv::none_lost(
            &owned0,
            &self.snapshot,
            &now,
            &run.ws,
            inv::import_advised(&run.errors),
        ));

        // The clean converge: what the user's next plain `terraform apply` does.
        let advised = inv::advised_import_ids(&run.errors);
        let r = self.tf.resource().clone();
        let mut converge_actions = BTreeMap::new();
        for (w, end) in self.sc.converge.iter().enumerate() {
            // What the user does next: the import an error named, or the scenario's import
            // again if it failed.
            let again = self.sc.steps.iter().find_map(|s| match s {
                Step::Import(iw, t) if *iw == w => resolve(t, &run, &self.fixtures),
                _ => None,
            });
            let id = advised
                .first()
                .cloned()
                .or(again.map(|id| self.tf.owner.import_id(id)));
            if run.ws[w].state.is_null()
                && end.is_some()
                && let Some(id) = id
            {
                let _ = run.import(w, &id).await;
            }
            let config = end
                .as_ref()
                .map_or(Value::Null, |c| c.value(self.tf.owner, &r));
            let step = CONVERGE_STEP + w;
            let res = tokio::time::timeout(RUN_BOUND, run.apply(step, w, config)).await;
            match res {
                Ok(Ok(())) => {}
                Ok(Err(Failed(e))) => v.push(Violation {
                    invariant: inv::CONVERGE,
                    detail: format!("workspace {w}: {e}"),
                }),
                Err(_) => v.push(Violation {
                    invariant: inv::CONVERGE,
                    detail: format!("workspace {w}: no end within {RUN_BOUND:?}"),
                }),
            }
            if let Some(a) = run.actions.remove(&step) {
                converge_actions.insert(w, a.1);
            }
        }
        let now = self.ctl.clusters().await;
        let new_after_converge = inv::new_clusters(&self.snapshot, &now).len();
        v.append(&mut run.violations);
        v.extend(inv::one_owner(&run.ws));
        v.extend(inv::foreign_untouched(
            &self.snapshot,
            &foreign,
            &now,
            &run.ws,
        ));
        if !clean {
            v.extend(inv::no_duplicates(
                &self.snapshot,
                &now,
                base.new_after_converge,
            ));
        }
        let owned: BTreeSet<i64> = owned0.union(&run.ever_owned).copied().collect();
        v.extend(inv::none_lost(&owned, &self.snapshot, &now, &run.ws, false));
        for (w, ws) in run.ws.iter().enumerate() {
            v.extend(inv::state_matches(
                inv::CONVERGE_EQ,
                self.tf.owner,
                w,
                &ws.state,
                &now,
            ));
        }
        for (w, end) in self.sc.converge.iter().enumerate() {
            let config = end
                .as_ref()
                .map_or(Value::Null, |c| c.value(self.tf.owner, &r));
            match run.plan_action(w, config).await {
                Ok(Action::NoOp) => {}
                Ok(a) => v.push(Violation {
                    invariant: inv::CONVERGE_NOOP,
                    detail: format!("workspace {w}: the plan after the converge is {a:?}"),
                }),
                Err(Failed(e)) => v.push(Violation {
                    invariant: inv::CONVERGE_NOOP,
                    detail: format!("workspace {w}: the plan after the converge failed: {e}"),
                }),
            }
        }
        v.append(&mut run.violations);
        let mut destroys: BTreeSet<(usize, Action)> = base
            .actions
            .values()
            .filter(|(_, a)| a.destroys())
            .copied()
            .collect();
        if clean {
            destroys.extend(converge_actions.iter().map(|(w, a)| (*w, *a)));
        } else {
            destroys = self.base.destroys.clone();
            for (w, a) in &converge_actions {
                if a.destroys() && !destroys.contains(&(*w, *a)) {
                    v.push(Violation {
                        invariant: inv::DESTROY,
                        detail: format!(
                            "the converge of workspace {w} planned {a:?}, which the clean run never did"
                        ),
                    });
                }
            }
        }
        let mut seen = BTreeSet::new();
        v.retain(|x| seen.insert((x.invariant, x.detail.clone())));
        let outcome = Outcome {
            violations: v,
            failed: failed.map(|(i, Failed(e))| match i {
                usize::MAX => e,
                i => format!("step {i}: {e}"),
            }),
            took: started.elapsed(),
        };
        let base = Baseline {
            requests,
            destroys,
            new_after_run,
            new_after_converge,
            ..base
        };
        (outcome, base)
    }
}

/// The request indices a kind is tried at: all it applies to (full), or one (subset),
/// rotating with the scenario, the owner and the kind so the subset covers different
/// requests.
fn indices(mode: Mode, log: &[Request], kind: Kind, scenario: usize, owner: Owner) -> Vec<usize> {
    let all: Vec<usize> = (0..log.len()).filter(|i| kind.applies(&log[*i])).collect();
    match mode {
        Mode::Full => all,
        Mode::Subset if all.is_empty() => all,
        Mode::Subset => {
            let k = faults::ALL.iter().position(|x| *x == kind).unwrap_or(0);
            vec![all[(scenario + k + owner_index(owner)) % all.len()]]
        }
    }
}

fn owner_index(owner: Owner) -> usize {
    owners::ALL.iter().position(|o| *o == owner).unwrap_or(0)
}

/// The subset's owner for a scenario's `chunk`-th group of kinds: rotating with both, so each
/// scenario runs for every owner (it has more chunks than there are owners) and each kind
/// runs for every owner (across scenarios), with every (scenario, kind) run once.
fn subset_owner(scenario: usize, chunk: usize) -> Owner {
    owners::ALL[(scenario + chunk) % owners::ALL.len()]
}

/// One job: a scenario's setup and clean run for `owner`, then its cells for `kinds`.
async fn job(mode: Mode, scenario: usize, owner: Owner, kinds: Vec<Kind>) -> JobResult {
    let sc = scenarios::all().swap_remove(scenario);
    let name = sc.name;
    let (p, _sim, clean) = Prepared::new(sc, owner).await;
    let p = Arc::new(p);
    let mut cells = Vec::new();
    let mut not_applicable = Vec::new();
    for kind in kinds {
        let idx = indices(mode, &p.base.requests, kind, scenario, owner);
        if idx.is_empty() {
            not_applicable.push(kind);
        }
        for index in idx {
            let p2 = Arc::clone(&p);
            // A panic (of the harness or of a check the client makes) is a result too.
            let outcome =
                match tokio::spawn(async move { p2.execute(Some((kind, index))).await.0 }).await {
                    Ok(o) => o,
                    Err(e) => {
                        let msg = e
                            .try_into_panic()
                            .ok()
                            .and_then(|p| {
                                p.downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            })
                            .unwrap_or_else(|| "cancelled".into());
                        p.ctl.clear_faults().await;
                        Outcome {
                            violations: vec![Violation {
                                invariant: inv::HARNESS,
                                detail: msg.lines().next().unwrap_or("").to_string(),
                            }],
                            failed: None,
                            took: Duration::ZERO,
                        }
                    }
                };
            cells.push(Cell {
                kind,
                index,
                request: p.base.requests[index].clone(),
                outcome,
            });
        }
    }
    JobResult {
        scenario,
        owner,
        name,
        requests: p.base.requests.clone(),
        clean,
        cells,
        not_applicable,
    }
}

/// Runs the grid on `workers` jobs at a time; `only` filters scenarios by name, `owners`
/// the owners (by name: `group`, `project`, `instance`).
pub async fn explore(
    mode: Mode,
    workers: usize,
    only: Option<String>,
    owners_only: Option<String>,
) -> Vec<JobResult> {
    // Small jobs: a job's simulator is a child the test watchdog watches, and a job must
    // end (dropping it) within the watchdog's 3 minutes. Two kinds a job: each job pays a
    // simulator, a setup and a clean run, so fewer jobs make the three owners' full grid
    // affordable (a full job is at most 2 kinds × 5 requests: well within its 3 minutes
    // unless every run hits its bound, which fails the grid anyway). The subset, one request
    // a kind, gives a lone last kind to the job before it: as many jobs as before the
    // owners and the 15th kind came.
    let mut chunks: Vec<Vec<Kind>> = faults::ALL.chunks(2).map(<[Kind]>::to_vec).collect();
    if mode == Mode::Subset
        && chunks.len() > 1
        && chunks.last().is_some_and(|c| c.len() == 1)
        && let Some(last) = chunks.pop()
        && let Some(before) = chunks.last_mut()
    {
        before.extend(last);
    }
    let mut queue = VecDeque::new();
    for (i, sc) in scenarios::all().iter().enumerate() {
        if only.as_ref().is_some_and(|o| !sc.name.contains(o.as_str())) {
            continue;
        }
        for (c, kinds) in chunks.iter().enumerate() {
            let owners: Vec<Owner> = match mode {
                Mode::Subset => vec![subset_owner(i, c)],
                Mode::Full => owners::ALL.to_vec(),
            };
            for owner in owners {
                if owners_only
                    .as_ref()
                    .is_some_and(|o| !o.split(',').any(|o| o.trim() == owner.name()))
                {
                    continue;
                }
                queue.push_back((i, owner, kinds.clone()));
            }
        }
    }
    let queue = Arc::new(Mutex::new(queue));
    let mut handles = Vec::new();
    for _ in 0..workers.max(1) {
        let queue = Arc::clone(&queue);
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let next = queue.lock().expect("queue").pop_front();
                let Some((scenario, owner, kinds)) = next else {
                    break;
                };
                out.push(job(mode, scenario, owner, kinds).await);
            }
            out
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.extend(h.await.expect("a worker of the grid panicked"));
    }
    results.sort_by_key(|r| (r.scenario, r.owner, r.cells.first().map(|c| c.kind)));
    results
}
