//! What the simulator's black-box tests share: the seed's tokens, an HTTP client with
//! timeouts, request helpers and fixtures. Each test binary uses part of it.
#![allow(dead_code)]

pub use gitlab_sim::Sim;
pub use reqwest::{Client, Method, StatusCode};
pub use serde_json::{Value, json};

pub const ADMIN: &str = "sim-admin-token";
pub const MAINTAINER: &str = "sim-maintainer-token";
/// The maintainer's OAuth2 access token: accepted only as `Authorization: Bearer`.
pub const MAINTAINER_OAUTH: &str = "sim-maintainer-oauth-token";
pub const DEVELOPER: &str = "sim-developer-token";
pub const REPORTER: &str = "sim-reporter-token";

/// Installs rustls' *ring* provider as the process default, once (the simulator's own
/// provider; test builds of the workspace also link aws-lc-rs, so rustls cannot pick one).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only if another provider was installed first: that one serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub fn client() -> Client {
    install_crypto_provider();
    Client::builder()
        .no_proxy()
        .connect_timeout(gitlab_sim::HTTP_CONNECT_TIMEOUT)
        .timeout(gitlab_sim::HTTP_REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {:?}", self.text))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("missing header {name}"))
    }
}

pub async fn send(
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

pub async fn form(c: &Client, method: Method, url: &str, token: &str, body: &str) -> Resp {
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

pub fn cluster_body(name: &str, scope: &str) -> Value {
    json!({
        "name": name,
        "environment_scope": scope,
        "platform_kubernetes_attributes": {"api_url": "https://kubernetes.example.com", "token": "secret-token"}
    })
}

pub async fn create(sim: &Sim, c: &Client, group: &str, name: &str, scope: &str) -> Value {
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

pub fn ca_pem() -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["kubernetes.example.com".to_string()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).expect("cert").pem()
}

pub async fn fault(sim: &Sim, c: &Client, spec: Value) {
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

pub async fn cluster_count(sim: &Sim, c: &Client) -> usize {
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

/// The second administrator of the families seed.
pub const OPS_ADMIN: &str = "sim-ops-admin-token";

/// A simulator on the families seed (`tests/fixtures/families.json`: clusters of all three
/// owners), with the test controls.
pub fn families_sim() -> Sim {
    let seed = gitlab_sim::families_seed_file();
    Sim::start(&["--control", "--seed", seed.to_str().expect("utf8")])
}

/// A simulator on the default seed changed by `edit`, with the test controls; the temporary
/// directory holding the seed lives as long as the returned guard.
pub fn sim_with_seed(edit: impl FnOnce(&mut Value)) -> (Sim, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let text = std::fs::read_to_string(gitlab_sim::seed_file()).expect("fixture");
    let mut seed: Value = serde_json::from_str(&text).expect("seed json");
    edit(&mut seed);
    let path = dir.path().join("seed.json");
    std::fs::write(&path, seed.to_string()).expect("write");
    let sim = Sim::start(&["--control", "--seed", path.to_str().expect("utf8")]);
    (sim, dir)
}

/// POSTs `cluster_body(name, scope)` to a create route (`/projects/7/clusters/user`,
/// `/admin/clusters/add`) as `token`, expecting 201; the entity.
pub async fn create_via(
    sim: &Sim,
    c: &Client,
    route: &str,
    token: &str,
    name: &str,
    scope: &str,
) -> Value {
    let r = send(
        c,
        Method::POST,
        &sim.api(route),
        Some(token),
        Some(cluster_body(name, scope)),
    )
    .await;
    assert_eq!(r.status, 201, "{route}: {}", r.text);
    r.json()
}

/// `/-/sim/clusters`, by id.
pub async fn sim_clusters(sim: &Sim, c: &Client) -> std::collections::BTreeMap<u64, Value> {
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
    .expect("array")
    .iter()
    .map(|v| (v["id"].as_u64().expect("id"), v.clone()))
    .collect()
}
