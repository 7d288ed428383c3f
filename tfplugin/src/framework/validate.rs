//! Configuration validation driven by the schema's validators, plus the validators the
//! provider's attributes use. Unknown and null values are skipped: they are checked when
//! they become known.

use super::schema::{Schema, normalized};
use crate::protocol::diag::{Diagnostic, Diagnostics};
use crate::protocol::value::Value;

/// Checks one known, non-null attribute value at validation time. Validators are values
/// an attribute holds (`Attribute::validate`); domain-specific advice comes from the
/// resource as their hint text.
pub trait Validator: Send + Sync {
    /// For docs and error text, e.g. "one of `rbac`, `abac`".
    fn description(&self) -> String;
    /// `Err(detail)` when the value is unacceptable; the caller attaches the path.
    fn validate(&self, value: &Value) -> Result<(), String>;
}

/// Runs every attribute's validators against a (possibly partly unknown) configuration.
pub fn validate_config(schema: &Schema, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for attr in &schema.attributes {
        let v = config.get(&attr.name);
        // A value the attribute treats as "no value" (e.g. "" under BlankAsNull) is checked
        // like null: not at all.
        if v.is_null() || v.is_unknown() || normalized(&attr.normalize, v).is_null() {
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

/// An absolute `http://` or `https://` URL with a host, the scheme written in lower case
/// (some servers compare the scheme as written). `hint` says what to give, with an example.
pub struct HttpUrl {
    /// What to give, with an example, for the error.
    pub hint: &'static str,
}

impl Validator for HttpUrl {
    fn description(&self) -> String {
        "An `http://` or `https://` URL.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let s = string(v)?;
        let hint = self.hint;
        let t = s.trim();
        match url::Url::parse(t) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty()) =>
            {
                if t.starts_with("http://") || t.starts_with("https://") {
                    Ok(())
                } else {
                    let written = t.split(':').next().unwrap_or_default();
                    Err(format!(
                        "{s:?} spells the scheme {written:?}; write it in lower case ({:?}). {hint}",
                        u.scheme()
                    ))
                }
            }
            Ok(u) => Err(format!(
                "{s:?} is not an http(s) URL (scheme {:?}). {hint}",
                u.scheme()
            )),
            Err(e) => Err(format!("{s:?} is not a valid URL ({e}). {hint}")),
        }
    }
}

/// A PEM-encoded X.509 certificate (surrounding whitespace and CRLF line endings
/// allowed). `hint` says what to give.
pub struct PemCertificate {
    /// What to give, for the error.
    pub hint: &'static str,
}

impl Validator for PemCertificate {
    fn description(&self) -> String {
        "A PEM-encoded X.509 certificate.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        check_pem_certificate(string(v)?, self.hint)
    }
}

/// Checks that `s` holds a PEM certificate that parses as X.509.
pub fn check_pem_certificate(s: &str, hint: &str) -> Result<(), String> {
    let text = s.trim().replace("\r\n", "\n");
    let (_, pem) = x509_parser::pem::parse_x509_pem(text.as_bytes())
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

/// No whitespace at the start or the end (the API would take it as part of the value).
pub struct Trimmed;

impl Validator for Trimmed {
    fn description(&self) -> String {
        "No surrounding whitespace.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let s = string(v)?;
        if s.trim() == s {
            Ok(())
        } else {
            Err(format!(
                "{s:?} starts or ends with whitespace; write {:?}.",
                s.trim()
            ))
        }
    }
}

/// A rule given by the resource: a test and the sentence that states it (for docs and
/// for the error, which quotes the value).
pub struct Rule {
    /// Whether a value passes.
    pub test: fn(&str) -> bool,
    /// The sentence that states the rule.
    pub rule: &'static str,
}

impl Validator for Rule {
    fn description(&self) -> String {
        self.rule.to_string()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let s = string(v)?;
        if (self.test)(s) {
            Ok(())
        } else {
            Err(format!("{s:?} is not allowed. {}", self.rule))
        }
    }
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

/// A string holding a positive decimal integer (ids passed as strings); surrounding
/// whitespace, a `+` sign and leading zeros are accepted, as Ruby's `Integer(s, 10)` does.
pub struct PositiveIntegerString;

impl Validator for PositiveIntegerString {
    fn description(&self) -> String {
        "A positive integer id, as a string.".into()
    }
    fn validate(&self, v: &Value) -> Result<(), String> {
        let s = string(v)?;
        let t = s.trim();
        let digits = t.strip_prefix('+').unwrap_or(t);
        let ok = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.trim_start_matches('0').len() <= 18
            && digits.bytes().any(|b| b != b'0');
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not a positive integer id. Write the id in digits, for example \"42\"."
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, Normalize};

    const PEM: PemCertificate = PemCertificate {
        hint: "Give a CA certificate.",
    };
    const URL: HttpUrl = HttpUrl {
        hint: "Give a URL.",
    };

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
        let c = rcgen::generate_simple_self_signed(vec!["api.example.com".into()]).unwrap();
        let pem = format!("\n  {}\n\n", c.cert.pem());
        assert_eq!(PEM.validate(&Value::from(pem.as_str())), Ok(()));
    }

    #[test]
    fn pem_certificate_rejects_garbage_keys_and_broken_der() {
        assert!(PEM.validate(&Value::from("hello")).is_err());
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(
            PEM.validate(&Value::from(key))
                .unwrap_err()
                .contains("PRIVATE KEY")
        );
        assert!(PEM.validate(&Value::from(CERT)).is_err());
    }

    #[test]
    fn http_url_requires_scheme_and_host() {
        assert!(
            URL.validate(&Value::from("https://api.example.com:6443"))
                .is_ok()
        );
        assert!(URL.validate(&Value::from("http://10.0.0.1")).is_ok());
        assert!(URL.validate(&Value::from("ftp://x")).is_err());
        assert!(URL.validate(&Value::from("api.example.com")).is_err());
        assert!(URL.validate(&Value::from("")).is_err());
        let upper = URL
            .validate(&Value::from("HTTPS://api.example.com"))
            .unwrap_err();
        assert!(upper.contains("lower case"), "{upper}");
        assert!(
            URL.validate(&Value::from(" https://api.example.com "))
                .is_ok()
        );
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
    fn pem_certificates_with_crlf_line_endings_are_accepted() {
        let c = rcgen::generate_simple_self_signed(vec!["api.example.com".into()]).unwrap();
        let pem = c.cert.pem().replace('\n', "\r\n");
        assert_eq!(PEM.validate(&Value::from(pem.as_str())), Ok(()));
    }

    #[test]
    fn a_value_the_attribute_treats_as_no_value_is_not_validated() {
        let schema = Schema::new(
            "",
            vec![
                Attribute::string("ca")
                    .optional()
                    .normalize(&[Normalize::BlankAsNull])
                    .validate(PEM),
            ],
        );
        let config = Value::object([("ca".to_string(), Value::from(""))]);
        assert!(validate_config(&schema, &config).is_empty());
        let config = Value::object([("ca".to_string(), Value::from("x"))]);
        assert_eq!(validate_config(&schema, &config).0.len(), 1);
    }

    #[test]
    fn trimmed_and_rule_validators_quote_the_value() {
        assert!(
            Trimmed
                .validate(&Value::from(" qa"))
                .unwrap_err()
                .contains("\"qa\"")
        );
        assert!(Trimmed.validate(&Value::from("qa")).is_ok());
        let r = Rule {
            test: |s| s.len() < 3,
            rule: "Fewer than 3 characters.",
        };
        assert_eq!(
            r.validate(&Value::from("abcd")).unwrap_err(),
            "\"abcd\" is not allowed. Fewer than 3 characters."
        );
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
        for ok in ["007", " 7", "+7", "7 "] {
            assert!(
                PositiveIntegerString.validate(&Value::from(ok)).is_ok(),
                "{ok}"
            );
        }
        for bad in ["-7", "0x7", "7.0", "1_0", "+", "000"] {
            assert!(
                PositiveIntegerString.validate(&Value::from(bad)).is_err(),
                "{bad}"
            );
        }
    }
}
