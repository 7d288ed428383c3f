// Shared body of the tfplugin5 and tfplugin6 adapters: `include!`d by `v5.rs` and `v6.rs`
// with `pb` bound to that version's generated types. The two protocols share message and
// field names for everything the provider serves, so this code is written once and compiled
// against both. It converts wire messages to the internal provider interface and back.

use crate::protocol::codec::{self, UnknownAttrs};
use crate::protocol::diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::protocol::provider::{
    ApplyRequest, ClientCapabilities, ConfigureRequest, PlanRequest, ProviderServer, ReadRequest,
    UpgradeRequest,
};
use crate::protocol::schema::{Attribute, Schema};
use crate::protocol::value::{Type, Value};

fn pb_path(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn pb_diag(d: Diagnostic) -> pb::Diagnostic {
    use pb::diagnostic::Severity as S;
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => S::Error,
            Severity::Warning => S::Warning,
        } as i32,
        summary: d.summary,
        detail: d.detail,
        attribute: d.attribute.as_ref().map(pb_path),
    }
}

fn pb_diags(d: Diagnostics) -> Vec<pb::Diagnostic> {
    d.into_iter().map(pb_diag).collect()
}

fn error_diags(summary: &str, detail: impl Into<String>) -> Vec<pb::Diagnostic> {
    vec![pb_diag(Diagnostic::error(summary, detail))]
}

/// The diagnostic every RPC for a feature this provider does not offer answers with.
fn unsupported(feature: &str) -> Vec<pb::Diagnostic> {
    error_diags(
        &format!("{feature} is not supported"),
        format!(
            "This provider offers no {feature}. This request should not \
             have been sent; please report it with your Terraform/OpenTofu version."
        ),
    )
}

fn codec_diag(what: &str, e: codec::CodecError) -> Diagnostic {
    Diagnostic::error(
        format!("Invalid {what}"),
        format!("The provider could not decode the {what} sent by Terraform: {}", e.message),
    )
    .at(e.path)
}

/// Decodes a DynamicValue (msgpack, or JSON when that is what was sent).
fn decode(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let r = if !dv.msgpack.is_empty() {
        codec::from_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        codec::from_json(&dv.json, ty, UnknownAttrs::Reject)
    } else {
        Ok(Value::Null)
    };
    r.map_err(|e| codec_diag(what, e).into())
}

fn encode(v: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<pb::DynamicValue> {
    match codec::to_msgpack(v, ty) {
        Ok(msgpack) => Some(pb::DynamicValue { msgpack, json: Vec::new() }),
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "Provider produced a value it cannot encode",
                    format!("{e}. This is a bug in the provider; please report it."),
                )
                .at(e.path),
            );
            None
        }
    }
}

// tfplugin6's attribute has `nested_type`, tfplugin5's has not.
#[allow(clippy::needless_update)]
fn pb_attribute(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json().to_string().into_bytes(),
        description: a.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        write_only: a.write_only,
        deprecated: a.deprecation.is_some(),
        deprecation_message: a.deprecation.clone().unwrap_or_default(),
        ..Default::default()
    }
}

fn pb_schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(pb::schema::Block {
            version: s.version,
            attributes: s.attributes.iter().map(pb_attribute).collect(),
            block_types: Vec::new(),
            description: s.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: s.deprecation.is_some(),
            deprecation_message: s.deprecation.clone().unwrap_or_default(),
        }),
    }
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

fn resource_schema<'a, P: ProviderServer>(p: &'a P, type_name: &str) -> Result<&'a Schema, Diagnostics> {
    p.schemas().resources.get(type_name).ok_or_else(|| {
        Diagnostic::error(
            "Unknown resource type",
            format!("This provider has no resource type {type_name:?}."),
        )
        .into()
    })
}

fn data_source_schema<'a, P: ProviderServer>(p: &'a P, type_name: &str) -> Result<&'a Schema, Diagnostics> {
    p.schemas().data_sources.get(type_name).ok_or_else(|| {
        Diagnostic::error(
            "Unknown data source",
            format!("This provider has no data source {type_name:?}."),
        )
        .into()
    })
}

fn get_metadata<P: ProviderServer>(p: &P) -> pb::get_metadata::Response {
    let s = p.schemas();
    pb::get_metadata::Response {
        server_capabilities: Some(server_capabilities()),
        resources: s
            .resources
            .keys()
            .map(|k| pb::get_metadata::ResourceMetadata { type_name: k.clone() })
            .collect(),
        data_sources: s
            .data_sources
            .keys()
            .map(|k| pb::get_metadata::DataSourceMetadata { type_name: k.clone() })
            .collect(),
        ..Default::default()
    }
}

