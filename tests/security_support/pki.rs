//! A throw-away PKI made with rcgen, written as PEM files: a CA and the server certificate
//! it signed (for `localhost` and `127.0.0.1`), a client CA and a client certificate it
//! signed, and a client certificate signed by a CA nobody trusts.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

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
