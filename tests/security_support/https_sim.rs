//! `gitlab-sim` served over HTTPS from given certificates, optionally requiring a client
//! certificate, with the test's own control requests (clusters, request log, connection
//! count, faults, creating a cluster).

use std::path::Path;

use serde_json::Value as J;

use super::pki::Pki;
use crate::support::{MAINTAINER_TOKEN, block_on, sim_launcher};

/// `gitlab-sim` over HTTPS (server certificate from a [`Pki`]), optionally requiring a
/// client certificate signed by the client CA; killed on drop.
pub struct HttpsSim {
    process: sim_launcher::Sim,
    /// `https://127.0.0.1:<port>` as the banner says.
    pub url: String,
    pub port: u16,
    /// Client certificate + key PEM for the test's own control requests, when required.
    identity: Option<String>,
}

impl HttpsSim {
    pub fn start(pki: &Pki, require_client_cert: bool) -> HttpsSim {
        HttpsSim::start_seed(pki, require_client_cert, &sim_launcher::seed_file())
    }

    pub fn start_seed(pki: &Pki, require_client_cert: bool, seed: &Path) -> HttpsSim {
        HttpsSim::start_files(
            &pki.path("server.pem"),
            &pki.path("server-key.pem"),
            require_client_cert.then(|| {
                (
                    pki.path("client-ca.pem"),
                    format!("{}\n{}", pki.client_cert_pem, pki.client_key_pem),
                )
            }),
            seed,
        )
    }

    /// Serves the certificate chain `cert` with `key` (PEM files made elsewhere, e.g. by
    /// openssl), with no client certificate required.
    pub fn start_with_cert(cert: &str, key: &str) -> HttpsSim {
        HttpsSim::start_files(cert, key, None, &sim_launcher::seed_file())
    }

    /// `client_auth`: the client CA file to require, and the test's own identity PEM.
    fn start_files(
        cert: &str,
        key: &str,
        client_auth: Option<(String, String)>,
        seed: &Path,
    ) -> HttpsSim {
        let seed = seed.to_str().expect("seed path is UTF-8");
        let mut args = vec![
            "--control",
            "--seed",
            seed,
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ];
        if let Some((ca, _)) = &client_auth {
            args.extend(["--client-ca", ca.as_str()]);
        }
        let process = sim_launcher::Sim::start(&args);
        let url = process.url.clone();
        assert!(
            url.starts_with("https://"),
            "expected an https banner, got {url:?}"
        );
        let port = process.port();
        HttpsSim {
            process,
            url,
            port,
            identity: client_auth.map(|(_, identity)| identity),
        }
    }

    /// The provider's `base_url`, by the host name the server certificate covers.
    pub fn base_url(&self) -> String {
        format!("https://localhost:{}/api/v4/", self.port)
    }

    fn client(&self) -> reqwest::Client {
        // The test's own control channel: the simulator is the system under test's peer,
        // not the subject here, so its certificate is not checked.
        terraform_provider_gitlab::tls_provider::install_default();
        let mut b = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(sim_launcher::HTTP_CONNECT_TIMEOUT)
            .timeout(sim_launcher::HTTP_REQUEST_TIMEOUT)
            .tls_danger_accept_invalid_certs(true);
        if let Some(pem) = &self.identity {
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
        }
        b.build().expect("client")
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<J>) -> J {
        let url = format!("{}{}", self.url, path);
        let client = self.client();
        block_on(async move {
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

    /// Every cluster in the simulator.
    pub fn clusters(&self) -> Vec<J> {
        match self.call(reqwest::Method::GET, "/-/sim/clusters", None) {
            J::Array(a) => a,
            other => panic!("unexpected /-/sim/clusters answer {other}"),
        }
    }

    /// API requests the simulator served (method, path, status, ...).
    pub fn log(&self) -> Vec<J> {
        self.call(reqwest::Method::GET, "/-/sim/stats", None)["log"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// TCP connections the simulator accepted so far; each read of it is one more.
    pub fn connections(&self) -> u64 {
        self.call(reqwest::Method::GET, "/-/sim/stats", None)["connections"]
            .as_u64()
            .expect("connections")
    }

    pub fn fault(&self, spec: J) {
        self.call(reqwest::Method::POST, "/-/sim/faults", Some(spec));
    }

    /// Creates a cluster through the API as the maintainer; returns its id.
    pub fn create_cluster(&self, group: &str, body: J) -> i64 {
        let url = format!("{}/api/v4/groups/{group}/clusters/user", self.url);
        let client = self.client();
        block_on(async move {
            let resp = client
                .post(&url)
                .header("PRIVATE-TOKEN", MAINTAINER_TOKEN)
                .json(&body)
                .send()
                .await
                .expect("create cluster");
            let status = resp.status();
            let j: J = resp.json().await.expect("json");
            assert!(status.is_success(), "{status}: {j}");
            j["id"].as_i64().expect("id")
        })
    }
}
