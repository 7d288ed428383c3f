//! The write-only `kubernetes_token_wo` and the token rules, over tfplugin6 and tfplugin5
//! with the in-process client, which applies Terraform's own write-only checks to every
//! plan, apply, read, import and upgrade answer (a non-null write-only value fails the test
//! as "Provider produced invalid object" would fail Terraform). Requests that need GitLab
//! go to the simulator.

mod grpc_support;
mod support;

use grpc_support::{
    CLUSTER, Diag, ProtocolClient, Step, WireSchema, attr_path, cluster_config, cluster_state,
    configured_offline, errors, guard, on_both_protocols, proposed_new,
};
use serde_json::json;
use terraform_provider_gitlab::protocol::value::Value;

const WO: &str = "wo-token-5ecr3t-value";

fn set(v: &Value, attr: &str, x: impl Into<Value>) -> Value {
    let mut v = v.clone();
    *v.get_mut(attr).expect("attribute") = x.into();
    v
}

/// `cluster_config` with the write-only token (version `version`) in place of `kubernetes_token`.
fn wo_config(r: &WireSchema, version: i64) -> Value {
    let c = set(&cluster_config(r), "kubernetes_token", Value::Null);
    let c = set(&c, "kubernetes_token_wo", WO);
    set(&c, "kubernetes_token_wo_version", Value::int(version))
}

fn paths(diags: &[&Diag]) -> Vec<Vec<Step>> {
    diags.iter().filter_map(|d| d.path.clone()).collect()
}

#[track_caller]
fn assert_no_secret(tf: &ProtocolClient, diags: &[Diag]) {
    for d in diags {
        assert!(
            !d.text().contains(WO),
            "{}: the token leaked: {d:?}",
            tf.name()
        );
    }
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
async fn the_write_only_token_is_declared_write_only_and_sensitive_on_the_wire() {
    on_both_protocols(|mut tf| async move {
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        let r = &s.resources[CLUSTER];
        let wo = &r.attrs["kubernetes_token_wo"];
        assert!(
            wo.write_only && wo.sensitive && wo.optional,
            "{}",
            tf.name()
        );
        assert!(!wo.computed && !wo.required, "{}", tf.name());
        let v = &r.attrs["kubernetes_token_wo_version"];
        assert!(v.optional && !v.write_only && !v.sensitive, "{}", tf.name());
        let token = &r.attrs["kubernetes_token"];
        assert!(token.optional && !token.required && !token.write_only);
        let others: Vec<&String> = r
            .attrs
            .iter()
            .filter(|(_, a)| a.write_only)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(others, ["kubernetes_token_wo"], "{}", tf.name());
        for ds in s.data_sources.values() {
            assert!(ds.attrs.values().all(|a| !a.write_only), "{}", tf.name());
        }
    })
    .await;
}

#[tokio::test]
async fn a_client_without_write_only_support_gets_an_error_naming_the_attribute_1_11_and_kubernetes_token_at_no_line()
 {
    on_both_protocols(|mut tf| async move {
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        let r = &s.resources[CLUSTER];
        let config = r.msgpack(&wo_config(r, 1));
        for caps in [None, Some(false)] {
            let d = guard(
                "ValidateResourceConfig",
                tf.validate_resource_as(CLUSTER, Some(config.clone()), caps),
            )
            .await
            .expect("no gRPC error");
            assert_eq!(d.len(), 1, "{} {caps:?}: {d:?}", tf.name());
            assert!(d[0].error);
            // Named, but at no line: Terraform would print the token's line.
            assert_eq!(d[0].path, None, "{}", tf.name());
            assert!(
                d[0].summary.contains("`kubernetes_token_wo`"),
                "{}",
                tf.name()
            );
            for w in [
                "Terraform 1.11",
                "OpenTofu 1.11",
                "`kubernetes_token`",
                "every Terraform and OpenTofu version",
            ] {
                assert!(
                    d[0].text().contains(w),
                    "{}: {w:?} missing: {}",
                    tf.name(),
                    d[0].text()
                );
            }
            assert_no_secret(&tf, &d);
        }
        let d = guard(
            "ValidateResourceConfig",
            tf.validate_resource_modern(CLUSTER, Some(config.clone())),
        )
        .await
        .expect("no gRPC error");
        assert!(
            d.is_empty(),
            "{}: Terraform 1.11 may set it: {d:?}",
            tf.name()
        );
        // An unknown value (Terraform 1.0's validation sees variables so) may be null: the
        // plan, where it is known, refuses it then.
        let unknown = set(&wo_config(r, 1), "kubernetes_token_wo", Value::Unknown);
        let d = guard(
            "ValidateResourceConfig",
            tf.validate_resource(CLUSTER, Some(r.msgpack(&unknown))),
        )
        .await
        .expect("no gRPC error");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        // Without the write-only token, an old client validates as before.
        let d = guard(
            "ValidateResourceConfig",
            tf.validate_resource(CLUSTER, Some(r.msgpack(&cluster_config(r)))),
        )
        .await
        .expect("no gRPC error");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
    })
    .await;
}

#[tokio::test]
async fn a_client_without_write_only_support_is_refused_again_at_plan_once_the_value_is_known() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let config = wo_config(r, 1);
        let proposed = proposed_new(r, &Value::Null, &config);
        for caps in [None, Some(false)] {
            let p = guard(
                "PlanResourceChange",
                tf.plan_as(
                    CLUSTER,
                    Some(r.msgpack(&Value::Null)),
                    Some(r.msgpack(&proposed)),
                    Some(r.msgpack(&config)),
                    caps,
                ),
            )
            .await
            .expect("no gRPC error");
            let errs = errors(&p.diags);
            assert_eq!(errs.len(), 1, "{} {caps:?}: {:?}", tf.name(), p.diags);
            assert_eq!(errs[0].path, None, "{} {caps:?}: at no line", tf.name());
            assert!(
                errs[0].summary.contains("`kubernetes_token_wo`"),
                "{}",
                tf.name()
            );
            assert!(
                p.diags[0].text().contains("Terraform 1.11"),
                "{}",
                tf.name()
            );
            assert!(
                p.planned.is_none_or(|b| r.decode(&b).is_null()),
                "{}: no plan",
                tf.name()
            );
            assert_no_secret(&tf, &p.diags);
        }
    })
    .await;
}

