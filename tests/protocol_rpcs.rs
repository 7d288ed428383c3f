//! Every RPC Terraform (1.0-1.14) and OpenTofu send, over tfplugin6 and tfplugin5.
//!
//! These run in-process: the provider is served by tonic's real server on a unix socket and
//! called through generated clients, so requests and responses cross the wire as protobuf
//! and the DynamicValues as msgpack, exactly as with the binary; the binary's own launch
//! path (handshake, TLS, process lifecycle) is covered by `protocol_handshake.rs`. In-process
//! takes milliseconds per test and lets each test get a fresh provider per protocol.

mod grpc_support;

use std::collections::{BTreeSet, HashMap};

use grpc_support::{
    CLUSTER, Diag, Dv, ProtocolClient, Step, WireSchema, attr_path, cluster_config, cluster_state,
    configured_offline, errors, guard, on_both_protocols, proposed_new,
};
use terraform_provider_gitlab::protocol::value::Value;

/// The only diagnostic is an error whose text contains every word of `words`.
#[track_caller]
fn assert_one_error(tf: &ProtocolClient, what: &str, diags: &[Diag], words: &[&str]) {
    assert_eq!(
        diags.len(),
        1,
        "{} {what}: expected one diagnostic, got {diags:?}",
        tf.name()
    );
    let d = &diags[0];
    assert!(d.error, "{} {what}: not an error: {d:?}", tf.name());
    for w in words {
        assert!(
            d.text().contains(w),
            "{} {what}: {w:?} missing from {:?}",
            tf.name(),
            d.text()
        );
    }
}

fn set(v: &Value, attr: &str, x: impl Into<Value>) -> Value {
    let mut v = v.clone();
    *v.get_mut(attr).unwrap() = x.into();
    v
}

