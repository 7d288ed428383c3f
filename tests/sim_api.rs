//! Black-box tests of the `gitlab-sim` binary: starts the real binary on port 0 and checks
//! GitLab's status codes, error bodies, entities, pagination, persistence, controls, rate
//! limiting, fault injection, concurrency and TLS with a plain HTTP client.

mod sim_launcher;

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sim_launcher::Sim;

const ADMIN: &str = "sim-admin-token";
const MAINTAINER: &str = "sim-maintainer-token";
const DEVELOPER: &str = "sim-developer-token";
const REPORTER: &str = "sim-reporter-token";

fn client() -> Client {
    terraform_provider_gitlab::tls_provider::install_default();
    Client::builder()
        .no_proxy()
        .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
        .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {:?}", self.text))
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("missing header {name}"))
    }
}

async fn send(
    c: &Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut rb = c.request(method, url);
    if let Some(t) = token {
        rb = rb.header("PRIVATE-TOKEN", t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    Resp {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.expect("body"),
    }
}

async fn form(c: &Client, method: Method, url: &str, token: &str, body: &str) -> Resp {
    let r = c
        .request(method, url)
        .header("PRIVATE-TOKEN", token)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    Resp {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.expect("body"),
    }
}

fn cluster_body(name: &str, scope: &str) -> Value {
    json!({
        "name": name,
        "environment_scope": scope,
        "platform_kubernetes_attributes": {"api_url": "https://kubernetes.example.com", "token": "secret-token"}
    })
}

async fn create(sim: &Sim, c: &Client, group: &str, name: &str, scope: &str) -> Value {
    let r = send(
        c,
        Method::POST,
        &sim.api(&format!("/groups/{group}/clusters/user")),
        Some(MAINTAINER),
        Some(cluster_body(name, scope)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

fn ca_pem() -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["kubernetes.example.com".to_string()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).expect("cert").pem()
}

#[test]
fn prints_listening_line_and_exits_cleanly_on_sigterm_and_sigint() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut sim = Sim::start(&[]);
        let port = sim
            .url
            .strip_prefix("http://127.0.0.1:")
            .expect("http url on 127.0.0.1");
        assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{}", sim.url);
        sim.signal(sig);
        assert_eq!(sim.wait_exit().code(), Some(0));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_unknown_token_is_401_and_all_token_styles_work() {
    let sim = Sim::start(&[]);
    let c = client();
    for token in [None, Some("wrong-token")] {
        let r = send(
            &c,
            Method::GET,
            &sim.api("/groups/42/clusters"),
            token,
            None,
        )
        .await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json(), json!({"message": "401 Unauthorized"}));
    }
    let r = c
        .get(sim.api("/user"))
        .bearer_auth(MAINTAINER)
        .send()
        .await
        .expect("bearer");
    assert_eq!(r.status(), 200);
    let r = c
        .get(sim.api(&format!("/user?private_token={MAINTAINER}")))
        .send()
        .await
        .expect("param");
    assert_eq!(r.status(), 200);
    let user: Value = r.json().await.expect("json");
    assert_eq!(user["username"], "maintainer");
    assert_eq!(user["id"], 2);
    assert_eq!(user["web_url"], format!("{}/maintainer", sim.url));
    assert!(user.get("is_admin").is_none());
    let admin = send(&c, Method::GET, &sim.api("/user"), Some(ADMIN), None)
        .await
        .json();
    assert_eq!(admin["is_admin"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_are_found_by_id_or_encoded_path_and_hidden_when_not_readable() {
    let sim = Sim::start(&[]);
    let c = client();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/qa%2Fplatform/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/QA/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "full paths are case-insensitive");
    for missing in ["/groups/999/clusters", "/groups/nope%2Fnope/clusters"] {
        let r = send(&c, Method::GET, &sim.api(missing), Some(MAINTAINER), None).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json(), json!({"message": "404 Group Not Found"}));
    }
    // Private group without membership: GitLab hides it (404), the admin sees it.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/50/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Group Not Found"}))
    );
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/other/clusters"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn permissions_follow_gitlab_roles_with_inherited_membership() {
    let sim = Sim::start(&[]);
    let c = client();
    let body = cluster_body("perm", "perm");
    // Developer: may read (GroupPolicy read_cluster), not write.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(DEVELOPER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(DEVELOPER),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (403, json!({"message": "403 Forbidden"}))
    );
    // Reporter: no read either.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(REPORTER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (403, json!({"message": "403 Forbidden"}))
    );
    // Maintainer of qa is maintainer of qa/platform too.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/43/clusters/user"),
        Some(MAINTAINER),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().expect("id");
    let url = sim.api(&format!("/groups/43/clusters/{id}"));
    let r = send(&c, Method::GET, &url, Some(DEVELOPER), None).await;
    assert_eq!(r.status, 200);
    let r = send(&c, Method::GET, &url, Some(REPORTER), None).await;
    assert_eq!(r.status, 403);
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(DEVELOPER),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(&c, Method::DELETE, &url, Some(DEVELOPER), None).await;
    assert_eq!(r.status, 403);
    // Grape validation runs before authorization: invalid params are a 400 even for a developer.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(DEVELOPER),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 400);
}

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
async fn form_encoded_bodies_with_bracket_keys_and_boolean_strings_are_accepted() {
    let sim = Sim::start(&[]);
    let c = client();
    let body = "name=formed&environment_scope=review%2F%2A&enabled=false&managed=0&namespace_per_environment=no\
        &platform_kubernetes_attributes%5Bapi_url%5D=https%3A%2F%2Fk8s.example.com%3A6443\
        &platform_kubernetes_attributes[token]=tok&platform_kubernetes_attributes[namespace]=ns1";
    let r = form(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        MAINTAINER,
        body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert_eq!(v["environment_scope"], "review/*");
    assert_eq!(
        (
            v["enabled"].clone(),
            v["managed"].clone(),
            v["namespace_per_environment"].clone()
        ),
        (json!(false), json!(false), json!(false))
    );
    assert_eq!(
        v["platform_kubernetes"]["api_url"],
        "https://k8s.example.com:6443"
    );
    assert_eq!(v["platform_kubernetes"]["namespace"], "ns1");
    let r = form(&c, Method::POST, &sim.api("/groups/42/clusters/user"), MAINTAINER, "name=x&enabled=maybe&platform_kubernetes_attributes[api_url]=https://a.example.com&platform_kubernetes_attributes[token]=t").await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"error": "enabled is invalid"}))
    );
    let id = v["id"].as_u64().expect("id");
    let r = form(
        &c,
        Method::PUT,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        MAINTAINER,
        "enabled=true&domain=apps.example.com",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["enabled"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_invalid_params_are_reported_like_grape() {
    let sim = Sim::start(&[]);
    let c = client();
    let url = sim.api("/groups/42/clusters/user");
    let cases = [
        (
            json!({}),
            "name is missing, platform_kubernetes_attributes is missing, platform_kubernetes_attributes[api_url] is missing, platform_kubernetes_attributes[api_url] is empty, platform_kubernetes_attributes[token] is missing",
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": {"token": "t"}}),
            "platform_kubernetes_attributes[api_url] is missing, platform_kubernetes_attributes[api_url] is empty",
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": {"api_url": "", "token": "t"}}),
            "platform_kubernetes_attributes[api_url] is empty",
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": {"api_url": "https://a.example.com", "token": "t", "authorization_type": "cluster-admin"}}),
            "platform_kubernetes_attributes[authorization_type] does not have a valid value",
        ),
        (
            json!({"name": "a", "management_project_id": "seven", "platform_kubernetes_attributes": {"api_url": "https://a.example.com", "token": "t"}}),
            "management_project_id is invalid",
        ),
        (
            json!({"name": ["a"], "platform_kubernetes_attributes": "x"}),
            "name is invalid, platform_kubernetes_attributes is invalid, platform_kubernetes_attributes[api_url] is missing, platform_kubernetes_attributes[api_url] is invalid, platform_kubernetes_attributes[token] is missing, platform_kubernetes_attributes[token] is invalid",
        ),
    ];
    for (body, msg) in cases {
        let r = send(&c, Method::POST, &url, Some(MAINTAINER), Some(body.clone())).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json(), json!({"error": msg}), "{body}");
    }
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters/abc"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"error": "cluster_id is invalid"}))
    );
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters?per_page=0"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"error": "per_page has a value not allowed"}))
    );
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters?page=x"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"error": "page is invalid"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn model_validation_errors_use_gitlab_keys_and_texts() {
    let sim = Sim::start(&[]);
    let c = client();
    let url = sim.api("/groups/42/clusters/user");
    let pk = |api_url: &str, token: &str| json!({"api_url": api_url, "token": token});
    let cases = [
        (
            json!({"name": "a", "platform_kubernetes_attributes": pk("invalid_api_url", "t")}),
            json!({"platform_kubernetes.api_url": ["is blocked: Only allowed schemes are http, https"]}),
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": pk("https://127.0.0.1:6443", "t")}),
            json!({"platform_kubernetes.api_url": ["is blocked: Requests to localhost are not allowed"]}),
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": pk("https://10.0.0.5", "t")}),
            json!({"platform_kubernetes.api_url": ["is blocked: Requests to the local network are not allowed"]}),
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": pk("https://a.example.com", "   ")}),
            json!({"platform_kubernetes.token": ["can't be blank"]}),
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": {"api_url": "https://a.example.com", "token": "t", "ca_cert": "not a certificate"}}),
            json!({"platform_kubernetes.ca_cert": ["must be a valid PEM certificate"]}),
        ),
        (
            json!({"name": "a", "platform_kubernetes_attributes": {"api_url": "https://a.example.com", "token": "t", "namespace": "ns"}}),
            json!({"platform_kubernetes.namespace": ["only allowed for project cluster"]}),
        ),
        (
            json!({"name": "a", "managed": false, "platform_kubernetes_attributes": {"api_url": "https://a.example.com", "token": "t", "namespace": "-bad-"}}),
            json!({"platform_kubernetes.namespace": ["can contain only lowercase letters, digits, and '-'. Must start with a letter, and cannot end with '-'"]}),
        ),
        (
            json!({"name": "", "platform_kubernetes_attributes": pk("https://a.example.com", "t")}),
            json!({"name": ["has to be present"]}),
        ),
        (
            json!({"name": "n".repeat(2049), "platform_kubernetes_attributes": pk("https://a.example.com", "t")}),
            json!({"name": ["is too long"]}),
        ),
        (
            json!({"name": "a", "domain": "invalid domain", "platform_kubernetes_attributes": pk("https://a.example.com", "t")}),
            json!({"domain": ["contains invalid characters (valid characters: [a-z0-9\\-])"]}),
        ),
        (
            json!({"name": "a", "environment_scope": "", "platform_kubernetes_attributes": pk("https://a.example.com", "t")}),
            json!({"environment_scope": ["can't be blank", "can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', '*' and spaces"]}),
        ),
    ];
    for (body, errors) in cases {
        let r = send(&c, Method::POST, &url, Some(MAINTAINER), Some(body.clone())).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.json(), json!({"message": errors}), "{}", r.text);
    }
    // Several errors at once keep GitLab's attribute order.
    let r = send(&c, Method::POST, &url, Some(MAINTAINER), Some(json!({"name": " ", "platform_kubernetes_attributes": {"api_url": "ftp://x", "token": "", "ca_cert": "x"}}))).await;
    let order = [
        "platform_kubernetes.api_url",
        "platform_kubernetes.token",
        "platform_kubernetes.ca_cert",
        "\"name\"",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|k| r.text.find(k).unwrap_or(usize::MAX))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{}", r.text);
    let list = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await
    .json();
    assert_eq!(list, json!([]), "nothing was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicated_environment_scope_is_rejected_within_a_group_only() {
    let sim = Sim::start(&[]);
    let c = client();
    create(&sim, &c, "42", "first", "staging").await;
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(MAINTAINER),
        Some(cluster_body("second", "staging")),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"message": {"environment_scope": ["cannot add duplicated environment scope"]}})
    );
    // The subgroup is another clusterable.
    create(&sim, &c, "43", "sub", "staging").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn management_project_must_exist_and_be_administrable() {
    let sim = Sim::start(&[]);
    let c = client();
    for pid in [8, 9999] {
        let mut body = cluster_body("m", "m");
        body["management_project_id"] = json!(pid);
        let r = send(
            &c,
            Method::POST,
            &sim.api("/groups/42/clusters/user"),
            Some(MAINTAINER),
            Some(body),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json(),
            json!({"message": {"management_project_id": ["Project does not exist or you don't have permission to perform this action"]}})
        );
    }
    // A project of the parent group is not in the subgroup's scope.
    let mut body = cluster_body("m", "m");
    body["management_project_id"] = json!(7);
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/43/clusters/user"),
        Some(MAINTAINER),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 400);
    // Two clusters managed by one project may not share a scope, even across groups... of
    // the project's tree: here both are in qa.
    let mut body = cluster_body("m1", "shared");
    body["management_project_id"] = json!(7);
    let v = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(MAINTAINER),
        Some(body),
    )
    .await;
    assert_eq!(v.status, 201, "{}", v.text);
    assert_eq!(v.json()["management_project"]["id"], 7);
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
async fn list_pagination_headers_match_gitlab() {
    let sim = Sim::start(&[]);
    let c = client();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(
                &sim,
                &c,
                "qa%2Fplatform",
                &format!("p{i}"),
                &format!("p{i}"),
            )
            .await["id"]
                .as_u64()
                .expect("id"),
        );
    }
    let base = format!("{}/api/v4/groups/qa%2Fplatform/clusters", sim.url);
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=2&page=2"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let page: Vec<u64> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|x| x["id"].as_u64())
        .collect();
    assert_eq!(page, ids[2..4]);
    assert_eq!(r.header("x-total"), "5");
    assert_eq!(r.header("x-total-pages"), "3");
    assert_eq!(r.header("x-page"), "2");
    assert_eq!(r.header("x-per-page"), "2");
    assert_eq!(r.header("x-next-page"), "3");
    assert_eq!(r.header("x-prev-page"), "1");
    let q = |p: u32| format!("<{base}?id=qa%2Fplatform&page={p}&per_page=2>");
    assert_eq!(
        r.header("link"),
        format!(
            "{}; rel=\"prev\", {}; rel=\"next\", {}; rel=\"first\", {}; rel=\"last\"",
            q(1),
            q(3),
            q(1),
            q(3)
        )
    );
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=2&page=3"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    assert_eq!(
        (r.header("x-next-page"), r.header("x-prev-page")),
        ("", "2")
    );
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=2&page=9"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.json(), json!([]));
    assert_eq!(
        (
            r.header("x-next-page"),
            r.header("x-prev-page"),
            r.header("x-page")
        ),
        ("", "", "9")
    );
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=500"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.header("x-per-page"), r.header("x-total-pages")),
        ("100", "1")
    );
    let r = send(&c, Method::GET, &base, Some(MAINTAINER), None).await;
    assert_eq!((r.header("x-per-page"), r.header("x-page")), ("20", "1"));
    // Following rel="next" visits every cluster once.
    let mut next = Some(format!("{base}?per_page=2"));
    let mut seen = Vec::new();
    while let Some(u) = next.take() {
        let r = send(&c, Method::GET, &u, Some(MAINTAINER), None).await;
        seen.extend(
            r.json()
                .as_array()
                .expect("array")
                .iter()
                .filter_map(|x| x["id"].as_u64()),
        );
        next = r
            .header("link")
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap_or(1)].to_string());
    }
    assert_eq!(seen, ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_based_clusters_switched_off_answers_404() {
    let dir = tempfile::tempdir().expect("tmp");
    let seed_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sim/seed.json"
    ))
    .expect("fixture");
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
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf8").to_string();
    let c = client();
    let (id, created) = {
        let mut sim = Sim::start(&["--state", &state_arg]);
        let v = create(&sim, &c, "42", "durable", "durable").await;
        assert!(state.exists());
        sim.signal(libc::SIGTERM);
        assert_eq!(sim.wait_exit().code(), Some(0));
        (v["id"].as_u64().expect("id"), v)
    };
    let sim = Sim::start(&["--state", &state_arg]);
    let r = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let mut again = r.json();
    again["user"]["web_url"] = created["user"]["web_url"].clone();
    again["group"]["web_url"] = created["group"]["web_url"].clone();
    assert_eq!(again, created);
    // The id sequence continues; the stored token still authenticates nothing new but is kept.
    let next = create(&sim, &c, "42", "after", "after").await;
    assert_eq!(next["id"].as_u64(), Some(id + 1));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
    let stored = saved["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .expect("stored");
    assert_eq!(stored["platform_kubernetes"]["token"], "secret-token");
}