fn get_provider_schema<P: ProviderServer>(p: &P) -> pb::get_provider_schema::Response {
    let s = p.schemas();
    pb::get_provider_schema::Response {
        provider: Some(pb_schema(&s.provider)),
        resource_schemas: s.resources.iter().map(|(k, v)| (k.clone(), pb_schema(v))).collect(),
        data_source_schemas: s.data_sources.iter().map(|(k, v)| (k.clone(), pb_schema(v))).collect(),
        server_capabilities: Some(server_capabilities()),
        ..Default::default()
    }
}

async fn validate_provider_config<P: ProviderServer>(
    p: &P,
    config: Option<&pb::DynamicValue>,
) -> Vec<pb::Diagnostic> {
    let ty = p.schemas().provider.value_type();
    match decode(config, &ty, "provider configuration") {
        Ok(v) => pb_diags(p.validate_provider_config(v).await),
        Err(d) => pb_diags(d),
    }
}

async fn configure<P: ProviderServer>(
    p: &P,
    terraform_version: String,
    config: Option<&pb::DynamicValue>,
) -> Vec<pb::Diagnostic> {
    let ty = p.schemas().provider.value_type();
    match decode(config, &ty, "provider configuration") {
        Ok(config) => pb_diags(p.configure(ConfigureRequest { terraform_version, config }).await),
        Err(d) => pb_diags(d),
    }
}

/// Absent (Terraform / OpenTofu < 1.11, protocol < 6.8 / 5.8) means none.
fn client_capabilities(c: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    ClientCapabilities { write_only_attributes_allowed: c.is_some_and(|c| c.write_only_attributes_allowed) }
}

async fn validate_resource_config<P: ProviderServer>(
    p: &P,
    type_name: &str,
    config: Option<&pb::DynamicValue>,
    capabilities: Option<&pb::ClientCapabilities>,
) -> Vec<pb::Diagnostic> {
    let client = client_capabilities(capabilities);
    let r = async {
        let schema = resource_schema(p, type_name)?;
        let v = decode(config, &schema.value_type(), "resource configuration")?;
        Ok::<_, Diagnostics>(p.validate_resource_config(type_name, v, client).await)
    };
    pb_diags(r.await.unwrap_or_else(|d| d))
}

async fn validate_data_source_config<P: ProviderServer>(
    p: &P,
    type_name: &str,
    config: Option<&pb::DynamicValue>,
) -> Vec<pb::Diagnostic> {
    let r = async {
        let schema = data_source_schema(p, type_name)?;
        let v = decode(config, &schema.value_type(), "data source configuration")?;
        Ok::<_, Diagnostics>(p.validate_data_source_config(type_name, v).await)
    };
    pb_diags(r.await.unwrap_or_else(|d| d))
}

async fn upgrade_resource_state<P: ProviderServer>(
    p: &P,
    req: pb::upgrade_resource_state::Request,
) -> pb::upgrade_resource_state::Response {
    let schema = match resource_schema(p, &req.type_name) {
        Ok(s) => s,
        Err(d) => return pb::upgrade_resource_state::Response { diagnostics: pb_diags(d), ..Default::default() },
    };
    let raw = req.raw_state.unwrap_or_default();
    let (v, mut diags) = p
        .upgrade_resource_state(UpgradeRequest {
            type_name: &req.type_name,
            version: req.version,
            json: &raw.json,
            has_flatmap: !raw.flatmap.is_empty(),
        })
        .await;
    let upgraded_state = if diags.has_errors() { None } else { encode(&v, &schema.value_type(), &mut diags) };
    pb::upgrade_resource_state::Response { upgraded_state, diagnostics: pb_diags(diags) }
}

async fn read_resource<P: ProviderServer>(p: &P, req: pb::read_resource::Request) -> pb::read_resource::Response {
    let r = async {
        let schema = resource_schema(p, &req.type_name)?;
        let ty = schema.value_type();
        let current_state = decode(req.current_state.as_ref(), &ty, "prior state")?;
        let resp = p
            .read_resource(ReadRequest { type_name: &req.type_name, current_state, private: req.private })
            .await;
        let mut diags = resp.diagnostics;
        let new_state = encode(&resp.new_state, &ty, &mut diags);
        Ok::<_, Diagnostics>(pb::read_resource::Response {
            new_state,
            diagnostics: pb_diags(diags),
            private: resp.private,
            ..Default::default()
        })
    };
    r.await.unwrap_or_else(|d| pb::read_resource::Response { diagnostics: pb_diags(d), ..Default::default() })
}