#[tokio::test]
async fn every_rpc_terraform_sends_is_answered_without_a_grpc_error() {
    on_both_protocols(|mut tf| async move {
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("GetProviderSchema");
        let (resources, data_sources, _, d) = guard("GetMetadata", tf.metadata())
            .await
            .expect("GetMetadata");
        assert!(d.is_empty(), "{}", tf.name());
        assert_eq!(
            resources,
            [
                "gitlab_group_cluster",
                "gitlab_instance_cluster",
                "gitlab_project_cluster"
            ],
            "{}",
            tf.name()
        );
        assert_eq!(data_sources.len(), 6, "{}", tf.name());
        let r = &s.resources[CLUSTER];

        let provider_config = s
            .provider
            .object(&[("base_url", "https://gitlab.example.com".into())]);
        let d = tf
            .validate_provider(Some(s.provider.msgpack(&provider_config)))
            .await
            .expect("ValidateProviderConfig");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let d = tf
            .validate_resource(CLUSTER, Some(r.msgpack(&cluster_config(r))))
            .await
            .expect("ValidateResourceConfig");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let ds = &s.data_sources["gitlab_group_cluster"];
        let ds_config = ds.object(&[("group", "42".into()), ("cluster_id", Value::int(7))]);
        let d = tf
            .validate_data_source("gitlab_group_cluster", Some(ds.msgpack(&ds_config)))
            .await
            .expect("ValidateDataResourceConfig");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let json = serde_json::json!({"id": "42:7", "group": "42", "cluster_id": 7}).to_string();
        let (state, d) = tf
            .upgrade(CLUSTER, 0, json.as_bytes(), HashMap::new())
            .await
            .expect("UpgradeResourceState");
        assert!(d.is_empty() && state.is_some(), "{}: {d:?}", tf.name());

        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let prior = cluster_state(r);

        // GitLab is unreachable: the calls that need it answer with an error diagnostic.
        let (new_state, private, d) = guard(
            "ReadResource",
            tf.read(CLUSTER, Some(r.msgpack(&prior)), b"p"),
        )
        .await
        .expect("ReadResource");
        assert!(!errors(&d).is_empty(), "{}: {d:?}", tf.name());
        assert_eq!(
            r.decode(&new_state.expect("state")),
            prior,
            "{}: a failed read keeps the state",
            tf.name()
        );
        assert_eq!(private, b"p");

        let config = cluster_config(r);
        let proposed = proposed_new(r, &Value::Null, &config);
        let plan = guard(
            "PlanResourceChange",
            tf.plan(
                CLUSTER,
                Some(r.msgpack(&Value::Null)),
                Some(r.msgpack(&proposed)),
                Some(r.msgpack(&config)),
            ),
        )
        .await
        .expect("PlanResourceChange");
        assert!(plan.diags.is_empty(), "{}: {:?}", tf.name(), plan.diags);
        let planned = plan.planned.expect("planned state");

        let applied = guard(
            "ApplyResourceChange",
            tf.apply(
                CLUSTER,
                Some(r.msgpack(&Value::Null)),
                Some(Dv::Msgpack(planned)),
                Some(r.msgpack(&config)),
            ),
        )
        .await
        .expect("ApplyResourceChange");
        assert!(
            !errors(&applied.diags).is_empty(),
            "{}: {:?}",
            tf.name(),
            applied.diags
        );
        assert_eq!(
            r.decode(&applied.new_state.expect("state")),
            Value::Null,
            "{}: nothing was created",
            tf.name()
        );

        let (imported, d) = guard("ImportResourceState", tf.import(CLUSTER, "no-colon"))
            .await
            .expect("ImportResourceState");
        assert!(imported.is_empty(), "{}", tf.name());
        assert_one_error(&tf, "import", &d, &["Invalid import id", "no-colon"]);
        let (imported, d) = guard("ImportResourceState", tf.import(CLUSTER, "42:7"))
            .await
            .expect("ImportResourceState");
        assert!(
            imported.is_empty() && !errors(&d).is_empty(),
            "{}: {d:?}",
            tf.name()
        );

        let ds = &s.data_sources["gitlab_group_cluster"];
        let (_, d) = guard(
            "ReadDataSource",
            tf.read_data_source("gitlab_group_cluster", Some(ds.msgpack(&ds_config))),
        )
        .await
        .expect("ReadDataSource");
        assert!(!errors(&d).is_empty(), "{}: {d:?}", tf.name());

        assert_eq!(tf.stop().await.expect("StopProvider"), "", "{}", tf.name());
    })
    .await;
}

#[tokio::test]
async fn rpcs_for_features_not_offered_answer_with_one_error_diagnostic_each() {
    on_both_protocols(|mut tf| async move {
        let answers = guard("not-offered RPCs", tf.not_offered())
            .await
            .expect("no gRPC error");
        let mut expected = BTreeSet::from([
            "UpgradeResourceIdentity",
            "MoveResourceState",
            "GenerateResourceConfig",
            "ValidateEphemeralResourceConfig",
            "OpenEphemeralResource",
            "RenewEphemeralResource",
            "CloseEphemeralResource",
            "ListResource",
            "ValidateListResourceConfig",
            "ValidateActionConfig",
            "PlanAction",
            "InvokeAction",
        ]);
        if matches!(tf, ProtocolClient::V6(_)) {
            expected.extend([
                "ValidateStateStoreConfig",
                "ConfigureStateStore",
                "ReadStateBytes",
                "WriteStateBytes",
                "LockState",
                "UnlockState",
                "GetStates",
                "DeleteState",
            ]);
        }
        assert_eq!(
            answers.iter().map(|a| a.rpc).collect::<BTreeSet<_>>(),
            expected,
            "{}",
            tf.name()
        );
        for a in &answers {
            assert_eq!(
                a.messages,
                1,
                "{} {}: one message (streams end after one event)",
                tf.name(),
                a.rpc
            );
            assert_one_error(&tf, a.rpc, &a.diags, &["not supported"]);
        }
    })
    .await;
}

