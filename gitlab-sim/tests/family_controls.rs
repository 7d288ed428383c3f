//! The test controls with clusters of every owner: `/-/sim/clusters` names each cluster's owner,
//! drift and deletes reach project and instance clusters, scripted faults act on their routes
//! (`foreign` and `endless_list` stay within the route's family), and checkpoint / restore and
//! the request log cover them.

mod common;

use common::*;

fn control(sim: &Sim, what: &str) -> String {
    format!("{}/-/sim/{what}", sim.url)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_control_listing_names_each_clusters_owner() {
    let sim = families_sim();
    let c = client();
    let all = sim_clusters(&sim, &c).await;
    assert_eq!(all.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    // Group clusters: ClusterGroup plus group_id.
    assert_eq!(all[&1]["group_id"], 50);
    assert_eq!(all[&1]["group"]["name"], "Other");
    assert_eq!(all[&1]["cluster_type"], "group_type");
    // Project clusters: ClusterProject plus project_id.
    assert_eq!(all[&2]["project_id"], 7);
    assert_eq!(
        all[&2]["project"]["path_with_namespace"],
        "qa/cluster-management"
    );
    assert_eq!(all[&4]["project_id"], 9);
    assert_eq!(all[&4]["cluster_type"], "project_type");
    // Instance clusters: Entities::Cluster plus "instance": true.
    assert_eq!(all[&3]["instance"], true);
    assert_eq!(all[&3]["cluster_type"], "instance_type");
    for (id, v) in &all {
        let owners: Vec<_> = ["group_id", "project_id", "instance"]
            .into_iter()
            .filter(|k| v.get(*k).is_some())
            .collect();
        assert_eq!(owners.len(), 1, "cluster {id}: {v}");
    }
    assert!(all[&3].get("group").is_none() && all[&3].get("project").is_none());
    assert!(all[&2].get("group").is_none() && all[&1].get("project").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_and_deletes_reach_project_and_instance_clusters() {
    let sim = families_sim();
    let c = client();
    let r = send(
        &c,
        Method::PATCH,
        &control(&sim, "clusters/2"),
        None,
        Some(json!({"enabled": false, "environment_scope": "drifted"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["project_id"], 7);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters/2"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (
            r.json()["enabled"].clone(),
            r.json()["environment_scope"].clone()
        ),
        (json!(false), json!("drifted"))
    );
    // The scope index follows the drift: `production` is free again in project 7.
    create_via(
        &sim,
        &c,
        "/projects/7/clusters/user",
        MAINTAINER,
        "p",
        "production",
    )
    .await;
    let r = send(
        &c,
        Method::PATCH,
        &control(&sim, "clusters/5"),
        None,
        Some(json!({"managed": false, "name": "drifted"})),
    )
    .await;
    assert_eq!(r.json()["instance"], true);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters/5"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.json()["name"], "drifted");
    let r = send(&c, Method::DELETE, &control(&sim, "clusters/3"), None, None).await;
    assert_eq!(r.status, 204);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters/3"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = send(&c, Method::DELETE, &control(&sim, "clusters/4"), None, None).await;
    assert_eq!(r.status, 204);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/9/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.json(), json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_answers_with_a_cluster_of_the_routes_own_family() {
    let sim = families_sim();
    let c = client();
    // Project route: another project cluster (4), as Entities::ClusterProject.
    fault(
        &sim,
        &c,
        json!({"path": "/projects/", "action": {"kind": "foreign"}}),
    )
    .await;
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters/2"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["id"].clone(), v["project"]["id"].clone()),
        (json!(4), json!(9))
    );
    // Instance route: another instance cluster (5), as Entities::Cluster.
    fault(
        &sim,
        &c,
        json!({"path": "/admin/", "action": {"kind": "foreign"}}),
    )
    .await;
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters/3"),
        Some(ADMIN),
        None,
    )
    .await;
    let v = r.json();
    assert_eq!(
        (v["id"].clone(), v["cluster_type"].clone()),
        (json!(5), json!("instance_type"))
    );
    assert!(v.get("project").is_none());
    // The instance list: a one-element list of another instance cluster.
    fault(
        &sim,
        &c,
        json!({"path": "/admin/", "action": {"kind": "foreign", "cluster_id": 5}}),
    )
    .await;
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters?per_page=1"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.json()[0]["id"], 5);
    // Group routes keep picking group clusters: with only one, the answer stays as it is.
    fault(
        &sim,
        &c,
        json!({"path": "/groups/", "action": {"kind": "foreign"}}),
    )
    .await;
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/50/clusters/1"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.json()["id"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_lists_and_status_faults_act_on_project_and_instance_routes() {
    let sim = families_sim();
    let c = client();
    fault(
        &sim,
        &c,
        json!({"method": "GET", "path": "/clusters", "count": 3, "action": {"kind": "endless_list"}}),
    )
    .await;
    for (path, token, cluster_type) in [
        ("/admin/clusters?per_page=2", ADMIN, "instance_type"),
        (
            "/projects/7/clusters?per_page=2&page=5",
            MAINTAINER,
            "project_type",
        ),
    ] {
        let r = send(&c, Method::GET, &sim.api(path), Some(token), None).await;
        assert_eq!(r.status, 200, "{path}");
        let items = r.json();
        assert_eq!(items.as_array().map(Vec::len), Some(2), "{path}");
        assert_eq!(items[0]["cluster_type"], cluster_type, "{path}");
        assert!(items[0]["id"].as_u64().expect("id") > 10_000_000);
        assert!(r.headers.get("x-total").is_none());
        assert!(!r.header("x-next-page").is_empty());
    }
    // A single-cluster GET is not a list: the third use is left for a list.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters/3"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.json()["id"], 3);
    fault(
        &sim,
        &c,
        json!({"method": "POST", "path": "/admin/clusters/add", "action": {"kind": "status", "status": 502}}),
    )
    .await;
    let r = send(
        &c,
        Method::POST,
        &sim.api("/admin/clusters/add"),
        Some(ADMIN),
        Some(cluster_body("lost", "lost")),
    )
    .await;
    assert_eq!(r.status, 502);
    assert_eq!(sim_clusters(&sim, &c).await.len(), 5, "not applied");
    fault(
        &sim,
        &c,
        json!({"method": "POST", "path": "/projects/7/clusters", "action": {"kind": "drop_after_apply"}}),
    )
    .await;
    let sent = c
        .post(sim.api("/projects/7/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("dropped", "dropped"))
        .send()
        .await;
    assert!(sent.is_err(), "the connection closes without an answer");
    let all = sim_clusters(&sim, &c).await;
    assert!(
        all.values()
            .any(|v| v["name"] == "dropped" && v["project_id"] == 7)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_brings_back_every_owners_clusters_and_the_log_records_their_routes() {
    let sim = families_sim();
    let c = client();
    let r = send(&c, Method::POST, &control(&sim, "checkpoint"), None, None).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            201,
            json!({"groups": 3, "projects": 5, "users": 5, "clusters": 5, "next_cluster_id": 100})
        )
    );
    for (path, token) in [
        ("/admin/clusters/3", ADMIN),
        ("/projects/9/clusters/4", MAINTAINER),
    ] {
        let r = send(&c, Method::DELETE, &sim.api(path), Some(token), None).await;
        assert_eq!(r.status, 204, "{path}");
    }
    let made = create_via(&sim, &c, "/admin/clusters/add", ADMIN, "new", "new").await;
    assert_eq!(made["id"], 100);
    let log = send(&c, Method::GET, &control(&sim, "stats"), None, None)
        .await
        .json();
    let paths: Vec<_> = log["log"]
        .as_array()
        .expect("log")
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["method"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or(""),
                e["status"]
            )
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            "DELETE /api/v4/admin/clusters/3 204",
            "DELETE /api/v4/projects/9/clusters/4 204",
            "POST /api/v4/admin/clusters/add 201",
        ]
    );
    let r = send(&c, Method::POST, &control(&sim, "restore"), None, None).await;
    assert_eq!(r.status, 200);
    let all = sim_clusters(&sim, &c).await;
    assert_eq!(all.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    let again = create_via(
        &sim,
        &c,
        "/projects/9/clusters/user",
        MAINTAINER,
        "again",
        "again",
    )
    .await;
    assert_eq!(again["id"], 100);
}
