//! Seeded GKE clusters (`provider_type` `gcp`) of every owner: `provider_gcp` shows the values
//! they were seeded with as `Entities::Provider::Gcp` (GitLab's defaults for what is left out),
//! their provider-synchronized fields cannot change, and a state file keeps them.

mod common;

use std::collections::BTreeMap;

use common::*;

fn gcp(id: u64, project: &str, zone: &str, machine: &str, nodes: u64, endpoint: &str) -> Value {
    json!({
        "cluster_id": id, "status_name": "created", "gcp_project_id": project, "zone": zone,
        "machine_type": machine, "num_nodes": nodes, "endpoint": endpoint
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn each_owners_gke_cluster_shows_the_provider_gcp_it_was_seeded_with() {
    let sim = families_sim();
    let c = client();
    let group = gcp(
        1,
        "sim-gcp-project",
        "us-central1-a",
        "n1-standard-2",
        3,
        "111.111.111.111",
    );
    let project = gcp(
        2,
        "qa-gke-project",
        "europe-west1-b",
        "e2-standard-4",
        5,
        "34.76.10.20",
    );
    let instance = gcp(
        3,
        "shared-gke-project",
        "us-east1-c",
        "n2-standard-8",
        7,
        "35.190.1.2",
    );
    for (path, token, expected) in [
        ("/groups/50/clusters/1", ADMIN, &group),
        ("/projects/7/clusters/2", MAINTAINER, &project),
        ("/admin/clusters/3", ADMIN, &instance),
    ] {
        let r = send(&c, Method::GET, &sim.api(path), Some(token), None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let v = r.json();
        assert_eq!(&v["provider_gcp"], expected, "{path}");
        assert_eq!(v["provider_type"], "gcp");
        // In GitLab's order, cluster_id first.
        assert!(
            r.text.contains("\"provider_gcp\":{\"cluster_id\":"),
            "{}",
            r.text
        );
    }
    let list = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(list.json()[0]["provider_gcp"], project);
    // User-provided clusters have none.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters/5"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.json()["provider_gcp"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gke_clusters_name_and_connection_cannot_change() {
    let sim = families_sim();
    let c = client();
    let r = send(
        &c,
        Method::PUT,
        &sim.api("/admin/clusters/3"),
        Some(ADMIN),
        Some(json!({"name": "renamed"})),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            400,
            json!({"message": {"name": ["can not be changed because it's synchronized with provider"]}})
        )
    );
    let r = send(
        &c,
        Method::PUT,
        &sim.api("/admin/clusters/3"),
        Some(ADMIN),
        Some(json!({"platform_kubernetes_attributes": {"token": "other"}})),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"message": {"platform_kubernetes.base": ["Cannot modify managed Kubernetes cluster"]}})
    );
    // The domain can; the answer keeps the GKE values.
    let r = send(
        &c,
        Method::PUT,
        &sim.api("/admin/clusters/3"),
        Some(ADMIN),
        Some(json!({"domain": "new.example.com"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["provider_gcp"]["num_nodes"], 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn left_out_gcp_values_take_gitlabs_defaults_and_other_keys_are_ignored() {
    let (sim, _dir) = sim_with_seed(|seed| {
        seed["clusters"]
            .as_array_mut()
            .expect("clusters")
            .push(json!({
                "id": 2, "project_id": 7, "name": "partial", "provider_type": "gcp",
                "environment_scope": "partial",
                "platform_kubernetes": {"api_url": "https://35.1.1.1", "token": "t"},
                // cluster_id is always the cluster's own; unknown keys (older seeds rendered the
                // object verbatim) are ignored.
                "provider_gcp": {"cluster_id": 77, "zone": "asia-east1-a", "status": "creating",
                                 "endpoint": null, "legacy": "kept nowhere"}
            }));
    });
    let c = client();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters/2"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["provider_gcp"],
        json!({
            "cluster_id": 2, "status_name": "creating", "gcp_project_id": "sim-gcp-project",
            "zone": "asia-east1-a", "machine_type": "n1-standard-2", "num_nodes": 3,
            "endpoint": null
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_file_keeps_every_owners_clusters_and_gke_values() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf8").to_string();
    let seed = gitlab_sim::families_seed_file();
    let seed_arg = seed.to_str().expect("utf8").to_string();
    let c = client();
    let before = {
        let mut sim = Sim::start(&["--control", "--seed", &seed_arg, "--state", &state_arg]);
        let r = send(
            &c,
            Method::PUT,
            &sim.api("/projects/7/clusters/2"),
            Some(MAINTAINER),
            Some(json!({"domain": "qa.example.com"})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let before = without_url(sim_clusters(&sim, &c).await, &sim.url);
        sim.signal(libc::SIGTERM);
        assert_eq!(sim.wait_exit().code(), Some(0));
        before
    };
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
    let owners: Vec<_> = saved["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| {
            (
                c["id"].clone(),
                c["group_id"].clone(),
                c["project_id"].clone(),
                c["instance"].clone(),
            )
        })
        .collect();
    assert_eq!(
        owners,
        vec![
            (json!(1), json!(50), Value::Null, Value::Null),
            (json!(2), Value::Null, json!(7), Value::Null),
            (json!(3), Value::Null, Value::Null, json!(true)),
            (json!(4), Value::Null, json!(9), Value::Null),
            (json!(5), Value::Null, Value::Null, json!(true)),
        ]
    );
    let sim = Sim::start(&["--control", "--state", &state_arg]);
    let after = without_url(sim_clusters(&sim, &c).await, &sim.url);
    assert_eq!(after, before);
    assert_eq!(after[&2]["domain"], "qa.example.com");
}

/// The clusters with the simulator's URL (which follows its port) replaced by `URL`.
fn without_url(clusters: BTreeMap<u64, Value>, url: &str) -> BTreeMap<u64, Value> {
    clusters
        .into_iter()
        .map(|(id, v)| {
            let text = v.to_string().replace(url, "URL");
            (id, serde_json::from_str(&text).expect("json"))
        })
        .collect()
}
