//! GitLab API errors as a typed enum, parsed from GitLab's error bodies:
//! `{"message":{"field":["..."]}}` (model validation), `{"message":"..."}`, and Grape's
//! `{"error":"..."}` (parameter validation); answers that did not come from GitLab's REST
//! API at all (its catch-all route, a redirect, a web server's page) are told apart, and a
//! proxy's HTML page is reduced to one line. Never carries a token or a password.

use std::collections::BTreeMap;
use std::time::Duration;

pub use super::tls::TlsFailure;

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
    /// `attempts`: how many times the request was sent (1: it was not retried).
    #[error("GitLab kept rate-limiting the requests (429 Too Many Requests){}{}", fmt_retry(.retry_after), fmt_attempts(*.attempts))]
    RateLimited {
        retry_after: Option<Duration>,
        attempts: u32,
    },
    #[error("GitLab answered {status}: {message}{}", fmt_attempts(*.attempts))]
    Http {
        status: u16,
        message: String,
        attempts: u32,
    },
    #[error("could not reach GitLab: {detail}{}", fmt_attempts(*.attempts))]
    Transport { detail: String, attempts: u32 },
    #[error("GitLab did not answer within {}s{}", .after.as_secs(), fmt_attempts(*.attempts))]
    Timeout { after: Duration, attempts: u32 },
    /// No connection came about (refused, unknown host, no route, connect timeout): the
    /// request was not sent, and is not retried, since waiting does not change that.
    /// `detail` says what is (not) at the other end, in words.
    #[error("could not connect to GitLab: {detail}")]
    Unreachable { detail: String },
    /// The TLS handshake with `host` failed for a reason retrying cannot change.
    #[error("TLS connection to {host} failed: {kind}")]
    Tls { host: String, kind: TlsFailure },
    /// The answer did not come from GitLab's REST API: its catch-all route (no such API
    /// path), the removed v3 API, a redirect, or a page that is not the API's JSON. `url`
    /// is the one requested, its password masked.
    #[error(
        "base_url does not point at GitLab's REST API: {method} {url} answered {status} ({detail})"
    )]
    NotApi {
        method: String,
        url: String,
        status: u16,
        detail: String,
    },
    /// The request may or may not have been applied (response lost).
    #[error("the outcome of the request is unknown: {detail}")]
    OutcomeUnknown { detail: String },
    #[error("GitLab sent a response the provider cannot read ({detail})")]
    Decode { detail: String },
    /// An answer larger than the provider reads (`limit` bytes): an endless or runaway body.
    #[error("GitLab's answer to {request} went past {} MiB, the most the provider reads of one answer; it stopped reading there", .limit / (1024 * 1024))]
    TooLarge { request: String, limit: usize },
    /// A list walk that hit one of its bounds (page count, page size, a repeating list):
    /// `detail` names the bound.
    #[error("the list of {what} did not end as GitLab's lists do: {detail}")]
    ListUnbounded { what: String, detail: String },
    /// A successful answer that describes something other than what was asked for (another
    /// cluster, another group). Nothing from it was used.
    #[error("GitLab's answer describes {got}, not {wanted}")]
    WrongEntity { wanted: String, got: String },
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

fn fmt_attempts(n: u32) -> String {
    if n > 1 {
        format!(" (after {n} attempts)")
    } else {
        String::new()
    }
}

fn fmt_retry(r: &Option<Duration>) -> String {
    r.map(|d| format!(", last Retry-After {}s", d.as_secs()))
        .unwrap_or_default()
}

impl Error {
    /// Builds the error for a non-success response. An answer that is not the REST API's
    /// is [`Error::NotApi`] with an empty `method` and `url`, which [`Error::requested`] fills.
    pub fn from_response(status: u16, body: &[u8]) -> Error {
        let message = body_message(body);
        if let Some(detail) = not_api(status, body) {
            return Error::NotApi {
                method: String::new(),
                url: String::new(),
                status,
                detail,
            };
        }
        match status {
            400 => match parse_fields(body) {
                Some(fields) => Error::Validation { fields },
                None => Error::BadRequest { message },
            },
            401 => Error::Unauthorized { message },
            403 => Error::Forbidden { message },
            404 => Error::NotFound { message },
            429 => Error::RateLimited {
                retry_after: None,
                attempts: 1,
            },
            _ => Error::Http {
                status,
                message,
                attempts: 1,
            },
        }
    }