#[tokio::test]
async fn both_tokens_are_an_error_naming_each_at_no_line_and_a_version_needs_the_write_only_token()
{
    on_both_protocols(|mut tf| async move {
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        let r = &s.resources[CLUSTER];
        let both = set(&wo_config(r, 1), "kubernetes_token", "k8s-token");
        let d = guard(
            "ValidateResourceConfig",
            tf.validate_resource_modern(CLUSTER, Some(r.msgpack(&both))),
        )
        .await
        .expect("no gRPC error");
        // One error naming each token, at no line (each line holds a token).
        let errs = errors(&d);
        assert!(
            errs.iter().all(|e| e.path.is_none()),
            "{}: {d:?}",
            tf.name()
        );
        let summaries: Vec<&str> = errs.iter().map(|e| e.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Conflicting Kubernetes tokens (`kubernetes_token`)",
                "Conflicting Kubernetes tokens (`kubernetes_token_wo`)"
            ],
            "{}",
            tf.name()
        );
        assert_no_secret(&tf, &d);

        let lone_version = set(
            &cluster_config(r),
            "kubernetes_token_wo_version",
            Value::int(3),
        );
        let d = guard(
            "ValidateResourceConfig",
            tf.validate_resource_modern(CLUSTER, Some(r.msgpack(&lone_version))),
        )
        .await
        .expect("no gRPC error");
        assert_eq!(
            paths(&errors(&d)),
            [attr_path("kubernetes_token_wo_version")],
            "{}: {d:?}",
            tf.name()
        );
        assert!(d[0].text().contains("kubernetes_token_wo"), "{}", tf.name());
    })
    .await;
}