#[tokio::test]
async fn functions_and_identity_schemas_are_empty_and_calling_a_function_is_an_error() {
    on_both_protocols(|mut tf| async move {
        let (n, d) = tf.functions().await.expect("GetFunctions");
        assert!(
            n == 0 && d.is_empty(),
            "{}: {n} functions, {d:?}",
            tf.name()
        );
        let (n, d) = tf
            .identity_schemas()
            .await
            .expect("GetResourceIdentitySchemas");
        assert!(
            n == 0 && d.is_empty(),
            "{}: {n} identity schemas, {d:?}",
            tf.name()
        );
        let (result, error) = tf.call_function("parse_id").await.expect("CallFunction");
        assert!(!result, "{}", tf.name());
        assert!(
            error.is_some_and(|e| e.contains("parse_id")),
            "{}: the error names the function",
            tf.name()
        );
    })
    .await;
}

#[tokio::test]
async fn invalid_api_url_authorization_type_or_ca_cert_is_an_error_at_that_attribute() {
    on_both_protocols(|mut tf| async move {
        let s = tf.schemas().await.expect("schema");
        let r = &s.resources[CLUSTER];
        let valid = cluster_config(r);
        for (attr, bad) in [
            ("kubernetes_api_url", "k8s.example.com:6443"),
            ("kubernetes_api_url", "ftp://k8s.example.com"),
            ("kubernetes_authorization_type", "superuser"),
            ("kubernetes_ca_cert", "not a certificate"),
            (
                "kubernetes_ca_cert",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            ),
        ] {
            let d = tf
                .validate_resource(CLUSTER, Some(r.msgpack(&set(&valid, attr, bad))))
                .await
                .expect("validate");
            assert_one_error(&tf, attr, &d, &[]);
            assert_eq!(
                d[0].path,
                Some(attr_path(attr)),
                "{} {attr}={bad:?}: {:?}",
                tf.name(),
                d[0]
            );
        }
    })
    .await;
}

#[tokio::test]
async fn unknown_values_pass_validation() {
    on_both_protocols(|mut tf| async move {
        let s = tf.schemas().await.expect("schema");
        let r = &s.resources[CLUSTER];
        let mut config = cluster_config(r);
        for attr in [
            "group",
            "name",
            "kubernetes_api_url",
            "kubernetes_token",
            "kubernetes_authorization_type",
            "kubernetes_ca_cert",
            "managed",
        ] {
            config = set(&config, attr, Value::Unknown);
        }
        let d = tf
            .validate_resource(CLUSTER, Some(r.msgpack(&config)))
            .await
            .expect("validate");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
    })
    .await;
}

/// A `gitlab_group_cluster` state as gitlabhq/gitlab (terraform-plugin-sdk v2, schema
/// version 0) writes it: every attribute of its schema, unset strings as "", plus an
/// attribute this provider's schema does not have.
const OFFICIAL_STATE: &str = r#"{
    "id": "42:7",
    "group": "42",
    "name": "production",
    "domain": "example.com",
    "enabled": true,
    "managed": false,
    "created_at": "2019-03-26 16:42:19.539 +0000 UTC",
    "provider_type": "user",
    "platform_type": "kubernetes",
    "environment_scope": "*",
    "cluster_type": "group_type",
    "kubernetes_api_url": "https://104.197.68.152",
    "kubernetes_token": "secret-token",
    "kubernetes_ca_cert": "",
    "kubernetes_authorization_type": "abac",
    "management_project_id": "",
    "attribute_this_schema_lacks": {"nested": [1, 2]}
}"#;

