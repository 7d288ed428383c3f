//! AutoMTLS, as go-plugin does it: the provider makes a fresh self-signed server
//! certificate, announces it in the handshake line, and accepts only the client that
//! presents the exact certificate Terraform passed in `PLUGIN_CLIENT_CERT`.
//!
//! go-plugin's client certificate is ECDSA P-521 with SHA-512. rustls on plain `ring` cannot
//! verify that curve, so the Go client would silently send no certificate; this module uses
//! [`crate::tls_provider`], which can, and makes the client certificate mandatory.

use std::sync::Arc;

use base64::Engine;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DistinguishedName};

#[derive(Debug, thiserror::Error)]
/// Why AutoMTLS could not be set up.
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate: {0}")]
    /// Terraform's client certificate is unusable.
    ClientCert(String),
    #[error("could not generate the server certificate: {0}")]
    /// The server certificate could not be made.
    Generate(#[from] rcgen::Error),
    #[error("could not build the TLS configuration: {0}")]
    /// rustls refused the configuration.
    Config(#[from] rustls::Error),
}

/// The server certificate's key type. Ed25519 is the cheapest to make at every plugin start
/// (about 0.4 ms less than P-256 in a size-optimised build), and every client that speaks
/// protocol 6 (Terraform >= 1.0, Go >= 1.16, OpenTofu) verifies it; Terraform 0.12 was
/// built with Go 1.12, whose TLS knows no Ed25519, so protocol-5-only clients get P-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKey {
    /// Ed25519 (protocol 6 clients).
    Ed25519,
    /// ECDSA P-256 (protocol 5 clients).
    P256,
}

impl ServerKey {
    /// The key type for clients of protocol `version`.
    pub fn for_protocol(version: u32) -> Self {
        if version >= 6 {
            ServerKey::Ed25519
        } else {
            ServerKey::P256
        }
    }
}

/// The server side of AutoMTLS: its certificate (for the handshake line) and the rustls
/// configuration that pins Terraform's client certificate.
pub struct AutoMtls {
    /// The server certificate (DER), for the handshake line.
    pub server_cert_der: Vec<u8>,
    /// The TLS configuration that requires Terraform's client certificate.
    pub config: Arc<rustls::ServerConfig>,
}

impl AutoMtls {
    /// Builds the server identity for the client certificate PEM Terraform passed.
    pub fn new(client_cert_pem: &str, key: ServerKey) -> Result<Self, TlsError> {
        let client = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
            .map_err(|e| TlsError::ClientCert(e.to_string()))?;
        let provider = crate::tls_provider::provider();
        let (cert_der, key_der) = generate_server_cert(key)?;
        let verifier = Arc::new(PinnedClientCert {
            expected: client.into_owned(),
            algorithms: provider.signature_verification_algorithms,
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key_der)?;
        // gRPC-Go clients (Terraform >= 1.10) refuse servers that do not negotiate h2.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(AutoMtls {
            server_cert_der: cert_der,
            config: Arc::new(config),
        })
    }

    /// The certificate as go-plugin's handshake line carries it: base64, no padding.
    pub fn handshake_cert(&self) -> String {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&self.server_cert_der)
    }
}

/// A self-signed certificate shaped like go-plugin's own (CA, `localhost`, server and
/// client auth), with a key of the given type.
fn generate_server_cert(
    kind: ServerKey,
) -> Result<(Vec<u8>, PrivateKeyDer<'static>), rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName as Dn, DnType,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
        PKCS_ED25519,
    };
    let key = KeyPair::generate_for(match kind {
        ServerKey::Ed25519 => &PKCS_ED25519,
        ServerKey::P256 => &PKCS_ECDSA_P256_SHA256,
    })?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    let mut dn = Dn::new();
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
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::days(365);
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|_| rcgen::Error::CouldNotParseKeyPair)?;
    Ok((cert.der().to_vec(), key_der))
}

/// Accepts exactly one client certificate (byte for byte) and checks that the client
/// holds its private key (the TLS CertificateVerify signature).
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn client_auth_mandatory(&self) -> bool {
        true
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
    crate::tls_provider::verify_handshake_signatures_with!(algorithms);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_cert_is_unpadded_base64_of_a_localhost_ca_certificate() {
        let client = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let m = AutoMtls::new(&client.cert.pem(), ServerKey::P256).unwrap();
        let s = m.handshake_cert();
        assert!(!s.ends_with('='));
        let der = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&s)
            .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(cert.is_ca());
        let san = cert.subject_alternative_name().unwrap().unwrap();
        assert!(format!("{:?}", san.value).contains("localhost"));
    }

    #[test]
    fn protocol_6_clients_get_an_ed25519_certificate_and_protocol_5_clients_p256() {
        assert_eq!(ServerKey::for_protocol(6), ServerKey::Ed25519);
        assert_eq!(ServerKey::for_protocol(5), ServerKey::P256);
        let client = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        for (key, oid) in [
            (ServerKey::Ed25519, "1.3.101.112"),
            (ServerKey::P256, "1.2.840.10045.2.1"),
        ] {
            let m = AutoMtls::new(&client.cert.pem(), key).unwrap();
            let (_, cert) = x509_parser::parse_x509_certificate(&m.server_cert_der).unwrap();
            assert_eq!(
                cert.public_key().algorithm.algorithm.to_id_string(),
                oid,
                "{key:?}"
            );
        }
    }

    #[test]
    fn garbage_client_cert_is_reported() {
        assert!(matches!(
            AutoMtls::new("not a pem", ServerKey::Ed25519),
            Err(TlsError::ClientCert(_))
        ));
    }
}
