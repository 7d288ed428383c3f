//! Sending one request to GitLab until it is answered: the pooled client and the request
//! headers, pacing (each attempt waits for its turn, `pacer.rs`), the attempt itself, the
//! typed cause of a failure (TLS failures by their rustls type, see `tls.rs`), retries as
//! [`retry::decide`] says with their wait drawn at random from its bounds, cancellation,
//! and the logs of every attempt and retry (no credential, no password). Knows no
//! endpoint: URLs come from the caller, segments percent-encoded here.
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use tokio_util::sync::CancellationToken;

use super::config::{ClientConfig, ConfigError, masked_url};
use super::error::Error;
use super::pacer::Pacer;
use super::retry::{self, Decision, Outcome, Policy};
use super::tls::{self, TlsFailure};

/// Characters kept as-is in a path segment; everything else (`/` in group paths
/// included) is percent-encoded, as GitLab expects for `:id`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A successful answer.
pub(super) struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why an attempt failed, as sent to GitLab or not.
enum AttemptError {
    /// Never reached GitLab: safe to retry any method.
    NotSent(String),
    /// TLS verification failed (ours of GitLab's certificate, or GitLab's of ours):
    /// retrying cannot help.
    Tls(TlsFailure),
    /// Sent, but no complete response: applied or not, nobody knows.
    Unknown(Error),
    Cancelled,
}

/// The HTTP side of a client: where requests go, how they are sent and retried.
#[derive(Clone)]
pub(super) struct Transport {
    http: reqwest::Client,
    /// The API base, without user info.
    base: Url,
    headers: HeaderMap,
    policy: Policy,
    timeout: Duration,
    cancel: CancellationToken,
    pacer: Arc<Pacer>,
    /// For naming TLS failures: CA certificates besides the system's, a client certificate.
    extra_roots: bool,
    has_client_cert: bool,
}

impl Transport {
    pub fn new(cfg: &ClientConfig, cancel: CancellationToken) -> Result<Transport, ConfigError> {
        let (base, headers) = cfg.endpoint()?;
        Ok(Transport {
            http: cfg.http_client()?,
            base,
            headers,
            policy: Policy {
                retries: cfg.retries,
                backoff_base: cfg.backoff_base,
            },
            timeout: cfg.timeout,
            cancel,
            pacer: Default::default(),
            extra_roots: cfg.ca_cert_pem.is_some(),
            has_client_cert: cfg.client_cert_pem.is_some(),
        })
    }