async fn plan_resource_change<P: ProviderServer>(
    p: &P,
    req: pb::plan_resource_change::Request,
) -> pb::plan_resource_change::Response {
    let r = async {
        let schema = resource_schema(p, &req.type_name)?;
        let ty = schema.value_type();
        let prior_state = decode(req.prior_state.as_ref(), &ty, "prior state")?;
        let proposed_new_state = decode(req.proposed_new_state.as_ref(), &ty, "proposed new state")?;
        let config = decode(req.config.as_ref(), &ty, "resource configuration")?;
        let resp = p
            .plan_resource_change(PlanRequest {
                type_name: &req.type_name,
                prior_state,
                proposed_new_state,
                config,
                prior_private: req.prior_private,
                client: client_capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        let mut diags = resp.diagnostics;
        let planned_state = encode(&resp.planned_state, &ty, &mut diags);
        Ok::<_, Diagnostics>(pb::plan_resource_change::Response {
            planned_state,
            requires_replace: resp.requires_replace.iter().map(pb_path).collect(),
            planned_private: resp.planned_private,
            diagnostics: pb_diags(diags),
            ..Default::default()
        })
    };
    r.await.unwrap_or_else(|d| pb::plan_resource_change::Response { diagnostics: pb_diags(d), ..Default::default() })
}

async fn apply_resource_change<P: ProviderServer>(
    p: &P,
    req: pb::apply_resource_change::Request,
) -> pb::apply_resource_change::Response {
    let r = async {
        let schema = resource_schema(p, &req.type_name)?;
        let ty = schema.value_type();
        let prior_state = decode(req.prior_state.as_ref(), &ty, "prior state")?;
        let planned_state = decode(req.planned_state.as_ref(), &ty, "planned state")?;
        let config = decode(req.config.as_ref(), &ty, "resource configuration")?;
        let resp = p
            .apply_resource_change(ApplyRequest {
                type_name: &req.type_name,
                prior_state,
                planned_state,
                config,
                planned_private: req.planned_private,
            })
            .await;
        let mut diags = resp.diagnostics;
        let new_state = encode(&resp.new_state, &ty, &mut diags);
        Ok::<_, Diagnostics>(pb::apply_resource_change::Response {
            new_state,
            private: resp.private,
            diagnostics: pb_diags(diags),
            ..Default::default()
        })
    };
    r.await.unwrap_or_else(|d| pb::apply_resource_change::Response { diagnostics: pb_diags(d), ..Default::default() })
}

async fn import_resource_state<P: ProviderServer>(
    p: &P,
    req: pb::import_resource_state::Request,
) -> pb::import_resource_state::Response {
    let (imported, mut diags) = p.import_resource_state(&req.type_name, &req.id).await;
    let mut imported_resources = Vec::with_capacity(imported.len());
    for r in imported {
        let Some(schema) = p.schemas().resources.get(&r.type_name) else { continue };
        if let Some(state) = encode(&r.state, &schema.value_type(), &mut diags) {
            imported_resources.push(pb::import_resource_state::ImportedResource {
                type_name: r.type_name,
                state: Some(state),
                private: r.private,
                ..Default::default()
            });
        }
    }
    pb::import_resource_state::Response { imported_resources, diagnostics: pb_diags(diags), ..Default::default() }
}

async fn read_data_source<P: ProviderServer>(
    p: &P,
    req: pb::read_data_source::Request,
) -> pb::read_data_source::Response {
    let r = async {
        let schema = data_source_schema(p, &req.type_name)?;
        let ty = schema.value_type();
        let config = decode(req.config.as_ref(), &ty, "data source configuration")?;
        let (state, mut diags) = p.read_data_source(&req.type_name, config).await;
        let state = if diags.has_errors() { None } else { encode(&state, &ty, &mut diags) };
        Ok::<_, Diagnostics>(pb::read_data_source::Response { state, diagnostics: pb_diags(diags), ..Default::default() })
    };
    r.await.unwrap_or_else(|d| pb::read_data_source::Response { diagnostics: pb_diags(d), ..Default::default() })
}

/// A one-event stream carrying `event`, for streaming RPCs of features not offered.
fn one_event<T: Send + 'static>(event: T) -> BoxStream<T> {
    Box::pin(futures::stream::once(async move { Ok(event) }))
}

type BoxStream<T> = std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, tonic::Status>> + Send + 'static>>;
