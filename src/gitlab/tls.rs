//! TLS to GitLab: the rustls client configuration (trust, client identity, ALPN), the server
//! certificate verifier, and the typed cause of a TLS failure.
//!
//! The verifier is webpki's (the system's trust store plus the `cacert_file` certificates as
//! trust anchors) with one addition, the rule of curl and of Go's `crypto/x509` (which the
//! official provider uses): a server certificate that is byte for byte one of the configured
//! CA certificates is trusted as the server's own, whether it says `CA:TRUE` (OpenSSL's
//! default for `req -x509`) or not. Its validity period, host name, extended key usage and
//! critical extensions are still checked, and so is the handshake signature. Every other
//! certificate goes through webpki unchanged.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

/// Why a TLS connection to GitLab failed, as far as the handshake tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsFailure {
    /// No trusted CA issued GitLab's certificate. `extra_roots`: CA certificates besides the
    /// system's were configured (and did not issue it either).
    UnknownIssuer {
        extra_roots: bool,
    },
    /// GitLab presented a CA certificate (`CA:TRUE`) as its own, and that exact certificate
    /// is not among the configured ones.
    CaAsServerCert,
    /// The certificate does not name the host that was dialled.
    HostMismatch {
        host: String,
        names: Vec<String>,
    },
    /// Outside its validity period (`not_after` / `not_before` as RFC 3339, when known).
    Expired {
        not_after: Option<String>,
    },
    NotYetValid {
        not_before: Option<String>,
    },
    Revoked,
    /// Its extended key usage does not include TLS server authentication.
    NotForServers,
    /// No trust anchor at all: the system store is empty and no CA certificate was given.
    NoTrustedRoots,
    /// Any other refusal of GitLab's certificate.
    BadCertificate {
        detail: String,
    },
    /// GitLab (or a proxy) wants a client certificate and none is configured.
    ClientCertRequired,
    /// GitLab (or a proxy) refused the configured client certificate.
    ClientCertRefused {
        alert: String,
    },
    /// No TLS version or cipher suite in common.
    Incompatible {
        detail: String,
    },
    /// The server answered the TLS handshake with something that is not TLS: it serves plain
    /// HTTP (or another protocol) on that port.
    NotTls,
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsFailure::UnknownIssuer { extra_roots: false } => {
                f.write_str("its certificate is not trusted: no CA of the system's trust store issued it")
            }
            TlsFailure::UnknownIssuer { extra_roots: true } => f.write_str(
                "its certificate is not trusted: neither the system's trust store nor the configured CA \
                 certificates issued it",
            ),
            TlsFailure::CaAsServerCert => f.write_str(
                "its certificate is a CA certificate (CA:TRUE) used as the server's own, and that exact \
                 certificate is not among the trusted ones",
            ),
            TlsFailure::HostMismatch { host, names } if names.is_empty() => write!(
                f,
                "its certificate is not valid for {host}: it names no host in subjectAltName (the Common \
                 Name alone is not used)"
            ),
            TlsFailure::HostMismatch { host, names } => write!(
                f,
                "its certificate is not valid for {host}: it is valid for {}",
                names.join(", ")
            ),
            TlsFailure::Expired { not_after: Some(t) } => write!(f, "its certificate expired at {t}"),
            TlsFailure::Expired { not_after: None } => f.write_str("its certificate has expired"),
            TlsFailure::NotYetValid { not_before: Some(t) } => {
                write!(f, "its certificate is not valid before {t}")
            }
            TlsFailure::NotYetValid { not_before: None } => f.write_str("its certificate is not valid yet"),
            TlsFailure::Revoked => f.write_str("its certificate has been revoked"),
            TlsFailure::NotForServers => {
                f.write_str("its certificate is not for TLS servers (extended key usage lacks serverAuth)")
            }
            TlsFailure::NoTrustedRoots => f.write_str(
                "no CA certificate is trusted: the system's trust store is empty and none was configured",
            ),
            TlsFailure::BadCertificate { detail } => write!(f, "its certificate was refused ({detail})"),
            TlsFailure::ClientCertRequired => f.write_str("it requires a TLS client certificate"),
            TlsFailure::ClientCertRefused { alert } => {
                write!(f, "it refused the TLS client certificate (alert {alert})")
            }
            TlsFailure::Incompatible { detail } => {
                write!(f, "no TLS version or cipher suite in common ({detail})")
            }
            TlsFailure::NotTls => f.write_str(
                "the server answered plain HTTP, not TLS: it serves http:// on that port, so use http:// in base_url",
            ),
        }
    }
}