    /// Names the request an [`Error::NotApi`] answered (`url` with its password masked),
    /// and the redirect target when there was one.
    pub fn requested(self, method: &str, url: &str, location: Option<&str>) -> Error {
        match self {
            Error::NotApi {
                status, mut detail, ..
            } => {
                if let Some(to) = location {
                    detail = format!("a redirect to {to}");
                }
                Error::NotApi {
                    method: method.to_string(),
                    url: url.to_string(),
                    status,
                    detail,
                }
            }
            other => other,
        }
    }

    /// The same error, recording that the request was sent `n` times.
    pub fn after_attempts(self, n: u32) -> Error {
        match self {
            Error::RateLimited { retry_after, .. } => Error::RateLimited {
                retry_after,
                attempts: n,
            },
            Error::Http {
                status, message, ..
            } => Error::Http {
                status,
                message,
                attempts: n,
            },
            Error::Transport { detail, .. } => Error::Transport {
                detail,
                attempts: n,
            },
            Error::Timeout { after, .. } => Error::Timeout { after, attempts: n },
            other => other,
        }
    }

    /// How many times the request was sent, for the errors that are retried.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::RateLimited { attempts, .. }
            | Error::Http { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// What a 404 says is missing, from GitLab's `not_found!` texts; `None` for other errors.
    pub fn missing(&self) -> Option<Missing> {
        let Error::NotFound { message } = self else {
            return None;
        };
        Some(
            if message.contains("Group Not Found") || message.contains("Project Not Found") {
                Missing::Owner
            } else if message == CLUSTER_NOT_FOUND_MESSAGE {
                Missing::Cluster
            } else if message == CLUSTERS_DISABLED_MESSAGE {
                Missing::ClustersDisabled
            } else {
                Missing::Other
            },
        )
    }

    /// Whether this is GitLab's 404 for `owner` itself (`404 Group Not Found` for a group,
    /// `404 Project Not Found` for a project; never for the instance, which is always there).
    pub fn is_owner_not_found(&self, owner: &super::ClusterOwner) -> bool {
        let Error::NotFound { message } = self else {
            return false;
        };
        match owner {
            super::ClusterOwner::Group(_) => message.contains("Group Not Found"),
            super::ClusterOwner::Project(_) => message.contains("Project Not Found"),
            super::ClusterOwner::Instance => false,
        }
    }

    /// The parameter a Grape validation error (400 `{"error":"<param> is missing"}`) names
    /// first, in GitLab's spelling (`platform_kubernetes_attributes[api_url]`).
    pub fn rejected_parameter(&self) -> Option<&str> {
        match self {
            Error::BadRequest { message } => message.split_whitespace().next(),
            _ => None,
        }
    }

    /// GitLab's answer when the owner already has a cluster for the environment scope
    /// (`Clusters::Cluster` validates `environment_scope` unique per owner).
    pub fn is_duplicate_environment_scope(&self) -> bool {
        matches!(self, Error::Validation { fields }
            if fields.get("environment_scope").is_some_and(|m| m.iter().any(|s| s.contains("duplicated"))))
    }
}

/// The body GitLab sends for every cluster endpoint when certificate-based clusters are
/// switched off on the instance (`not_found!` without a resource name).
pub const CLUSTERS_DISABLED_MESSAGE: &str = "404 Not Found";
/// The body of a missing record (`ActiveRecord::RecordNotFound`, rescued in lib/api/api.rb):
/// the cluster id names no cluster of the owner.
const CLUSTER_NOT_FOUND_MESSAGE: &str = "404 Not found";

/// What a 404 of the cluster endpoints says is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// The owner (`404 Group Not Found`, `404 Project Not Found`): no such group or project,
    /// or not visible to the token.
    Owner,
    /// The cluster (`404 Not found`): no such cluster of that owner.
    Cluster,
    /// Every cluster endpoint (`404 Not Found`): certificate-based clusters are switched off.
    ClustersDisabled,
    /// Something else.
    Other,
}

