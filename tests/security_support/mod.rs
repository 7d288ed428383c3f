//! Shared by the security tests: a throw-away PKI made with rcgen (a CA, a server
//! certificate for `localhost` and `127.0.0.1`, a client certificate signed by a second
//! CA), and the GitLab simulator served over HTTPS from it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::Value as J;

use crate::support::{MAINTAINER_TOKEN, block_on, repo_root, sim_launcher};

/// PEM files on disk, and their contents.
pub struct Pki {
    pub dir: tempfile::TempDir,
    /// The CA that signed the server certificate (what `cacert_file` must point at).
    pub ca_pem: String,
    /// The CA the simulator trusts for client certificates (`--client-ca`).
    pub client_ca_pem: String,
    /// A client certificate and key signed by `client_ca`.
    pub client_cert_pem: String,
    pub client_key_pem: String,
    /// A client certificate and key signed by nobody the simulator trusts.
    pub rogue_cert_pem: String,
    pub rogue_key_pem: String,
}

fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("ca key");
    let cert = params.self_signed(&key).expect("ca cert");
    (cert.pem(), Issuer::new(params, key))
}

fn leaf(
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'static, KeyPair>,
) -> (String, String) {
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("leaf params");
    params.distinguished_name.push(
        DnType::CommonName,
        sans.first().copied().unwrap_or("client"),
    );
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, issuer).expect("leaf cert");
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca_pem, server_issuer) = ca("security-test server CA");
        let (client_ca_pem, client_issuer) = ca("security-test client CA");
        let (server_cert, server_key) = leaf(
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &server_issuer,
        );
        let (client_cert_pem, client_key_pem) = leaf(
            &["terraform-client"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &client_issuer,
        );
        let (_, rogue_issuer) = ca("security-test rogue CA");
        let (rogue_cert_pem, rogue_key_pem) = leaf(
            &["rogue-client"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &rogue_issuer,
        );
        let pki = Pki {
            dir,
            ca_pem,
            client_ca_pem,
            client_cert_pem,
            client_key_pem,
            rogue_cert_pem,
            rogue_key_pem,
        };
        for (name, content) in [
            ("ca.pem", pki.ca_pem.as_str()),
            ("server.pem", server_cert.as_str()),
            ("server-key.pem", server_key.as_str()),
            ("client-ca.pem", pki.client_ca_pem.as_str()),
            ("client.pem", pki.client_cert_pem.as_str()),
            ("client-key.pem", pki.client_key_pem.as_str()),
            ("rogue.pem", pki.rogue_cert_pem.as_str()),
            ("rogue-key.pem", pki.rogue_key_pem.as_str()),
        ] {
            std::fs::write(pki.dir.path().join(name), content).expect("write pem");
        }
        pki
    }

    /// Path of one of the PEM files written by [`Pki::new`] (`ca.pem`, `client.pem`, ...).
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The base64 lines of the client key's PEM body: any one of them in an output means
    /// the key leaked, even in part.
    pub fn client_key_lines(&self) -> Vec<String> {
        self.client_key_pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_string)
            .collect()
    }
}

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
        HttpsSim::start_seed(
            pki,
            require_client_cert,
            &repo_root().join("tests/fixtures/sim/seed.json"),
        )
    }

    pub fn start_seed(pki: &Pki, require_client_cert: bool, seed: &Path) -> HttpsSim {
        let (cert, key, client_ca) = (
            pki.path("server.pem"),
            pki.path("server-key.pem"),
            pki.path("client-ca.pem"),
        );
        let seed = seed.to_str().expect("seed path is UTF-8");
        let mut args = vec![
            "--control",
            "--seed",
            seed,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ];
        if require_client_cert {
            args.extend(["--client-ca", client_ca.as_str()]);
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
            identity: require_client_cert
                .then(|| format!("{}\n{}", pki.client_cert_pem, pki.client_key_pem)),
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

/// The terraform block and a `gitlab` provider block with `attrs` (HCL lines).
pub fn provider_hcl(attrs: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    gitlab = {{ source = \"gitlab-rs/gitlab\" }}\n  }}\n}}\n\n\
         provider \"gitlab\" {{\n{attrs}}}\n"
    )
}

/// HCL string literal for a path.
pub fn hcl_path(p: &str) -> String {
    format!("{:?}", PathBuf::from(p).display().to_string())
}