#[tokio::test(flavor = "multi_thread")]
async fn control_endpoints_answer_404_without_the_control_flag() {
    let sim = Sim::start(&[]);
    let c = client();
    for (m, p) in [
        (Method::GET, "/-/sim/stats"),
        (Method::POST, "/-/sim/faults"),
        (Method::GET, "/-/sim/clusters"),
    ] {
        let r = send(&c, m, &format!("{}{p}", sim.url), None, Some(json!({}))).await;
        assert_eq!(r.status, 404, "{p}");
    }
}

async fn fault(sim: &Sim, c: &Client, spec: Value) {
    let r = send(
        c,
        Method::POST,
        &format!("{}/-/sim/faults", sim.url),
        None,
        Some(spec),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn cluster_count(sim: &Sim, c: &Client) -> usize {
    send(
        c,
        Method::GET,
        &format!("{}/-/sim/clusters", sim.url),
        None,
        None,
    )
    .await
    .json()
    .as_array()
    .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread")]
async fn status_and_raw_faults_answer_without_applying() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(&sim, &c, json!({"method": "POST", "path": "/clusters/user", "action": {"kind": "status", "status": 503, "retry_after": 7}})).await;
    fault(&sim, &c, json!({"method": "POST", "action": {"kind": "status", "status": 429, "body": "{\"message\":\"slow down\"}"}})).await;
    fault(&sim, &c, json!({"action": {"kind": "raw", "status": 200, "content_type": "application/json", "body": "{\"id\": \"not-a-number\""}})).await;
    let url = sim.api("/groups/42/clusters/user");
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), "7");
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.text.as_str()),
        (429, "{\"message\":\"slow down\"}")
    );
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.text.as_str()),
        (200, "{\"id\": \"not-a-number\"")
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        cluster_count(&sim, &c).await,
        before,
        "faulted requests were not applied"
    );
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(r.status, 201, "queue exhausted");
}

