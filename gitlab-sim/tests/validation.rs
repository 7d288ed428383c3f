//! Parameters and model validation as GitLab reports them: form-encoded bodies, Grape's
//! missing/invalid parameter errors, the model's error keys and texts, scope uniqueness and the
//! management project.

mod common;

use common::*;

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