#[tokio::test]
async fn upgrade_resource_state_reads_the_official_providers_state() {
    on_both_protocols(|mut tf| async move {
        let s = tf.schemas().await.expect("schema");
        let r = &s.resources[CLUSTER];
        let (state, d) = tf
            .upgrade(CLUSTER, 0, OFFICIAL_STATE.as_bytes(), HashMap::new())
            .await
            .expect("upgrade");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let upgraded = r.decode(&state.expect("upgraded state"));
        let official: serde_json::Value = serde_json::from_str(OFFICIAL_STATE).unwrap();
        let expected = r.object(
            &official
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| r.attrs.contains_key(*k))
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::Bool(b) => Value::Bool(*b),
                        // The official provider stores "" for unset strings: null here.
                        serde_json::Value::String(s) if s.is_empty() => Value::Null,
                        serde_json::Value::String(s) => Value::from(s.as_str()),
                        other => panic!("unexpected {other}"),
                    };
                    (k.as_str(), v)
                })
                .chain([
                    // Completed: cluster_id from the id, GitLab's default for
                    // namespace_per_environment (so a plan without refresh is exact).
                    ("cluster_id", Value::int(7)),
                    ("namespace_per_environment", Value::Bool(true)),
                ])
                .collect::<Vec<_>>(),
        );
        // The other attributes the official provider lacks are null; the extra one is gone.
        assert_eq!(upgraded, expected, "{}", tf.name());
        for missing in [
            "kubernetes_namespace",
            "kubernetes_token_wo",
            "kubernetes_token_wo_version",
        ] {
            assert_eq!(
                upgraded.get(missing),
                &Value::Null,
                "{} {missing}",
                tf.name()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn upgrade_resource_state_reports_flatmap_newer_versions_and_broken_json() {
    on_both_protocols(|mut tf| async move {
        let flatmap = HashMap::from([("id".to_string(), "42:7".to_string())]);
        let (state, d) = tf.upgrade(CLUSTER, 0, b"", flatmap).await.expect("upgrade");
        assert!(state.is_none(), "{}", tf.name());
        assert_one_error(&tf, "flatmap", &d, &["flatmap"]);
        let (state, d) = tf
            .upgrade(CLUSTER, 9, br#"{"id":"42:7"}"#, HashMap::new())
            .await
            .expect("upgrade");
        assert!(state.is_none(), "{}", tf.name());
        assert_one_error(&tf, "version 9", &d, &["newer", "9"]);
        let (state, d) = tf
            .upgrade(CLUSTER, 0, br#"{"id": "42:7", "name": "#, HashMap::new())
            .await
            .expect("upgrade");
        assert!(state.is_none(), "{}", tf.name());
        assert_one_error(&tf, "broken JSON", &d, &["could not be decoded"]);
        let (state, d) = tf
            .upgrade(CLUSTER, 0, br#"{"cluster_id": "seven"}"#, HashMap::new())
            .await
            .expect("upgrade");
        assert!(state.is_none(), "{}", tf.name());
        assert_one_error(&tf, "wrong type", &d, &["could not be decoded"]);
        assert_eq!(d[0].path, Some(attr_path("cluster_id")), "{}", tf.name());
        let (_, d) = tf
            .upgrade("gitlab_no_such_thing", 0, b"{}", HashMap::new())
            .await
            .expect("upgrade");
        assert_one_error(&tf, "unknown type", &d, &["gitlab_no_such_thing"]);
    })
    .await;
}

#[tokio::test]
async fn malformed_dynamic_values_are_error_diagnostics_naming_the_problem() {
    on_both_protocols(|mut tf| async move {
        let s = tf.schemas().await.expect("schema");
        let mut wrong_type = vec![0x81, 0xa4];
        wrong_type.extend_from_slice(b"name");
        wrong_type.push(0x2a); // 42 where a string belongs
        let mut unknown_attr = vec![0x81, 0xa5];
        unknown_attr.extend_from_slice(b"bogus");
        unknown_attr.push(0xc0);
        let cases: Vec<(&str, Dv, &str, Option<Vec<Step>>)> = vec![
            (
                "truncated map",
                Dv::Msgpack(vec![0x83]),
                "exceeds the remaining input",
                None,
            ),
            (
                "reserved marker",
                Dv::Msgpack(vec![0xc1]),
                "expected an object",
                None,
            ),
            (
                "trailing bytes",
                Dv::Msgpack(vec![0xc0, 0x00]),
                "trailing bytes",
                None,
            ),
            (
                "unknown attribute",
                Dv::Msgpack(unknown_attr),
                "\"bogus\"",
                None,
            ),
            (
                "wrong type",
                Dv::Msgpack(wrong_type),
                "expected a string",
                Some(attr_path("name")),
            ),
            (
                "invalid UTF-8",
                Dv::Msgpack(vec![0x81, 0xa4, b'n', b'a', b'm', b'e', 0xa1, 0xff]),
                "UTF-8",
                Some(attr_path("name")),
            ),
            ("broken JSON", Dv::Json(br#"{"name": "#.to_vec()), "", None),
        ];
        for (what, dv, words, path) in cases {
            let d = guard(
                "ValidateResourceConfig",
                tf.validate_resource(CLUSTER, Some(dv.clone())),
            )
            .await
            .expect("no gRPC error");
            assert_one_error(&tf, what, &d, &["Invalid resource configuration", words]);
            if let Some(p) = path {
                assert_eq!(d[0].path.as_ref(), Some(&p), "{} {what}", tf.name());
            }
            // The same bytes as a plan's prior state and as the provider configuration.
            let r = &s.resources[CLUSTER];
            let plan = guard(
                "PlanResourceChange",
                tf.plan(
                    CLUSTER,
                    Some(dv.clone()),
                    Some(r.msgpack(&Value::Null)),
                    None,
                ),
            )
            .await
            .expect("no gRPC error");
            assert_one_error(&tf, what, &plan.diags, &["Invalid prior state", words]);
            assert!(plan.planned.is_none(), "{} {what}", tf.name());
            let d = guard("ValidateProviderConfig", tf.validate_provider(Some(dv)))
                .await
                .expect("no gRPC error");
            assert!(
                !errors(&d).is_empty(),
                "{} {what}: provider config: {d:?}",
                tf.name()
            );
        }
        // Still serving after all of that.
        assert!(tf.schemas().await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn plan_before_configure_is_an_error_diagnostic() {
    on_both_protocols(|mut tf| async move {
        let s = tf.schemas().await.expect("schema");
        let r = &s.resources[CLUSTER];
        let config = cluster_config(r);
        let plan = tf
            .plan(
                CLUSTER,
                Some(r.msgpack(&Value::Null)),
                Some(r.msgpack(&config)),
                Some(r.msgpack(&config)),
            )
            .await
            .expect("no gRPC error");
        assert_one_error(&tf, "unconfigured plan", &plan.diags, &["not configured"]);
    })
    .await;
}

async fn plan(
    tf: &mut ProtocolClient,
    r: &WireSchema,
    prior: &Value,
    config: &Value,
) -> grpc_support::Planned {
    grpc_support::plan_values(tf, CLUSTER, r, prior, config).await
}

#[tokio::test]
async fn plan_of_a_create_plans_defaults_and_unknown_computed_values() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let config = cluster_config(r);
        let p = plan(&mut tf, r, &Value::Null, &config).await;
        assert!(p.diags.is_empty(), "{}: {:?}", tf.name(), p.diags);
        assert!(
            p.requires_replace.is_empty(),
            "{}: {:?}",
            tf.name(),
            p.requires_replace
        );
        let planned = r.decode(&p.planned.expect("planned"));
        let mut expected = config.clone();
        for (k, v) in [
            ("enabled", Value::Bool(true)),
            ("managed", true.into()),
            ("environment_scope", "*".into()),
            ("kubernetes_authorization_type", "rbac".into()),
            ("namespace_per_environment", true.into()),
        ] {
            expected = set(&expected, k, v);
        }
        for computed in ["id", "cluster_id", "created_at"] {
            expected = set(&expected, computed, Value::Unknown);
        }
        // What is always the same for a group cluster added through the API is known.
        for (k, v) in [
            ("cluster_type", "group_type"),
            ("provider_type", "user"),
            ("platform_type", "kubernetes"),
        ] {
            expected = set(&expected, k, Value::from(v));
        }
        assert_eq!(planned, expected, "{}", tf.name());
    })
    .await;
}

#[tokio::test]
async fn plan_changing_group_or_authorization_type_requires_replacing_exactly_that_attribute() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let prior = cluster_state(r);
        // Whether "43" is another group or another spelling of "42" takes a lookup; with
        // GitLab out of reach the plan is an error at `group`, never a replacement.
        let p = plan(&mut tf, r, &prior, &set(&cluster_config(r), "group", "43")).await;
        let errs = errors(&p.diags);
        assert_eq!(errs.len(), 1, "{}: {:?}", tf.name(), p.diags);
        assert_eq!(errs[0].path, Some(attr_path("group")), "{}", tf.name());
        assert!(
            errs[0].detail.contains("Run the plan again"),
            "{}",
            errs[0].detail
        );
        assert!(p.requires_replace.is_empty(), "{}", tf.name());
        for (attr, new) in [("kubernetes_authorization_type", "abac")] {
            let config = set(&cluster_config(r), attr, new);
            let p = plan(&mut tf, r, &prior, &config).await;
            assert!(p.diags.is_empty(), "{} {attr}: {:?}", tf.name(), p.diags);
            assert_eq!(
                p.requires_replace,
                vec![attr_path(attr)],
                "{} {attr}",
                tf.name()
            );
            assert_eq!(
                r.decode(&p.planned.expect("planned")).get(attr),
                &Value::from(new)
            );
        }
        // An in-place change replaces nothing.
        let p = plan(
            &mut tf,
            r,
            &prior,
            &set(&cluster_config(r), "name", "renamed"),
        )
        .await;
        assert!(
            p.diags.is_empty() && p.requires_replace.is_empty(),
            "{}: {:?}",
            tf.name(),
            p.requires_replace
        );
    })
    .await;
}

#[tokio::test]
async fn plan_of_an_unchanged_object_is_the_prior_state() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let prior = cluster_state(r);
        let p = plan(&mut tf, r, &prior, &cluster_config(r)).await;
        assert!(
            p.diags.is_empty() && p.requires_replace.is_empty(),
            "{}: {:?}",
            tf.name(),
            p.diags
        );
        assert_eq!(
            r.decode(&p.planned.expect("planned")),
            prior,
            "{}",
            tf.name()
        );
        assert_eq!(
            p.private,
            b"private-from-prior",
            "{}: private data carried",
            tf.name()
        );
    })
    .await;
}

#[tokio::test]
async fn plan_of_a_destroy_is_null() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let p = plan(&mut tf, r, &cluster_state(r), &Value::Null).await;
        assert!(
            p.diags.is_empty() && p.requires_replace.is_empty(),
            "{}: {:?}",
            tf.name(),
            p.diags
        );
        assert_eq!(
            r.decode(&p.planned.expect("planned")),
            Value::Null,
            "{}",
            tf.name()
        );
    })
    .await;
}

