//! `Secret`: a string that never shows itself in `Debug` output or logs. Shared by the
//! framework (sensitive attributes) and a provider's API client (tokens in requests).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
/// A string that never shows itself in `Debug`; `Serialize` sends it as it is.
pub struct Secret(SecretString);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(SecretString::from(s.into()))
    }
    /// The secret itself: only for sending it where it belongs.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_serialization_is_not() {
        let s = Secret::new("glpat-123456");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"glpat-123456\"");
    }
}
