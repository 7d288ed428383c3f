//! The provider framework: typed resources and data sources on top of the internal
//! provider interface. It owns the rules every resource shares (plan from schema, replace
//! detection, validation, keeping state on failure, cancellation on StopProvider), so a
//! resource only maps typed structs to API calls. Resources declare their schemas with
//! [`schema`] (behaviour as values); the framework serves the wire schema derived from them.
//! Knows nothing about any particular API.

pub mod env;
pub mod model;
pub mod plan;
pub mod prelude;
pub mod presence;
pub mod schema;
pub mod validate;

/// The protocol types a resource works with (diagnostics with attribute paths, values, the
/// redactor), under the framework's name: resources reach only the framework.
pub use crate::protocol::diag::{AttributePath, Diagnostic, Diagnostics};
pub use crate::protocol::logging::Redactor;
pub use crate::protocol::value::{Type, Value};

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::protocol::codec::{self, UnknownAttrs};
use crate::protocol::provider::{
    ApplyRequest, ApplyResponse, ClientCapabilities, ConfigureRequest, ImportedResource,
    PlanRequest, PlanResponse, ProviderServer, ReadRequest, ReadResponse, UpgradeRequest,
};
use crate::protocol::schema as wire;
use model::TfValue;
use schema::{Attribute, ProviderSchemas, Schema};

/// What a resource operation hands to the resource: the configured provider data and the
/// token cancelled when Terraform sends StopProvider.
pub struct Ctx<'a, D> {
    pub data: &'a D,
    pub cancel: &'a CancellationToken,
}

/// The result of a resource operation. `state` is the object as it now exists:
/// `None` means "nothing" for create and read (never created, or gone) and "unchanged"
/// for update and delete. Errors may come with a state: a partial apply is recorded.
pub struct Outcome<S> {
    pub state: Option<S>,
    pub diags: Diagnostics,
}

impl<S> Outcome<S> {
    pub fn ok(state: S) -> Self {
        Outcome {
            state: Some(state),
            diags: Diagnostics::new(),
        }
    }
    pub fn none() -> Self {
        Outcome {
            state: None,
            diags: Diagnostics::new(),
        }
    }
    pub fn err(diags: impl Into<Diagnostics>) -> Self {
        Outcome {
            state: None,
            diags: diags.into(),
        }
    }
    pub fn partial(state: S, diags: impl Into<Diagnostics>) -> Self {
        Outcome {
            state: Some(state),
            diags: diags.into(),
        }
    }
}

/// What a resource adds to the plan the framework computed.
#[derive(Default)]
pub struct PlanNotes {
    pub diags: Diagnostics,
    /// Force-new attributes whose new value names the same thing as the prior one (say,
    /// a group's id and its path): changing them does not replace the object.
    pub equivalent: Vec<&'static str>,
}

