//! The GitLab API client: one pooled reqwest (rustls) client per provider instance, typed
//! calls for the group clusters endpoints, retries with backoff and jitter for 429
//! (honouring Retry-After), 502/503/504 and connection errors, and cancellation. A POST is
//! never blindly repeated: when its outcome is unknown the cluster is looked up first.
//! Credentials: the token as `PRIVATE-TOKEN` unless `headers` carry GitLab credentials
//! themselves, and `base_url` user info as HTTP Basic auth (as Go's net/http sends it);
//! no URL this client prints or logs carries a password.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::error::Error;
use super::types::{Cluster, CreateCluster, CurrentUser, UpdateCluster};
use crate::secret::Secret;

/// Characters kept as-is in a path segment; everything else (`/` in group paths
/// included) is percent-encoded, as GitLab expects for `:id`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The largest page GitLab serves.
const MAX_PER_PAGE: u32 = 100;
/// Upper bound on a single wait between attempts, whatever Retry-After says.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// How to reach GitLab.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// May carry user info (`https://user:password@host/`): sent as Basic auth.
    pub base_url: String,
    pub token: Secret,
    /// Send `token` as a CI/CD job token (`JOB-TOKEN`) instead of `PRIVATE-TOKEN`.
    pub job_token: bool,
    /// PEM CA certificate(s) to trust in addition to the system roots.
    pub ca_cert_pem: Option<Vec<u8>>,
    pub insecure: bool,
    /// PEM client certificate and its private key, for mutual TLS.
    pub client_cert_pem: Option<(Vec<u8>, Secret)>,
    /// Extra headers; their values may be credentials, so they are secrets.
    pub headers: BTreeMap<String, Secret>,
    /// Retries after the first attempt.
    pub retries: u32,
    pub timeout: Duration,
    /// First backoff step; doubled per attempt, with jitter.
    pub backoff_base: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: "https://gitlab.com/api/v4/".into(),
            token: Secret::new(""),
            job_token: false,
            ca_cert_pem: None,
            insecure: false,
            client_cert_pem: None,
            headers: BTreeMap::new(),
            retries: 10,
            timeout: Duration::from_secs(60),
            backoff_base: Duration::from_millis(250),
        }
    }
}

/// Which configuration setting is wrong, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("base_url {0:?} is not an http(s) URL")]
    BaseUrl(String),
    #[error(
        "base_url {0:?} names another API version than GitLab's REST API v4 (v3 was removed in GitLab 11.0): use /api/v4 or leave the path out"
    )]
    ApiVersion(String),
    #[error("the CA certificate is not valid PEM: {0}")]
    CaCert(String),
    #[error("the client certificate or key is not valid PEM: {0}")]
    ClientCert(String),
    #[error("header {0:?} is not a valid HTTP header")]
    Header(String),
    #[error("the token contains characters that cannot be sent in an HTTP header")]
    Token,
    #[error("could not build the HTTP client: {0}")]
    Build(String),
}

/// A configured GitLab API client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The API base, without user info.
    base: Url,
    headers: HeaderMap,
    retries: u32,
    timeout: Duration,
    backoff_base: Duration,
    cancel: CancellationToken,
    pacer: std::sync::Arc<super::pacer::Pacer>,
    /// For naming TLS failures: CA certificates besides the system's, a client certificate.
    extra_roots: bool,
    has_client_cert: bool,
}

