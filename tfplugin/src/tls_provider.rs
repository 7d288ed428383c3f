//! The rustls crypto provider of a provider's TLS endpoints (the plugin server's AutoMTLS,
//! and the provider's own API client if it wants the same): *ring*, plus ECDSA P-521 with
//! SHA-512 signature verification from RustCrypto's `p521`, which *ring* lacks.
//!
//! go-plugin's AutoMTLS client certificate is ECDSA P-521 signed with SHA-512. A server whose
//! provider cannot verify that scheme does not offer it, and the Go client then silently sends
//! no certificate at all; with this provider it is offered, verified and required. *ring*
//! (with this one addition) rather than aws-lc-rs: 0.7 MiB less code in the binary, ~0.6 MiB
//! less memory, and no DRBG start-up cost (README "## Performance"). *ring* signs with RSA,
//! ECDSA P-256/P-384 and Ed25519 keys, so those are the client key types an API client on it can use. The
//! handshake-signature checks both endpoints' certificate verifiers share are here too
//! ([`verify_handshake_signatures_with`]).

use std::sync::{Arc, OnceLock};

use rustls::SignatureScheme;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use webpki::ring as algs;

/// ECDSA over NIST P-521 with SHA-512 (`ecdsa-with-SHA512`, TLS `ecdsa_secp521r1_sha512`).
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        // `public_key` is the SEC1 point of the SubjectPublicKeyInfo; from_sec1_bytes checks
        // that it lies on the curve. The signature is the DER `Ecdsa-Sig-Value`.
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p521::ecdsa::DerSignature::try_from(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

static ECDSA_P521_SHA512: &dyn SignatureVerificationAlgorithm = &EcdsaP521Sha512;

/// *ring*'s signature algorithms (as rustls's own *ring* provider lists them) plus P-521.
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algs::ECDSA_P256_SHA256,
        algs::ECDSA_P256_SHA384,
        algs::ECDSA_P384_SHA256,
        algs::ECDSA_P384_SHA384,
        ECDSA_P521_SHA512,
        algs::ED25519,
        algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algs::RSA_PKCS1_2048_8192_SHA256,
        algs::RSA_PKCS1_2048_8192_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA512,
        algs::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        // TLS 1.3 fixes the curve per scheme; TLS 1.2 does not (hence two entries for some).
        (SignatureScheme::ECDSA_NISTP521_SHA512, &[ECDSA_P521_SHA512]),
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[algs::ED25519]),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[algs::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[algs::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[algs::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// The provider (built once per process).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            Arc::new(CryptoProvider {
                signature_verification_algorithms: SIGNATURE_ALGORITHMS,
                ..rustls::crypto::ring::default_provider()
            })
        })
        .clone()
}

/// Makes [`provider`] the process default, which reqwest's rustls backend picks up when it
/// builds a client. Idempotent; a provider installed earlier by someone else stays.
pub fn install_default() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = CryptoProvider::install_default((*provider()).clone());
    });
}

/// The handshake-signature half of a rustls certificate verifier (`verify_tls12_signature`,
/// `verify_tls13_signature`, `supported_verify_schemes`), checked with the algorithms in the
/// field `$algs` of `self` (this provider's [`WebPkiSupportedAlgorithms`]). A verifier of
/// server certificates (an API client's) and AutoMTLS's of client certificates implement
/// these three methods alike: this expands to them inside either
/// `impl` block (`ServerCertVerifier` and `ClientCertVerifier` are different traits).
/// The calling crate needs `rustls` among its dependencies.
#[doc(hidden)]
#[macro_export]
macro_rules! __verify_handshake_signatures_with {
    ($algs:ident) => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.$algs)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.$algs)
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.$algs.supported_schemes()
        }
    };
}
#[doc(inline)]
pub use __verify_handshake_signatures_with as verify_handshake_signatures_with;

/// Whether a provider can verify go-plugin's P-521 client signatures.
pub fn verifies_p521(provider: &CryptoProvider) -> bool {
    provider
        .signature_verification_algorithms
        .supported_schemes()
        .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{KeyPair, PKCS_ECDSA_P521_SHA512, PublicKeyData, SigningKey};

    #[test]
    fn provider_offers_p521_sha512_and_plain_ring_does_not() {
        assert!(verifies_p521(&provider()));
        assert!(!verifies_p521(&rustls::crypto::ring::default_provider()));
    }

    /// Signatures made by an independent implementation (aws-lc, through rcgen, as a
    /// dev-dependency) verify; tampered messages, other keys and garbage do not.
    #[test]
    fn p521_sha512_verifies_aws_lc_signatures_and_rejects_others() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).unwrap();
        let other = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).unwrap();
        let msg = b"TLS 1.3, client CertificateVerify";
        let sig = key.sign(msg).unwrap();
        let alg = EcdsaP521Sha512;
        assert!(alg.verify_signature(key.der_bytes(), msg, &sig).is_ok());
        assert!(
            alg.verify_signature(key.der_bytes(), b"tampered", &sig)
                .is_err()
        );
        assert!(alg.verify_signature(other.der_bytes(), msg, &sig).is_err());
        assert!(
            alg.verify_signature(key.der_bytes(), msg, &sig[..sig.len() - 1])
                .is_err()
        );
        assert!(alg.verify_signature(&[4, 1, 2, 3], msg, &sig).is_err());
        assert!(alg.verify_signature(key.der_bytes(), msg, &[]).is_err());
    }

    #[test]
    fn install_default_makes_this_provider_the_process_default() {
        install_default();
        install_default();
        let p = CryptoProvider::get_default().unwrap();
        assert!(verifies_p521(p));
    }
}
