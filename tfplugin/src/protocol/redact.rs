//! Secrets never reach Terraform's output: a [`ProviderServer`] wrapper that learns the
//! value of every sensitive or write-only attribute it sees (a provider's token, a resource's
//! credentials, write-only values) and scrubs them from every diagnostic before it goes back,
//! whatever produced the text (an error body the API or a proxy echoed, a library's
//! message). A diagnostic at a sensitive or write-only attribute that holds a value loses
//! its attribute path (its summary names the attribute instead): Terraform prints the
//! configuration line a path points at, and that line may hold the secret. The same redactor guards the log
//! lines.

use async_trait::async_trait;

use super::diag::{Diagnostics, PathStep};
use super::logging::Redactor;
use super::provider::{
    ApplyRequest, ApplyResponse, ClientCapabilities, ConfigureRequest, ImportedResource,
    PlanRequest, PlanResponse, ProviderServer, ReadRequest, ReadResponse, UpgradeRequest,
};
use super::schema::{Attribute, ProviderSchemas, Schema};
use super::value::Value;

/// A [`ProviderServer`] behind which no diagnostic shows a sensitive value.
pub struct Redacting<S> {
    inner: S,
    redactor: Redactor,
}

impl<S: ProviderServer> Redacting<S> {
    /// Wraps `inner`; `redactor` learns every sensitive value that passes.
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

    /// Redacts every learnt secret from `d`, and unpoints the diagnostics at an attribute
    /// of `schema` that may hold one: a sensitive or write-only attribute, unless `config`
    /// (where the RPC has one) leaves it null, so its line holds nothing to show.
    fn scrub(
        &self,
        schema: Option<&Schema>,
        config: Option<&Value>,
        mut d: Diagnostics,
    ) -> Diagnostics {
        for x in &mut d.0 {
            self.redactor.redact(&mut x.summary);
            self.redactor.redact(&mut x.detail);
            let secret = match (schema, &x.attribute) {
                (Some(s), Some(path)) => secret_at(&s.attributes, &path.0),
                _ => None,
            }
            .filter(|name| config.is_none_or(|c| !c.get(name).is_null()));
            if let Some(name) = secret {
                if !x.summary.contains(&name) {
                    x.summary = format!("{} (`{name}`)", x.summary);
                }
                x.attribute = None;
            }
        }
        d
    }

    fn resource(&self, type_name: &str) -> Option<&Schema> {
        self.inner.schemas().resources.get(type_name)
    }
}

