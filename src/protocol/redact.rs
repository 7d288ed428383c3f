//! Secrets never reach Terraform's output: a [`ProviderServer`] wrapper that learns the
//! value of every sensitive or write-only attribute it sees (a provider's token, a resource's
//! credentials, write-only values) and scrubs them from every diagnostic before it goes back,
//! whatever produced the text (an error body the API or a proxy echoed, a library's
//! message). The same redactor guards the log lines.

use async_trait::async_trait;

use super::diag::Diagnostics;
use super::logging::Redactor;
use super::provider::{
    ApplyRequest, ApplyResponse, ClientCapabilities, ConfigureRequest, ImportedResource,
    PlanRequest, PlanResponse, ProviderServer, ReadRequest, ReadResponse, UpgradeRequest,
};
use super::schema::{Attribute, ProviderSchemas, Schema};
use super::value::Value;

pub struct Redacting<S> {
    inner: S,
    redactor: Redactor,
}

impl<S: ProviderServer> Redacting<S> {
    pub fn new(inner: S, redactor: Redactor) -> Self {
        Redacting { inner, redactor }
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn learn(&self, schema: Option<&Schema>, values: &[&Value]) {
        let Some(schema) = schema else { return };
        for v in values {
            learn_attrs(&self.redactor, &schema.attributes, v);
        }
    }

    fn scrub(&self, mut d: Diagnostics) -> Diagnostics {
        for x in &mut d.0 {
            self.redactor.redact(&mut x.summary);
            self.redactor.redact(&mut x.detail);
        }
        d
    }

    fn resource(&self, type_name: &str) -> Option<&Schema> {
        self.inner.schemas().resources.get(type_name)
    }
}

fn learn_attrs(r: &Redactor, attrs: &[Attribute], v: &Value) {
    for a in attrs {
        let item = v.get(&a.name);
        if a.sensitive || a.write_only {
            match item {
                Value::String(s) => r.add(s),
                Value::Map(m) | Value::Object(m) => {
                    m.values().filter_map(Value::as_str).for_each(|s| r.add(s))
                }
                _ => {}
            }
        }
        if !a.nested.is_empty()
            && let Value::List(items) | Value::Set(items) = item
        {
            for i in items {
                learn_attrs(r, &a.nested, i);
            }
        }
    }
}

#[async_trait]
impl<S: ProviderServer> ProviderServer for Redacting<S> {
    fn schemas(&self) -> &ProviderSchemas {
        self.inner.schemas()
    }

    async fn validate_provider_config(&self, config: Value) -> Diagnostics {
        self.learn(Some(&self.schemas().provider), &[&config]);
        self.scrub(self.inner.validate_provider_config(config).await)
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        self.learn(Some(&self.schemas().provider), &[&req.config]);
        self.scrub(self.inner.configure(req).await)
    }

    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Value,
        client: ClientCapabilities,
    ) -> Diagnostics {
        self.learn(self.resource(type_name), &[&config]);
        self.scrub(
            self.inner
                .validate_resource_config(type_name, config, client)
                .await,
        )
    }

    async fn validate_data_source_config(&self, type_name: &str, config: Value) -> Diagnostics {
        self.learn(self.schemas().data_sources.get(type_name), &[&config]);
        self.scrub(
            self.inner
                .validate_data_source_config(type_name, config)
                .await,
        )
    }

    async fn upgrade_resource_state(&self, req: UpgradeRequest<'_>) -> (Value, Diagnostics) {
        let schema = self.resource(req.type_name);
        let (v, d) = self.inner.upgrade_resource_state(req).await;
        self.learn(schema, &[&v]);
        (v, self.scrub(d))
    }

    async fn read_resource(&self, req: ReadRequest<'_>) -> ReadResponse {
        self.learn(self.resource(req.type_name), &[&req.current_state]);
        let mut r = self.inner.read_resource(req).await;
        r.diagnostics = self.scrub(r.diagnostics);
        r
    }