#[tokio::test]
async fn creating_without_any_token_fails_at_plan_naming_both_and_sends_nothing() {
    on_both_protocols(|mut tf| async move {
        // Offline: a request to GitLab would fail with a connection error instead.
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        // `kubernetes_token = null` and leaving it out look the same on the wire.
        let config = set(&cluster_config(r), "kubernetes_token", Value::Null);
        let d = guard(
            "ValidateResourceConfig",
            tf.validate_resource_modern(CLUSTER, Some(r.msgpack(&config))),
        )
        .await
        .expect("no gRPC error");
        assert!(
            d.is_empty(),
            "{}: an existing cluster needs no token: {d:?}",
            tf.name()
        );
        let p = plan(&mut tf, r, &Value::Null, &config).await;
        let e = errors(&p.diags);
        assert_eq!(e.len(), 1, "{}: {:?}", tf.name(), p.diags);
        assert_eq!(e[0].path, Some(attr_path("kubernetes_token")));
        for w in ["`kubernetes_token`", "`kubernetes_token_wo`", "import"] {
            assert!(
                e[0].text().contains(w),
                "{}: {w:?} missing: {}",
                tf.name(),
                e[0].text()
            );
        }
        // Either token is enough.
        for ok in [
            cluster_config(r),
            wo_config(r, 1),
            set(&wo_config(r, 1), "kubernetes_token_wo_version", Value::Null),
        ] {
            let p = plan(&mut tf, r, &Value::Null, &ok).await;
            assert!(p.diags.is_empty(), "{}: {:?}", tf.name(), p.diags);
        }
        // An existing cluster without a token in the configuration plans no change.
        let prior = set(&cluster_state(r), "kubernetes_token", Value::Null);
        let p = plan(&mut tf, r, &prior, &config).await;
        assert!(p.diags.is_empty(), "{}: {:?}", tf.name(), p.diags);
        assert_eq!(
            r.decode(&p.planned.expect("planned")),
            prior,
            "{}",
            tf.name()
        );
    })
    .await;
}

#[tokio::test]
async fn a_required_attribute_written_as_null_is_refused_at_validate_and_at_plan() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let config = set(&cluster_config(r), "name", Value::Null);
        let d = guard(
            "ValidateResourceConfig",
            tf.validate_resource(CLUSTER, Some(r.msgpack(&config))),
        )
        .await
        .expect("no gRPC error");
        assert_eq!(
            paths(&errors(&d)),
            [attr_path("name")],
            "{}: {d:?}",
            tf.name()
        );
        assert!(
            d[0].summary
                .contains("Missing Configuration for Required Attribute")
        );
        let p = plan(&mut tf, r, &Value::Null, &config).await;
        assert_eq!(
            paths(&errors(&p.diags)),
            [attr_path("name")],
            "{}: {:?}",
            tf.name(),
            p.diags
        );
        assert!(
            p.planned.is_none_or(|b| r.decode(&b).is_null()),
            "{}",
            tf.name()
        );
        // Data sources alike.
        let ds = &s.data_sources["gitlab_group_cluster"];
        let d =
            guard(
                "ValidateDataResourceConfig",
                tf.validate_data_source(
                    "gitlab_group_cluster",
                    Some(ds.msgpack(
                        &ds.object(&[("group", Value::Null), ("cluster_id", Value::int(1))]),
                    )),
                ),
            )
            .await
            .expect("no gRPC error");
        assert_eq!(
            paths(&errors(&d)),
            [attr_path("group")],
            "{}: {d:?}",
            tf.name()
        );
    })
    .await;
}

#[tokio::test]
async fn the_plan_holds_null_for_the_write_only_token_and_only_a_version_change_plans_an_update() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        // Create: the client checks that the planned value is null.
        let p = plan(&mut tf, r, &Value::Null, &wo_config(r, 1)).await;
        assert!(p.diags.is_empty(), "{}: {:?}", tf.name(), p.diags);
        let planned = r.decode(&p.planned.expect("planned"));
        assert_eq!(planned.get("kubernetes_token_wo"), &Value::Null);
        assert_eq!(planned.get("kubernetes_token_wo_version"), &Value::int(1));

        let prior = set(
            &set(&cluster_state(r), "kubernetes_token", Value::Null),
            "kubernetes_token_wo_version",
            Value::int(1),
        );
        // A new value under the same version: Terraform cannot see it, nothing is planned.
        let same = set(&wo_config(r, 1), "kubernetes_token_wo", "another-value");
        let p = plan(&mut tf, r, &prior, &same).await;
        assert_eq!(
            r.decode(&p.planned.expect("planned")),
            prior,
            "{}",
            tf.name()
        );
        // A version bump is an in-place update of the version alone.
        let p = plan(&mut tf, r, &prior, &wo_config(r, 2)).await;
        assert!(
            p.diags.is_empty() && p.requires_replace.is_empty(),
            "{}: {:?}",
            tf.name(),
            p.diags
        );
        let planned = r.decode(&p.planned.expect("planned"));
        assert_eq!(
            planned,
            set(&prior, "kubernetes_token_wo_version", Value::int(2)),
            "{}",
            tf.name()
        );
        // Switching from kubernetes_token: the stored token goes, the version appears.
        let p = plan(&mut tf, r, &cluster_state(r), &wo_config(r, 1)).await;
        assert!(
            p.diags.is_empty() && p.requires_replace.is_empty(),
            "{}: {:?}",
            tf.name(),
            p.diags
        );
        let planned = r.decode(&p.planned.expect("planned"));
        assert_eq!(planned, prior, "{}", tf.name());
    })
    .await;
}

