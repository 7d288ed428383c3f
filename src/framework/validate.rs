//! Configuration validation driven by the schema's validators, plus the validators the
//! provider's attributes use. Unknown and null values are skipped: they are checked when
//! they become known.

use crate::protocol::diag::{Diagnostic, Diagnostics};
use crate::protocol::schema::{Schema, Validator};
use crate::protocol::value::Value;

/// Runs every attribute's validators against a (possibly partly unknown) configuration.
pub fn validate_config(schema: &Schema, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for attr in &schema.attributes {
        let v = config.get(&attr.name);
        if v.is_null() || v.is_unknown() {
            continue;
        }
        for validator in &attr.validators {
            if let Err(detail) = validator.validate(v) {
                diags.push(
                    Diagnostic::error(format!("Invalid value for {}", attr.name), detail)
                        .at_attr(&attr.name),
                );
            }
        }
    }
    diags
}

fn string(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| "Expected a string.".to_string())
}

/// The value must be one of a fixed set of strings.
pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn description(&self) -> String {
        let quoted: Vec<String> = self.0.iter().map(|s| format!("`{s}`")).collect();
        format!("One of {}.", quoted.join(", "))
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let s = string(v)?;
        if self.0.contains(&s) {
            Ok(())
        } else {
            Err(format!("{s:?} is not allowed. {}", self.description()))
        }
    }
}

/// The value must contain something other than whitespace.
pub struct NotBlank;

impl Validator for NotBlank {
    fn description(&self) -> String {
        "Must not be empty or blank.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        if string(v)?.trim().is_empty() {
            Err("The value must not be empty or only whitespace.".into())
        } else {
            Ok(())
        }
    }
}

/// At most this many characters.
pub struct MaxLength(pub usize);

impl Validator for MaxLength {
    fn description(&self) -> String {
        format!("At most {} characters.", self.0)
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let n = string(v)?.chars().count();
        if n > self.0 {
            Err(format!(
                "The value has {n} characters; at most {} are allowed.",
                self.0
            ))
        } else {
            Ok(())
        }
    }
}

/// An absolute `http://` or `https://` URL with a host.
pub struct HttpUrl;

impl Validator for HttpUrl {
    fn description(&self) -> String {
        "An `http://` or `https://` URL.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let s = string(v)?;
        let hint = "Give the full URL of the Kubernetes API server, for example \"https://k8s.example.com:6443\".";
        match url::Url::parse(s.trim()) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty()) =>
            {
                Ok(())
            }
            Ok(u) => Err(format!(
                "{s:?} is not an http(s) URL (scheme {:?}). {hint}",
                u.scheme()
            )),
            Err(e) => Err(format!("{s:?} is not a valid URL ({e}). {hint}")),
        }
    }
}

/// A PEM-encoded X.509 certificate (surrounding whitespace allowed).
pub struct PemCertificate;

impl Validator for PemCertificate {
    fn description(&self) -> String {
        "A PEM-encoded X.509 certificate.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        check_pem_certificate(string(v)?)
    }
}

/// Checks that `s` holds a PEM certificate that parses as X.509.
pub fn check_pem_certificate(s: &str) -> Result<(), String> {
    let hint = "Give the cluster's CA certificate in PEM form (\"-----BEGIN CERTIFICATE-----\" ...), \
                for example with file(\"ca.crt\").";
    let (_, pem) = x509_parser::pem::parse_x509_pem(s.trim().as_bytes())
        .map_err(|_| format!("The value is not a PEM certificate. {hint}"))?;
    if pem.label != "CERTIFICATE" {
        return Err(format!(
            "The PEM block is a {:?}, not a CERTIFICATE. {hint}",
            pem.label
        ));
    }
    pem.parse_x509()
        .map(|_| ())
        .map_err(|e| format!("The PEM block does not hold a valid X.509 certificate ({e}). {hint}"))
}

/// A whole number within bounds (inclusive).
pub struct IntRange(pub i64, pub i64);

