//! [`Framework`]: a [`ProviderDef`] served through the internal provider interface
//! ([`ProviderServer`]), the one the protocol adapters speak. It holds the schemas with their
//! behaviour, derives the wire schema from them, validates configuration, fills provider
//! attributes from the environment, configures the provider once, routes each request to
//! its resource, upgrades stored state, and cancels on StopProvider.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::provider::ProviderDef;
use super::schema::{ProviderSchemas, Schema};
use super::traits::Ctx;
use super::typed::{AnyDataSource, AnyResource, decode};
use super::{AttributePath, Diagnostic, Diagnostics, Redactor, Value, env, presence, validate};
use crate::protocol::codec::{self, UnknownAttrs};
use crate::protocol::provider::{
    ApplyRequest, ApplyResponse, ClientCapabilities, ConfigureRequest, ImportedResource,
    PlanRequest, PlanResponse, ProviderServer, ReadRequest, ReadResponse, UpgradeRequest,
};
use crate::protocol::schema as wire;

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
    /// Registers the definition's resources and data sources and derives the wire schemas.
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