#[tokio::test]
async fn state_holding_a_write_only_value_is_upgraded_to_null() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        // As an old client that ignored the schema flag would have stored it.
        let state = json!({
            "id": "42:7", "group": "42", "name": "production", "cluster_id": 7,
            "kubernetes_api_url": "https://k8s.example.com:6443",
            "kubernetes_token_wo": WO, "kubernetes_token_wo_version": 1
        });
        let (upgraded, d) = guard(
            "UpgradeResourceState",
            tf.upgrade(CLUSTER, 0, state.to_string().as_bytes(), Default::default()),
        )
        .await
        .expect("no gRPC error");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let v = r.decode(&upgraded.expect("state"));
        assert_eq!(v.get("kubernetes_token_wo"), &Value::Null);
        assert_eq!(v.get("kubernetes_token_wo_version"), &Value::int(1));
    })
    .await;
}

/// PUT and POST bodies the simulator received (tokens appear as "[REDACTED]").
fn writes(sim: &support::Sim) -> Vec<(String, serde_json::Value)> {
    off_runtime(|| sim.log())
        .into_iter()
        .filter(|e| e["method"] == "PUT" || e["method"] == "POST")
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().to_string(),
                e["body"].clone(),
            )
        })
        .collect()
}

/// Runs a (blocking) simulator control call on a thread outside the test's runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("simulator call"))
}

async fn apply(tf: &mut ProtocolClient, r: &WireSchema, prior: &Value, config: &Value) -> Value {
    let p = plan(tf, r, prior, config).await;
    assert!(p.diags.is_empty(), "{}: plan: {:?}", tf.name(), p.diags);
    let planned = p.planned.expect("planned");
    let a = guard(
        "ApplyResourceChange",
        tf.apply(
            CLUSTER,
            Some(r.msgpack(prior)),
            Some(grpc_support::Dv::Msgpack(planned)),
            Some(r.msgpack(config)),
        ),
    )
    .await
    .expect("no gRPC error");
    assert!(a.diags.is_empty(), "{}: apply: {:?}", tf.name(), a.diags);
    r.decode(&a.new_state.expect("new state"))
}

