//! The cluster endpoints' entities and effects: create, get in its own group only, update,
//! delete, provider-managed clusters, the certificate-based clusters switch and concurrent creates.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn create_returns_the_cluster_group_entity_without_the_token() {
    let sim = Sim::start(&[]);
    let c = client();
    let pem = ca_pem();
    let body = json!({
        "name": "prod",
        "domain": "apps.example.com",
        "environment_scope": "production",
        "managed": false,
        "enabled": false,
        "namespace_per_environment": false,
        "management_project_id": 7,
        "platform_kubernetes_attributes": {
            "api_url": "https://kubernetes.example.com",
            "token": "  secret-token  ",
            "ca_cert": format!("\n  {pem}  \n"),
            "namespace": "Prod-NS",
            "authorization_type": "abac"
        }
    });
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(MAINTAINER),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    let created_at = v["created_at"].as_str().expect("created_at");
    assert_eq!(created_at.len(), 24, "{created_at}");
    assert!(
        created_at.ends_with('Z') && created_at.as_bytes()[19] == b'.',
        "{created_at}"
    );
    let expected = json!({
        "id": v["id"],
        "name": "prod",
        "created_at": created_at,
        "domain": "apps.example.com",
        "enabled": false,
        "managed": false,
        "provider_type": "user",
        "platform_type": "kubernetes",
        "environment_scope": "production",
        "cluster_type": "group_type",
        "namespace_per_environment": false,
        "user": {
            "id": 2, "username": "maintainer", "name": "Mia Maintainer", "state": "active",
            "locked": false, "avatar_url": null, "web_url": format!("{}/maintainer", sim.url)
        },
        "platform_kubernetes": {
            "api_url": "https://kubernetes.example.com",
            "namespace": "prod-ns",
            "authorization_type": "abac",
            "ca_cert": pem.trim()
        },
        "provider_gcp": null,
        "management_project": {
            "id": 7,
            "description": "Cluster management project",
            "name": "Cluster Management",
            "name_with_namespace": "QA / Cluster Management",
            "path": "cluster-management",
            "path_with_namespace": "qa/cluster-management",
            "created_at": "2026-01-02T10:00:00.000Z"
        },
        "group": {"id": 42, "web_url": format!("{}/groups/qa", sim.url), "name": "QA"}
    });
    assert_eq!(v, expected);
    assert!(!r.text.contains("secret-token"));
    // List items are Entities::Cluster: no `group`.
    let list = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await
    .json();
    assert_eq!(list[0]["id"], v["id"]);
    assert!(list[0].get("group").is_none());
    // Defaults: enabled, managed, namespace_per_environment true, scope "*", rbac.
    let d = create(&sim, &c, "42", "defaults", "*").await;
    assert_eq!(
        (
            d["enabled"].clone(),
            d["managed"].clone(),
            d["namespace_per_environment"].clone()
        ),
        (json!(true), json!(true), json!(true))
    );
    assert_eq!(d["platform_kubernetes"]["authorization_type"], "rbac");
    assert_eq!(d["domain"], Value::Null);
    assert_eq!(d["management_project"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_is_only_found_in_its_own_group() {
    let sim = Sim::start(&[]);
    let c = client();
    let v = create(&sim, &c, "42", "own", "own").await;
    let id = v["id"].as_u64().expect("id");
    let r = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/qa%2Fplatform/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Not found"}))
    );
    for m in [Method::PUT, Method::DELETE] {
        let r = send(
            &c,
            m,
            &sim.api(&format!("/groups/43/clusters/{id}")),
            Some(MAINTAINER),
            Some(json!({"name": "x"})),
        )
        .await;
        assert_eq!(r.status, 404);
    }
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters/424242"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Not found"}))
    );
    // A reporter asking for a missing cluster gets the 404 before the 403.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters/424242"),
        Some(REPORTER),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["group"]["id"], 42);
}

