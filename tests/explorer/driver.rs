//! A small Terraform core over the in-process provider (tfplugin6): the commands a user
//! runs, each in a fresh, freshly configured provider as Terraform starts one per command.
//!
//! - `apply`: refresh (ReadResource), plan (PlanResourceChange with Terraform's proposed new
//!   state; a RequiresReplace on a changed attribute, or a tainted object, plans a delete
//!   then a create as Terraform does), then apply, re-planning first as Terraform does at
//!   apply time and holding the new plan to the first ("Provider produced inconsistent final
//!   plan").
//! - `plan_saved` / `apply_saved`: `plan -out` now, `apply` of that plan later, from the
//!   plan's prior state, with the same final-plan check.
//! - `import`: ImportResourceState, then ReadResource of what it returned.
//! - `read_data`: ReadDataSource.
//!
//! What Terraform would reject (objchange's "invalid plan" / "inconsistent result", an
//! inconsistent final plan, a bare gRPC error instead of diagnostics) is collected as a
//! violation of the run, never a panic. State is kept as Terraform keeps it: a failed create
//! that returns an object leaves it tainted; a failed update or delete keeps what the
//! provider returned, or the prior object when it returned none.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use terraform_provider_gitlab::protocol::value::Value;

use super::owners::Owner;
use crate::grpc_support::objchange::{apply_problems, plan_problems};
use crate::grpc_support::{
    Diag, InProcess, ProtocolClient, WireSchema, WireSchemas, errors, proposed_new,
    serve_in_process,
};

/// A violated invariant: its name and one line of evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

/// What a plan decided for the one resource of a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    NoOp,
    Create,
    Update,
    Delete,
    Replace,
}

impl Action {
    /// Destroys the remote object (Delete, or a Replace's delete).
    pub fn destroys(self) -> bool {
        matches!(self, Action::Delete | Action::Replace)
    }
}

/// One workspace: a configuration's single cluster resource (of the run's owner) and its
/// state.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    pub state: Value,
    pub tainted: bool,
}

impl Workspace {
    pub fn cluster_id(&self) -> Option<i64> {
        self.state.get("cluster_id").as_i64()
    }
}

/// A plan for one workspace's resource.
#[derive(Clone)]
pub struct Change {
    pub action: Action,
    /// The (refreshed) prior state the plan was made from.
    pub prior: Value,
    /// The planned new state: of the update, or of the create (also a Replace's create).
    pub planned: Value,
    pub config: Value,
}

/// A command that could not finish: the error Terraform would print.
#[derive(Clone, Debug)]
pub struct Failed(pub String);

/// The provider factory: the schemas, where GitLab (the simulator) is, and whose clusters
/// the configurations manage (the resource, data sources and token of that owner).
#[derive(Clone)]
pub struct Tf {
    pub schemas: Arc<WireSchemas>,
    pub api_url: String,
    pub owner: Owner,
}

/// One provider process of one command.
pub struct Session {
    _servers: InProcess,
    pub c: ProtocolClient,
}

/// Everything one run of a scenario accumulates: the workspaces, saved plans, violations,
/// and what each step planned.
pub struct Run {
    pub tf: Tf,
    pub ws: Vec<Workspace>,
    pub saved: BTreeMap<&'static str, (usize, Change)>,
    pub violations: Vec<Violation>,
    /// Per step: (workspace, planned action) for the steps that plan.
    pub actions: BTreeMap<usize, (usize, Action)>,
    /// Every cluster id a workspace's state held at some point of the run.
    pub ever_owned: BTreeSet<i64>,
    /// The error diagnostics the run's commands returned.
    pub errors: Vec<String>,
    /// Data source results by step: (type, config, state).
    pub data: Vec<(usize, &'static str, Value, Value)>,
}

impl Tf {
    /// A fresh provider configured for the simulator: `request_timeout = 1`, `retries = 2`,
    /// no early `GET /user` (the provider has no backoff knob: its 250 ms base stands), with
    /// the owner's token (an administrator's for instance clusters).
    pub async fn session(&self) -> Session {
        let servers = serve_in_process().await;
        let mut c = servers.v6.clone();
        let p = &self.schemas.provider;
        let config = p.object(&[
            ("base_url", self.api_url.as_str().into()),
            ("token", self.owner.token().into()),
            ("early_auth_check", false.into()),
            ("retries", Value::int(2)),
            ("request_timeout", Value::int(1)),
        ]);
        let d = c
            .configure(Some(p.msgpack(&config)))
            .await
            .expect("ConfigureProvider answers");
        assert!(errors(&d).is_empty(), "configure: {d:?}");
        Session {
            _servers: servers,
            c,
        }
    }

