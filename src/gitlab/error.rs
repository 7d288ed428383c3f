//! GitLab API errors as a typed enum, parsed from GitLab's error bodies:
//! `{"message":{"field":["..."]}}` (model validation), `{"message":"..."}`, and Grape's
//! `{"error":"..."}` (parameter validation). Never carries a token.

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// 400 with per-field messages, keyed as GitLab names the fields.
    #[error("GitLab rejected the request: {}", fmt_fields(.fields))]
    Validation {
        fields: BTreeMap<String, Vec<String>>,
    },
    /// 400 with a single message (missing or invalid parameters).
    #[error("GitLab rejected the request: {message}")]
    BadRequest { message: String },
    #[error("GitLab refused the token (401 Unauthorized): {message}")]
    Unauthorized { message: String },
    #[error("GitLab denied access (403 Forbidden): {message}")]
    Forbidden { message: String },
    #[error("GitLab answered 404: {message}")]
    NotFound { message: String },
    #[error("GitLab kept rate-limiting the requests (429 Too Many Requests){}", fmt_retry(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    #[error("GitLab answered {status}: {message}")]
    Http { status: u16, message: String },
    #[error("could not reach GitLab: {detail}")]
    Transport { detail: String },
    #[error("GitLab did not answer within {}s", .after.as_secs())]
    Timeout { after: Duration },
    /// The request may or may not have been applied (response lost).
    #[error("the outcome of the request is unknown: {detail}")]
    OutcomeUnknown { detail: String },
    #[error("GitLab sent a response the provider cannot read ({detail})")]
    Decode { detail: String },
    #[error("cancelled because Terraform is stopping")]
    Cancelled,
}

fn fmt_fields(fields: &BTreeMap<String, Vec<String>>) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k} {}", v.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn fmt_retry(r: &Option<Duration>) -> String {
    r.map(|d| format!(", last Retry-After {}s", d.as_secs()))
        .unwrap_or_default()
}

impl Error {
    /// Builds the error for a non-success response.
    pub fn from_response(status: u16, body: &[u8]) -> Error {
        let message = body_message(body);
        match status {
            400 => match parse_fields(body) {
                Some(fields) => Error::Validation { fields },
                None => Error::BadRequest { message },
            },
            401 => Error::Unauthorized { message },
            403 => Error::Forbidden { message },
            404 => Error::NotFound { message },
            429 => Error::RateLimited { retry_after: None },
            _ => Error::Http { status, message },
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}

/// `{"message":{"field":["msg",...]}}` → field map (string values become one-element lists).
fn parse_fields(body: &[u8]) -> Option<BTreeMap<String, Vec<String>>> {
    let j: serde_json::Value = serde_json::from_slice(body).ok()?;
    let m = j.get("message")?.as_object()?;
    Some(
        m.iter()
            .map(|(k, v)| {
                let msgs = match v {
                    serde_json::Value::Array(a) => a.iter().map(json_text).collect(),
                    other => vec![json_text(other)],
                };
                (k.clone(), msgs)
            })
            .collect(),
    )
}

fn json_text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The human-readable message of an error body, whatever its shape; a short excerpt of
/// the raw text when it is not JSON (a proxy's HTML page, say).
pub fn body_message(body: &[u8]) -> String {
    if let Ok(j) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["message", "error", "error_description"] {
            if let Some(v) = j.get(key) {
                return json_text(v);
            }
        }
        return j.to_string();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    let excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        format!("{excerpt}…")
    } else {
        excerpt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_validation_errors_keep_gitlab_field_names() {
        let e = Error::from_response(
            400,
            br#"{"message":{"environment_scope":["cannot add duplicated environment scope"],"platform_kubernetes.api_url":["is blank"]}}"#,
        );
        let Error::Validation { fields } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            fields["environment_scope"],
            vec!["cannot add duplicated environment scope"]
        );
        assert!(
            e.to_string()
                .contains("platform_kubernetes.api_url is blank")
        );
    }

    #[test]
    fn grape_and_plain_messages() {
        assert_eq!(
            Error::from_response(400, br#"{"error":"name is missing"}"#),
            Error::BadRequest {
                message: "name is missing".into()
            }
        );
        assert_eq!(
            Error::from_response(404, br#"{"message":"404 Group Not Found"}"#),
            Error::NotFound {
                message: "404 Group Not Found".into()
            }
        );
        assert_eq!(
            Error::from_response(502, b"<html>Bad Gateway</html>"),
            Error::Http {
                status: 502,
                message: "<html>Bad Gateway</html>".into()
            }
        );
        assert_eq!(body_message(b""), "(empty body)");
    }
}