/// The trust anchor list was empty: see [`TlsFailure::NoTrustedRoots`].
#[derive(Debug)]
struct NoTrustAnchors;

impl std::fmt::Display for NoTrustAnchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no trusted CA certificates")
    }
}

impl std::error::Error for NoTrustAnchors {}

/// What the TLS configuration is made of.
pub struct TlsOptions<'a> {
    /// PEM CA certificates trusted besides the system's (`cacert_file`).
    pub ca_pem: Option<&'a [u8]>,
    pub insecure: bool,
    /// PEM certificate chain and PEM private key.
    pub identity: Option<(&'a [u8], &'a str)>,
}

/// Why the TLS configuration cannot be built.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsConfigError {
    CaCert(String),
    ClientCert(String),
}

/// The rustls client configuration for GitLab (ALPN h2 and HTTP/1.1, as reqwest's own).
pub fn client_config(opts: &TlsOptions<'_>) -> Result<rustls::ClientConfig, TlsConfigError> {
    let provider = crate::tls_provider::provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError::ClientCert(e.to_string()))?;
    let pinned = match opts.ca_pem {
        Some(pem) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| TlsConfigError::CaCert(e.to_string()))?;
            if certs.is_empty() {
                return Err(TlsConfigError::CaCert("no certificate found".into()));
            }
            certs
        }
        None => Vec::new(),
    };
    let verifier: Arc<dyn ServerCertVerifier> = if opts.insecure {
        Arc::new(AcceptAnything(provider.signature_verification_algorithms))
    } else {
        Arc::new(GitlabVerifier::new(pinned, system_roots(), &provider)?)
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match opts.identity {
        Some((cert_pem, key_pem)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| TlsConfigError::ClientCert(e.to_string()))?;
            if chain.is_empty() {
                return Err(TlsConfigError::ClientCert("no certificate found".into()));
            }
            let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
                .map_err(|_| TlsConfigError::ClientCert("no private key found".into()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsConfigError::ClientCert(e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's CA certificates (what reqwest's platform verifier loads on Linux).
fn system_roots() -> Vec<CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}

/// webpki, plus trust in a server certificate that is exactly one of `pinned`.
#[derive(Debug)]
struct GitlabVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    algs: WebPkiSupportedAlgorithms,
}

impl GitlabVerifier {
    fn new(
        pinned: Vec<CertificateDer<'static>>,
        system: Vec<CertificateDer<'static>>,
        provider: &Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<GitlabVerifier, TlsConfigError> {
        let mut roots = rustls::RootCertStore::empty();
        for c in &pinned {
            roots
                .add(c.clone())
                .map_err(|e| TlsConfigError::CaCert(format!("{e}")))?;
        }
        // Unparsable system certificates are skipped, as the platform verifier does.
        roots.add_parsable_certificates(system);
        let webpki = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsConfigError::CaCert(e.to_string()))?,
            )
        };
        Ok(GitlabVerifier {
            webpki,
            pinned,
            algs: provider.signature_verification_algorithms,
        })
    }
}

impl ServerCertVerifier for GitlabVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            check_pinned(end_entity, server_name, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(NoTrustAnchors)),
            ))),
        }
    }

    crate::tls_provider::verify_handshake_signatures_with!(algs);
}