#[tokio::test]
async fn prepare_provider_config_returns_the_configuration_terraform_0_12_to_0_15_configure_with() {
    use terraform_provider_gitlab::protocol::pb::tfplugin5;
    let servers = grpc_support::serve_in_process().await;
    let mut tf = servers.v5.clone();
    let ProtocolClient::V5(mut client) = servers.v5.clone() else {
        unreachable!()
    };
    let s = tf.schemas().await.expect("schema");
    let config = s.provider.object(&[
        ("base_url", "https://gitlab.example.com/".into()),
        ("token", "glpat-x".into()),
    ]);
    let Dv::Msgpack(bytes) = s.provider.msgpack(&config) else {
        unreachable!()
    };
    let req = tfplugin5::prepare_provider_config::Request {
        config: Some(tfplugin5::DynamicValue {
            msgpack: bytes.clone(),
            json: Vec::new(),
        }),
    };
    let r = client
        .prepare_provider_config(req)
        .await
        .expect("PrepareProviderConfig")
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.prepared_config.map(|d| d.msgpack), Some(bytes));
}

#[tokio::test]
async fn a_provider_never_asked_for_its_schema_validates_configures_and_plans() {
    // The provider announces get_provider_schema_optional, so Terraform >= 1.6 may skip
    // GetProviderSchema on a provider instance, using a schema it cached from another.
    let schemas = {
        let other = grpc_support::serve_in_process().await;
        let mut tf = other.v6.clone();
        tf.schemas().await.expect("schema")
    };
    on_both_protocols(|mut tf| {
        let s = schemas.clone();
        async move {
            let r = &s.resources[CLUSTER];
            let config = cluster_config(r);
            let d = tf
                .validate_resource(CLUSTER, Some(r.msgpack(&config)))
                .await
                .expect("validate");
            assert!(d.is_empty(), "{}: {d:?}", tf.name());
            let url = format!("http://127.0.0.1:{}/api/v4/", grpc_support::closed_port());
            grpc_support::configure_for(&mut tf, &s, &url).await;
            let p = plan(&mut tf, r, &Value::Null, &config).await;
            assert!(
                p.diags.is_empty() && p.planned.is_some(),
                "{}: {:?}",
                tf.name(),
                p.diags
            );
        }
    })
    .await;
}

