//! The simulator as the explorer drives it, asynchronously (the explorer runs inside the
//! test's tokio runtime, where `support::Sim`'s blocking calls cannot): checkpoint and
//! restore of the whole database, the request log, every cluster, queued faults, outside
//! edits (`/-/sim/clusters/:id`), and real API requests for setting up fixtures.

use std::time::Duration;

use serde_json::{Value as J, json};

use super::owners::Owner;

/// One recorded API request: what the fault grid indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
}

impl Request {
    /// A list request (`GET …/clusters` of a group, a project or the instance), the only kind
    /// `endless_list` and `huge_page` act on.
    pub fn is_list(&self) -> bool {
        self.method == "GET" && self.path.trim_end_matches('/').ends_with("/clusters")
    }

    /// A request whose answer presents one cluster (get, create, update of any family): what
    /// the simulator's `foreign` can replace. Its answers to anything else (a list, a DELETE's
    /// 204, the owner lookups `GET /groups/:id` and `GET /projects/:id`, `GET /user`) are
    /// sent as they are.
    pub fn presents_cluster(&self) -> bool {
        self.path.contains("/clusters") && !self.is_list() && self.method != "DELETE"
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
    /// The `count` of the fault last queued, until `fault_taken` looks at it.
    queued: std::sync::Arc<std::sync::Mutex<Option<u64>>>,
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
            queued: Default::default(),
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

    /// Whether the one queued fault acted at least once (it left the queue, or has fewer
    /// uses left than it was queued with).
    pub async fn fault_taken(&self) -> bool {
        let queue = self.call(reqwest::Method::GET, "/-/sim/faults", None).await;
        let queued = self.queued.lock().expect("queued").take();
        match (queue.as_array(), queued) {
            (Some(q), Some(count)) => q
                .iter()
                .all(|f| f["remaining"].as_u64().is_some_and(|r| r < count)),
            _ => true,
        }
    }

    pub async fn fault(&self, spec: J) {
        *self.queued.lock().expect("queued") = spec["count"].as_u64();
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

    /// Every cluster of every owner, by id: a group's (`Entities::ClusterGroup` plus
    /// `group_id`), a project's (plus `project_id`), the instance's (plus `"instance": true`).
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

    /// Creates a cluster of `owner` through the API with the owner's token (a fixture or a
    /// decoy no workspace made); its id.
    pub async fn create_cluster(&self, owner: Owner, name: &str, scope: &str) -> i64 {
        let url = format!(
            "{}/api/v4/{}/{}",
            self.url,
            owner.clusters_route(),
            owner.create_segment()
        );
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
            .header("PRIVATE-TOKEN", owner.token())
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
