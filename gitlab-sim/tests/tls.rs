//! HTTPS: `--tls-cert`/`--tls-key`, and `--client-ca` requiring a client certificate.

mod common;

use common::*;

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
    install_crypto_provider();
    let https = Client::builder()
        .no_proxy()
        .connect_timeout(gitlab_sim::HTTP_CONNECT_TIMEOUT)
        .timeout(gitlab_sim::HTTP_REQUEST_TIMEOUT)
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
        .connect_timeout(gitlab_sim::HTTP_CONNECT_TIMEOUT)
        .timeout(gitlab_sim::HTTP_REQUEST_TIMEOUT)
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