#[tokio::test(flavor = "multi_thread")]
async fn update_applies_declared_fields_like_gitlab() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let mut body = cluster_body("upd", "upd");
    body["namespace_per_environment"] = json!(false);
    let v = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(MAINTAINER),
        Some(body),
    )
    .await
    .json();
    let id = v["id"].as_u64().expect("id");
    let url = sim.api(&format!("/groups/42/clusters/{id}"));
    let pem = ca_pem();
    let r = send(&c, Method::PUT, &url, Some(MAINTAINER), Some(json!({
        "name": "renamed",
        "domain": "new.example.com",
        "enabled": false,
        "authorization_type": "abac",
        "management_project_id": 7,
        "platform_kubernetes_attributes": {"api_url": "https://new.example.com", "token": "", "ca_cert": pem, "authorization_type": "abac"}
    }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = r.json();
    assert_eq!(u["name"], "renamed");
    assert_eq!(u["domain"], "new.example.com");
    assert_eq!(u["enabled"], false);
    assert_eq!(
        u["platform_kubernetes"]["api_url"],
        "https://new.example.com"
    );
    assert_eq!(
        u["platform_kubernetes"]["authorization_type"], "rbac",
        "PUT does not declare authorization_type"
    );
    assert_eq!(u["platform_kubernetes"]["ca_cert"], pem.trim());
    assert_eq!(u["management_project"]["id"], 7);
    assert_eq!(u["group"]["id"], 42);
    // GitLab declares `namespace_per_environment` with a default on PUT: omitted means true.
    assert_eq!(u["namespace_per_environment"], true);
    // Invalid changes are rejected and nothing is saved.
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(MAINTAINER),
        Some(json!({"domain": "invalid domain", "managed": false})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"message": {"domain": ["contains invalid characters (valid characters: [a-z0-9\\-])"]}})
    );
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(MAINTAINER),
        Some(json!({"platform_kubernetes_attributes": {"api_url": ""}})),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"message": {"platform_kubernetes.api_url": ["must be a valid URL", "can't be blank"]}})
    );
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(MAINTAINER),
        Some(json!({"management_project_id": 8})),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"message": {"management_project_id": ["Project does not exist or you don't have permission to perform this action"]}})
    );
    let now = send(&c, Method::GET, &url, Some(MAINTAINER), None)
        .await
        .json();
    assert_eq!(now["managed"], true);
    assert_eq!(now["domain"], "new.example.com");
    // management_project_id: null detaches the project.
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(MAINTAINER),
        Some(json!({"management_project_id": null})),
    )
    .await;
    assert_eq!(r.json()["management_project"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_managed_clusters_refuse_kubernetes_changes() {
    let sim = Sim::start(&[]);
    let c = client();
    let url = sim.api("/groups/50/clusters/1");
    let r = send(&c, Method::PUT, &url, Some(ADMIN), Some(json!({"platform_kubernetes_attributes": {"api_url": "https://new-api-url.com", "token": "new-sample-token"}}))).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"message": {"platform_kubernetes.base": ["Cannot modify managed Kubernetes cluster"]}})
    );
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(ADMIN),
        Some(json!({"name": "renamed"})),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"message": {"name": ["can not be changed because it's synchronized with provider"]}})
    );
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(ADMIN),
        Some(json!({"domain": "new-domain.com"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["provider_type"], "gcp");
    assert_eq!(v["provider_gcp"]["status_name"], "created");
    assert_eq!(v["domain"], "new-domain.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_answers_204_and_honours_if_unmodified_since() {
    let sim = Sim::start(&[]);
    let c = client();
    let v = create(&sim, &c, "42", "gone", "gone").await;
    let url = sim.api(&format!("/groups/42/clusters/{}", v["id"]));
    let r = c
        .delete(&url)
        .header("PRIVATE-TOKEN", MAINTAINER)
        .header("If-Unmodified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 412);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "412 Precondition Failed"})
    );
    let r = send(&c, Method::DELETE, &url, Some(MAINTAINER), None).await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    let r = send(&c, Method::GET, &url, Some(MAINTAINER), None).await;
    assert_eq!(r.status, 404);
    let r = send(&c, Method::DELETE, &url, Some(MAINTAINER), None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_based_clusters_switched_off_answers_404() {
    let dir = tempfile::tempdir().expect("tmp");
    let seed_text = std::fs::read_to_string(gitlab_sim::seed_file()).expect("fixture");
    let mut seed: Value = serde_json::from_str(&seed_text).expect("seed json");
    seed["certificate_based_clusters"] = json!(false);
    let path = dir.path().join("seed.json");
    std::fs::write(&path, seed.to_string()).expect("write");
    let sim = Sim::start(&["--seed", path.to_str().expect("utf8")]);
    let c = client();
    for (m, p) in [
        (Method::GET, "/groups/42/clusters"),
        (Method::GET, "/groups/42/clusters/1"),
        (Method::POST, "/groups/42/clusters/user"),
        (Method::PUT, "/groups/42/clusters/1"),
        (Method::DELETE, "/groups/42/clusters/1"),
    ] {
        let r = send(&c, m, &sim.api(p), Some(MAINTAINER), Some(json!({}))).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (404, json!({"message": "404 Not Found"})),
            "{p}"
        );
    }
    // The group lookup comes first.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/999/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.json(), json!({"message": "404 Group Not Found"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_parallel_creates_get_unique_ids() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = c.clone();
        let url = sim.api("/groups/42/clusters/user");
        tasks.push(tokio::spawn(async move {
            let r = send(
                &c,
                Method::POST,
                &url,
                Some(MAINTAINER),
                Some(cluster_body(&format!("par{i}"), &format!("par/{i}"))),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.text);
            r.json()["id"].as_u64().expect("id")
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("task"));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters?per_page=100&page=2"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.header("x-total"), "200");
    assert_eq!(cluster_count(&sim, &c).await, 201);
}