/// A managed resource over typed state.
#[async_trait]
pub trait Resource<D: Send + Sync + 'static>: Send + Sync + 'static {
    type State: TfValue + Send + Sync;
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Checks across attributes (the schema's validators already ran); `config` may hold
    /// unknown values.
    fn validate(&self, _config: &Self::State) -> Diagnostics {
        Diagnostics::new()
    }
    /// Adjusts the plan the framework computed (which already has defaults, unknowns and
    /// stable values). `prior` is `None` on create.
    async fn modify_plan(
        &self,
        _ctx: &Ctx<'_, D>,
        _prior: Option<&Self::State>,
        _planned: &mut Self::State,
        _config: &Self::State,
    ) -> PlanNotes {
        PlanNotes::default()
    }
    /// Rewrites stored state (raw JSON attributes) written by an older schema version or
    /// by another provider (`terraform state replace-provider`) before it is decoded.
    fn migrate_state(
        &self,
        _version: i64,
        _attributes: &mut serde_json::Map<String, serde_json::Value>,
    ) {
    }
    async fn create(&self, ctx: &Ctx<'_, D>, planned: Self::State) -> Outcome<Self::State>;
    async fn read(&self, ctx: &Ctx<'_, D>, state: Self::State) -> Outcome<Self::State>;
    async fn update(
        &self,
        ctx: &Ctx<'_, D>,
        prior: Self::State,
        planned: Self::State,
    ) -> Outcome<Self::State>;
    async fn delete(&self, ctx: &Ctx<'_, D>, prior: Self::State) -> Outcome<Self::State>;
    async fn import(&self, ctx: &Ctx<'_, D>, id: &str) -> Outcome<Self::State>;
}

/// A data source over a typed model (configuration in, full object out).
#[async_trait]
pub trait DataSource<D: Send + Sync + 'static>: Send + Sync + 'static {
    type Model: TfValue + Send + Sync;
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Self::Model) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, ctx: &Ctx<'_, D>, config: Self::Model)
    -> Result<Self::Model, Diagnostics>;
}

/// A provider: its configuration and what configuring it yields, and its resources.
#[async_trait]
pub trait ProviderDef: Send + Sync + 'static {
    type Config: TfValue + Send + Sync;
    /// What resources receive: typically the configured API client.
    type Data: Send + Sync + 'static;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Self::Config) -> Diagnostics {
        Diagnostics::new()
    }
    async fn configure(
        &self,
        config: Self::Config,
        cancel: CancellationToken,
    ) -> Result<Self::Data, Diagnostics>;
    fn resources(&self) -> Vec<Arc<dyn AnyResource<Self::Data>>>;
    fn data_sources(&self) -> Vec<Arc<dyn AnyDataSource<Self::Data>>>;
}

// ---------------------------------------------------------------------------------------
// Type erasure: resources as values, for the provider's registry.

#[async_trait]
pub trait AnyResource<D>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, config: &Value) -> Diagnostics;
    fn migrate_state(
        &self,
        version: i64,
        attributes: &mut serde_json::Map<String, serde_json::Value>,
    );
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
    async fn read(&self, ctx: &Ctx<'_, D>, schema: &Schema, state: Value) -> (Value, Diagnostics);
    async fn import(&self, ctx: &Ctx<'_, D>, id: &str) -> (Option<Value>, Diagnostics);
}

#[async_trait]
pub trait AnyDataSource<D>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, config: &Value) -> Diagnostics;
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

fn decode<T: TfValue>(v: &Value) -> Result<T, Diagnostics> {
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

// ---------------------------------------------------------------------------------------
// The framework as the internal provider interface.

type DynResource<D> = Arc<dyn AnyResource<D>>;

/// Serves a [`ProviderDef`] through the internal provider interface.
pub struct Framework<P: ProviderDef> {
    def: P,
    /// The schemas with their behaviour, which the framework plans and validates by.
    schemas: ProviderSchemas,
    /// What Terraform is told: `schemas` without the behaviour.
    wire: wire::ProviderSchemas,
    /// Learns the sensitive values the environment supplies.
    redactor: Redactor,
    resources: BTreeMap<String, Arc<dyn AnyResource<P::Data>>>,
    data_sources: BTreeMap<String, Arc<dyn AnyDataSource<P::Data>>>,
    data: RwLock<Option<Arc<P::Data>>>,
    cancel: CancellationToken,
}

impl<P: ProviderDef> Framework<P> {
    pub fn new(def: P) -> Self {
        let resources: BTreeMap<_, _> = def
            .resources()
            .into_iter()
            .map(|r| (r.type_name().to_string(), r))
            .collect();
        let data_sources: BTreeMap<_, _> = def
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name().to_string(), d))
            .collect();
        let schemas = ProviderSchemas {
            provider: def.schema(),
            resources: resources
                .iter()
                .map(|(k, r)| (k.clone(), r.schema()))
                .collect(),
            data_sources: data_sources
                .iter()
                .map(|(k, d)| (k.clone(), d.schema()))
                .collect(),
        };
        Framework {
            def,
            wire: schemas.wire(),
            schemas,
            redactor: Redactor::default(),
            resources,
            data_sources,
            data: RwLock::new(None),
            cancel: CancellationToken::new(),
        }
    }

    /// Teaches `redactor` the sensitive values the framework itself brings in (from the
    /// environment), besides the configuration's, which the protocol layer's redactor sees.
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// The schemas with their behaviour (plan rules, validators, environment variables),
    /// for the docs generator.
    pub fn framework_schemas(&self) -> &ProviderSchemas {
        &self.schemas
    }

