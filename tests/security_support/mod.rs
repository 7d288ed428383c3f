//! Shared by the security tests: a throw-away PKI made with rcgen (a CA, a server
//! certificate for `localhost` and `127.0.0.1`, a client certificate signed by a second
//! CA), and the GitLab simulator served over HTTPS from it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::Value as J;

use crate::support::{MAINTAINER_TOKEN, block_on, sim_launcher};

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

/// Certificates made by the `openssl` command line, as users make them for a quick
/// self-managed GitLab (`openssl req -x509 ...`); each shape in its own files under `dir`.
pub struct Openssl {
    pub dir: tempfile::TempDir,
}

impl Openssl {
    pub fn new() -> Openssl {
        Openssl {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("openssl is needed for these tests and could not run: {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `openssl req -x509` with OpenSSL's default extensions (`CA:TRUE`) and the given
    /// subjectAltName: `<name>.pem`, `<name>-key.pem`.
    pub fn self_signed_ca_true(&self, name: &str, san: &str) {
        self.run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            &format!("subjectAltName={san}"),
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// A self-signed server certificate with `CA:FALSE` (an explicit extension section).
    pub fn self_signed_ca_false(&self, name: &str, san: &str) {
        let cnf = format!("{name}.cnf");
        std::fs::write(
            self.dir.path().join(&cnf),
            format!(
                "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n[dn]\nCN = localhost\n\
                 [ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = digitalSignature,keyEncipherment\n\
                 extendedKeyUsage = serverAuth\nsubjectAltName = {san}\n"
            ),
        )
        .expect("write openssl config");
        self.run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-config",
            &cnf,
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// A CA (`<ca>.pem`) and a leaf it signed for `san` (`<name>.pem`, `<name>-key.pem`).
    pub fn ca_and_leaf(&self, ca: &str, name: &str, san: &str) {
        self.run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=test private CA",
            "-keyout",
            &format!("{ca}-key.pem"),
            "-out",
            &format!("{ca}.pem"),
        ]);
        self.run(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
        ]);
        let ext = format!("{name}.ext");
        std::fs::write(
            self.dir.path().join(&ext),
            format!("basicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\nsubjectAltName = {san}\n"),
        )
        .expect("write extfile");
        self.run(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}-key.pem"),
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            &ext,
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// A self-signed `CA:TRUE` certificate that expired (valid in January 2020 only), made
    /// with `openssl ca -selfsign`, which takes explicit dates.
    pub fn expired_self_signed(&self, name: &str, san: &str) {
        let d = self.dir.path();
        std::fs::write(d.join("index.txt"), "").expect("index");
        std::fs::write(d.join("serial"), "01\n").expect("serial");
        let cnf = format!("{name}-ca.cnf");
        std::fs::write(
            d.join(&cnf),
            format!(
                "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
                 default_md = sha256\npolicy = p\nx509_extensions = ext\nunique_subject = no\n[p]\ncommonName = supplied\n\
                 [ext]\nbasicConstraints = critical,CA:TRUE\nsubjectAltName = {san}\n"
            ),
        )
        .expect("write ca config");
        self.run(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
        ]);
        self.run(&[
            "ca",
            "-batch",
            "-selfsign",
            "-config",
            &cnf,
            "-keyfile",
            &format!("{name}-key.pem"),
            "-in",
            &format!("{name}.csr"),
            "-out",
            &format!("{name}.pem"),
            "-notext",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200201000000Z",
        ]);
    }
}
