//! The GitLab simulator for end-to-end tests: `gitlab-sim` started by the shared launcher
//! with the test seed and its control API, and that API (clusters, request log, stats,
//! faults) plus real API requests for setting up fixtures.

use std::path::Path;

use serde_json::Value as J;

use super::{block_on, sim_launcher};

/// A running `gitlab-sim` with test controls (the shared launcher's, plus a seed); killed on
/// drop.
pub struct Sim {
    process: sim_launcher::Sim,
    pub url: String,
}

impl Sim {
    pub fn start() -> Sim {
        Sim::start_with(&[])
    }

    /// Starts the simulator with the test seed and extra arguments.
    pub fn start_with(extra: &[&str]) -> Sim {
        Sim::start_seed(&sim_launcher::seed_file(), extra)
    }

    pub fn start_seed(seed: &Path, extra: &[&str]) -> Sim {
        let seed = seed.to_str().expect("seed path is UTF-8");
        let mut args = vec!["--control", "--seed", seed];
        args.extend_from_slice(extra);
        let process = sim_launcher::Sim::start(&args);
        let url = process.url.clone();
        Sim { process, url }
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v4/", self.url)
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<J>) -> J {
        let url = format!("{}{}", self.url, path);
        block_on(async move {
            terraform_provider_gitlab::tls_provider::install_default();
            let client = reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
                .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
                .build()
                .expect("client");
            let mut req = client.request(method, &url);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            assert!(status.is_success(), "{url}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(J::Null)
        })
    }

    /// Every cluster in the simulator (all groups), with `group_id`.
    pub fn clusters(&self) -> Vec<J> {
        match self.call(reqwest::Method::GET, "/-/sim/clusters", None) {
            J::Array(a) => a,
            other => panic!("unexpected /-/sim/clusters answer {other}"),
        }
    }

    pub fn stats(&self) -> J {
        self.call(reqwest::Method::GET, "/-/sim/stats", None)
    }

    pub fn reset_stats(&self) {
        self.call(reqwest::Method::POST, "/-/sim/stats/reset", None);
    }

    /// The API request log entries (method, path, query, status, body).
    pub fn log(&self) -> Vec<J> {
        self.stats()["log"].as_array().cloned().unwrap_or_default()
    }

    pub fn fault(&self, spec: J) {
        self.call(reqwest::Method::POST, "/-/sim/faults", Some(spec));
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.call(reqwest::Method::DELETE, "/-/sim/faults", None);
    }

    pub fn patch_cluster(&self, id: i64, fields: J) {
        self.call(
            reqwest::Method::PATCH,
            &format!("/-/sim/clusters/{id}"),
            Some(fields),
        );
    }

    pub fn delete_cluster(&self, id: i64) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/-/sim/clusters/{id}"),
            None,
        );
    }

    /// Sends a real API request as a client would (for setting up fixtures).
    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<J>,
    ) -> (u16, J) {
        let url = format!("{}/api/v4{}", self.url, path);
        let token = token.to_string();
        block_on(async move {
            terraform_provider_gitlab::tls_provider::install_default();
            let client = reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
                .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
                .build()
                .expect("client");
            let mut req = client.request(method, &url).header("PRIVATE-TOKEN", token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(J::Null))
        })
    }
}