    /// The token StopProvider cancels.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    fn data(&self) -> Result<Arc<P::Data>, Diagnostics> {
        self.data
            .read()
            .ok()
            .and_then(|d| d.clone())
            .ok_or_else(|| {
                Diagnostic::error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in the client; \
                 please report it with your Terraform/OpenTofu version.",
            )
            .into()
            })
    }

    fn resource(&self, type_name: &str) -> Result<(&DynResource<P::Data>, &Schema), Diagnostics> {
        match (
            self.resources.get(type_name),
            self.schemas.resources.get(type_name),
        ) {
            (Some(r), Some(s)) => Ok((r, s)),
            _ => Err(Diagnostic::error(
                "Unknown resource type",
                format!("This provider has no resource {type_name:?}."),
            )
            .into()),
        }
    }

    fn stopped(&self) -> Result<(), Diagnostics> {
        if self.cancel.is_cancelled() {
            Err(Diagnostic::error(
                "Operation cancelled",
                "Terraform asked the provider to stop (StopProvider), so it did not start this operation.",
            )
            .into())
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl<P: ProviderDef> ProviderServer for Framework<P> {
    fn schemas(&self) -> &wire::ProviderSchemas {
        &self.wire
    }

    async fn validate_provider_config(&self, config: Value) -> Diagnostics {
        let mut d = presence::required_nulls(&self.schemas.provider, &config);
        d.extend(validate::validate_config(&self.schemas.provider, &config));
        match decode::<P::Config>(&config) {
            Ok(c) => d.extend(self.def.validate(&c)),
            Err(e) => d.extend(e),
        }
        d
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        tracing::info!(terraform_version = %req.terraform_version, "configuring provider");
        let mut diags = validate::validate_config(&self.schemas.provider, &req.config);
        if diags.has_errors() {
            return diags;
        }
        // What the configuration leaves unset comes from the environment, the one place
        // that reads it for the schema's attributes.
        let mut config = req.config;
        diags.extend(env::fill(
            &self.schemas.provider,
            &mut config,
            &self.redactor,
        ));
        if diags.has_errors() {
            return diags;
        }
        let config = match decode::<P::Config>(&config) {
            Ok(c) => c,
            Err(d) => return d,
        };
        match self.def.configure(config, self.cancel.clone()).await {
            Ok(data) => {
                if let Ok(mut slot) = self.data.write() {
                    *slot = Some(Arc::new(data));
                }
            }
            Err(d) => diags.extend(d),
        }
        diags
    }

    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Value,
        client: ClientCapabilities,
    ) -> Diagnostics {
        match self.resource(type_name) {
            Ok((r, schema)) => {
                let mut d = presence::required_nulls(schema, &config);
                d.extend(presence::write_only_refused(schema, &config, client));
                d.extend(validate::validate_config(schema, &config));
                d.extend(r.validate(&config));
                d
            }
            Err(d) => d,
        }
    }

    async fn validate_data_source_config(&self, type_name: &str, config: Value) -> Diagnostics {
        match (
            self.data_sources.get(type_name),
            self.schemas.data_sources.get(type_name),
        ) {
            (Some(ds), Some(schema)) => {
                let mut d = presence::required_nulls(schema, &config);
                d.extend(validate::validate_config(schema, &config));
                d.extend(ds.validate(&config));
                d
            }
            _ => Diagnostic::error(
                "Unknown data source",
                format!("This provider has no data source {type_name:?}."),
            )
            .into(),
        }
    }

    async fn upgrade_resource_state(&self, req: UpgradeRequest<'_>) -> (Value, Diagnostics) {
        let schema = match self.resource(req.type_name) {
            Ok((_, s)) => s,
            Err(d) => return (Value::Null, d),
        };
        if req.version > schema.version {
            return (
                Value::Null,
                Diagnostic::error(
                    "State written by a newer provider",
                    format!(
                        "The state of this {} has schema version {}, but this provider knows versions up to {}. \
                         Upgrade the provider.",
                        req.type_name, req.version, schema.version
                    ),
                )
                .into(),
            );
        }
        if req.json.is_empty() {
            if req.has_flatmap {
                return (
                    Value::Null,
                    Diagnostic::error(
                        "Unsupported legacy state",
                        "This state uses Terraform 0.11's flatmap format. Refresh it with Terraform 0.12-0.15 first.",
                    )
                    .into(),
                );
            }
            return (Value::Null, Diagnostics::new());
        }
        // Attributes the schema no longer has (or another provider wrote) are dropped;
        // attributes it gained start null and are filled by the next refresh.
        let (r, _) = match self.resource(req.type_name) {
            Ok(x) => x,
            Err(d) => return (Value::Null, d),
        };
        let mut raw: serde_json::Value = match serde_json::from_slice(req.json) {
            Ok(j) => j,
            Err(e) => {
                return (
                    Value::Null,
                    Diagnostic::error(
                        "Unreadable stored state",
                        format!("The stored state could not be decoded: it is not JSON ({e})."),
                    )
                    .into(),
                );
            }
        };
        if let serde_json::Value::Object(attributes) = &mut raw {
            r.migrate_state(req.version, attributes);
        }
        match codec::from_json_value(
            &raw,
            &schema.value_type(),
            UnknownAttrs::Ignore,
            &AttributePath::root(),
        ) {
            // A write-only value in stored state (from a client that kept it) goes.
            Ok(v) => (presence::without_write_only(schema, &v), Diagnostics::new()),
            Err(e) => (
                Value::Null,
                Diagnostic::error(
                    "Unreadable stored state",
                    format!("The stored state could not be decoded: {e}"),
                )
                .at(e.path)
                .into(),
            ),
        }
    }

    async fn read_resource(&self, req: ReadRequest<'_>) -> ReadResponse {
        let run = async {
            self.stopped()?;
            let (r, schema) = self.resource(req.type_name)?;
            let data = self.data()?;
            let ctx = Ctx {
                data: &*data,
                cancel: &self.cancel,
            };
            let (mut new_state, diags) = r.read(&ctx, schema, req.current_state.clone()).await;
            presence::strip_write_only(schema, &mut new_state);
            Ok::<_, Diagnostics>((new_state, diags))
        };
        match run.await {
            Ok((new_state, diagnostics)) => ReadResponse {
                new_state,
                private: req.private,
                diagnostics,
            },
            Err(diagnostics) => ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics,
            },
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        let run = async {
            let (r, schema) = self.resource(req.type_name)?;
            // Terraform validated the configuration already; a client that skipped that
            // still gets no plan from a configuration that breaks the schema's presence rules.
            let mut refused = presence::required_nulls(schema, &req.config);
            refused.extend(presence::write_only_refused(
                schema,
                &req.config,
                req.client,
            ));
            if refused.has_errors() {
                return Err(refused);
            }
            let data = self.data()?;
            let ctx = Ctx {
                data: &*data,
                cancel: &self.cancel,
            };
            Ok::<_, Diagnostics>(r.plan(&ctx, schema, &req).await)
        };
        run.await.unwrap_or_else(|diagnostics| PlanResponse {
            diagnostics,
            ..Default::default()
        })
    }

    async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        let run = async {
            self.stopped()?;
            let (r, schema) = self.resource(req.type_name)?;
            let data = self.data()?;
            let ctx = Ctx {
                data: &*data,
                cancel: &self.cancel,
            };
            Ok::<_, Diagnostics>(
                r.apply(
                    &ctx,
                    schema,
                    req.prior_state.clone(),
                    req.planned_state.clone(),
                    &req.config,
                )
                .await,
            )
        };
        match run.await {
            Ok((new_state, diagnostics)) => {
                if !diagnostics.has_errors() {
                    check_consistent(req.type_name, &req.planned_state, &new_state);
                }
                ApplyResponse {
                    new_state,
                    private: req.planned_private,
                    diagnostics,
                }
            }
            // Nothing was attempted: the prior state stands.
            Err(diagnostics) => ApplyResponse {
                new_state: req.prior_state,
                private: req.planned_private,
                diagnostics,
            },
        }
    }

    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> (Vec<ImportedResource>, Diagnostics) {
        let run = async {
            self.stopped()?;
            let (r, schema) = self.resource(type_name)?;
            let data = self.data()?;
            let ctx = Ctx {
                data: &*data,
                cancel: &self.cancel,
            };
            let (state, diags) = r.import(&ctx, id).await;
            let state = state.map(|s| presence::without_write_only(schema, &s));
            Ok::<_, Diagnostics>((state, diags))
        };
        match run.await {
            Ok((Some(state), d)) => (
                vec![ImportedResource {
                    type_name: type_name.to_string(),
                    state,
                    private: Vec::new(),
                }],
                d,
            ),
            Ok((None, d)) | Err(d) => (Vec::new(), d),
        }
    }

    async fn read_data_source(&self, type_name: &str, config: Value) -> (Value, Diagnostics) {
        let run = async {
            self.stopped()?;
            let ds = self.data_sources.get(type_name).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Unknown data source",
                    format!("This provider has no data source {type_name:?}."),
                ))
            })?;
            let data = self.data()?;
            let ctx = Ctx {
                data: &*data,
                cancel: &self.cancel,
            };
            Ok::<_, Diagnostics>(ds.read(&ctx, config).await)
        };
        run.await.unwrap_or_else(|d| (Value::Null, d))
    }

    fn stop(&self) {
        tracing::info!("StopProvider: cancelling in-flight operations");
        self.cancel.cancel();
    }
}

/// Logs (as an error) any known planned value the applied state contradicts, which
/// Terraform would report as "Provider produced inconsistent result after apply".
fn check_consistent(type_name: &str, planned: &Value, new_state: &Value) {
    if let (Value::Object(p), Value::Object(n)) = (planned, new_state) {
        for (k, pv) in p {
            if !pv.is_unknown() && n.get(k) != Some(pv) {
                tracing::error!(resource = type_name, attribute = %k, "applied state differs from the plan");
            }
        }
    }
}