impl Validator for IntRange {
    fn description(&self) -> String {
        format!("From {} to {}.", self.0, self.1)
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        match v.as_i64() {
            Some(n) if (self.0..=self.1).contains(&n) => Ok(()),
            Some(n) => Err(format!("{n} is out of range: {}", self.description())),
            None => Err(format!("Expected a whole number. {}", self.description())),
        }
    }
}

/// A string holding a positive integer (GitLab ids passed as strings).
pub struct PositiveIntegerString;

impl Validator for PositiveIntegerString {
    fn description(&self) -> String {
        "A positive integer id, as a string.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let s = string(v)?;
        match s.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err(format!("{s:?} is not a positive integer id.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::Attribute;

    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUbsy7rJtU3J3N2v0dKqYvdYXcxE0wCgYIKoZIzj0EAwIw
ETEPMA0GA1UEAwwGdGVzdGNhMB4XDTI0MDEwMTAwMDAwMFoXDTM0MDEwMTAwMDAw
MFowETEPMA0GA1UEAwwGdGVzdGNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAo1MwUTAdBgNV
HQ4EFgQUAAAAAAAAAAAAAAAAAAAAAAAAAAAwHwYDVR0jBBgwFoAUAAAAAAAAAAAA
AAAAAAAAAAAAAAAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA
AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACIAAAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAAAAA
-----END CERTIFICATE-----";

    #[test]
    fn pem_certificate_accepts_a_real_certificate_with_surrounding_whitespace() {
        let c = rcgen::generate_simple_self_signed(vec!["k8s".into()]).unwrap();
        let pem = format!("\n  {}\n\n", c.cert.pem());
        assert_eq!(PemCertificate.validate(&Value::from(pem.as_str())), Ok(()));
    }

    #[test]
    fn pem_certificate_rejects_garbage_keys_and_broken_der() {
        assert!(PemCertificate.validate(&Value::from("hello")).is_err());
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(
            PemCertificate
                .validate(&Value::from(key))
                .unwrap_err()
                .contains("PRIVATE KEY")
        );
        assert!(PemCertificate.validate(&Value::from(CERT)).is_err());
    }

    #[test]
    fn http_url_requires_scheme_and_host() {
        assert!(
            HttpUrl
                .validate(&Value::from("https://k8s.example.com:6443"))
                .is_ok()
        );
        assert!(HttpUrl.validate(&Value::from("http://10.0.0.1")).is_ok());
        assert!(HttpUrl.validate(&Value::from("ftp://x")).is_err());
        assert!(HttpUrl.validate(&Value::from("k8s.example.com")).is_err());
        assert!(HttpUrl.validate(&Value::from("")).is_err());
    }

    #[test]
    fn validation_names_the_attribute_and_skips_unknown_values() {
        let schema = Schema::new(
            "",
            vec![
                Attribute::string("kind")
                    .optional()
                    .validate(OneOf(&["rbac", "abac"])),
                Attribute::string("name").optional().validate(NotBlank),
            ],
        );
        let config = Value::object([("kind", Value::from("x")), ("name", Value::Unknown)]);
        let d = validate_config(&schema, &config);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].attribute.as_ref().unwrap().to_string(), "kind");
        assert!(d.0[0].detail.contains("`rbac`"));
    }

    #[test]
    fn integer_ranges_are_inclusive() {
        assert!(IntRange(0, 100).validate(&Value::int(0)).is_ok());
        assert!(IntRange(0, 100).validate(&Value::int(100)).is_ok());
        assert!(
            IntRange(0, 100)
                .validate(&Value::int(101))
                .unwrap_err()
                .contains("From 0 to 100")
        );
        assert!(
            IntRange(0, 100)
                .validate(&Value::Number(crate::protocol::value::Number::Float(1.5)))
                .is_err()
        );
    }

    #[test]
    fn positive_integer_strings() {
        assert!(PositiveIntegerString.validate(&Value::from("12")).is_ok());
        assert!(PositiveIntegerString.validate(&Value::from("0")).is_err());
        assert!(PositiveIntegerString.validate(&Value::from("abc")).is_err());
    }
}
