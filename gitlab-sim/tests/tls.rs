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
    // Refused without a client certificate. Over TLS 1.2 the server refuses inside the
    // handshake, so the request never reaches the HTTP client's connection: a connect error.
    // (Not over TLS 1.3 through reqwest: there the client finishes its handshake before the
    // server checks the certificate, and the refusal arrives just as hyper hands the request
    // to the new connection. tokio's mpsc can then strand the request in the connection's
    // channel, with the caller holding the last sender: a request that never answers, with
    // no socket left. That race is what once hung this test for 17 minutes; see
    // docs/testing.md, "The TLS stall".)
    let tls12 = Client::builder()
        .no_proxy()
        .connect_timeout(gitlab_sim::HTTP_CONNECT_TIMEOUT)
        .timeout(gitlab_sim::HTTP_REQUEST_TIMEOUT)
        .tls_certs_only([ca.clone()])
        .tls_version_max(reqwest::tls::Version::TLS_1_2)
        .build()
        .expect("client");
    let r = tls12
        .get(sim.api("/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .send()
        .await;
    assert!(r.is_err(), "a client without certificate is refused");
    if let Err(e) = &r {
        // Refused by the handshake, not given up on by the client's timeout.
        assert!(!e.is_timeout(), "{e:?}");
        assert!(e.is_connect(), "refused in the TLS 1.2 handshake: {e:?}");
    }
    // Over TLS 1.3 the refusal is the certificate_required alert after the client's
    // Finished: read on a bare TLS connection, with no HTTP client in between.
    let alert = tls13_refusal(&sim, ca_cert.der()).await;
    assert_eq!(
        alert,
        rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
        "a TLS 1.3 client without certificate gets certificate_required"
    );
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

/// Connects to `sim` over TLS 1.3 without a client certificate and reads: the error the
/// server's answer is (its alert), within a deadline.
async fn tls13_refusal(sim: &Sim, ca_der: &[u8]) -> rustls::Error {
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ca_der.to_vec()))
        .expect("CA");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .expect("TLS 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let bare = async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", sim.port()))
            .await
            .expect("connect");
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        // The client's side of a TLS 1.3 handshake completes before the server has seen
        // the (empty) certificate.
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("client side of the TLS 1.3 handshake");
        let mut buf = Vec::new();
        tls.read_to_end(&mut buf).await
    };
    let read = tokio::time::timeout(gitlab_sim::HTTP_REQUEST_TIMEOUT, bare)
        .await
        .expect("the server answers a TLS 1.3 client without certificate (no hang)");
    let err = read.expect_err("the server refuses a TLS 1.3 client without certificate");
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(e) => e.clone(),
        None => panic!("not a TLS alert: {err:?}"),
    }
}