/// Whether a model validation error of `field` is GitLab refusing to change a cluster it
/// manages itself (`Clusters::Platforms::Kubernetes#prevent_modification`: only clusters
/// added through the API, provider_type `user`, take new names, URLs, tokens, certificates).
pub fn is_managed_cluster_refusal(field: &str, messages: &[String]) -> bool {
    field == "platform_kubernetes.base"
        || messages
            .iter()
            .any(|m| m.contains("Cannot modify managed Kubernetes cluster"))
}

/// Grape's catch-all route (`route :any, '*path'` in GitLab's lib/api/api.rb) answers
/// `404 {"error":"404 Not Found"}` for a path the API does not have, and the v3 catch-all
/// `410 {"error":"API V3 is no longer supported. Use API V4 instead."}`. GitLab's own 404s
/// for missing resources say `{"message": ...}`. Redirects and non-JSON 404 pages come
/// from something else (the web UI's sign-in redirect, a web server, a proxy).
fn not_api(status: u16, body: &[u8]) -> Option<String> {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let error = json
        .as_ref()
        .filter(|j| j.get("message").is_none())
        .and_then(|j| j.get("error"))
        .and_then(|e| e.as_str());
    match status {
        300..=399 => Some("a redirect".into()),
        404 if error == Some("404 Not Found") => {
            Some("GitLab's API has no such path: {\"error\":\"404 Not Found\"}".into())
        }
        404 if json.is_none() => Some(format!("not GitLab's API: {}", body_message(body))),
        410 if error.is_some_and(|e| e.contains("API V3")) => error.map(str::to_string),
        _ => None,
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
    let text = match html_summary(&text) {
        Some(t) => t,
        None => one_line(&text),
    };
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

/// An HTML page (a proxy's 502, a web server's 404) in one line: its `<title>`, else its
/// first `<h1>`, else its text without tags.
fn html_summary(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("<html") || lower.contains("<!doctype html") || lower.contains("<title")) {
        return None;
    }
    for tag in ["title", "h1"] {
        if let Some(inner) = element_text(text, &lower, tag) {
            let t = one_line(&strip_tags(inner));
            if !t.is_empty() {
                return Some(t);
            }
        }
    }
    Some(one_line(&strip_tags(text)))
}

/// The content of the first `<tag ...>...</tag>`; `lower` is `text` in ASCII lower case
/// (same byte offsets).
fn element_text<'a>(text: &'a str, lower: &str, tag: &str) -> Option<&'a str> {
    let open = lower.find(&format!("<{tag}"))?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find(&format!("</{tag}"))?;
    text.get(start..end)
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whitespace (line breaks included) collapsed to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
                message: "Bad Gateway".into(),
                attempts: 1,
            }
        );
        assert_eq!(body_message(b""), "(empty body)");
    }

    #[test]
    fn html_error_pages_become_one_line() {
        let nginx = b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n\
            <center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(body_message(nginx), "503 Service Temporarily Unavailable");
        let untitled =
            b"<!DOCTYPE html>\n<html><body>\n<h1>Bad\n gateway</h1><p>try later</p></body></html>";
        assert_eq!(body_message(untitled), "Bad gateway");
        assert_eq!(
            body_message(b"upstream\nconnect error\n"),
            "upstream connect error"
        );
    }

    #[test]
    fn the_api_catch_all_404_is_not_the_feature_flag_404() {
        // Grape's catch-all route: the path is not an API path.
        let e = Error::from_response(404, br#"{"error":"404 Not Found"}"#).requested(
            "GET",
            "https://h/x/api/v4/user",
            None,
        );
        assert_eq!(
            e,
            Error::NotApi {
                method: "GET".into(),
                url: "https://h/x/api/v4/user".into(),
                status: 404,
                detail: "GitLab's API has no such path: {\"error\":\"404 Not Found\"}".into(),
            }
        );
        assert!(e.to_string().starts_with(
            "base_url does not point at GitLab's REST API: GET https://h/x/api/v4/user"
        ));
        // not_found! of an existing route (the certificate_based_clusters switch).
        assert_eq!(
            Error::from_response(404, br#"{"message":"404 Not Found"}"#),
            Error::NotFound {
                message: "404 Not Found".into()
            }
        );
        assert!(matches!(
            Error::from_response(
                410,
                br#"{"error":"API V3 is no longer supported. Use API V4 instead."}"#
            ),
            Error::NotApi { status: 410, .. }
        ));
        assert!(matches!(
            Error::from_response(404, b"<html><title>404 Not Found</title></html>"),
            Error::NotApi { status: 404, .. }
        ));
        let redirect = Error::from_response(302, b"").requested(
            "GET",
            "http://h/api/v4/user",
            Some("https://h/users/sign_in"),
        );
        assert!(
            redirect
                .to_string()
                .contains("a redirect to https://h/users/sign_in"),
            "{redirect}"
        );
    }

    #[test]
    fn a_404_says_whether_the_group_the_cluster_or_every_cluster_endpoint_is_missing() {
        let missing = |body: &[u8]| Error::from_response(404, body).missing();
        assert_eq!(
            missing(br#"{"message":"404 Group Not Found"}"#),
            Some(Missing::Owner)
        );
        assert_eq!(
            missing(br#"{"message":"404 Not found"}"#),
            Some(Missing::Cluster)
        );
        assert_eq!(
            missing(br#"{"message":"404 Not Found"}"#),
            Some(Missing::ClustersDisabled)
        );
        assert_eq!(
            missing(br#"{"message":"404 Project Not Found"}"#),
            Some(Missing::Owner)
        );
        assert_eq!(
            missing(br#"{"message":"404 Namespace Not Found"}"#),
            Some(Missing::Other)
        );
        let group = super::super::ClusterOwner::Group("g".into());
        let project = super::super::ClusterOwner::Project("p".into());
        let group_gone = Error::from_response(404, br#"{"message":"404 Group Not Found"}"#);
        assert!(group_gone.is_owner_not_found(&group));
        assert!(
            !group_gone.is_owner_not_found(&project),
            "another owner's word"
        );
        assert!(!group_gone.is_owner_not_found(&super::super::ClusterOwner::Instance));
        assert_eq!(Error::from_response(403, b"{}").missing(), None);
    }

    #[test]
    fn grape_errors_name_the_rejected_parameter_and_other_errors_none() {
        let e = Error::from_response(
            400,
            br#"{"error":"platform_kubernetes_attributes[api_url] is missing"}"#,
        );
        assert_eq!(
            e.rejected_parameter(),
            Some("platform_kubernetes_attributes[api_url]")
        );
        assert_eq!(
            Error::from_response(404, br#"{"message":"x"}"#).rejected_parameter(),
            None
        );
        let managed = vec!["Cannot modify managed Kubernetes cluster".to_string()];
        assert!(is_managed_cluster_refusal("base", &managed));
        assert!(is_managed_cluster_refusal("platform_kubernetes.base", &[]));
        assert!(!is_managed_cluster_refusal(
            "name",
            &["is too long".to_string()]
        ));
        let mut fields = BTreeMap::new();
        fields.insert(
            "environment_scope".to_string(),
            vec!["cannot add duplicated environment scope".to_string()],
        );
        assert!(Error::Validation { fields }.is_duplicate_environment_scope());
    }

    #[test]
    fn retried_errors_say_how_often_they_were_sent() {
        let e = Error::from_response(503, b"x").after_attempts(3);
        assert_eq!(e.attempts(), Some(3));
        assert!(e.to_string().ends_with("(after 3 attempts)"), "{e}");
        let once = Error::from_response(503, b"x");
        assert_eq!(once.attempts(), Some(1));
        assert!(!once.to_string().contains("attempts"), "{once}");
    }
}
