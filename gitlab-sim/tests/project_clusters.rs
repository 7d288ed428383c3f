//! The Project clusters API (`/projects/:id/clusters`, lib/api/project_clusters.rb): the
//! `Entities::ClusterProject` shape, projects in groups and in user namespaces found by id or
//! URL-encoded path, `read_project` (404 Project Not Found), ProjectPolicy's roles, per-project
//! environment scopes, the management project's namespace, and updates and deletes.

mod common;

use common::*;

fn project_details(sim: &Sim) -> Value {
    json!({
        "id": 7,
        "description": "Cluster management project",
        "name": "Cluster Management",
        "name_with_namespace": "QA / Cluster Management",
        "path": "cluster-management",
        "path_with_namespace": "qa/cluster-management",
        "created_at": "2026-01-02T10:00:00.000Z",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": "git@127.0.0.1:qa/cluster-management.git",
        "http_url_to_repo": format!("{}/qa/cluster-management.git", sim.url),
        "web_url": format!("{}/qa/cluster-management", sim.url),
        "avatar_url": null,
        "star_count": 0,
        "last_activity_at": "2026-01-02T10:00:00.000Z",
        "namespace": {
            "id": 42, "name": "QA", "path": "qa", "kind": "group", "full_path": "qa",
            "parent_id": null, "avatar_url": null,
            "web_url": format!("{}/groups/qa", sim.url)
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn create_returns_the_cluster_project_entity_with_the_project() {
    let sim = Sim::start(&[]);
    let c = client();
    // A project cluster may set a namespace although it is managed (allow_user_defined_namespace?).
    let body = json!({
        "name": "qa-prod",
        "environment_scope": "production",
        "management_project_id": 7,
        "platform_kubernetes_attributes": {
            "api_url": "https://kubernetes.example.com",
            "token": "secret-token",
            "namespace": "QA-Prod"
        }
    });
    let r = send(
        &c,
        Method::POST,
        &sim.api("/projects/7/clusters/user"),
        Some(MAINTAINER),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert!(!r.text.contains("secret-token"));
    let expected = json!({
        "id": v["id"],
        "name": "qa-prod",
        "created_at": v["created_at"],
        "domain": null,
        "enabled": true,
        "managed": true,
        "provider_type": "user",
        "platform_type": "kubernetes",
        "environment_scope": "production",
        "cluster_type": "project_type",
        "namespace_per_environment": true,
        "user": {
            "id": 2, "username": "maintainer", "name": "Mia Maintainer", "state": "active",
            "locked": false, "avatar_url": null, "web_url": format!("{}/maintainer", sim.url)
        },
        "platform_kubernetes": {
            "api_url": "https://kubernetes.example.com",
            "namespace": "qa-prod",
            "authorization_type": "rbac",
            "ca_cert": null
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
        "project": project_details(&sim)
    });
    assert_eq!(v, expected);
    let id = v["id"].as_u64().expect("id");
    // GET presents the same entity; list items are Entities::Cluster (no `project`).
    let got = send(
        &c,
        Method::GET,
        &sim.api(&format!("/projects/7/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(got.json(), expected);
    let list = send(
        &c,
        Method::GET,
        &sim.api("/projects/qa%2Fcluster-management/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(list.status, 200);
    let items = list.json();
    assert_eq!(items.as_array().map(Vec::len), Some(1));
    assert_eq!(items[0]["id"], id);
    assert!(items[0].get("project").is_none());
    assert_eq!(list.header("x-total"), "1");
    assert!(
        list.header("link")
            .contains("/projects/qa%2Fcluster-management/clusters?id=qa%2Fcluster-management&page=1&per_page=20>; rel=\"first\""),
        "{}",
        list.header("link")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn projects_in_user_namespaces_are_found_by_id_or_path() {
    let sim = families_sim();
    let c = client();
    for project in ["9", "maintainer%2Fsandbox", "Maintainer%2FSandbox"] {
        let r = send(
            &c,
            Method::GET,
            &sim.api(&format!("/projects/{project}/clusters/4")),
            Some(MAINTAINER),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{project}: {}", r.text);
        let v = r.json();
        assert_eq!(v["cluster_type"], "project_type");
        assert_eq!(
            v["project"]["name_with_namespace"],
            "Mia Maintainer / Sandbox"
        );
        assert_eq!(v["project"]["path_with_namespace"], "maintainer/sandbox");
        assert_eq!(
            v["project"]["namespace"],
            json!({
                "id": 12, "name": "Mia Maintainer", "path": "maintainer", "kind": "user",
                "full_path": "maintainer", "parent_id": null, "avatar_url": null,
                "web_url": format!("{}/maintainer", sim.url)
            })
        );
    }
    // The namespace's owner is the project's Owner; other users do not see it.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/maintainer%2Fsandbox/clusters"),
        Some(DEVELOPER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Project Not Found"}))
    );
    // The administrator may.
    let r = send(
        &c,
        Method::DELETE,
        &sim.api("/projects/9/clusters/4"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invisible_or_missing_project_is_404_project_not_found() {
    let sim = Sim::start(&[]);
    let c = client();
    for (method, path) in [
        (Method::GET, "/projects/8/clusters"),
        (Method::GET, "/projects/other%2Fother-tools/clusters/1"),
        (Method::POST, "/projects/8/clusters/user"),
        (Method::PUT, "/projects/8/clusters/1"),
        (Method::DELETE, "/projects/999/clusters/1"),
        (Method::GET, "/projects/no%2Fsuch/clusters"),
    ] {
        let r = send(
            &c,
            method,
            &sim.api(path),
            Some(MAINTAINER),
            Some(json!({})),
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (404, json!({"message": "404 Project Not Found"})),
            "{path}"
        );
    }
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (401, json!({"message": "401 Unauthorized"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn developers_read_and_maintainers_write_as_project_policy_says() {
    let sim = families_sim();
    let c = client();
    let forbidden = json!({"message": "403 Forbidden"});
    // Developer of qa: read_cluster, but no add/update/admin_cluster.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters"),
        Some(DEVELOPER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters/2"),
        Some(DEVELOPER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for (method, path, body) in [
        (
            Method::POST,
            "/projects/7/clusters/user",
            Some(cluster_body("dev", "dev")),
        ),
        (
            Method::PUT,
            "/projects/7/clusters/2",
            Some(json!({"domain": "x.example.com"})),
        ),
        (Method::DELETE, "/projects/7/clusters/2", None),
    ] {
        let r = send(&c, method, &sim.api(path), Some(DEVELOPER), body).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (403, forbidden.clone()),
            "{path}"
        );
    }
    // Reporter: sees the project, may not read its clusters.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters"),
        Some(REPORTER),
        None,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.json()), (403, forbidden.clone()));
    // A public project is visible to everyone signed in: 403, not 404, without a role.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/11/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.json()), (403, forbidden.clone()));
    // Grape validates the params before the authorization: a developer's bad body is a 400.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/projects/7/clusters/user"),
        Some(DEVELOPER),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // Admins count as owners of every project.
    create_via(&sim, &c, "/projects/11/clusters/user", ADMIN, "docs", "*").await;
    create_via(
        &sim,
        &c,
        "/projects/7/clusters/user",
        MAINTAINER,
        "mine",
        "review/*",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_scope_is_unique_per_project_not_across_owners() {
    let sim = families_sim();
    let c = client();
    // Cluster 2 of project 7 has `production`.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/projects/7/clusters/user"),
        Some(MAINTAINER),
        Some(cluster_body("again", "production")),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            400,
            json!({"message": {"environment_scope": ["cannot add duplicated environment scope"]}})
        )
    );
    // Another project, the project's group and the instance may each have one.
    create_via(
        &sim,
        &c,
        "/projects/9/clusters/user",
        MAINTAINER,
        "p9",
        "production",
    )
    .await;
    create_via(
        &sim,
        &c,
        "/groups/42/clusters/user",
        MAINTAINER,
        "g42",
        "production",
    )
    .await;
    create_via(&sim, &c, "/admin/clusters/add", ADMIN, "inst", "production").await;
    // An update to a taken scope fails the same way; keeping one's own scope does not.
    let mine = create_via(
        &sim,
        &c,
        "/projects/7/clusters/user",
        MAINTAINER,
        "mine",
        "review/*",
    )
    .await;
    let url = sim.api(&format!("/projects/7/clusters/{}", mine["id"]));
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(MAINTAINER),
        Some(json!({"environment_scope": "production"})),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(MAINTAINER),
        Some(json!({"environment_scope": "review/*"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_management_project_must_share_the_projects_namespace() {
    let sim = families_sim();
    let c = client();
    let denied = json!({"message": {"management_project_id": [
        "Project does not exist or you don't have permission to perform this action"
    ]}});
    let with_mgmt = |name: &str, scope: &str, mgmt: u64| {
        let mut b = cluster_body(name, scope);
        b["management_project_id"] = json!(mgmt);
        b
    };
    // Project 10 lives in the subgroup qa/platform: not for a cluster of project 7 (in qa),
    // but a group cluster of qa may use it (subgroups included).
    let r = send(
        &c,
        Method::POST,
        &sim.api("/projects/7/clusters/user"),
        Some(MAINTAINER),
        Some(with_mgmt("m1", "m1", 10)),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.json()), (400, denied.clone()));
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(MAINTAINER),
        Some(with_mgmt("m2", "m2", 10)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The project itself is in its own namespace.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/projects/7/clusters/user"),
        Some(MAINTAINER),
        Some(with_mgmt("m3", "m3", 7)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["management_project"]["id"], 7);
    // In a user namespace: only that namespace's projects.
    let r = send(
        &c,
        Method::PUT,
        &sim.api("/projects/9/clusters/4"),
        Some(MAINTAINER),
        Some(json!({"management_project_id": 7})),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.json()), (400, denied.clone()));
    let r = send(
        &c,
        Method::PUT,
        &sim.api("/projects/9/clusters/4"),
        Some(MAINTAINER),
        Some(json!({"management_project_id": 9})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["management_project"]["name_with_namespace"],
        "Mia Maintainer / Sandbox"
    );
    // A project that does not exist is refused alike, even for an administrator.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/projects/7/clusters/user"),
        Some(ADMIN),
        Some(with_mgmt("m4", "m4", 999)),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.json()), (400, denied));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_is_only_found_through_its_own_project() {
    let sim = families_sim();
    let c = client();
    for path in [
        "/projects/9/clusters/2",
        "/groups/42/clusters/2",
        "/projects/7/clusters/1",
        "/projects/7/clusters/3",
    ] {
        let r = send(&c, Method::GET, &sim.api(path), Some(ADMIN), None).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (404, json!({"message": "404 Not found"})),
            "{path}"
        );
    }
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters"),
        Some(ADMIN),
        None,
    )
    .await;
    let ids: Vec<_> = r
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(2)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn update_takes_the_declared_fields_and_delete_removes_the_cluster() {
    let sim = families_sim();
    let c = client();
    let v = create_via(
        &sim,
        &c,
        "/projects/7/clusters/user",
        MAINTAINER,
        "upd",
        "upd",
    )
    .await;
    let url = sim.api(&format!("/projects/7/clusters/{}", v["id"]));
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(MAINTAINER),
        Some(json!({
            "name": "renamed",
            "domain": "apps.example.com",
            "managed": false,
            "enabled": false,
            "platform_kubernetes_attributes": {
                "namespace": "upd-ns",
                "token": "",
                "authorization_type": "abac"
            }
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = r.json();
    assert_eq!(
        (
            u["name"].clone(),
            u["domain"].clone(),
            u["managed"].clone(),
            u["enabled"].clone()
        ),
        (
            json!("renamed"),
            json!("apps.example.com"),
            json!(false),
            json!(false)
        )
    );
    // authorization_type is not declared on update: ignored.
    assert_eq!(u["platform_kubernetes"]["authorization_type"], "rbac");
    assert_eq!(u["platform_kubernetes"]["namespace"], "upd-ns");
    assert_eq!(u["project"]["id"], 7);
    // The seeded GKE cluster: the platform's connection cannot change, its namespace can.
    let gke = sim.api("/projects/7/clusters/2");
    let r = send(
        &c,
        Method::PUT,
        &gke,
        Some(MAINTAINER),
        Some(json!({"platform_kubernetes_attributes": {"api_url": "https://new.example.com", "token": "new"}})),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            400,
            json!({"message": {"platform_kubernetes.base": ["Cannot modify managed Kubernetes cluster"]}})
        )
    );
    let r = send(
        &c,
        Method::PUT,
        &gke,
        Some(MAINTAINER),
        Some(json!({"platform_kubernetes_attributes": {"namespace": "new-namespace"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(&c, Method::DELETE, &url, Some(MAINTAINER), None).await;
    assert_eq!(r.status, 204);
    let r = send(&c, Method::GET, &url, Some(MAINTAINER), None).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Not found"}))
    );
}
