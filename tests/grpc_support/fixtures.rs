//! Fixtures for `gitlab_group_cluster`: a configuration and the state it leads to,
//! Terraform's proposed new state and a plan from values, and the provider configured
//! against a GitLab URL nobody listens on.

use terraform_provider_gitlab::protocol::value::Value;

use super::client::ProtocolClient;
use super::guard;
use super::wire::{Planned, WireSchema, WireSchemas};

pub const CLUSTER: &str = "gitlab_group_cluster";

/// A loopback port nobody listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Configures the provider for `base_url` without the early `GET /user` check and without
/// retries, so requests that need GitLab fail at once when nothing listens there.
pub async fn configure_for(tf: &mut ProtocolClient, schemas: &WireSchemas, base_url: &str) {
    let config = schemas.provider.object(&[
        ("base_url", base_url.into()),
        ("token", "glpat-protocol-tests".into()),
        ("early_auth_check", false.into()),
        ("retries", Value::int(0)),
        ("request_timeout", Value::int(3600)),
    ]);
    let diags = guard(
        "ConfigureProvider",
        tf.configure(Some(schemas.provider.msgpack(&config))),
    )
    .await
    .expect("ConfigureProvider answers");
    assert!(diags.is_empty(), "{}: configure: {diags:?}", tf.name());
}

/// The schemas, and the provider configured against a GitLab URL nobody listens on.
pub async fn configured_offline(tf: &mut ProtocolClient) -> WireSchemas {
    let schemas = guard("GetProviderSchema", tf.schemas())
        .await
        .expect("schema");
    let url = format!("http://127.0.0.1:{}/api/v4/", closed_port());
    configure_for(tf, &schemas, &url).await;
    schemas
}

/// A configuration with only the required attributes.
pub fn cluster_config(s: &WireSchema) -> Value {
    s.object(&[
        ("group", "42".into()),
        ("name", "production".into()),
        ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
        ("kubernetes_token", "k8s-token".into()),
    ])
}

/// The state of the cluster `cluster_config` describes, after create and refresh.
pub fn cluster_state(s: &WireSchema) -> Value {
    s.object(&[
        ("id", "42:7".into()),
        ("group", "42".into()),
        ("name", "production".into()),
        ("enabled", true.into()),
        ("managed", true.into()),
        ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
        ("kubernetes_token", "k8s-token".into()),
        ("kubernetes_authorization_type", "rbac".into()),
        ("environment_scope", "*".into()),
        ("namespace_per_environment", true.into()),
        ("cluster_id", Value::int(7)),
        ("cluster_type", "group_type".into()),
        ("created_at", "2024-01-02T03:04:05.000Z".into()),
        ("provider_type", "user".into()),
        ("platform_type", "kubernetes".into()),
    ])
}

/// PlanResourceChange of `type_name` from values, as Terraform sends it: the proposed new
/// state built from `prior` and `config` (null for a destroy); fails the test on a gRPC error.
pub async fn plan_values(
    tf: &mut ProtocolClient,
    type_name: &str,
    r: &WireSchema,
    prior: &Value,
    config: &Value,
) -> Planned {
    let proposed = if config.is_null() {
        Value::Null
    } else {
        proposed_new(r, prior, config)
    };
    guard(
        "PlanResourceChange",
        tf.plan(
            type_name,
            Some(r.msgpack(prior)),
            Some(r.msgpack(&proposed)),
            Some(r.msgpack(config)),
        ),
    )
    .await
    .expect("no gRPC error")
}

/// Terraform's proposed new state (objchange.ProposedNew, for flat attributes): the
/// configured value, else the prior value of a computed attribute, else null.
pub fn proposed_new(s: &WireSchema, prior: &Value, config: &Value) -> Value {
    Value::object(s.attrs.iter().map(|(k, a)| {
        let c = config.get(k);
        let v = if !c.is_null() || !a.computed {
            c.clone()
        } else {
            prior.get(k).clone()
        };
        (k.clone(), v)
    }))
}
