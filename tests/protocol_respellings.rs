//! Protocol-level proof, on tfplugin6 and tfplugin5, that every spelling GitLab may store
//! differently is either refused (at its attribute, before any cluster request) or applied
//! so that the refreshed state plans no change. The in-process client runs Terraform's
//! objchange checks on every plan and apply (tests/grpc_support/objchange.rs), so an answer
//! Terraform would call invalid or inconsistent fails here. The simulator plays GitLab.

mod grpc_support;
mod support;

use grpc_support::{
    Diag, ProtocolClient, WireSchema, WireSchemas, attr_path, errors, guard, on_both_protocols,
};
use serde_json::Value as J;
use terraform_provider_gitlab::protocol::value::Value;

const CLUSTER: &str = "gitlab_group_cluster";

/// An attribute, its respelled value, and other attributes it needs.
type Variant = (&'static str, String, Vec<(&'static str, Value)>);

fn variants() -> Vec<Variant> {
    let pem = support::ca_cert_pem();
    let unmanaged = || vec![("managed", Value::Bool(false))];
    let s = |x: &str| x.to_string();
    vec![
        ("name", s("Mixed Case"), vec![]),
        ("name", s(" padded "), vec![]),
        ("name", s(""), vec![]),
        ("domain", s("Apps.Example.COM"), vec![]),
        ("domain", s(""), vec![]),
        ("domain", s(" example.com"), vec![]),
        ("kubernetes_api_url", s(" https://k8s.example.com "), vec![]),
        ("kubernetes_api_url", s("HTTPS://k8s.example.com"), vec![]),
        ("kubernetes_ca_cert", pem.replace('\n', "\r\n"), vec![]),
        (
            "kubernetes_ca_cert",
            format!("\n{}\n\n", pem.trim()),
            vec![],
        ),
        ("kubernetes_ca_cert", s(""), vec![]),
        ("kubernetes_namespace", s("MyNamespace"), unmanaged()),
        ("kubernetes_namespace", s(""), unmanaged()),
        ("kubernetes_namespace", s("bad ns"), unmanaged()),
        ("kubernetes_authorization_type", s("RBAC"), vec![]),
        ("management_project_id", s("007"), vec![]),
        ("management_project_id", s("+7"), vec![]),
        ("management_project_id", s(" 7"), vec![]),
        ("management_project_id", s(""), vec![]),
        ("management_project_id", s("-7"), vec![]),
        ("environment_scope", s(" spaced"), vec![]),
        ("environment_scope", s("bad!"), vec![]),
        ("group", s("QA"), vec![]),
        ("group", s(" qa"), vec![]),
    ]
}

async fn sim_get(url: &str) -> J {
    terraform_provider_gitlab::tls_provider::install_default();
    let resp = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    resp.json().await.unwrap_or(J::Null)
}

/// How many requests the simulator has seen on cluster endpoints.
async fn cluster_requests(sim_url: &str) -> usize {
    let stats = sim_get(&format!("{sim_url}/-/sim/stats")).await;
    stats["log"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["path"].as_str().is_some_and(|p| p.contains("/clusters")))
                .count()
        })
        .unwrap_or(0)
}

async fn configure(tf: &mut ProtocolClient, s: &WireSchemas, api_url: &str) {
    let config = s.provider.object(&[
        ("base_url", api_url.into()),
        ("token", support::MAINTAINER_TOKEN.into()),
        ("early_auth_check", false.into()),
    ]);
    let d = guard(
        "ConfigureProvider",
        tf.configure(Some(s.provider.msgpack(&config))),
    )
    .await
    .expect("configure");
    assert!(errors(&d).is_empty(), "{}: {d:?}", tf.name());
}

/// Whether `diags` refuse the variant at `attr` only.
fn refused_at(diags: &[Diag], attr: &str) -> bool {
    let errs = errors(diags);
    !errs.is_empty() && errs.iter().all(|d| d.path == Some(attr_path(attr)))
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
async fn respellings_are_refused_at_their_attribute_or_applied_with_no_later_diff_on_both_protocols()
 {
    let sim = support::Sim::start();
    let sim_url = sim.url.clone();
    let api_url = sim.api_url();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let counter = &counter;
    let (sim_url, api_url) = (&sim_url, &api_url);
    on_both_protocols(|mut tf| async move {
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        configure(&mut tf, &s, api_url).await;
        let r = &s.resources[CLUSTER];
        for (attr, value, extra) in variants() {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut set: Vec<(&str, Value)> = vec![
                ("group", "qa".into()),
                ("name", format!("v{n}").as_str().into()),
                ("environment_scope", format!("v{n}/*").as_str().into()),
                ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
                ("kubernetes_token", "k8s-token".into()),
            ];
            set.retain(|(k, _)| *k != attr);
            // Environment scopes are unique per group: each protocol's run gets its own.
            let value = if attr == "environment_scope" && !value.contains('!') {
                format!("{value}{n}")
            } else {
                value
            };
            set.push((attr, value.as_str().into()));
            set.extend(extra);
            let config = r.object(&set);
            let what = format!("{} {attr}={value:?}", tf.name());

            let before = cluster_requests(sim_url).await;
            let d = guard(
                "ValidateResourceConfig",
                tf.validate_resource(CLUSTER, Some(r.msgpack(&config))),
            )
            .await
            .expect("validate");
            if !errors(&d).is_empty() {
                assert!(refused_at(&d, attr), "{what}: refused elsewhere: {d:?}");
                assert_eq!(
                    cluster_requests(sim_url).await,
                    before,
                    "{what}: no request"
                );
                continue;
            }
            let p = plan(&mut tf, r, &Value::Null, &config).await;
            if !errors(&p.diags).is_empty() {
                assert!(
                    refused_at(&p.diags, attr),
                    "{what}: refused elsewhere: {:?}",
                    p.diags
                );
                assert_eq!(
                    cluster_requests(sim_url).await,
                    before,
                    "{what}: no request"
                );
                continue;
            }
            let planned = r.decode(&p.planned.expect("planned"));
            // Applied (ProtocolClient::apply fails on any result Terraform would call inconsistent) ...
            let a = guard(
                "ApplyResourceChange",
                tf.apply(
                    CLUSTER,
                    Some(r.msgpack(&Value::Null)),
                    Some(r.msgpack(&planned)),
                    Some(r.msgpack(&config)),
                ),
            )
            .await
            .expect("apply");
            assert!(errors(&a.diags).is_empty(), "{what}: apply: {:?}", a.diags);
            let state = r.decode(&a.new_state.expect("new state"));
            // ... refreshed ...
            let (refreshed, _, d) = guard(
                "ReadResource",
                tf.read(CLUSTER, Some(r.msgpack(&state)), &[]),
            )
            .await
            .expect("read");
            assert!(errors(&d).is_empty(), "{what}: read: {d:?}");
            let refreshed = r.decode(&refreshed.expect("read state"));
            assert_eq!(
                refreshed, state,
                "{what}: refresh keeps the applied spelling"
            );
            // ... and planned again: no change.
            let p = plan(&mut tf, r, &refreshed, &config).await;
            assert!(
                errors(&p.diags).is_empty() && p.requires_replace.is_empty(),
                "{what}: {:?}",
                p.diags
            );
            assert_eq!(
                r.decode(&p.planned.expect("planned")),
                refreshed,
                "{what}: no change planned"
            );
        }
    })
    .await;
    drop(sim);
}
