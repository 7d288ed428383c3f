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

/// The most of one answer the provider reads. A page of 100 clusters with their CA
/// certificates is well under 1 MiB; past this the answer is a runaway (a proxy streaming
/// forever, a list that is not GitLab's), and reading on would only grow the process.
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;

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
    /// Answered with more than [`MAX_BODY`]: reading stopped. Sending again would only
    /// fetch the same runaway answer.
    Oversized(Error),
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
                Err(AttemptError::Oversized(e)) => {
                    tracing::debug!(%method, path = %path, attempt, elapsed_ms, error = %e, "GitLab answer too large; not retried");
                    // A POST's answer was cut off by us, after GitLab may have applied it.
                    return Err(if idempotent {
                        e
                    } else {
                        Error::OutcomeUnknown {
                            detail: e.to_string(),
                        }
                    });
                }
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
                        Error::Unreachable { detail },
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
            500..=599 => {
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
        let body = self.read_body(resp, method, url).await?;
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    /// The body of an answer, at most [`MAX_BODY`] bytes of it: a longer one (declared or
    /// streamed) is an error naming the request, and what was read is dropped.
    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        method: &Method,
        url: &Url,
    ) -> Result<Bytes, AttemptError> {
        let too_large = || {
            AttemptError::Oversized(Error::TooLarge {
                request: format!("{method} {}", url.path()),
                limit: MAX_BODY,
            })
        };
        let declared = resp.content_length().unwrap_or(0);
        if declared > MAX_BODY as u64 {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared as usize);
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify(&e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    fn classify(&self, e: &reqwest::Error) -> AttemptError {
        if let Some(kind) = tls::classify(e, self.extra_roots, self.has_client_cert) {
            AttemptError::Tls(kind)
        } else if e.is_connect() {
            AttemptError::NotSent(connect_failure(e))
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

/// Why a connection to GitLab did not come about, in words naming what is (not) at the
/// other end: nothing listening, a host name that does not resolve, no route, no answer.
fn connect_failure(e: &reqwest::Error) -> String {
    let at = e.url().map_or_else(
        || "GitLab".to_string(),
        |u| {
            let host = u.host_str().unwrap_or("?");
            match u.port_or_known_default() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            }
        },
    );
    let host = e.url().and_then(|u| u.host_str()).unwrap_or("GitLab");
    let chain = error_chain(e);
    let io = io_error(e);
    use std::io::ErrorKind as K;
    match io.map(std::io::Error::kind) {
        Some(K::ConnectionRefused) => {
            format!(
                "nothing listens on {at} (connection refused): check the host and port of base_url, and that GitLab is running"
            )
        }
        Some(K::HostUnreachable | K::NetworkUnreachable) => {
            format!(
                "there is no route to {at} ({}): check base_url and this machine's network",
                io_text(io)
            )
        }
        _ if chain.contains("dns error") => format!(
            "the host name {host} does not resolve ({}): check the host name in base_url",
            io.map_or_else(|| last_source(e), |i| io_text(Some(i)))
        ),
        Some(K::TimedOut) => format!(
            "{at} did not accept a connection in time: check base_url, and any firewall or proxy on the way"
        ),
        _ if e.is_timeout() => format!(
            "{at} did not accept a connection in time: check base_url, and any firewall or proxy on the way"
        ),
        _ => format!("the connection to {at} failed ({})", last_source(e)),
    }
}

/// The innermost `io::Error` under `e`, descending through `io::Error::get_ref` as well.
fn io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut found = None;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        cur = match err.downcast_ref::<std::io::Error>() {
            Some(io) => {
                found = Some(io);
                io.get_ref()
                    .map(|i| i as &(dyn std::error::Error + 'static))
            }
            None => err.source(),
        };
    }
    found
}

fn io_text(io: Option<&std::io::Error>) -> String {
    io.map_or_else(String::new, |i| i.to_string())
}

/// The last message of `e`'s source chain: the lowest-level reason.
fn last_source(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        last = inner.to_string();
        cur = inner.source();
    }
    last
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

    /// A transport to `base` with 10 retries and a short backoff, as a user's defaults would be.
    fn transport_to(base: &str) -> Transport {
        let cfg = ClientConfig {
            base_url: base.into(),
            token: Secret::new("t"),
            retries: 10,
            backoff_base: Duration::from_millis(200),
            ..ClientConfig::default()
        };
        Transport::new(&cfg, CancellationToken::new()).unwrap()
    }

    #[tokio::test]
    async fn nothing_listening_fails_at_once_and_says_so() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = transport_to(&format!("http://127.0.0.1:{port}/"));
        let started = Instant::now();
        let e = t
            .send(Method::GET, t.url(&["user"], &[]), None)
            .await
            .err()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2), "retried: {e}");
        let Error::Unreachable { detail } = &e else {
            panic!("{e:?}")
        };
        assert!(
            detail.starts_with(&format!(
                "nothing listens on 127.0.0.1:{port} (connection refused)"
            )),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn an_unknown_host_fails_at_once_and_says_so() {
        let t = transport_to("https://gitlab.host.invalid/");
        let e = t
            .send(Method::GET, t.url(&["user"], &[]), None)
            .await
            .err()
            .unwrap();
        let Error::Unreachable { detail } = &e else {
            panic!("{e:?}")
        };
        assert!(
            detail.starts_with("the host name gitlab.host.invalid does not resolve"),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn https_to_a_plain_http_server_fails_at_once_saying_use_http() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            }
        });
        let t = transport_to(&format!("https://127.0.0.1:{port}/"));
        let e = t
            .send(Method::GET, t.url(&["user"], &[]), None)
            .await
            .err()
            .unwrap();
        server.abort();
        assert!(
            matches!(
                &e,
                Error::Tls {
                    kind: TlsFailure::NotTls,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("use http://"), "{e}");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
