//! Type erasure: a typed [`Resource`] or [`DataSource`] as a value of [`AnyResource`] /
//! [`AnyDataSource`], for the provider's registry. The adapter decodes Terraform's values
//! into the resource's types and back, and applies the per-resource rules: the plan the
//! schema derives, write-only values kept out of plan and state, the API's spelling of a
//! value replaced by Terraform's when the schema says they are the same, one more update
//! when the answer contradicts the approved plan, state kept on failure.

use std::sync::Arc;

use async_trait::async_trait;

use super::model::TfValue;
use super::schema::{Attribute, Schema};
use super::traits::{Ctx, DataSource, PlanNotes, Resource};
use super::{AttributePath, Diagnostic, Diagnostics, Value, plan, presence};
use crate::protocol::provider::{PlanRequest, PlanResponse};

#[async_trait]
/// A managed resource as a value, over Terraform's values (see [`resource`]).
pub trait AnyResource<D>: Send + Sync {
    /// The resource type name.
    fn type_name(&self) -> &'static str;
    /// The schema, with its behaviour.
    fn schema(&self) -> Schema;
    /// Decodes the configuration and checks it across attributes.
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Rewrites stored raw state before it is decoded (see `Resource::migrate_state`).
    fn migrate_state(
        &self,
        version: i64,
        attributes: &mut serde_json::Map<String, serde_json::Value>,
    );
    /// The plan: the schema's rules, then the resource's adjustments.
    async fn plan(&self, ctx: &Ctx<'_, D>, schema: &Schema, req: &PlanRequest<'_>) -> PlanResponse;
    /// `config` supplies the write-only values, which the plan holds as null.
    async fn apply(
        &self,
        ctx: &Ctx<'_, D>,
        schema: &Schema,
        prior: Value,
        planned: Value,
        config: &Value,
    ) -> (Value, Diagnostics);
    /// Refreshes `state`; null when the object is gone.
    async fn read(&self, ctx: &Ctx<'_, D>, schema: &Schema, state: Value) -> (Value, Diagnostics);
    /// Imports the object `id` names.
    async fn import(&self, ctx: &Ctx<'_, D>, id: &str) -> (Option<Value>, Diagnostics);
}

#[async_trait]
/// A data source as a value, over Terraform's values (see [`data_source`]).
pub trait AnyDataSource<D>: Send + Sync {
    /// The data source type name.
    fn type_name(&self) -> &'static str;
    /// The schema, with its behaviour.
    fn schema(&self) -> Schema;
    /// Decodes the configuration and checks it across attributes.
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Reads the object the configuration names.
    async fn read(&self, ctx: &Ctx<'_, D>, config: Value) -> (Value, Diagnostics);
}

/// Wraps a typed resource for the registry.
pub fn resource<D: Send + Sync + 'static, R: Resource<D>>(r: R) -> Arc<dyn AnyResource<D>> {
    Arc::new(Typed(r))
}

/// Wraps a typed data source for the registry.
pub fn data_source<D: Send + Sync + 'static, R: DataSource<D>>(r: R) -> Arc<dyn AnyDataSource<D>> {
    Arc::new(Typed(r))
}

struct Typed<R>(R);

pub(super) fn decode<T: TfValue>(v: &Value) -> Result<T, Diagnostics> {
    T::from_value(v, &AttributePath::root()).map_err(Diagnostics::from)
}

#[async_trait]
impl<D: Send + Sync + 'static, R: Resource<D>> AnyResource<D> for Typed<R> {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
    fn schema(&self) -> Schema {
        self.0.schema()
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        match decode::<R::State>(config) {
            Ok(c) => self.0.validate(&c),
            Err(d) => d,
        }
    }

    fn migrate_state(
        &self,
        version: i64,
        attributes: &mut serde_json::Map<String, serde_json::Value>,
    ) {
        self.0.migrate_state(version, attributes);
    }