    async fn plan_resource_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        self.learn(
            self.resource(req.type_name),
            &[&req.prior_state, &req.proposed_new_state, &req.config],
        );
        let mut r = self.inner.plan_resource_change(req).await;
        r.diagnostics = self.scrub(r.diagnostics);
        r
    }

    async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        self.learn(
            self.resource(req.type_name),
            &[&req.prior_state, &req.planned_state, &req.config],
        );
        let mut r = self.inner.apply_resource_change(req).await;
        r.diagnostics = self.scrub(r.diagnostics);
        r
    }

    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> (Vec<ImportedResource>, Diagnostics) {
        let (imported, d) = self.inner.import_resource_state(type_name, id).await;
        (imported, self.scrub(d))
    }

    async fn read_data_source(&self, type_name: &str, config: Value) -> (Value, Diagnostics) {
        self.learn(self.schemas().data_sources.get(type_name), &[&config]);
        let (v, d) = self.inner.read_data_source(type_name, config).await;
        (v, self.scrub(d))
    }

    fn stop(&self) {
        self.inner.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::diag::Diagnostic;
    use crate::protocol::schema::Attribute;

    struct Echo(ProviderSchemas);

    #[async_trait]
    impl ProviderServer for Echo {
        fn schemas(&self) -> &ProviderSchemas {
            &self.0
        }
        async fn validate_provider_config(&self, _: Value) -> Diagnostics {
            Diagnostics::new()
        }
        async fn configure(&self, _: ConfigureRequest) -> Diagnostics {
            Diagnostics::new()
        }
        async fn validate_resource_config(
            &self,
            _: &str,
            _: Value,
            _: ClientCapabilities,
        ) -> Diagnostics {
            Diagnostics::new()
        }
        async fn validate_data_source_config(&self, _: &str, _: Value) -> Diagnostics {
            Diagnostics::new()
        }
        async fn upgrade_resource_state(&self, _: UpgradeRequest<'_>) -> (Value, Diagnostics) {
            (Value::Null, Diagnostics::new())
        }
        async fn read_resource(&self, _: ReadRequest<'_>) -> ReadResponse {
            ReadResponse::default()
        }
        async fn plan_resource_change(&self, _: PlanRequest<'_>) -> PlanResponse {
            PlanResponse::default()
        }
        /// Fails with a message that quotes the secret, as an echoing proxy would.
        async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
            let secret = req
                .config
                .get("secret")
                .as_str()
                .unwrap_or_default()
                .to_string();
            ApplyResponse {
                diagnostics: Diagnostic::error(
                    format!("bad {secret}"),
                    format!("the API said: token {secret} invalid"),
                )
                .into(),
                ..Default::default()
            }
        }
        async fn import_resource_state(
            &self,
            _: &str,
            _: &str,
        ) -> (Vec<ImportedResource>, Diagnostics) {
            (Vec::new(), Diagnostics::new())
        }
        async fn read_data_source(&self, _: &str, _: Value) -> (Value, Diagnostics) {
            (Value::Null, Diagnostics::new())
        }
        fn stop(&self) {}
    }

    #[tokio::test]
    async fn sensitive_values_are_scrubbed_from_diagnostics() {
        let mut schemas = ProviderSchemas::default();
        schemas.resources.insert(
            "r".into(),
            Schema::new(
                "",
                vec![
                    Attribute::string("secret").required().sensitive(),
                    Attribute::string("name").optional(),
                ],
            ),
        );
        let server = Redacting::new(Echo(schemas), Redactor::default());
        let config = Value::object([
            ("secret", Value::from("glpat-leaky-secret")),
            ("name", Value::from("n")),
        ]);
        let r = server
            .apply_resource_change(ApplyRequest {
                type_name: "r",
                prior_state: Value::Null,
                planned_state: config.clone(),
                config,
                planned_private: Vec::new(),
            })
            .await;
        let d = &r.diagnostics.0[0];
        assert_eq!(d.summary, "bad [REDACTED]");
        assert_eq!(d.detail, "the API said: token [REDACTED] invalid");
    }

    #[tokio::test]
    async fn write_only_values_are_scrubbed_even_when_not_marked_sensitive() {
        let mut schemas = ProviderSchemas::default();
        schemas.resources.insert(
            "r".into(),
            Schema::new(
                "",
                vec![
                    Attribute::string("secret").optional().write_only(),
                    Attribute::string("other").optional(),
                ],
            ),
        );
        let server = Redacting::new(Echo(schemas), Redactor::default());
        let config = Value::object([
            ("secret", Value::from("wo-leaky-secret")),
            ("other", Value::Null),
        ]);
        let r = server
            .apply_resource_change(ApplyRequest {
                type_name: "r",
                prior_state: Value::Null,
                planned_state: Value::Null,
                config,
                planned_private: Vec::new(),
            })
            .await;
        assert_eq!(r.diagnostics.0[0].summary, "bad [REDACTED]");
    }
}