/// The checks a trusted-by-identity certificate still passes, as Go's `x509.Verify` makes
/// them for a leaf found in the root pool: validity period, no unhandled critical
/// extension, extended key usage (absent, any, or serverAuth), host name (subjectAltName).
fn check_pinned(
    der: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    use x509_parser::extensions::ParsedExtension;
    let bad = |e: CertificateError| rustls::Error::InvalidCertificate(e);
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|_| bad(CertificateError::BadEncoding))?;
    let secs = now.as_secs();
    let not_before = cert.validity().not_before.timestamp();
    let not_after = cert.validity().not_after.timestamp();
    let at = |t: i64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.max(0) as u64));
    if (secs as i128) < not_before as i128 {
        return Err(bad(CertificateError::NotValidYetContext {
            time: now,
            not_before: at(not_before),
        }));
    }
    if (secs as i128) > not_after as i128 {
        return Err(bad(CertificateError::ExpiredContext {
            time: now,
            not_after: at(not_after),
        }));
    }
    if cert.extensions().iter().any(|e| {
        e.critical
            && matches!(
                e.parsed_extension(),
                ParsedExtension::UnsupportedExtension { .. }
            )
    }) {
        return Err(bad(CertificateError::UnhandledCriticalExtension));
    }
    if let Ok(Some(eku)) = cert.extended_key_usage()
        && !(eku.value.any || eku.value.server_auth)
    {
        return Err(bad(CertificateError::InvalidPurpose));
    }
    let ee =
        webpki::EndEntityCert::try_from(der).map_err(|_| bad(CertificateError::BadEncoding))?;
    if ee.verify_is_valid_for_subject_name(server_name).is_err() {
        return Err(bad(CertificateError::NotValidForNameContext {
            expected: server_name.to_owned(),
            presented: subject_alt_names(der.as_ref()),
        }));
    }
    Ok(())
}