    /// The resource type name: `gitlab_group_cluster`, `gitlab_project_cluster`, …
    pub fn cluster(&self) -> &'static str {
        self.owner.resource()
    }

    pub fn resource(&self) -> &WireSchema {
        &self.schemas.resources[self.cluster()]
    }
}

fn error_text(diags: &[Diag]) -> Option<String> {
    let e = errors(diags);
    (!e.is_empty()).then(|| e.iter().map(|d| d.text()).collect::<Vec<_>>().join(" | "))
}

/// A value shown for evidence (strings quoted; the provider's own `Debug` hides them).
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Unknown => "(known after apply)".into(),
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        other => other
            .as_i64()
            .map_or_else(|| format!("{other:?}"), |i| i.to_string()),
    }
}

impl Run {
    pub fn new(tf: Tf, ws: Vec<Workspace>) -> Run {
        let ever_owned = ws.iter().filter_map(Workspace::cluster_id).collect();
        Run {
            tf,
            ws,
            saved: BTreeMap::new(),
            violations: Vec::new(),
            actions: BTreeMap::new(),
            ever_owned,
            errors: Vec::new(),
            data: Vec::new(),
        }
    }

    pub fn violate(&mut self, invariant: &'static str, detail: impl Into<String>) {
        self.violations.push(Violation {
            invariant,
            detail: detail.into(),
        });
    }

    fn set_state(&mut self, ws: usize, state: Value, tainted: bool) {
        if let Some(id) = state.get("cluster_id").as_i64() {
            self.ever_owned.insert(id);
        }
        self.ws[ws] = Workspace { state, tainted };
    }

    /// Diagnostics with errors end the command: recorded, and returned as its failure.
    fn fail_on(&mut self, what: &str, diags: &[Diag]) -> Result<(), Failed> {
        match error_text(diags) {
            Some(t) => {
                let t = format!("{what}: {t}");
                self.errors.push(t.clone());
                Err(Failed(t))
            }
            None => Ok(()),
        }
    }

    /// A gRPC error in place of an answer: a violation (Terraform shows users an `rpc error`
    /// they cannot act on) and the command's failure.
    fn rpc<T>(&mut self, what: &str, r: Result<T, tonic::Status>) -> Result<T, Failed> {
        r.map_err(|s| {
            let t = format!("{what}: gRPC {:?}: {}", s.code(), s.message());
            self.violate("answers with diagnostics", t.clone());
            self.errors.push(t.clone());
            Failed(t)
        })
    }

    /// ReadResource of the workspace's object (Terraform's refresh); null when GitLab says
    /// it is gone.
    async fn refresh(&mut self, s: &mut Session, ws: usize) -> Result<Value, Failed> {
        let state = self.ws[ws].state.clone();
        if state.is_null() {
            return Ok(state);
        }
        let r = self.tf.resource().clone();
        let out =
            s.c.read(self.tf.cluster(), Some(r.msgpack(&state)), &[])
                .await;
        let (new, _, diags) = self.rpc("refresh", out)?;
        self.fail_on("refresh", &diags)?;
        Ok(new.map_or(Value::Null, |b| r.decode(&b)))
    }

    /// PlanResourceChange, with Terraform's checks of the answer.
    async fn plan_one(
        &mut self,
        s: &mut Session,
        prior: &Value,
        config: &Value,
    ) -> Result<(Value, Vec<String>), Failed> {
        let r = self.tf.resource().clone();
        let proposed = if config.is_null() {
            Value::Null
        } else {
            proposed_new(&r, prior, config)
        };
        let out =
            s.c.plan_unchecked(
                self.tf.cluster(),
                Some(r.msgpack(prior)),
                Some(r.msgpack(&proposed)),
                Some(r.msgpack(config)),
                Some(true),
            )
            .await;
        let p = self.rpc("plan", out)?;
        self.fail_on("plan", &p.diags)?;
        let planned = p.planned.map_or(Value::Null, |b| r.decode(&b));
        for problem in plan_problems(&r, prior, config, &planned) {
            self.violate("objchange", problem);
        }
        // Terraform replaces only for a RequiresReplace path whose value changes.
        let replace = p
            .requires_replace
            .iter()
            .filter_map(|path| match path.first() {
                Some(crate::grpc_support::Step::Attr(a)) => Some(a.clone()),
                _ => None,
            })
            .filter(|a| {
                let pl = planned.get(a);
                pl.is_unknown() || pl != prior.get(a)
            })
            .collect();
        Ok((planned, replace))
    }