/// The name of the sensitive or write-only attribute `path` leads to or through, if any.
fn secret_at(attrs: &[Attribute], path: &[PathStep]) -> Option<String> {
    let mut attrs = attrs;
    for step in path {
        let PathStep::Attr(name) = step else { continue };
        let a = attrs.iter().find(|a| &a.name == name)?;
        if a.sensitive || a.write_only {
            return Some(a.name.clone());
        }
        attrs = &a.nested;
    }
    None
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
        let d = self.inner.validate_provider_config(config.clone()).await;
        self.scrub(Some(&self.schemas().provider), Some(&config), d)
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        self.learn(Some(&self.schemas().provider), &[&req.config]);
        let config = req.config.clone();
        let d = self.inner.configure(req).await;
        self.scrub(Some(&self.schemas().provider), Some(&config), d)
    }

    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Value,
        client: ClientCapabilities,
    ) -> Diagnostics {
        self.learn(self.resource(type_name), &[&config]);
        let d = self
            .inner
            .validate_resource_config(type_name, config.clone(), client)
            .await;
        self.scrub(self.resource(type_name), Some(&config), d)
    }

    async fn validate_data_source_config(&self, type_name: &str, config: Value) -> Diagnostics {
        self.learn(self.schemas().data_sources.get(type_name), &[&config]);
        let d = self
            .inner
            .validate_data_source_config(type_name, config.clone())
            .await;
        self.scrub(self.schemas().data_sources.get(type_name), Some(&config), d)
    }

    async fn upgrade_resource_state(&self, req: UpgradeRequest<'_>) -> (Value, Diagnostics) {
        let schema = self.resource(req.type_name);
        let (v, d) = self.inner.upgrade_resource_state(req).await;
        self.learn(schema, &[&v]);
        (v, self.scrub(schema, None, d))
    }

    async fn read_resource(&self, req: ReadRequest<'_>) -> ReadResponse {
        let schema = self.resource(req.type_name);
        self.learn(schema, &[&req.current_state]);
        let mut r = self.inner.read_resource(req).await;
        r.diagnostics = self.scrub(schema, None, r.diagnostics);
        r
    }

    async fn plan_resource_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        let schema = self.resource(req.type_name);
        self.learn(
            schema,
            &[&req.prior_state, &req.proposed_new_state, &req.config],
        );
        let config = req.config.clone();
        let mut r = self.inner.plan_resource_change(req).await;
        r.diagnostics = self.scrub(schema, Some(&config), r.diagnostics);
        r
    }

    async fn apply_resource_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        let schema = self.resource(req.type_name);
        self.learn(schema, &[&req.prior_state, &req.planned_state, &req.config]);
        let config = req.config.clone();
        let mut r = self.inner.apply_resource_change(req).await;
        r.diagnostics = self.scrub(schema, Some(&config), r.diagnostics);
        r
    }

    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> (Vec<ImportedResource>, Diagnostics) {
        let (imported, d) = self.inner.import_resource_state(type_name, id).await;
        (imported, self.scrub(self.resource(type_name), None, d))
    }

    async fn read_data_source(&self, type_name: &str, config: Value) -> (Value, Diagnostics) {
        self.learn(self.schemas().data_sources.get(type_name), &[&config]);
        let (v, d) = self.inner.read_data_source(type_name, config.clone()).await;
        (
            v,
            self.scrub(self.schemas().data_sources.get(type_name), Some(&config), d),
        )
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
        /// One complaint about each attribute, at that attribute.
        async fn validate_resource_config(
            &self,
            _: &str,
            _: Value,
            _: ClientCapabilities,
        ) -> Diagnostics {
            ["secret", "name"]
                .iter()
                .map(|a| Diagnostic::error("Invalid value", format!("{a} is wrong")).at_attr(a))
                .collect::<Vec<_>>()
                .into()
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

    #[tokio::test]
    async fn a_diagnostic_at_a_secret_points_at_no_line_and_names_the_attribute() {
        let mut schemas = ProviderSchemas::default();
        schemas.resources.insert(
            "r".into(),
            Schema::new(
                "",
                vec![
                    Attribute::string("secret").optional().sensitive(),
                    Attribute::string("name").optional(),
                ],
            ),
        );
        let server = Redacting::new(Echo(schemas), Redactor::default());
        let config = Value::object([
            ("secret", Value::from("s3cr3t")),
            ("name", Value::from("n")),
        ]);
        let d = server
            .validate_resource_config("r", config, ClientCapabilities::default())
            .await;
        assert_eq!(
            d.0[0].attribute, None,
            "Terraform would print the secret's line"
        );
        assert_eq!(d.0[0].summary, "Invalid value (`secret`)");
        assert_eq!(
            d.0[1].attribute,
            Some(crate::protocol::diag::AttributePath::attr("name"))
        );
        assert_eq!(d.0[1].summary, "Invalid value");
    }

    #[tokio::test]
    async fn a_diagnostic_at_a_secret_the_configuration_leaves_out_keeps_its_line() {
        let mut schemas = ProviderSchemas::default();
        schemas.resources.insert(
            "r".into(),
            Schema::new(
                "",
                vec![
                    Attribute::string("secret").optional().sensitive(),
                    Attribute::string("name").optional(),
                ],
            ),
        );
        let server = Redacting::new(Echo(schemas), Redactor::default());
        let config = Value::object([("secret", Value::Null), ("name", Value::from("n"))]);
        let d = server
            .validate_resource_config("r", config, ClientCapabilities::default())
            .await;
        assert_eq!(
            d.0[0].attribute,
            Some(crate::protocol::diag::AttributePath::attr("secret")),
            "nothing to show on that line: it is where the value goes"
        );
    }
}