/// The DNS names and IP addresses a certificate's subjectAltName lists.
fn subject_alt_names(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_string()),
            GeneralName::IPAddress(b) => match b.len() {
                4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
                16 => <[u8; 16]>::try_from(*b)
                    .ok()
                    .map(|a| std::net::Ipv6Addr::from(a).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `insecure = true`: any certificate, as curl `-k` does.
#[derive(Debug)]
struct AcceptAnything(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

fn rfc3339(t: &UnixTime) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(t.as_secs() as i64).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The TLS cause of a failed request, found anywhere in its error chain; `None` when the
/// failure was not TLS's (a refused connection, a timeout).
pub fn classify(
    e: &(dyn std::error::Error + 'static),
    extra_roots: bool,
    has_client_cert: bool,
) -> Option<TlsFailure> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>()
            && let Some(kind) = from_rustls(r, extra_roots, has_client_cert)
        {
            return Some(kind);
        }
        // io::Error's source() skips the error it wraps (and the connector nests one
        // io::Error in another): descend through get_ref() instead.
        cur = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|i| i as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

fn from_rustls(r: &rustls::Error, extra_roots: bool, has_client_cert: bool) -> Option<TlsFailure> {
    use rustls::AlertDescription as A;
    Some(match r {
        rustls::Error::InvalidCertificate(c) => from_certificate_error(c, extra_roots),
        rustls::Error::AlertReceived(
            a @ (A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::HandshakeFailure
            | A::AccessDenied),
        ) => {
            if has_client_cert {
                TlsFailure::ClientCertRefused {
                    alert: format!("{a:?}"),
                }
            } else {
                TlsFailure::ClientCertRequired
            }
        }
        rustls::Error::PeerIncompatible(p) => TlsFailure::Incompatible {
            detail: format!("{p:?}"),
        },
        // The first byte of the answer is no TLS record type: "HTTP/1.1 400 ..." to our
        // ClientHello.
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            TlsFailure::NotTls
        }
        _ => return None,
    })
}

#[allow(deprecated)]
fn from_certificate_error(c: &CertificateError, extra_roots: bool) -> TlsFailure {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => TlsFailure::UnknownIssuer { extra_roots },
        C::NotValidForName => TlsFailure::HostMismatch {
            host: String::new(),
            names: Vec::new(),
        },
        C::NotValidForNameContext {
            expected,
            presented,
        } => TlsFailure::HostMismatch {
            host: server_name_text(expected),
            names: presented.clone(),
        },
        C::Expired => TlsFailure::Expired { not_after: None },
        C::ExpiredContext { not_after, .. } => TlsFailure::Expired {
            not_after: rfc3339(not_after),
        },
        C::NotValidYet => TlsFailure::NotYetValid { not_before: None },
        C::NotValidYetContext { not_before, .. } => TlsFailure::NotYetValid {
            not_before: rfc3339(not_before),
        },
        C::Revoked => TlsFailure::Revoked,
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => TlsFailure::NotForServers,
        C::Other(OtherError(inner)) => {
            if inner.downcast_ref::<NoTrustAnchors>().is_some() {
                TlsFailure::NoTrustedRoots
            } else if matches!(
                inner.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) {
                TlsFailure::CaAsServerCert
            } else {
                TlsFailure::BadCertificate {
                    detail: inner.to_string(),
                }
            }
        }
        // A trusted certificate of the issuer's name whose key did not sign it: a CA
        // certificate regenerated under the same name, say. Not trusted, like an unknown one.
        C::BadSignature => TlsFailure::UnknownIssuer { extra_roots },
        other => TlsFailure::BadCertificate {
            detail: format!("{other:?}"),
        },
    }
}

fn server_name_text(n: &ServerName<'_>) -> String {
    match n {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => format!("{n:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    fn cert(ca: bool, sans: &[&str], days: (i64, i64)) -> CertificateDer<'static> {
        let mut p =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        if ca {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now + time::Duration::days(days.0);
        p.not_after = now + time::Duration::days(days.1);
        let key = KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().der().clone()
    }

    fn verifier(pinned: &[&CertificateDer<'static>]) -> GitlabVerifier {
        GitlabVerifier::new(
            pinned.iter().map(|c| (*c).clone()).collect(),
            Vec::new(),
            &crate::tls_provider::provider(),
        )
        .unwrap()
    }

    fn verify(v: &GitlabVerifier, c: &CertificateDer<'_>, host: &str) -> Option<TlsFailure> {
        let name = ServerName::try_from(host.to_string()).unwrap();
        v.verify_server_cert(c, &[], &name, &[], UnixTime::now())
            .err()
            .map(|e| from_rustls(&e, true, false).unwrap())
    }

    #[test]
    fn a_pinned_self_signed_certificate_is_trusted_whether_ca_or_not() {
        for ca in [true, false] {
            let c = cert(ca, &["gitlab.test", "127.0.0.1"], (-1, 30));
            let v = verifier(&[&c]);
            assert_eq!(verify(&v, &c, "gitlab.test"), None, "CA:{ca}");
            assert_eq!(verify(&v, &c, "127.0.0.1"), None, "CA:{ca}");
        }
    }

    #[test]
    fn a_pinned_certificate_is_still_checked_for_host_and_validity() {
        let c = cert(true, &["gitlab.test"], (-1, 30));
        let v = verifier(&[&c]);
        assert_eq!(
            verify(&v, &c, "other.test"),
            Some(TlsFailure::HostMismatch {
                host: "other.test".into(),
                names: vec!["gitlab.test".into()]
            })
        );
        let old = cert(true, &["gitlab.test"], (-30, -1));
        let v = verifier(&[&old]);
        assert!(matches!(
            verify(&v, &old, "gitlab.test"),
            Some(TlsFailure::Expired { not_after: Some(_) })
        ));
        let future = cert(false, &["gitlab.test"], (1, 30));
        let v = verifier(&[&future]);
        assert!(matches!(
            verify(&v, &future, "gitlab.test"),
            Some(TlsFailure::NotYetValid {
                not_before: Some(_)
            })
        ));
    }

    #[test]
    fn a_ca_certificate_not_pinned_is_named_as_such_and_others_as_untrusted() {
        let pinned = cert(true, &["gitlab.test"], (-1, 30));
        let v = verifier(&[&pinned]);
        let stranger = cert(true, &["gitlab.test"], (-1, 30));
        assert_eq!(
            verify(&v, &stranger, "gitlab.test"),
            Some(TlsFailure::CaAsServerCert)
        );
        let leaf = cert(false, &["gitlab.test"], (-1, 30));
        assert_eq!(
            verify(&v, &leaf, "gitlab.test"),
            Some(TlsFailure::UnknownIssuer { extra_roots: true })
        );
    }

    #[test]
    fn no_trust_anchor_at_all_is_its_own_cause() {
        let v = verifier(&[]);
        let c = cert(false, &["gitlab.test"], (-1, 30));
        assert_eq!(
            verify(&v, &c, "gitlab.test"),
            Some(TlsFailure::NoTrustedRoots)
        );
    }

    #[test]
    fn cacert_pem_without_a_certificate_is_refused() {
        let r = client_config(&TlsOptions {
            ca_pem: Some(b"not pem"),
            insecure: false,
            identity: None,
        });
        assert!(matches!(r, Err(TlsConfigError::CaCert(_))));
    }
}