/// A cluster created by [`Client::create_cluster`]; `adopted` when the POST's response
/// was lost and the cluster was found by lookup instead.
#[derive(Debug)]
pub struct Created {
    pub cluster: Cluster,
    pub adopted: bool,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// Why an attempt failed, for the retry decision.
enum AttemptError {
    /// Never reached GitLab: safe to retry any method.
    NotSent(String),
    /// TLS verification failed (ours of GitLab's certificate, or GitLab's of ours):
    /// retrying cannot help.
    Tls(super::tls::TlsFailure),
    /// Sent, but no complete response: applied or not, nobody knows.
    Unknown(Error),
    Cancelled,
}

/// Normalises `base_url`: with or without `/api/v4`, with or without a trailing slash;
/// repeated slashes are one (GitLab has no empty path segment). User info is kept.
pub fn api_base(base_url: &str) -> Result<Url, ConfigError> {
    let bad = || ConfigError::BaseUrl(masked_url(base_url));
    let mut u = Url::parse(base_url.trim()).map_err(|_| bad())?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(bad());
    }
    let segments: Vec<&str> = u.path().split('/').filter(|s| !s.is_empty()).collect();
    if let [.., "api", v] = segments.as_slice()
        && *v != "v4"
    {
        return Err(ConfigError::ApiVersion(masked_url(base_url)));
    }
    let mut path = format!("/{}", segments.join("/"));
    if !path.ends_with("/api/v4") {
        path = format!("{}/api/v4", path.trim_end_matches('/'));
    }
    path.push('/');
    u.set_path(&path);
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// `url` with the password of its user info replaced by `***`: for every message and log
/// line that shows a URL. Text that does not parse as a URL is masked by hand.
pub fn masked_url(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => mask_userinfo_text(url),
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`, for strings no URL parser takes.
fn mask_userinfo_text(s: &str) -> String {
    let Some(scheme_end) = s.find("://") else {
        return s.to_string();
    };
    let rest = &s[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{}{user}:***@{}", &s[..scheme_end + 3], &rest[at + 1..])
        }
        None => s.to_string(),
    }
}

/// The user name and password of `base_url`'s user info (percent-decoded), if any.
pub fn user_info(base_url: &str) -> Option<(String, String)> {
    let u = Url::parse(base_url.trim()).ok()?;
    if u.username().is_empty() && u.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((decode(u.username()), decode(u.password().unwrap_or(""))))
}

/// The header in `headers` that carries GitLab credentials itself, so `token` is neither
/// needed nor sent (it would lose against it anyway): `PRIVATE-TOKEN`, or `Authorization`
/// with the `Bearer` scheme (GitLab takes access tokens as OAuth bearer tokens). An
/// `Authorization` of another scheme (Basic, for a proxy) is not GitLab's, and the token
/// is still sent.
pub fn credential_header<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    headers.into_iter().find_map(|(k, v)| {
        let bearer = v
            .trim_start()
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer "));
        (k.eq_ignore_ascii_case("private-token")
            || (k.eq_ignore_ascii_case("authorization") && bearer))
            .then(|| k.to_string())
    })
}

impl Client {
    pub fn new(cfg: &ClientConfig, cancel: CancellationToken) -> Result<Client, ConfigError> {
        let mut base = api_base(&cfg.base_url)?;
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|_| ConfigError::Header(k.clone()))?;
            let mut value =
                HeaderValue::from_str(v.expose()).map_err(|_| ConfigError::Header(k.clone()))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let in_headers =
            credential_header(cfg.headers.iter().map(|(k, v)| (k.as_str(), v.expose())));
        let token = cfg.token.expose().trim();
        if in_headers.is_none() && !token.is_empty() {
            let mut token = HeaderValue::from_str(token).map_err(|_| ConfigError::Token)?;
            token.set_sensitive(true);
            // A CI/CD job token goes in GitLab's JOB-TOKEN header.
            let header = if cfg.job_token {
                "JOB-TOKEN"
            } else {
                "PRIVATE-TOKEN"
            };
            headers.insert(header, token);
        }
        // User info travels as Basic auth, as Go's net/http sends it, unless an
        // Authorization header is configured; it never stays in a URL.
        if let Some((user, password)) = user_info(&cfg.base_url) {
            if !headers.contains_key(reqwest::header::AUTHORIZATION) {
                use base64::Engine as _;
                let b64 =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                let mut v = HeaderValue::from_str(&format!("Basic {b64}"))
                    .map_err(|_| ConfigError::Header("base_url user info".into()))?;
                v.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, v);
            }
            let _ = base.set_username("");
            let _ = base.set_password(None);
        }

        let tls = super::tls::client_config(&super::tls::TlsOptions {
            ca_pem: cfg.ca_cert_pem.as_deref(),
            insecure: cfg.insecure,
            identity: cfg
                .client_cert_pem
                .as_ref()
                .map(|(c, k)| (c.as_slice(), k.expose())),
        })
        .map_err(|e| match e {
            super::tls::TlsConfigError::CaCert(d) => ConfigError::CaCert(d),
            super::tls::TlsConfigError::ClientCert(d) => ConfigError::ClientCert(d),
        })?;
        let b = reqwest::Client::builder()
            .user_agent(concat!(
                "terraform-provider-gitlab/",
                env!("CARGO_PKG_VERSION")
            ))
            .connect_timeout(Duration::from_secs(10).min(cfg.timeout))
            .timeout(cfg.timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(tls);
        let http = b.build().map_err(|e| ConfigError::Build(error_chain(&e)))?;
        Ok(Client {
            http,
            base,
            headers,
            retries: cfg.retries,
            timeout: cfg.timeout,
            backoff_base: cfg.backoff_base,
            cancel,
            pacer: Default::default(),
            extra_roots: cfg.ca_cert_pem.is_some(),
            has_client_cert: cfg.client_cert_pem.is_some(),
        })
    }

    /// The API base URL requests go to (never with user info).
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// How many times a request is retried after the first attempt.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
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

    /// `GET /user`: checks the token.
    pub async fn current_user(&self) -> Result<CurrentUser, Error> {
        let r = self
            .call(Method::GET, self.url(&["user"], &[]), None, true)
            .await?;
        decode(&r.body, "user")
    }

    /// One page of `GET /groups/:id/clusters`; returns the next page number, if any.
    pub async fn list_clusters_page(
        &self,
        group: &str,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<Cluster>, Option<u32>), Error> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let url = self.url(
            &["groups", group, "clusters"],
            &[
                ("page", page.to_string()),
                ("per_page", per_page.to_string()),
            ],
        );
        let r = self.call(Method::GET, url, None, true).await?;
        let items: Vec<Cluster> = decode(&r.body, "list of clusters")?;
        let next = match r.headers.get("x-next-page").and_then(|v| v.to_str().ok()) {
            Some(v) => v.trim().parse().ok(),
            // Without pagination headers, a full page may have a successor.
            None => (items.len() as u32 >= per_page).then_some(page + 1),
        };
        Ok((items, next))
    }

    /// Every cluster of a group, all pages.
    pub async fn list_clusters(&self, group: &str) -> Result<Vec<Cluster>, Error> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let (items, next) = self.list_clusters_page(group, page, MAX_PER_PAGE).await?;
            let empty = items.is_empty();
            all.extend(items);
            match next {
                Some(n) if n > page && !empty => page = n,
                _ => return Ok(all),
            }
        }
    }

    /// `GET /groups/:id/clusters/:cluster_id`.
    pub async fn get_cluster(&self, group: &str, id: i64) -> Result<Cluster, Error> {
        let url = self.url(&["groups", group, "clusters", &id.to_string()], &[]);
        let r = self.call(Method::GET, url, None, true).await?;
        decode_cluster(&r.body)
    }

    /// `POST /groups/:id/clusters/user`. When the answer is lost (timeout, reset, 5xx from
    /// a proxy, a 2xx whose body cannot be read), the group's clusters are searched for the
    /// one this request would have made (same environment scope, name and API URL): found,
    /// it is adopted; not found, the POST is sent again. A retry that GitLab rejects as a
    /// duplicated environment scope means the earlier request landed late: adopted too.
    pub async fn create_cluster(&self, group: &str, req: &CreateCluster) -> Result<Created, Error> {
        let url = self.url(&["groups", group, "clusters", "user"], &[]);
        let body = serde_json::to_vec(req).map_err(|e| Error::Decode {
            detail: e.to_string(),
        })?;
        let mut uncertain = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self
                .call(Method::POST, url.clone(), Some(body.clone()), false)
                .await
            {
                Ok(r) => match decode_cluster(&r.body) {
                    Ok(cluster) => {
                        return Ok(Created {
                            cluster,
                            adopted: false,
                        });
                    }
                    Err(e) => Error::OutcomeUnknown {
                        detail: format!(
                            "GitLab accepted the request but its answer is unreadable: {e}"
                        ),
                    },
                },
                Err(e) => e,
            };
            match failure {
                Error::OutcomeUnknown { detail } => {
                    uncertain = true;
                    tracing::warn!(%detail, attempt, "cluster creation outcome unknown; looking the cluster up");
                    if let Some(cluster) = self.recover_created(group, req).await? {
                        return Ok(Created {
                            cluster,
                            adopted: true,
                        });
                    }
                    if attempt > self.retries {
                        return Err(Error::OutcomeUnknown { detail });
                    }
                    let delay = self.backoff(attempt);
                    tracing::info!(method = "POST", path = %log_path(&url), attempt, max_attempts = self.retries.saturating_add(1),
                        reason = %detail, delay_ms = delay.as_millis() as u64, "the cluster was not created; retrying GitLab request");
                    self.pause(delay).await?;
                }
                e if uncertain && is_duplicate_scope(&e) => {
                    return match self.recover_created(group, req).await? {
                        Some(cluster) => Ok(Created {
                            cluster,
                            adopted: true,
                        }),
                        None => Err(e),
                    };
                }
                e => return Err(e),
            }
        }
    }

    /// Looks up the cluster a request with an unknown outcome may have created. This
    /// runs even while Terraform is stopping: giving up here could orphan a cluster.
    async fn recover_created(
        &self,
        group: &str,
        req: &CreateCluster,
    ) -> Result<Option<Cluster>, Error> {
        let lookup = Client {
            cancel: CancellationToken::new(),
            retries: self.retries.min(3),
            ..self.clone()
        };
        let Some(found) = lookup.find_created(group, req).await? else {
            return Ok(None);
        };
        tracing::warn!(
            cluster_id = found.id,
            "found the cluster the lost request created; adopting it"
        );
        // The list entity lacks `group`: read it whole when possible.
        Ok(Some(
            lookup.get_cluster(group, found.id).await.unwrap_or(found),
        ))
    }

    async fn find_created(
        &self,
        group: &str,
        req: &CreateCluster,
    ) -> Result<Option<Cluster>, Error> {
        let scope = req.environment_scope.as_deref().unwrap_or("*");
        let api_url = req.platform_kubernetes_attributes.api_url.trim();
        Ok(self.list_clusters(group).await?.into_iter().find(|c| {
            c.environment_scope.as_deref().unwrap_or("*") == scope
                && c.name == req.name
                && c.platform_kubernetes
                    .as_ref()
                    .and_then(|p| p.api_url.as_deref())
                    .map(str::trim)
                    == Some(api_url)
        }))
    }

    /// `PUT /groups/:id/clusters/:cluster_id` (idempotent: retried like a GET).
    pub async fn update_cluster(
        &self,
        group: &str,
        id: i64,
        req: &UpdateCluster,
    ) -> Result<Cluster, Error> {
        let url = self.url(&["groups", group, "clusters", &id.to_string()], &[]);
        let body = serde_json::to_vec(req).map_err(|e| Error::Decode {
            detail: e.to_string(),
        })?;
        let r = self.call(Method::PUT, url, Some(body), true).await?;
        decode_cluster(&r.body)
    }

    /// `DELETE /groups/:id/clusters/:cluster_id`. A 404 is an error here; callers that
    /// treat "already gone" as success check [`Error::is_not_found`].
    pub async fn delete_cluster(&self, group: &str, id: i64) -> Result<(), Error> {
        let url = self.url(&["groups", group, "clusters", &id.to_string()], &[]);
        self.call(Method::DELETE, url, None, true).await.map(|_| ())
    }

    /// Sends a request with retries. `safe` requests (GET, PUT, DELETE) are retried on
    /// any transient failure and abandoned on cancellation; unsafe ones (POST) only when
    /// GitLab certainly did not apply them (429, connection refused), and an in-flight
    /// POST is allowed to finish so its result is not lost. Every attempt is logged with
    /// its outcome; every retry with its reason and delay.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        safe: bool,
    ) -> Result<Resp, Error> {
        let path = log_path(&url);
        let max = self.retries.saturating_add(1);
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
            let result = if safe {
                tokio::select! {
                    r = self.attempt(&method, &url, body.as_deref()) => r,
                    () = self.cancel.cancelled() => Err(AttemptError::Cancelled),
                }
            } else {
                self.attempt(&method, &url, body.as_deref()).await
            };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let last = attempt >= max;
            // Why this attempt failed and how long to wait before the next, when it is retried.
            let (reason, delay) = match result {
                Ok(r) => {
                    let status = r.status.as_u16();
                    tracing::debug!(%method, path = %path, status, attempt, elapsed_ms, "GitLab request");
                    log_response_headers(&method, &path, &r.headers);
                    if r.status.is_success() {
                        return Ok(r);
                    }
                    let retry_after = retry_after(&r.headers);
                    if status == 429 {
                        self.pacer.learn(&r.headers);
                        if last {
                            return Err(Error::RateLimited {
                                retry_after,
                                attempts: attempt,
                            });
                        }
                        let delay = retry_after.map_or_else(
                            || self.backoff(attempt),
                            |d| d + jitter(self.backoff_base),
                        );
                        let why = match retry_after {
                            Some(d) => {
                                format!("429 Too Many Requests, Retry-After {}s", d.as_secs())
                            }
                            None => "429 Too Many Requests".to_string(),
                        };
                        (why, delay)
                    } else if matches!(status, 502..=504) {
                        let message = super::error::body_message(&r.body);
                        if !safe {
                            // A proxy error after the request left: GitLab may have applied it.
                            return Err(Error::OutcomeUnknown {
                                detail: format!("GitLab answered {status} ({message})"),
                            });
                        }
                        if last {
                            return Err(
                                Error::from_response(status, &r.body).after_attempts(attempt)
                            );
                        }
                        let why = if message.starts_with(&status.to_string()) {
                            message
                        } else {
                            format!("{status} {message}")
                        };
                        (why, self.backoff(attempt))
                    } else {
                        let location = r
                            .headers
                            .get(reqwest::header::LOCATION)
                            .and_then(|v| v.to_str().ok())
                            .map(masked_url);
                        return Err(Error::from_response(status, &r.body).requested(
                            method.as_str(),
                            url.as_str(),
                            location.as_deref(),
                        ));
                    }
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
                    if last {
                        return Err(Error::Transport {
                            detail,
                            attempts: attempt,
                        });
                    }
                    (format!("not sent: {detail}"), self.backoff(attempt))
                }
                Err(AttemptError::Unknown(e)) => {
                    tracing::debug!(%method, path = %path, attempt, elapsed_ms, error = %e, "GitLab request interrupted");
                    if !safe {
                        return Err(Error::OutcomeUnknown {
                            detail: e.to_string(),
                        });
                    }
                    if last {
                        return Err(e.after_attempts(attempt));
                    }
                    (
                        format!("interrupted after {elapsed_ms} ms: {e}"),
                        self.backoff(attempt),
                    )
                }
            };
            let delay = delay.min(MAX_WAIT);
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
        if let Some(kind) = super::tls::classify(e, self.extra_roots, self.has_client_cert) {
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

    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .backoff_base
            .saturating_mul(1 << attempt.saturating_sub(1).min(6));
        let step = step.min(Duration::from_secs(16));
        // "Equal jitter": half fixed, half random, so retries spread but still back off.
        step / 2 + jitter(step / 2)
    }

    /// Sleeps, unless Terraform is stopping.
    async fn pause(&self, d: Duration) -> Result<(), Error> {
        tokio::select! {
            () = tokio::time::sleep(d.min(MAX_WAIT)) => Ok(()),
            () = self.cancel.cancelled() => Err(Error::Cancelled),
        }
    }
}

fn jitter(max: Duration) -> Duration {
    let ms = max.as_millis() as u64;
    Duration::from_millis(if ms == 0 { 0 } else { fastrand::u64(0..=ms) })
}

/// `Retry-After` in seconds (GitLab's rack-attack sends seconds).
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The path and query of a request URL, as logged (list pages differ by their query).
fn log_path(url: &Url) -> String {
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
fn error_chain(e: &dyn std::error::Error) -> String {
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

/// GitLab's answer when a group already has a cluster for the environment scope.
fn is_duplicate_scope(e: &Error) -> bool {
    matches!(e, Error::Validation { fields }
        if fields.get("environment_scope").is_some_and(|m| m.iter().any(|s| s.contains("duplicated"))))
}

fn decode<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        detail: format!("expected a {what}: {e}"),
    })
}

fn decode_cluster(body: &[u8]) -> Result<Cluster, Error> {
    let c: Cluster = decode(body, "cluster object")?;
    if c.id <= 0 {
        return Err(Error::Decode {
            detail: "the cluster object has no id".into(),
        });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_is_accepted_with_or_without_api_v4() {
        for (input, want) in [
            ("https://gitlab.com", "https://gitlab.com/api/v4/"),
            ("https://gitlab.com/api/v4/", "https://gitlab.com/api/v4/"),
            ("https://gitlab.com/api/v4", "https://gitlab.com/api/v4/"),
            (
                "http://127.0.0.1:8080/gitlab/",
                "http://127.0.0.1:8080/gitlab/api/v4/",
            ),
        ] {
            assert_eq!(api_base(input).unwrap().as_str(), want, "{input}");
        }
        assert!(api_base("gitlab.com").is_err());
        assert!(api_base("ftp://gitlab.com").is_err());
    }

    #[test]
    fn repeated_slashes_collapse_and_other_api_versions_are_refused() {
        assert_eq!(
            api_base("https://h//api/v4").unwrap().as_str(),
            "https://h/api/v4/"
        );
        assert_eq!(
            api_base("https://h/gitlab//").unwrap().as_str(),
            "https://h/gitlab/api/v4/"
        );
        for v3 in [
            "https://h/api/v3",
            "https://h/api/v3/",
            "https://h/sub/api/v3",
        ] {
            assert!(
                matches!(api_base(v3), Err(ConfigError::ApiVersion(_))),
                "{v3}"
            );
        }
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            masked_url("https://bob:hunter22@h/api/v4/"),
            "https://bob:***@h/api/v4/"
        );
        assert_eq!(masked_url("https://h/api/v4/"), "https://h/api/v4/");
        // Not a URL the parser takes (bad port): masked by hand.
        assert_eq!(
            masked_url("https://bob:p@ss:w0rd@h:99999/x"),
            "https://bob:***@h:99999/x"
        );
        let e = api_base("ftp://bob:hunter22@h/").unwrap_err().to_string();
        assert!(!e.contains("hunter22"), "{e}");
    }

    #[test]
    fn user_info_is_sent_as_basic_auth_and_removed_from_the_url() {
        let cfg = ClientConfig {
            base_url: "https://bob:p%40ss@h/".into(),
            token: Secret::new("t0ken"),
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        assert_eq!(c.base_url(), "https://h/api/v4/");
        use base64::Engine as _;
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("bob:p@ss")
        );
        assert_eq!(c.headers["authorization"], want.as_str());
        assert!(c.headers["authorization"].is_sensitive());
        assert_eq!(c.headers["private-token"], "t0ken");
        // An Authorization header of the configuration wins, as in Go's net/http.
        let mut headers = BTreeMap::new();
        headers.insert("Authorization".to_string(), Secret::new("Basic other"));
        let c = Client::new(&ClientConfig { headers, ..cfg }, CancellationToken::new()).unwrap();
        assert_eq!(c.headers["authorization"], "Basic other");
    }

    #[test]
    fn gitlab_credentials_in_headers_replace_the_token() {
        let with = |k: &str, v: &str| {
            let mut headers = BTreeMap::new();
            headers.insert(k.to_string(), Secret::new(v));
            Client::new(
                &ClientConfig {
                    base_url: "http://h/".into(),
                    token: Secret::new("from-token"),
                    headers,
                    ..ClientConfig::default()
                },
                CancellationToken::new(),
            )
            .unwrap()
        };
        let c = with("PRIVATE-TOKEN", "from-headers");
        assert_eq!(c.headers["private-token"], "from-headers");
        let c = with("authorization", "Bearer from-headers");
        assert!(c.headers.get("private-token").is_none());
        assert_eq!(c.headers["authorization"], "Bearer from-headers");
        // A proxy's Basic credentials are not GitLab's: the token is still sent.
        let c = with("Authorization", "Basic cHJveHk6cHc=");
        assert_eq!(c.headers["private-token"], "from-token");
        assert_eq!(
            credential_header([("X-Other", "Bearer x"), ("Private-Token", "y")]),
            Some("Private-Token".to_string())
        );
        assert_eq!(credential_header([("Authorization", "Basic x")]), None);
    }

    #[test]
    fn logged_paths_keep_the_page() {
        let u = Url::parse("http://h/api/v4/groups/qa/clusters?page=2&per_page=100").unwrap();
        assert_eq!(
            log_path(&u),
            "/api/v4/groups/qa/clusters?page=2&per_page=100"
        );
    }

    #[test]
    fn group_paths_are_url_encoded_as_one_segment() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new("t"),
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        let u = c.url(
            &["groups", "parent/child.x", "clusters", "12"],
            &[("page", "2".into())],
        );
        assert_eq!(
            u.as_str(),
            "http://h/api/v4/groups/parent%2Fchild.x/clusters/12?page=2"
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_bounded() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            backoff_base: Duration::from_millis(100),
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        for attempt in 1..20 {
            let step = Duration::from_millis(100)
                .saturating_mul(1 << (attempt - 1).min(6))
                .min(Duration::from_secs(16));
            let b = c.backoff(attempt);
            assert!(b >= step / 2 && b <= step, "{attempt}: {b:?}");
        }
    }

    #[test]
    fn unexpected_cluster_shapes_are_decode_errors() {
        for body in [
            &b"[]"[..],
            b"{}",
            b"\"x\"",
            b"{\"id\":\"7\"}",
            b"<html>",
            b"",
        ] {
            assert!(
                matches!(decode_cluster(body), Err(Error::Decode { .. })),
                "{body:?}"
            );
        }
        assert_eq!(decode_cluster(br#"{"id":7}"#).unwrap().id, 7);
    }

    #[test]
    fn token_header_is_marked_sensitive() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new("glpat-x"),
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        assert!(c.headers["PRIVATE-TOKEN"].is_sensitive());
        assert!(!format!("{:?}", c.headers).contains("glpat-x"));
    }

    #[test]
    fn a_job_token_is_sent_as_job_token_and_never_as_private_token() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new("glcbt-job"),
            job_token: true,
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        assert!(c.headers["JOB-TOKEN"].is_sensitive());
        assert_eq!(c.headers["JOB-TOKEN"], "glcbt-job");
        assert!(!c.headers.contains_key("PRIVATE-TOKEN"));
    }
}