#[tokio::test(flavor = "multi_thread")]
async fn delay_fault_waits_then_applies() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(&sim, &c, json!({"method": "GET", "path": "/groups/42/clusters", "action": {"kind": "delay", "ms": 400}})).await;
    let t = std::time::Instant::now();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(400));
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_fault_closes_the_connection_without_applying() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(
        &sim,
        &c,
        json!({"method": "POST", "action": {"kind": "reset"}}),
    )
    .await;
    let err = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("r", "r"))
        .send()
        .await;
    assert!(err.is_err(), "no response expected");
    assert_eq!(cluster_count(&sim, &c).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_after_apply_fault_applies_then_closes() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(
        &sim,
        &c,
        json!({"method": "POST", "path": "clusters/user", "action": {"kind": "drop_after_apply"}}),
    )
    .await;
    let err = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("d", "d"))
        .send()
        .await;
    assert!(err.is_err(), "no response expected");
    assert_eq!(
        cluster_count(&sim, &c).await,
        before + 1,
        "the create was applied"
    );
    let stats = send(
        &c,
        Method::GET,
        &format!("{}/-/sim/stats", sim.url),
        None,
        None,
    )
    .await
    .json();
    let last = stats["log"]
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .expect("log");
    assert_eq!(
        (last["status"].clone(), last["fault"].clone()),
        (json!(201), json!("drop_after_apply"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_match_method_and_path_count_down_and_can_be_cleared() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(&sim, &c, json!({"method": "GET", "path": "/groups/43/", "count": 2, "action": {"kind": "status", "status": 500}})).await;
    fault(
        &sim,
        &c,
        json!({"method": "GET", "count": 1, "action": {"kind": "status", "status": 502}}),
    )
    .await;
    let g42 = sim.api("/groups/42/clusters");
    let g43 = sim.api("/groups/43/clusters");
    let statuses = [
        send(&c, Method::GET, &g42, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
        send(&c, Method::GET, &g43, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
        send(&c, Method::GET, &g43, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
        send(&c, Method::GET, &g43, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
    ];
    assert_eq!(statuses, [502, 500, 500, 200]);
    let r = send(&c, Method::GET, &g43, Some(MAINTAINER), None).await;
    assert_eq!(r.status, 200);
    fault(
        &sim,
        &c,
        json!({"count": 5, "action": {"kind": "status", "status": 500}}),
    )
    .await;
    let r = send(
        &c,
        Method::DELETE,
        &format!("{}/-/sim/faults", sim.url),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        send(&c, Method::GET, &g42, Some(MAINTAINER), None)
            .await
            .status,
        200
    );
    let r = send(
        &c,
        Method::POST,
        &format!("{}/-/sim/faults", sim.url),
        None,
        Some(json!({"action": {"kind": "explode"}})),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_api_requests_and_connections_and_redact_tokens() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let stats_url = format!("{}/-/sim/stats", sim.url);
    send(&c, Method::POST, &format!("{stats_url}/reset"), None, None).await;
    create(&sim, &c, "42", "s", "s").await;
    form(&c, Method::POST, &sim.api("/groups/42/clusters/user"), MAINTAINER, "name=t&platform_kubernetes_attributes[api_url]=https://a.example.com&platform_kubernetes_attributes[token]=form-secret").await;
    send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters?private_token={MAINTAINER}")),
        None,
        None,
    )
    .await;
    send(&c, Method::GET, &sim.api("/groups/42/clusters"), None, None).await;
    let s = send(&c, Method::GET, &stats_url, None, None).await.json();
    assert_eq!(s["requests"], 4, "{s}");
    assert!(s["connections"].as_u64().is_some());
    assert_eq!(s["by_method"], json!({"GET": 2, "POST": 2}));
    assert_eq!(s["by_status"], json!({"200": 1, "201": 2, "401": 1}));
    let log = s["log"].as_array().expect("log");
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/api/v4/groups/42/clusters/user");
    assert_eq!(log[0]["status"], 201);
    assert_eq!(
        log[0]["body"]["platform_kubernetes_attributes"],
        json!({"api_url": "https://kubernetes.example.com", "token": "[REDACTED]"})
    );
    assert_eq!(
        log[1]["body"]["platform_kubernetes_attributes"]["token"],
        "[REDACTED]"
    );
    assert_eq!(log[2]["query"], "private_token=[REDACTED]");
    assert!(
        !s.to_string().contains("secret-token")
            && !s.to_string().contains("form-secret")
            && !s.to_string().contains(MAINTAINER)
    );
    let r = send(&c, Method::POST, &format!("{stats_url}/reset"), None, None).await;
    assert_eq!(r.status, 204);
    let s = send(&c, Method::GET, &stats_url, None, None).await.json();
    assert_eq!(
        (s["requests"].clone(), s["log"].clone()),
        (json!(0), json!([]))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_edits_and_deletes_clusters_behind_the_api() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let v = create(&sim, &c, "42", "drift", "drift").await;
    let id = v["id"].as_u64().expect("id");
    let ctl = format!("{}/-/sim/clusters/{id}", sim.url);
    let r = send(&c, Method::PATCH, &ctl, None, Some(json!({"name": "drifted", "enabled": false, "api_url": "https://drifted.example.com", "namespace": "Not Valid", "environment_scope": "x", "domain": null}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["group_id"], 42);
    let g = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await
    .json();
    assert_eq!(g["name"], "drifted");
    assert_eq!(g["enabled"], false);
    assert_eq!(g["environment_scope"], "x");
    assert_eq!(
        g["platform_kubernetes"]["api_url"],
        "https://drifted.example.com"
    );
    assert_eq!(g["platform_kubernetes"]["namespace"], "Not Valid");
    let r = send(
        &c,
        Method::PATCH,
        &ctl,
        None,
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(r.status, 400);
    let all = send(
        &c,
        Method::GET,
        &format!("{}/-/sim/clusters", sim.url),
        None,
        None,
    )
    .await
    .json();
    assert!(
        all.as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == 1 && x["group_id"] == 50))
    );
    let r = send(&c, Method::DELETE, &ctl, None, None).await;
    assert_eq!(r.status, 204);
    let r = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = send(&c, Method::DELETE, &ctl, None, None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_answers_429_like_rack_attack() {
    let sim = Sim::start(&["--rate-limit", "5"]);
    let c = client();
    let mut throttled = None;
    for _ in 0..20 {
        let r = send(
            &c,
            Method::GET,
            &sim.api("/groups/42/clusters"),
            Some(MAINTAINER),
            None,
        )
        .await;
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("throttled within 20 requests");
    assert_eq!(r.text, "Retry later\n");
    assert_eq!(r.header("content-type"), "text/plain");
    assert_eq!(r.header("ratelimit-name"), "throttle_authenticated_api");
    assert_eq!(r.header("ratelimit-limit"), "300");
    assert_eq!(r.header("ratelimit-remaining"), "0");
    assert!(r.header("retry-after").parse::<u64>().is_ok_and(|s| s >= 1));
    assert!(r.header("ratelimit-reset").parse::<i64>().is_ok());
    assert!(r.header("ratelimit-resettime").ends_with(" GMT"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "budget refilled");
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_rate_is_deterministic_with_a_seed() {
    let c = client();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sim = Sim::start(&["--fault-rate", "0.3", "--fault-seed", "7", "--control"]);
        let mut seq = Vec::new();
        for _ in 0..60 {
            let r = send(
                &c,
                Method::GET,
                &sim.api("/groups/42/clusters"),
                Some(MAINTAINER),
                None,
            )
            .await;
            if r.status != 200 {
                assert!(r.text.contains("nginx"), "{}", r.text);
            }
            seq.push(r.status.as_u16());
        }
        runs.push(seq);
    }
    assert_eq!(runs[0], runs[1]);
    let faults = runs[0].iter().filter(|s| **s != 200).count();
    assert!((5..=35).contains(&faults), "{faults} faults of 60");
    assert!(runs[0].iter().all(|s| [200, 502, 503].contains(s)));
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

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_bad_bodies_and_content_types_answer_like_grape() {
    let sim = Sim::start(&[]);
    let c = client();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/1/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"error": "404 Not Found"}))
    );
    let r = send(
        &c,
        Method::PATCH,
        &sim.api("/groups/42/clusters/1"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .header("Content-Type", "text/plain")
        .body("name=x")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"error": "The provided content-type 'text/plain' is not supported."})
    );
    let r = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.expect("json");
    assert!(
        e["error"]
            .as_str()
            .is_some_and(|s| s.contains("message body does not match declared format")),
        "{e}"
    );
}

/// What a client with a wrong `base_url` meets: the v3 API's 410, and for paths outside
/// `/api/v4/` the Rails router, whose `route_not_found` redirects a client without a
/// session to the sign-in page (never the feature-flag 404 of a cluster endpoint).
#[tokio::test(flavor = "multi_thread")]
async fn paths_outside_the_v4_api_answer_like_grape_and_rails() {
    let sim = Sim::start(&[]);
    let c = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = send(
        &c,
        Method::GET,
        &format!("{}/api/v3/user", sim.url),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            410,
            json!({"error": "API V3 is no longer supported. Use API V4 instead."})
        )
    );
    for path in ["/gitlab/api/v4/user", "/api/v5/user", "/user"] {
        let r = send(
            &c,
            Method::GET,
            &format!("{}{path}", sim.url),
            Some(MAINTAINER),
            None,
        )
        .await;
        assert_eq!(r.status.as_u16(), 302, "{path}");
        assert_eq!(
            r.headers["location"].to_str().unwrap(),
            format!("{}/users/sign_in", sim.url),
            "{path}"
        );
    }
    let r = send(
        &c,
        Method::GET,
        &sim.api("/api/v4/user"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"error": "404 Not Found"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_serves_https_and_can_require_client_certificates() {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let dir = tempfile::tempdir().expect("tmp");
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "gitlab-sim test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("key");
    let server_cert =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("params")
            .signed_by(&server_key, &issuer)
            .expect("server cert");
    let client_key = KeyPair::generate().expect("key");
    let mut client_params = CertificateParams::new(vec!["client".to_string()]).expect("params");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params
        .signed_by(&client_key, &issuer)
        .expect("client cert");
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf8").to_string()
    };
    let ca_path = write("ca.pem", ca_cert.pem());
    let cert_path = write("server.pem", server_cert.pem());
    let key_path = write("server.key", server_key.serialize_pem());
    let ca = reqwest::Certificate::from_pem(ca_cert.pem().as_bytes()).expect("ca");

    let sim = Sim::start(&["--tls-cert", &cert_path, "--tls-key", &key_path]);
    assert!(sim.url.starts_with("https://127.0.0.1:"), "{}", sim.url);
    terraform_provider_gitlab::tls_provider::install_default();
    let https = Client::builder()
        .no_proxy()
        .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
        .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
        .tls_certs_only([ca.clone()])
        .build()
        .expect("client");
    let r = https
        .get(sim.api("/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .send()
        .await
        .expect("https");
    assert_eq!(r.status(), 200);
    drop(sim);

    let sim = Sim::start(&[
        "--tls-cert",
        &cert_path,
        "--tls-key",
        &key_path,
        "--client-ca",
        &ca_path,
    ]);
    let r = https
        .get(sim.api("/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .send()
        .await;
    assert!(r.is_err(), "a client without certificate is refused");
    if let Err(e) = &r {
        // Refused by the handshake, not given up on by the client's timeout.
        assert!(!e.is_timeout(), "{e:?}");
    }
    let identity = reqwest::Identity::from_pem(
        format!("{}{}", client_cert.pem(), client_key.serialize_pem()).as_bytes(),
    )
    .expect("identity");
    let mtls = Client::builder()
        .no_proxy()
        .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
        .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
        .tls_certs_only([ca])
        .identity(identity)
        .build()
        .expect("client");
    let r = mtls
        .get(sim.api("/groups/42/clusters"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .send()
        .await
        .expect("mtls");
    assert_eq!(r.status(), 200);
    let link = r
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(link.starts_with("<https://127.0.0.1:"), "{link}");
}