    /// The same transport (connection pool and pacing shared) with at most `retries`
    /// retries and deaf to cancellation: for requests that must run while Terraform stops.
    pub fn uncancellable(&self, retries: u32) -> Transport {
        Transport {
            cancel: CancellationToken::new(),
            policy: Policy {
                retries: self.policy.retries.min(retries),
                ..self.policy
            },
            ..self.clone()
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn retries(&self) -> u32 {
        self.policy.retries
    }

    /// The API URL of these path segments (each percent-encoded as one segment) and query.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let path: Vec<String> = segments
            .iter()
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        let mut u = self.base.clone();
        u.set_path(&format!("{}{}", self.base.path(), path.join("/")));
        if !query.is_empty() {
            u.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        u
    }

    /// A wait after attempt `attempt`, drawn from [`retry::backoff`]'s bounds.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let (min, max) = retry::backoff(&self.policy, attempt);
        draw(min, max)
    }

    /// Sends a request with retries, as [`retry::decide`] says. Idempotent requests are
    /// abandoned on cancellation; a POST in flight is allowed to finish so its result is
    /// not lost. Every attempt is logged with its outcome; every retry with its reason and
    /// delay.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Resp, Error> {
        let path = log_path(&url);
        let max = self.policy.retries.saturating_add(1);
        let idempotent = retry::idempotent(&method);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            // Nothing is sent yet: waiting for our turn may always be cancelled.
            tokio::select! {
                () = self.pacer.wait() => {}
                () = self.cancel.cancelled() => return Err(Error::Cancelled),
            }
            if attempt == 1 {
                tracing::trace!(%method, path = %path, request_headers = %self.request_headers_for_log(), "GitLab request headers");
            }
            let started = Instant::now();
            let result = if idempotent {
                tokio::select! {
                    r = self.attempt(&method, &url, body.as_deref()) => r,
                    () = self.cancel.cancelled() => Err(AttemptError::Cancelled),
                }
            } else {
                self.attempt(&method, &url, body.as_deref()).await
            };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            // Why this attempt failed, what retrying thinks of it, and the error if it stops.
            let (reason, decision, error) = match result {
                Ok(r) => {
                    let status = r.status.as_u16();
                    tracing::debug!(%method, path = %path, status, attempt, elapsed_ms, "GitLab request");
                    log_response_headers(&method, &path, &r.headers);
                    if r.status.is_success() {
                        return Ok(r);
                    }
                    let retry_after = retry::retry_after(&r.headers);
                    if status == 429 {
                        self.pacer.learn(&r.headers);
                    }
                    let decision = retry::decide(
                        &self.policy,
                        &method,
                        Outcome::Status {
                            status,
                            retry_after,
                        },
                        attempt,
                    );
                    self.status_failure(&method, &url, &r, retry_after, decision, attempt)
                }
                Err(AttemptError::Cancelled) => return Err(Error::Cancelled),
                Err(AttemptError::Tls(kind)) => {
                    tracing::debug!(%method, path = %path, attempt, elapsed_ms, error = %kind, "GitLab TLS handshake failed; not retried");
                    return Err(Error::Tls {
                        host: host_port(&url),
                        kind,
                    });
                }
                Err(AttemptError::NotSent(detail)) => {
                    tracing::debug!(%method, path = %path, attempt, elapsed_ms, error = %detail, "GitLab unreachable");
                    let decision = retry::decide(&self.policy, &method, Outcome::NotSent, attempt);
                    (
                        format!("not sent: {detail}"),
                        decision,
                        Error::Transport {
                            detail,
                            attempts: attempt,
                        },
                    )
                }
                Err(AttemptError::Unknown(e)) => {
                    tracing::debug!(%method, path = %path, attempt, elapsed_ms, error = %e, "GitLab request interrupted");
                    let decision =
                        retry::decide(&self.policy, &method, Outcome::Interrupted, attempt);
                    let reason = format!("interrupted after {elapsed_ms} ms: {e}");
                    let error = match decision {
                        Decision::OutcomeUnknown => Error::OutcomeUnknown {
                            detail: e.to_string(),
                        },
                        _ => e.after_attempts(attempt),
                    };
                    (reason, decision, error)
                }
            };
            let Decision::Retry { min, max: upper } = decision else {
                return Err(error);
            };
            let delay = draw(min, upper);
            tracing::info!(
                %method,
                path = %path,
                attempt,
                max_attempts = max,
                reason = %reason,
                delay_ms = delay.as_millis() as u64,
                "retrying GitLab request"
            );
            self.pause(delay).await?;
        }
    }

    /// The retry reason and the error of a non-success answer.
    fn status_failure(
        &self,
        method: &Method,
        url: &Url,
        r: &Resp,
        retry_after: Option<Duration>,
        decision: Decision,
        attempt: u32,
    ) -> (String, Decision, Error) {
        let status = r.status.as_u16();
        match status {
            429 => {
                let why = match retry_after {
                    Some(d) => format!("429 Too Many Requests, Retry-After {}s", d.as_secs()),
                    None => "429 Too Many Requests".to_string(),
                };
                let error = Error::RateLimited {
                    retry_after,
                    attempts: attempt,
                };
                (why, decision, error)
            }
            502..=504 => {
                let message = super::error::body_message(&r.body);
                let error = match decision {
                    Decision::OutcomeUnknown => Error::OutcomeUnknown {
                        detail: format!("GitLab answered {status} ({message})"),
                    },
                    _ => Error::from_response(status, &r.body).after_attempts(attempt),
                };
                let why = if message.starts_with(&status.to_string()) {
                    message
                } else {
                    format!("{status} {message}")
                };
                (why, decision, error)
            }
            _ => {
                let location = r
                    .headers
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(masked_url);
                let error = Error::from_response(status, &r.body).requested(
                    method.as_str(),
                    url.as_str(),
                    location.as_deref(),
                );
                (String::new(), decision, error)
            }
        }
    }

    /// The request headers, values of the sensitive ones (credentials, `headers`) hidden.
    fn request_headers_for_log(&self) -> String {
        self.headers
            .iter()
            .map(|(k, v)| {
                let shown = if v.is_sensitive() {
                    "[REDACTED]"
                } else {
                    v.to_str().unwrap_or("(binary)")
                };
                format!("{k}: {shown}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<Resp, AttemptError> {
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .headers(self.headers.clone());
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        let resp = req.send().await.map_err(|e| self.classify(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| self.classify(&e))?;
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    fn classify(&self, e: &reqwest::Error) -> AttemptError {
        if let Some(kind) = tls::classify(e, self.extra_roots, self.has_client_cert) {
            AttemptError::Tls(kind)
        } else if e.is_connect() {
            AttemptError::NotSent(error_chain(e))
        } else if e.is_timeout() {
            AttemptError::Unknown(Error::Timeout {
                after: self.timeout,
                attempts: 1,
            })
        } else {
            AttemptError::Unknown(Error::Transport {
                detail: error_chain(e),
                attempts: 1,
            })
        }
    }

    /// Sleeps, unless Terraform is stopping.
    pub async fn pause(&self, d: Duration) -> Result<(), Error> {
        tokio::select! {
            () = tokio::time::sleep(d.min(retry::MAX_WAIT)) => Ok(()),
            () = self.cancel.cancelled() => Err(Error::Cancelled),
        }
    }
}

/// A wait between `min` and `max`, uniformly at random (by the millisecond).
fn draw(min: Duration, max: Duration) -> Duration {
    let spread = max.saturating_sub(min).as_millis() as u64;
    min + Duration::from_millis(if spread == 0 {
        0
    } else {
        fastrand::u64(0..=spread)
    })
}

/// The path and query of a request URL, as logged (list pages differ by their query).
pub(super) fn log_path(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.as_str().to_string(),
    }
}

/// Response headers that carry secrets (session cookies) or nothing for debugging.
fn secret_response_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "set-cookie"
        || n.contains("token")
        || n.contains("authorization")
        || n.contains("secret")
        || n.contains("session")
        || n == "cookie"
}

/// TRACE: GitLab's rate-limit figures and the other response headers, secrets left out.
fn log_response_headers(method: &Method, path: &str, h: &HeaderMap) {
    if !tracing::enabled!(tracing::Level::TRACE) {
        return;
    }
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    let headers = h
        .iter()
        .filter(|(k, _)| !secret_response_header(k.as_str()))
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("(binary)")))
        .collect::<Vec<_>>()
        .join(", ");
    tracing::trace!(
        %method,
        path = %path,
        ratelimit_limit = get("ratelimit-limit"),
        ratelimit_remaining = get("ratelimit-remaining"),
        ratelimit_reset = get("ratelimit-reset"),
        retry_after = get("retry-after"),
        response_headers = %headers,
        "GitLab response headers"
    );
}