#[tokio::test]
async fn apply_read_and_import_return_null_for_the_write_only_token_and_a_version_bump_puts_only_the_token()
 {
    for v6 in [true, false] {
        let sim = support::Sim::start();
        let servers = grpc_support::serve_in_process().await;
        let mut tf = if v6 {
            servers.v6.clone()
        } else {
            servers.v5.clone()
        };
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        let provider = s.provider.object(&[
            ("base_url", sim.api_url().into()),
            ("token", support::MAINTAINER_TOKEN.into()),
        ]);
        let d = guard(
            "ConfigureProvider",
            tf.configure(Some(s.provider.msgpack(&provider))),
        )
        .await
        .expect("no gRPC error");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let r = &s.resources[CLUSTER];
        let config = set(&wo_config(r, 1), "group", "qa");

        // Create: the POST carries the write-only token; the new state holds null for it.
        let created = apply(&mut tf, r, &Value::Null, &config).await;
        assert_eq!(created.get("kubernetes_token_wo"), &Value::Null);
        assert_eq!(created.get("kubernetes_token"), &Value::Null);
        let w = writes(&sim);
        assert_eq!(w.len(), 1, "{}: {w:?}", tf.name());
        assert_eq!(
            w[0].1["platform_kubernetes_attributes"]["token"],
            "[REDACTED]",
            "{}",
            tf.name()
        );

        // Refresh and import: null, as Terraform requires (checked by the client).
        let (read, _, d) = guard(
            "ReadResource",
            tf.read(CLUSTER, Some(r.msgpack(&created)), b""),
        )
        .await
        .expect("no gRPC error");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        assert_eq!(r.decode(&read.expect("state")), created, "{}", tf.name());
        let id = created.get("id").as_str().expect("id").to_string();
        let (imported, d) = guard("ImportResourceState", tf.import(CLUSTER, &id))
            .await
            .expect("no gRPC error");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let state = r.decode(imported[0].1.as_deref().expect("imported state"));
        assert_eq!(state.get("kubernetes_token_wo"), &Value::Null);
        assert_eq!(state.get("kubernetes_token"), &Value::Null);

        // An imported cluster with neither token in the configuration: no change, no request.
        off_runtime(|| sim.reset_stats());
        let bare = set(
            &set(&config, "kubernetes_token_wo", Value::Null),
            "kubernetes_token_wo_version",
            Value::Null,
        );
        let p = plan(&mut tf, r, &state, &bare).await;
        assert!(p.diags.is_empty(), "{}: {:?}", tf.name(), p.diags);
        assert_eq!(
            r.decode(&p.planned.expect("planned")),
            state,
            "{}",
            tf.name()
        );

        // A version bump: one PUT with the token only.
        off_runtime(|| sim.reset_stats());
        let bumped = apply(&mut tf, r, &created, &set(&wo_config(r, 2), "group", "qa")).await;
        assert_eq!(bumped.get("kubernetes_token_wo"), &Value::Null);
        assert_eq!(bumped.get("kubernetes_token_wo_version"), &Value::int(2));
        assert_eq!(
            writes(&sim),
            [(
                "PUT".to_string(),
                json!({"platform_kubernetes_attributes": {"token": "[REDACTED]"}})
            )],
            "{}",
            tf.name()
        );
        // Switching back to kubernetes_token sends it; removing every token sends nothing.
        off_runtime(|| sim.reset_stats());
        let plain = set(&config, "kubernetes_token", "k8s-token");
        let plain = set(
            &set(&plain, "kubernetes_token_wo", Value::Null),
            "kubernetes_token_wo_version",
            Value::Null,
        );
        let switched = apply(&mut tf, r, &bumped, &plain).await;
        assert_eq!(writes(&sim).len(), 1, "{}", tf.name());
        off_runtime(|| sim.reset_stats());
        let removed = apply(&mut tf, r, &switched, &bare).await;
        assert_eq!(removed.get("kubernetes_token"), &Value::Null);
        assert!(writes(&sim).is_empty(), "{}: {:?}", tf.name(), writes(&sim));
    }
}

#[tokio::test]
#[should_panic(expected = "Provider produced invalid object")]
async fn the_test_client_fails_as_terraform_does_when_a_write_only_value_comes_back() {
    let servers = grpc_support::serve_in_process().await;
    let mut tf = servers.v6.clone();
    let s = guard("GetProviderSchema", tf.schemas())
        .await
        .expect("schema");
    let r = &s.resources[CLUSTER];
    let leaked = set(&cluster_state(r), "kubernetes_token_wo", WO);
    let grpc_support::Dv::Msgpack(bytes) = r.msgpack(&leaked) else {
        unreachable!("msgpack")
    };
    tf.assert_write_only_null(
        CLUSTER,
        Some(&bytes),
        "Provider produced invalid object",
        "after apply",
    )
    .await;
}

#[tokio::test]
async fn state_written_by_0_1_0_without_the_new_attributes_upgrades_with_them_null() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        // 0.1.0's schema (version 0): the token in state, no write-only attributes.
        let state = json!({
            "id": "42:7", "group": "42", "name": "production", "domain": null,
            "enabled": true, "managed": true,
            "kubernetes_api_url": "https://k8s.example.com:6443",
            "kubernetes_token": "k8s-token", "kubernetes_ca_cert": null,
            "kubernetes_authorization_type": "rbac", "kubernetes_namespace": null,
            "environment_scope": "*", "namespace_per_environment": true,
            "management_project_id": null, "cluster_id": 7, "cluster_type": "group_type",
            "created_at": "2024-01-02T03:04:05.000Z", "provider_type": "user",
            "platform_type": "kubernetes"
        });
        let (upgraded, d) = guard(
            "UpgradeResourceState",
            tf.upgrade(CLUSTER, 0, state.to_string().as_bytes(), Default::default()),
        )
        .await
        .expect("no gRPC error");
        assert!(d.is_empty(), "{}: {d:?}", tf.name());
        let v = r.decode(&upgraded.expect("state"));
        assert_eq!(v, cluster_state(r), "{}", tf.name());
        // And it plans no change against 0.1.0's configuration.
        let p = plan(&mut tf, r, &v, &cluster_config(r)).await;
        assert!(p.diags.is_empty(), "{}: {:?}", tf.name(), p.diags);
        assert_eq!(r.decode(&p.planned.expect("planned")), v, "{}", tf.name());
    })
    .await;
}