    async fn plan(&self, ctx: &Ctx<'_, D>, schema: &Schema, req: &PlanRequest<'_>) -> PlanResponse {
        // A client without write-only support gets no plan for a write-only value, known or
        // not (an unknown one passed validation).
        let refused = presence::write_only_refused_at_plan(schema, &req.config, req.client);
        if refused.has_errors() {
            return PlanResponse {
                diagnostics: refused,
                ..Default::default()
            };
        }
        // Write-only values never enter the plan: Terraform's proposed state still has
        // the configured ones, so they go before anything is compared.
        let proposed = presence::without_write_only(schema, &req.proposed_new_state);
        let planned = plan::planned_state(schema, &req.prior_state, &proposed, &req.config);
        let adjusted = async {
            if planned.is_null() {
                return Ok((planned, PlanNotes::default()));
            }
            let mut typed: R::State = decode(&planned)?;
            let config: R::State = decode(&req.config)?;
            let prior: Option<R::State> = decode_opt(&req.prior_state)?;
            let notes = self
                .0
                .modify_plan(ctx, prior.as_ref(), &mut typed, &config)
                .await;
            let mut planned = typed.to_value();
            presence::strip_write_only(schema, &mut planned);
            Ok::<_, Diagnostics>((planned, notes))
        };
        match adjusted.await {
            // A plan with errors is no plan: nothing in it (a replacement least of all) may
            // reach a reviewer.
            Ok((_, notes)) if notes.diags.has_errors() => PlanResponse {
                diagnostics: notes.diags,
                ..Default::default()
            },
            Ok((planned, notes)) => PlanResponse {
                requires_replace: plan::requires_replace(schema, &req.prior_state, &planned)
                    .into_iter()
                    .filter(|p| {
                        !notes
                            .equivalent
                            .iter()
                            .any(|a| *p == AttributePath::attr(*a))
                    })
                    .collect(),
                planned_state: planned,
                planned_private: req.prior_private.clone(),
                diagnostics: notes.diags,
            },
            Err(diagnostics) => PlanResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn apply(
        &self,
        ctx: &Ctx<'_, D>,
        schema: &Schema,
        prior: Value,
        planned: Value,
        config: &Value,
    ) -> (Value, Diagnostics) {
        // The resource sees the configured write-only values; the new state never holds them.
        let with_write_only = presence::with_config_write_only(schema, &planned, config);
        let (prior_t, planned_t) = match (
            decode_opt::<R::State>(&prior),
            decode_opt::<R::State>(&with_write_only),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(d), _) | (_, Err(d)) => return (prior, d),
        };
        let deleting = planned_t.is_none();
        let outcome = match (prior_t, planned_t) {
            (None, Some(p)) => self.0.create(ctx, p).await,
            (Some(old), Some(p)) => self.0.update(ctx, old, p).await,
            (Some(old), None) => {
                let o = self.0.delete(ctx, old).await;
                if !o.diags.has_errors() {
                    return (Value::Null, o.diags);
                }
                o
            }
            (None, None) => return (Value::Null, Diagnostics::new()),
        };
        let Some(state) = outcome.state else {
            // Nothing new to record: keep what Terraform had (null on a failed create).
            return (prior, outcome.diags);
        };
        let mut diags = outcome.diags;
        let mut new_state = state.to_value();
        presence::strip_write_only(schema, &mut new_state);
        if deleting || diags.has_errors() {
            return (new_state, diags);
        }
        keep_spelling(schema, &planned, &mut new_state);
        if !plan::mismatches(schema, &planned, &new_state).is_empty() {
            // The API's answer differs from the approved plan (say, the object changed outside
            // Terraform after `plan -out`, and the update sent only what the plan changed):
            // one more update, from what the API now holds to the plan.
            let (current, planned_t) = match (decode(&new_state), decode(&with_write_only)) {
                (Ok(c), Ok(p)) => (c, p),
                (Err(d), _) | (_, Err(d)) => {
                    diags.extend(d);
                    return (new_state, diags);
                }
            };
            let again = self.0.update(ctx, current, planned_t).await;
            diags.extend(again.diags);
            if let Some(s) = again.state {
                new_state = s.to_value();
                presence::strip_write_only(schema, &mut new_state);
                keep_spelling(schema, &planned, &mut new_state);
            }
            if diags.has_errors() {
                return (new_state, diags);
            }
            for attr in plan::mismatches(schema, &planned, &new_state) {
                diags.push(not_as_planned(
                    attr,
                    planned.get(&attr.name),
                    new_state.get(&attr.name),
                ));
            }
        }
        (new_state, diags)
    }

    async fn read(&self, ctx: &Ctx<'_, D>, schema: &Schema, state: Value) -> (Value, Diagnostics) {
        if state.is_null() {
            return (Value::Null, Diagnostics::new());
        }
        let typed = match decode::<R::State>(&state) {
            Ok(s) => s,
            Err(d) => return (state, d),
        };
        let o = self.0.read(ctx, typed).await;
        match o.state {
            Some(s) => {
                let mut new_state = s.to_value();
                keep_spelling(schema, &state, &mut new_state);
                (new_state, o.diags)
            }
            // A failed read keeps the state; a clean "not found" removes it.
            None if o.diags.has_errors() => (state, o.diags),
            None => (Value::Null, o.diags),
        }
    }

    async fn import(&self, ctx: &Ctx<'_, D>, id: &str) -> (Option<Value>, Diagnostics) {
        let o = self.0.import(ctx, id).await;
        (o.state.map(|s| s.to_value()), o.diags)
    }
}

/// Where the API answered another spelling of the same value (see `Normalize`), keeps the
/// one Terraform already has (`reference`: the plan after apply, the prior state after
/// read), so that config, plan and state keep comparing equal.
fn keep_spelling(schema: &Schema, reference: &Value, new_state: &mut Value) {
    for attr in &schema.attributes {
        let theirs = reference.get(&attr.name);
        if theirs.is_unknown() {
            continue;
        }
        if let Some(ours) = new_state.get_mut(&attr.name)
            && ours != theirs
            && attr.equivalent(theirs, ours)
        {
            *ours = theirs.clone();
        }
    }
}

/// The error for a planned value the API would not take, at its attribute.
fn not_as_planned(attr: &Attribute, planned: &Value, got: &Value) -> Diagnostic {
    let show = |v: &Value| {
        if attr.sensitive {
            "(sensitive value)".to_string()
        } else {
            value_text(v)
        }
    };
    Diagnostic::error(
        format!("{} is not as planned", attr.name),
        format!(
            "After the apply the remote object holds {} for {}, not the planned {}, even after a second update \
             that asked for the planned value again. The state records what the remote object holds; run \
             `terraform plan` to see the difference, and look for whatever else changes this attribute.",
            show(got),
            attr.name,
            show(planned)
        ),
    )
    .at_attr(&attr.name)
}

/// A short rendering of a value for diagnostics: strings quoted, null as `null`.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Unknown => "(known after apply)".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Number(_) => v
            .as_i64()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "a number".into()),
        _ => "a different value".into(),
    }
}

fn decode_opt<T: TfValue>(v: &Value) -> Result<Option<T>, Diagnostics> {
    if v.is_null() {
        Ok(None)
    } else {
        decode(v).map(Some)
    }
}

#[async_trait]
impl<D: Send + Sync + 'static, R: DataSource<D>> AnyDataSource<D> for Typed<R> {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
    fn schema(&self) -> Schema {
        self.0.schema()
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        match decode::<R::Model>(config) {
            Ok(c) => self.0.validate(&c),
            Err(d) => d,
        }
    }
    async fn read(&self, ctx: &Ctx<'_, D>, config: Value) -> (Value, Diagnostics) {
        match decode::<R::Model>(&config) {
            Ok(c) => match self.0.read(ctx, c).await {
                Ok(m) => (m.to_value(), Diagnostics::new()),
                Err(d) => (Value::Null, d),
            },
            Err(d) => (Value::Null, d),
        }
    }
}