/// An error with its sources, which carry the useful part ("certificate not trusted").
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn logged_paths_keep_the_page() {
        let u = Url::parse("http://h/api/v4/groups/qa/clusters?page=2&per_page=100").unwrap();
        assert_eq!(
            log_path(&u),
            "/api/v4/groups/qa/clusters?page=2&per_page=100"
        );
    }

    #[test]
    fn path_segments_are_url_encoded_one_by_one() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new("t"),
            ..ClientConfig::default()
        };
        let t = Transport::new(&cfg, CancellationToken::new()).unwrap();
        let u = t.url(
            &["groups", "parent/child.x", "clusters", "12"],
            &[("page", "2".into())],
        );
        assert_eq!(
            u.as_str(),
            "http://h/api/v4/groups/parent%2Fchild.x/clusters/12?page=2"
        );
    }

    #[test]
    fn backoff_waits_are_drawn_within_the_policy_bounds() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            backoff_base: Duration::from_millis(100),
            ..ClientConfig::default()
        };
        let t = Transport::new(&cfg, CancellationToken::new()).unwrap();
        for attempt in 1..20 {
            let step = Duration::from_millis(100)
                .saturating_mul(1 << (attempt - 1).min(6))
                .min(Duration::from_secs(16));
            let b = t.backoff(attempt);
            assert!(b >= step / 2 && b <= step, "{attempt}: {b:?}");
        }
        assert_eq!(
            draw(Duration::from_secs(2), Duration::from_secs(2)),
            Duration::from_secs(2)
        );
    }
}
