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

/// One family of cluster resources, as this test drives it: the resource, its owner
/// attribute as configured (none for the instance), the owner's respellings, and a token
/// that may write its clusters.
struct Family {
    resource: &'static str,
    owner: Option<(&'static str, &'static str)>,
    respelled: &'static [&'static str],
    token: &'static str,
}

const FAMILIES: [Family; 3] = [
    Family {
        resource: "gitlab_group_cluster",
        owner: Some(("group", "qa")),
        respelled: &["QA", " qa"],
        token: support::MAINTAINER_TOKEN,
    },
    Family {
        resource: "gitlab_project_cluster",
        owner: Some(("project", "qa/cluster-management")),
        respelled: &["QA/Cluster-Management", " qa/cluster-management", "qa//x"],
        token: support::MAINTAINER_TOKEN,
    },
    Family {
        resource: "gitlab_instance_cluster",
        owner: None,
        respelled: &[],
        token: "sim-admin-token",
    },
];

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

async fn configure(tf: &mut ProtocolClient, s: &WireSchemas, api_url: &str, token: &str) {
    let config = s.provider.object(&[
        ("base_url", api_url.into()),
        ("token", token.into()),
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
    resource: &str,
    r: &WireSchema,
    prior: &Value,
    config: &Value,
) -> grpc_support::Planned {
    grpc_support::plan_values(tf, resource, r, prior, config).await
}

/// Applies the planned create `p` of `config`; the new state.
async fn create(
    tf: &mut ProtocolClient,
    resource: &str,
    r: &WireSchema,
    p: grpc_support::Planned,
    config: &Value,
    what: &str,
) -> Value {
    let planned = r.decode(&p.planned.expect("planned"));
    let a = guard(
        "ApplyResourceChange",
        tf.apply(
            resource,
            Some(r.msgpack(&Value::Null)),
            Some(r.msgpack(&planned)),
            Some(r.msgpack(config)),
        ),
    )
    .await
    .expect("apply");
    assert!(errors(&a.diags).is_empty(), "{what}: apply: {:?}", a.diags);
    r.decode(&a.new_state.expect("new state"))
}

#[tokio::test]
async fn respellings_are_refused_at_their_attribute_or_applied_with_no_later_diff_in_every_family_on_both_protocols()
 {
    let sim = support::Sim::start();
    let sim_url = sim.url.clone();
    let api_url = sim.api_url();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let counter = &counter;
    let (sim_url, api_url) = (&sim_url, &api_url);
    for family in &FAMILIES {
        respellings_of(family, sim_url, api_url, counter).await;
    }
    drop(sim);
}

/// The owner's own respellings, then every other attribute's, for one family.
fn family_variants(family: &Family) -> Vec<Variant> {
    let owner = family.owner.map(|(attr, _)| attr);
    let mut all: Vec<Variant> = owner
        .map(|attr| {
            family
                .respelled
                .iter()
                .map(|v| (attr, v.to_string(), vec![]))
                .collect()
        })
        .unwrap_or_default();
    all.extend(variants());
    all
}

async fn respellings_of(
    family: &'static Family,
    sim_url: &str,
    api_url: &str,
    counter: &std::sync::atomic::AtomicUsize,
) {
    let resource = family.resource;
    on_both_protocols(|mut tf| async move {
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        configure(&mut tf, &s, api_url, family.token).await;
        let r = &s.resources[resource];
        for (attr, value, extra) in family_variants(family) {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut set: Vec<(&str, Value)> = family
                .owner
                .map(|(a, v)| (a, Value::from(v)))
                .into_iter()
                .collect();
            set.extend([
                ("name", format!("v{n}").as_str().into()),
                ("environment_scope", format!("v{n}/*").as_str().into()),
                ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
                ("kubernetes_token", "k8s-token".into()),
            ]);
            set.retain(|(k, _)| *k != attr);
            // Environment scopes are unique per owner: each protocol's run gets its own.
            let value = if attr == "environment_scope" && !value.contains('!') {
                format!("{value}{n}")
            } else {
                value
            };
            set.push((attr, value.as_str().into()));
            set.extend(extra);
            let config = r.object(&set);
            let what = format!("{} {resource} {attr}={value:?}", tf.name());

            let before = cluster_requests(sim_url).await;
            let d = guard(
                "ValidateResourceConfig",
                tf.validate_resource(resource, Some(r.msgpack(&config))),
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
            let p = plan(&mut tf, resource, r, &Value::Null, &config).await;
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
            // Applied (ProtocolClient::apply fails on any result Terraform would call inconsistent) ...
            let state = create(&mut tf, resource, r, p, &config, &what).await;
            // ... refreshed ...
            let (refreshed, _, d) = guard(
                "ReadResource",
                tf.read(resource, Some(r.msgpack(&state)), &[]),
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
            let p = plan(&mut tf, resource, r, &refreshed, &config).await;
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
}

/// A project cluster's `project` respelled by id (or back) is the same project, found by
/// `GET /projects/:id`: no replacement, a new `id`. Another project is a replacement.
#[tokio::test]
async fn a_project_spelled_by_id_instead_of_path_is_the_same_project_on_both_protocols() {
    let sim = support::Sim::start();
    let api_url = sim.api_url();
    let api_url = &api_url;
    let resource = "gitlab_project_cluster";
    let n = std::sync::atomic::AtomicUsize::new(0);
    let n = &n;
    on_both_protocols(|mut tf| async move {
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        configure(&mut tf, &s, api_url, support::MAINTAINER_TOKEN).await;
        let r = &s.resources[resource];
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let config = |project: &str| {
            r.object(&[
                ("project", project.into()),
                ("name", format!("respelled-{i}").as_str().into()),
                (
                    "environment_scope",
                    format!("respelled/{i}").as_str().into(),
                ),
                ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
                ("kubernetes_token", "k8s-token".into()),
            ])
        };
        let by_path = config("qa/cluster-management");
        let p = plan(&mut tf, resource, r, &Value::Null, &by_path).await;
        let what = tf.name().to_string();
        let state = create(&mut tf, resource, r, p, &by_path, &what).await;
        let cid = match state.get("cluster_id") {
            Value::Number(n) => n.as_i64().expect("cluster id"),
            v => panic!("cluster_id {v:?}"),
        };

        let p = plan(&mut tf, resource, r, &state, &config("7")).await;
        assert!(errors(&p.diags).is_empty(), "{:?}", p.diags);
        assert!(p.requires_replace.is_empty(), "{}: same project", tf.name());
        let planned = r.decode(&p.planned.expect("planned"));
        assert_eq!(planned.get("id"), &Value::from(format!("7:{cid}").as_str()));

        let p = plan(&mut tf, resource, r, &state, &config("maintainer/sandbox")).await;
        assert!(errors(&p.diags).is_empty(), "{:?}", p.diags);
        assert!(
            !p.requires_replace.is_empty(),
            "{}: another project replaces the cluster",
            tf.name()
        );

        let p = plan(&mut tf, resource, r, &state, &config("qa/no-such-project")).await;
        let errs = errors(&p.diags);
        assert!(
            !errs.is_empty() && errs.iter().all(|d| d.path == Some(attr_path("project"))),
            "{}: a lookup that fails is an error at `project`, never a replacement: {:?}",
            tf.name(),
            p.diags
        );
    })
    .await;
    drop(sim);
}
