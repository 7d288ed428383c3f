//! The simulator as the explorer drives it, asynchronously (the explorer runs inside the
//! test's tokio runtime, where `support::Sim`'s blocking calls cannot): checkpoint and
//! restore of the whole database, the request log, every cluster, queued faults, outside
//! edits (`/-/sim/clusters/:id`), and real API requests for setting up fixtures.

use std::time::Duration;

use serde_json::{Value as J, json};

/// One recorded API request: what the fault grid indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
}

impl Request {
    /// A list request (`GET …/clusters`), the only kind `endless_list` and `huge_page` act on.
    pub fn is_list(&self) -> bool {
        self.method == "GET" && self.path.trim_end_matches('/').ends_with("/clusters")
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.strip_prefix("/api/v4").unwrap_or(&self.path);
        write!(f, "{} {}", self.method, path)
    }
}

/// The control API of one running `gitlab-sim` (started with `--control`).
#[derive(Clone)]
pub struct SimCtl {
    pub url: String,
    http: reqwest::Client,
}

impl SimCtl {
    pub fn new(url: &str) -> SimCtl {
        terraform_provider_gitlab::tls_provider::install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("control client");
        SimCtl {
            url: url.trim_end_matches('/').to_string(),
            http,
        }
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v4/", self.url)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<J>) -> J {
        let url = format!("{}{path}", self.url);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "{url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(J::Null)
    }

    /// Saves the whole database (id counters included) as the point `restore` returns to.
    pub async fn checkpoint(&self) {
        self.call(reqwest::Method::POST, "/-/sim/checkpoint", None)
            .await;
    }

    /// Back to the checkpoint; also clears queued faults and the request log.
    pub async fn restore(&self) {
        self.call(reqwest::Method::POST, "/-/sim/restore", None)
            .await;
    }

    pub async fn clear_faults(&self) {
        self.call(reqwest::Method::DELETE, "/-/sim/faults", None)
            .await;
    }

    pub async fn fault(&self, spec: J) {
        self.call(reqwest::Method::POST, "/-/sim/faults", Some(spec))
            .await;
    }

    /// The API requests logged since the last restore (or stats reset), in order.
    pub async fn requests(&self) -> Vec<Request> {
        let stats = self.call(reqwest::Method::GET, "/-/sim/stats", None).await;
        stats["log"]
            .as_array()
            .map(|log| {
                log.iter()
                    .map(|e| Request {
                        method: e["method"].as_str().unwrap_or("?").to_string(),
                        path: e["path"].as_str().unwrap_or("?").to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The raw request log (method, path, query, status, body, fault), for tracing.
    pub async fn raw_log(&self) -> J {
        self.call(reqwest::Method::GET, "/-/sim/stats", None).await["log"].take()
    }

    /// Every cluster of every group (the ClusterGroup entity plus `group_id`), by id.
    pub async fn clusters(&self) -> std::collections::BTreeMap<i64, J> {
        match self
            .call(reqwest::Method::GET, "/-/sim/clusters", None)
            .await
        {
            J::Array(a) => a
                .into_iter()
                .filter_map(|c| Some((c["id"].as_i64()?, c)))
                .collect(),
            other => panic!("unexpected /-/sim/clusters answer {other}"),
        }
    }

    /// Edits a cluster behind the API's back (drift).
    pub async fn patch_cluster(&self, id: i64, fields: J) {
        self.call(
            reqwest::Method::PATCH,
            &format!("/-/sim/clusters/{id}"),
            Some(fields),
        )
        .await;
    }

    /// Creates a cluster through the API as the maintainer (a fixture no workspace made);
    /// its id.
    pub async fn create_cluster(&self, group: i64, name: &str, scope: &str) -> i64 {
        let url = format!("{}/api/v4/groups/{group}/clusters/user", self.url);
        let body = json!({
            "name": name,
            "environment_scope": scope,
            "platform_kubernetes_attributes": {
                "api_url": "https://k8s.example.com:6443",
                "token": "fixture-token",
            },
        });
        let resp = self
            .http
            .post(&url)
            .header("PRIVATE-TOKEN", crate::support::MAINTAINER_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = resp.status();
        let j: J = resp.json().await.unwrap_or(J::Null);
        assert!(status.is_success(), "{url}: {status} {j}");
        j["id"].as_i64().expect("created cluster id")
    }
}