    /// Terraform's plan of one workspace's resource from `prior` towards `config` (null:
    /// removed from the configuration).
    async fn plan(
        &mut self,
        s: &mut Session,
        ws: usize,
        prior: Value,
        config: Value,
    ) -> Result<Change, Failed> {
        let change = |action, planned| Change {
            action,
            prior: prior.clone(),
            planned,
            config: config.clone(),
        };
        if config.is_null() {
            if prior.is_null() {
                return Ok(change(Action::NoOp, Value::Null));
            }
            self.plan_one(s, &prior, &Value::Null).await?;
            return Ok(change(Action::Delete, Value::Null));
        }
        if prior.is_null() {
            let (planned, _) = self.plan_one(s, &Value::Null, &config).await?;
            return Ok(change(Action::Create, planned));
        }
        let (planned, replace) = self.plan_one(s, &prior, &config).await?;
        if replace.is_empty() && !self.ws[ws].tainted {
            let action = if planned == prior {
                Action::NoOp
            } else {
                Action::Update
            };
            return Ok(change(action, planned));
        }
        let (create, _) = self.plan_one(s, &Value::Null, &config).await?;
        Ok(change(Action::Replace, create))
    }

    /// Terraform's re-plan at apply time, held to the plan the user approved: the same
    /// action, and every value known in that plan unchanged.
    async fn final_plan(
        &mut self,
        s: &mut Session,
        prior: &Value,
        c: &Change,
    ) -> Result<(), Failed> {
        let (again, replace) = self.plan_one(s, prior, &c.config).await?;
        let mut problems = Vec::new();
        if c.action == Action::Update && !replace.is_empty() {
            problems.push(format!(
                "changed the planned action from Update to DeleteThenCreate (requires replacement: {})",
                replace.join(", ")
            ));
        }
        let r = self.tf.resource().clone();
        for name in r.attrs.keys() {
            let (was, now) = (c.planned.get(name), again.get(name));
            if !was.is_unknown() && was != now {
                problems.push(format!(
                    "produced an invalid new value for .{name}: was {}, but now {}",
                    show(was),
                    show(now)
                ));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        for p in &problems {
            self.violate(
                "final plan",
                format!("Provider produced inconsistent final plan: {p}"),
            );
        }
        // Terraform stops the apply there.
        let t = format!("Provider produced inconsistent final plan: {}", problems[0]);
        self.errors.push(t.clone());
        Err(Failed(t))
    }

    async fn apply_rpc(
        &mut self,
        s: &mut Session,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> Result<(Value, Vec<Diag>), Failed> {
        let r = self.tf.resource().clone();
        let out =
            s.c.apply_unchecked(
                self.tf.cluster(),
                Some(r.msgpack(prior)),
                Some(r.msgpack(planned)),
                Some(r.msgpack(config)),
            )
            .await;
        let a = self.rpc("apply", out)?;
        let new = match a.new_state {
            Some(b) => r.decode(&b),
            None => Value::Null,
        };
        if errors(&a.diags).is_empty() {
            for problem in apply_problems(&r, planned, &new) {
                self.violate("objchange", problem);
            }
        }
        Ok((new, a.diags))
    }

    /// Applies `c` to workspace `ws`, re-planning first as Terraform does.
    async fn apply_change(&mut self, s: &mut Session, ws: usize, c: &Change) -> Result<(), Failed> {
        let mut prior = c.prior.clone();
        if c.action.destroys() {
            let (new, diags) = self
                .apply_rpc(s, &prior, &Value::Null, &Value::Null)
                .await?;
            if error_text(&diags).is_some() {
                // A failed delete keeps the object (what came back, else the prior one).
                let kept = if new.is_null() { prior } else { new };
                let tainted = self.ws[ws].tainted;
                self.set_state(ws, kept, tainted);
                return self.fail_on("apply (delete)", &diags);
            }
            self.set_state(ws, Value::Null, false);
            if c.action == Action::Delete {
                return Ok(());
            }
            prior = Value::Null;
        }
        if c.action == Action::NoOp {
            return Ok(());
        }
        self.final_plan(s, &prior, c).await?;
        let (new, diags) = self.apply_rpc(s, &prior, &c.planned, &c.config).await?;
        if error_text(&diags).is_some() {
            if new.is_null() {
                // Terraform keeps the prior object when a failed apply returns none.
                self.set_state(ws, prior.clone(), !prior.is_null() && self.ws[ws].tainted);
            } else {
                // A failed create that returns an object leaves it tainted.
                self.set_state(ws, new, prior.is_null());
            }
            return self.fail_on("apply", &diags);
        }
        self.set_state(ws, new, false);
        Ok(())
    }

    /// `terraform apply` of `config` in workspace `ws` (step `step`).
    pub async fn apply(&mut self, step: usize, ws: usize, config: Value) -> Result<(), Failed> {
        let mut s = self.tf.session().await;
        let refreshed = self.refresh(&mut s, ws).await?;
        let tainted = self.ws[ws].tainted && !refreshed.is_null();
        self.set_state(ws, refreshed.clone(), tainted);
        let c = self.plan(&mut s, ws, refreshed, config).await?;
        self.actions.insert(step, (ws, c.action));
        self.apply_change(&mut s, ws, &c).await
    }

    /// `terraform plan`: what it would do, nothing kept.
    pub async fn plan_action(&mut self, ws: usize, config: Value) -> Result<Action, Failed> {
        let mut s = self.tf.session().await;
        let refreshed = self.refresh(&mut s, ws).await?;
        Ok(self.plan(&mut s, ws, refreshed, config).await?.action)
    }

    /// `terraform plan -out=<slot>`: the refreshed state and the plan, kept for later.
    pub async fn plan_saved(
        &mut self,
        step: usize,
        ws: usize,
        config: Value,
        slot: &'static str,
    ) -> Result<(), Failed> {
        let mut s = self.tf.session().await;
        let refreshed = self.refresh(&mut s, ws).await?;
        let c = self.plan(&mut s, ws, refreshed, config).await?;
        if std::env::var_os("FAULT_EXPLORER_TRACE").is_some() {
            println!(
                "trace plan -out {slot}: {:?}, prior authorization {}, planned {}",
                c.action,
                show(c.prior.get("kubernetes_authorization_type")),
                show(c.planned.get("kubernetes_authorization_type"))
            );
        }
        self.actions.insert(step, (ws, c.action));
        self.saved.insert(slot, (ws, c));
        Ok(())
    }

    /// `terraform apply <slot>`.
    pub async fn apply_saved(&mut self, slot: &'static str) -> Result<(), Failed> {
        let Some((ws, c)) = self.saved.get(slot).cloned() else {
            return Err(Failed(format!("no saved plan {slot}")));
        };
        let mut s = self.tf.session().await;
        let tainted = self.ws[ws].tainted;
        self.set_state(ws, c.prior.clone(), tainted);
        self.apply_change(&mut s, ws, &c).await
    }

    /// `terraform import <resource>.this <id>`.
    pub async fn import(&mut self, ws: usize, id: &str) -> Result<(), Failed> {
        let mut s = self.tf.session().await;
        let r = self.tf.resource().clone();
        let out = s.c.import(self.tf.cluster(), id).await;
        let (imported, diags) = self.rpc("import", out)?;
        self.fail_on("import", &diags)?;
        let Some((_, Some(bytes))) = imported.into_iter().next() else {
            let t = "import: the provider imported nothing".to_string();
            self.errors.push(t.clone());
            return Err(Failed(t));
        };
        let state = r.decode(&bytes);
        let out =
            s.c.read(self.tf.cluster(), Some(r.msgpack(&state)), &[])
                .await;
        let (read, _, diags) = self.rpc("import (read)", out)?;
        self.fail_on("import (read)", &diags)?;
        let read = read.map_or(Value::Null, |b| r.decode(&b));
        if read.is_null() {
            let t = format!("Cannot import non-existent remote object ({id})");
            self.errors.push(t.clone());
            return Err(Failed(t));
        }
        self.set_state(ws, read, false);
        Ok(())
    }

    /// ReadDataSource of `type_name` with `config`; the result is kept for the data check.
    pub async fn read_data(
        &mut self,
        step: usize,
        type_name: &'static str,
        config: Value,
    ) -> Result<(), Failed> {
        let mut s = self.tf.session().await;
        let schema = self.tf.schemas.data_sources[type_name].clone();
        let out =
            s.c.read_data_source(type_name, Some(schema.msgpack(&config)))
                .await;
        let (state, diags) = self.rpc("read data source", out)?;
        self.fail_on("read data source", &diags)?;
        let state = state.map_or(Value::Null, |b| schema.decode(&b));
        self.data.push((step, type_name, config, state));
        Ok(())
    }
}