/// Replaces the `nth` plain unknown (msgpack fixext1 type 0) in `bytes` with `with`.
fn replace_unknown(bytes: &[u8], nth: usize, with: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == [0xd4, 0, 0])
        .nth(nth)
        .map(|(i, _)| i)
        .expect("an unknown value");
    [&bytes[..at], with, &bytes[at + 3..]].concat()
}

#[tokio::test]
async fn refined_unknown_values_sent_by_terraform_1_6_pass_validation_and_plan_as_unknown() {
    // cty (Terraform >= 1.6) sends unknowns with refinements as msgpack extension 12
    // carrying a map: {2: "https://"} is "a string starting with https://", {1: false} is
    // "not null".
    let prefix: &[u8] = &[[0xc7, 11, 12, 0x81, 0x02, 0xa8].as_slice(), b"https://"].concat();
    let not_null: &[u8] = &[0xc7, 3, 12, 0x81, 0x01, 0xc2];
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let config = set(
            &set(&cluster_config(r), "kubernetes_api_url", Value::Unknown),
            "kubernetes_authorization_type",
            Value::Unknown,
        );
        let Dv::Msgpack(plain) = r.msgpack(&config) else {
            unreachable!()
        };
        // Attributes are encoded in name order: kubernetes_api_url, then ..._authorization_type.
        let refined = replace_unknown(&replace_unknown(&plain, 0, prefix), 0, not_null);
        let d = tf
            .validate_resource(CLUSTER, Some(Dv::Msgpack(refined.clone())))
            .await
            .expect("validate");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let p = guard(
            "PlanResourceChange",
            tf.plan(
                CLUSTER,
                Some(r.msgpack(&Value::Null)),
                Some(Dv::Msgpack(refined.clone())),
                Some(Dv::Msgpack(refined)),
            ),
        )
        .await
        .expect("no gRPC error");
        assert!(p.diags.is_empty(), "{}: {:?}", tf.name(), p.diags);
        let planned = r.decode(&p.planned.expect("planned"));
        assert_eq!(
            planned.get("kubernetes_api_url"),
            &Value::Unknown,
            "{}",
            tf.name()
        );
        assert_eq!(
            planned.get("kubernetes_authorization_type"),
            &Value::Unknown,
            "{}",
            tf.name()
        );
    })
    .await;
}
