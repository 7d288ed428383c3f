//! The Instance clusters API (`/admin/clusters`, lib/api/admin/instance_clusters.rb): only
//! administrators (`authenticated_as_admin!`), `Entities::Cluster` for get and create but
//! `Entities::ClusterProject` (with `"project": null`) for update, scopes unique among instance
//! clusters, any project as management project, and the model's rules for instance clusters.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn non_admins_get_403_forbidden_and_anonymous_clients_401() {
    let sim = families_sim();
    let c = client();
    let routes = [
        (Method::GET, "/admin/clusters"),
        (Method::GET, "/admin/clusters/3"),
        (Method::GET, "/admin/clusters/999"),
        (Method::POST, "/admin/clusters/add"),
        (Method::PUT, "/admin/clusters/3"),
        (Method::DELETE, "/admin/clusters/3"),
    ];
    for token in [MAINTAINER, DEVELOPER, REPORTER] {
        for (method, path) in routes.clone() {
            let body = (method == Method::POST).then(|| cluster_body("x", "x"));
            let r = send(&c, method, &sim.api(path), Some(token), body).await;
            assert_eq!(
                (r.status.as_u16(), r.json()),
                (403, json!({"message": "403 Forbidden"})),
                "{token} {path}"
            );
        }
    }
    for (method, path) in routes {
        let r = send(&c, method, &sim.api(path), None, None).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (401, json!({"message": "401 Unauthorized"})),
            "{path}"
        );
    }
    // Nothing was applied.
    assert!(sim_clusters(&sim, &c).await.contains_key(&3));
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_create_read_update_and_delete_instance_clusters() {
    let sim = families_sim();
    let c = client();
    let body = json!({
        "name": "shared-prod",
        "domain": "shared.example.com",
        "managed": false,
        "enabled": false,
        "namespace_per_environment": false,
        "environment_scope": "production",
        "platform_kubernetes_attributes": {
            "api_url": "https://kubernetes.example.com",
            "token": "secret-token",
            "namespace": "shared",
            "authorization_type": "abac"
        }
    });
    let r = send(
        &c,
        Method::POST,
        &sim.api("/admin/clusters/add"),
        Some(OPS_ADMIN),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(!r.text.contains("secret-token"));
    let v = r.json();
    let expected = json!({
        "id": v["id"],
        "name": "shared-prod",
        "created_at": v["created_at"],
        "domain": "shared.example.com",
        "enabled": false,
        "managed": false,
        "provider_type": "user",
        "platform_type": "kubernetes",
        "environment_scope": "production",
        "cluster_type": "instance_type",
        "namespace_per_environment": false,
        "user": {
            "id": 5, "username": "ops", "name": "Olga Ops", "state": "active",
            "locked": false, "avatar_url": null, "web_url": format!("{}/ops", sim.url)
        },
        "platform_kubernetes": {
            "api_url": "https://kubernetes.example.com",
            "namespace": "shared",
            "authorization_type": "abac",
            "ca_cert": null
        },
        "provider_gcp": null,
        "management_project": null
    });
    assert_eq!(v, expected, "Entities::Cluster: neither group nor project");
    let url = sim.api(&format!("/admin/clusters/{}", v["id"]));
    let got = send(&c, Method::GET, &url, Some(ADMIN), None).await;
    assert_eq!(got.json(), expected);
    // The list holds instance clusters only (3 and 5 are seeded), paginated without an `id`.
    let list = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters?per_page=2"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(list.status, 200);
    let ids: Vec<_> = list
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(3), json!(5)]);
    assert_eq!(list.header("x-total"), "3");
    assert!(
        list.header("link")
            .contains("/admin/clusters?page=2&per_page=2>; rel=\"next\""),
        "{}",
        list.header("link")
    );
    // PUT presents Entities::ClusterProject: `project` is null for an instance cluster.
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(ADMIN),
        Some(json!({"name": "shared-production", "enabled": true})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut updated = expected.clone();
    updated["name"] = json!("shared-production");
    updated["enabled"] = json!(true);
    // namespace_per_environment's declared default on update sets it back to true.
    updated["namespace_per_environment"] = json!(true);
    updated["project"] = Value::Null;
    assert_eq!(r.json(), updated);
    let r = send(&c, Method::DELETE, &url, Some(ADMIN), None).await;
    assert_eq!(r.status, 204);
    let r = send(&c, Method::GET, &url, Some(ADMIN), None).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Not found"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn project_and_group_clusters_are_not_found_through_the_instance_routes() {
    let sim = families_sim();
    let c = client();
    for (method, path) in [
        (Method::GET, "/admin/clusters/1"),
        (Method::GET, "/admin/clusters/2"),
        (Method::PUT, "/admin/clusters/2"),
        (Method::DELETE, "/admin/clusters/4"),
    ] {
        let r = send(
            &c,
            method,
            &sim.api(path),
            Some(ADMIN),
            Some(json!({"domain": "x.example.com"})),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (404, json!({"message": "404 Not found"})),
            "{path}"
        );
    }
    // And an instance cluster is found through no group or project.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters/3"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters/add"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"error": "cluster_id is invalid"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scopes_are_unique_among_instance_clusters_and_any_project_may_manage_them() {
    let sim = families_sim();
    let c = client();
    // Cluster 5 has `staging/*`.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/admin/clusters/add"),
        Some(ADMIN),
        Some(cluster_body("again", "staging/*")),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            400,
            json!({"message": {"environment_scope": ["cannot add duplicated environment scope"]}})
        )
    );
    // A group may have its own `staging/*`.
    create_via(
        &sim,
        &c,
        "/groups/42/clusters/user",
        MAINTAINER,
        "g",
        "staging/*",
    )
    .await;
    // Any project of the instance (here one of the group `other`) may be the management
    // project of an instance cluster.
    let mut body = cluster_body("managed-by-other", "other/*");
    body["management_project_id"] = json!(8);
    let r = send(
        &c,
        Method::POST,
        &sim.api("/admin/clusters/add"),
        Some(ADMIN),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json()["management_project"]["path_with_namespace"],
        "other/other-tools"
    );
    // ... but one management project serves one cluster per scope, across owners.
    let mut body = cluster_body("same-scope", "other/*");
    body["management_project_id"] = json!(8);
    let r = send(
        &c,
        Method::POST,
        &sim.api("/admin/clusters/add"),
        Some(ADMIN),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_managed_instance_cluster_takes_no_namespace() {
    let sim = families_sim();
    let c = client();
    let mut body = cluster_body("ns", "ns");
    body["platform_kubernetes_attributes"]["namespace"] = json!("shared");
    let r = send(
        &c,
        Method::POST,
        &sim.api("/admin/clusters/add"),
        Some(ADMIN),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            400,
            json!({"message": {"platform_kubernetes.namespace": ["only allowed for project cluster"]}})
        )
    );
    body["managed"] = json!(false);
    let r = send(
        &c,
        Method::POST,
        &sim.api("/admin/clusters/add"),
        Some(ADMIN),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}
