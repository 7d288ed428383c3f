//! TLS material for talking to the plugin as Terraform does: a client certificate shaped
//! like the one go-plugin makes for Terraform (`mtls.go`), what a test client presents with
//! it, and rustls client configurations that trust exactly the server certificate the
//! plugin announced, checked as Go's crypto/tls checks it.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// A client identity: certificate (DER and PEM) and its PKCS#8 private key.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    pub pem: String,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// A certificate shaped like go-plugin's `generateCert` (mtls.go), which Terraform passes
    /// to the plugin in `PLUGIN_CLIENT_CERT`: ECDSA P-521 key, ecdsa-with-SHA512 signature,
    /// self-signed CA, subject and issuer `O=HashiCorp, CN=localhost`, SAN `localhost`, key
    /// usage digitalSignature|keyEncipherment|keyAgreement|certSign, extended key usage
    /// clientAuth+serverAuth, a random 128-bit serial, valid from 30 s ago for 262980 h.
    pub fn go_plugin() -> Identity {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType,
            ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
            SerialNumber,
        };
        let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("generate P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        // Go's pkix.Name writes O before CN.
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "HashiCorp");
        dn.push(DnType::CommonName, "localhost");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let mut serial = [0u8; 16];
        serial.iter_mut().for_each(|b| *b = fastrand::u8(..));
        serial[0] &= 0x7f; // a positive integer below 2^128, as rand.Int gives
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::hours(262_980);
        let cert = params.self_signed(&key).expect("self-sign");
        Identity {
            cert: cert.der().clone(),
            pem: cert.pem(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// What a test client presents to the plugin.
pub enum ClientAuth<'a> {
    /// No certificate at all.
    Nothing,
    /// This certificate, proven with its own key.
    Cert(&'a Identity),
    /// `cert`'s certificate, signed for with `key_of`'s key: someone who copied Terraform's
    /// (public) certificate from the plugin's environment but lacks its private key.
    Stolen {
        cert: &'a Identity,
        key_of: &'a Identity,
    },
}

/// Trusts exactly one server certificate, and checks it as Go's crypto/tls does for
/// go-plugin's client (that certificate as the only root, server name `localhost`):
/// the name is in its SAN, it is within its validity period and allows serverAuth.
#[derive(Debug)]
struct PinnedServer {
    cert: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let bad = |e| Err(rustls::Error::InvalidCertificate(e));
        if end_entity.as_ref() != self.cert.as_slice() {
            return bad(CertificateError::UnknownIssuer);
        }
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(end_entity.as_ref()) else {
            return bad(CertificateError::BadEncoding);
        };
        if !cert.validity().is_valid() {
            return bad(CertificateError::Expired);
        }
        let ServerName::DnsName(name) = server_name else {
            return bad(CertificateError::NotValidForName);
        };
        let names_ok = cert.subject_alternative_name().ok().flatten().is_some_and(|san| {
            san.value.general_names.iter().any(
                |n| matches!(n, x509_parser::extensions::GeneralName::DNSName(d) if *d == name.as_ref()),
            )
        });
        if !names_ok {
            return bad(CertificateError::NotValidForName);
        }
        let server_auth = cert
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|e| e.value.server_auth);
        if !server_auth {
            return bad(CertificateError::InvalidPurpose);
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A rustls client configuration (aws-lc-rs, to sign with P-521) as go-plugin's client uses:
/// ALPN h2, the server certificate from the handshake as the only trusted one, and `auth`.
pub fn tls_client(server_cert: &[u8], auth: ClientAuth<'_>) -> Arc<rustls::ClientConfig> {
    tls_client_with_versions(server_cert, auth, rustls::DEFAULT_VERSIONS)
}

/// As [`tls_client`], limited to `versions` (Terraform 0.12 was built with Go 1.12, whose
/// crypto/tls spoke TLS 1.2 unless told otherwise).
pub fn tls_client_with_versions(
    server_cert: &[u8],
    auth: ClientAuth<'_>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServer {
        cert: server_cert.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match auth {
        ClientAuth::Nothing => builder.with_no_client_auth(),
        ClientAuth::Cert(id) => builder
            .with_client_auth_cert(
                vec![id.cert.clone()],
                PrivateKeyDer::Pkcs8(id.key.clone_key()),
            )
            .expect("client certificate"),
        ClientAuth::Stolen { cert, key_of } => {
            let key = provider
                .key_provider
                .load_private_key(PrivateKeyDer::Pkcs8(key_of.key.clone_key()))
                .expect("load key");
            // CertifiedKey::new does not check that the key matches, which is the point.
            let ck = rustls::sign::CertifiedKey::new(vec![cert.cert.clone()], key);
            builder.with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(ck)))
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}
