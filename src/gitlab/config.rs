//! How to reach GitLab: [`ClientConfig`] (URL, credentials, TLS, retries, timeouts), the
//! normalised API base URL, and what a configuration is built into: the headers of every
//! request and the pooled reqwest (rustls) client. Credentials: the token as
//! `Authorization: Bearer`, as the official provider sends it (GitLab takes personal,
//! project and group access tokens and OAuth2 tokens so), or `JOB-TOKEN` for a CI/CD job
//! token, unless `headers` carry GitLab credentials themselves; `base_url` user info as HTTP
//! Basic auth (as Go's net/http sends it), the token then in `PRIVATE-TOKEN`; no URL built
//! here keeps a password, and every credential header is marked sensitive.
use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::tls;
use crate::secret::Secret;

/// How to reach GitLab.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// May carry user info (`https://user:password@host/`): sent as Basic auth.
    pub base_url: String,
    pub token: Secret,
    /// Send `token` as a CI/CD job token (`JOB-TOKEN`) instead of a bearer token.
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
    #[error("base_url {shown:?} is not an http(s) URL{hint}", shown = .0, hint = scheme_hint(.0))]
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

/// The fix of a `base_url` without a scheme (`gitlab.example.com`): the same with `https://`.
fn scheme_hint(shown: &str) -> String {
    let t = shown.trim();
    if t.is_empty()
        || t.contains("://")
        || t.starts_with('/')
        || t.contains(char::is_whitespace)
        || may_hold_credentials(t)
    {
        return String::new();
    }
    let fixed = format!("https://{}", t.trim_end_matches('/'));
    match Url::parse(&fixed) {
        Ok(u) if u.host_str().is_some() => {
            format!(": it needs a scheme, e.g. \"{fixed}/\" (or http:// for a GitLab without TLS)")
        }
        _ => String::new(),
    }
}

impl ClientConfig {
    /// The API base URL requests go to, without user info, and the headers every request
    /// carries (credentials marked sensitive).
    pub(super) fn endpoint(&self) -> Result<(Url, HeaderMap), ConfigError> {
        let mut base = api_base(&self.base_url)?;
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|_| ConfigError::Header(k.clone()))?;
            let mut value =
                HeaderValue::from_str(v.expose()).map_err(|_| ConfigError::Header(k.clone()))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let in_headers =
            credential_header(self.headers.iter().map(|(k, v)| (k.as_str(), v.expose())));
        let token = self.token.expose().trim();
        if in_headers.is_none() && !token.is_empty() {
            // A CI/CD job token goes in GitLab's JOB-TOKEN header. Any other token is a bearer
            // token, as the official provider sends it: GitLab's auth finders take an OAuth2
            // token only so, and personal, project and group access tokens so too. When the
            // Authorization header is taken (configured `headers`, `base_url` user info sent
            // as Basic auth), an access token still reaches GitLab as PRIVATE-TOKEN.
            let (name, value) = if self.job_token {
                ("job-token", token.to_string())
            } else if headers.contains_key(reqwest::header::AUTHORIZATION)
                || user_info(&self.base_url).is_some()
            {
                ("private-token", token.to_string())
            } else {
                (
                    reqwest::header::AUTHORIZATION.as_str(),
                    format!("Bearer {token}"),
                )
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| ConfigError::Token)?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static(name), value);
        }
        // User info travels as Basic auth, as Go's net/http sends it, unless an
        // Authorization header is configured; it never stays in a URL.
        if let Some((user, password)) = user_info(&self.base_url) {
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
        Ok((base, headers))
    }

    /// The pooled HTTP client: rustls as [`tls::client_config`] builds it, connect and
    /// request timeouts, no redirects followed (a redirect means `base_url` is not the API).
    pub(super) fn http_client(&self) -> Result<reqwest::Client, ConfigError> {
        let tls = tls::client_config(&tls::TlsOptions {
            ca_pem: self.ca_cert_pem.as_deref(),
            insecure: self.insecure,
            identity: self
                .client_cert_pem
                .as_ref()
                .map(|(c, k)| (c.as_slice(), k.expose())),
        })
        .map_err(|e| match e {
            tls::TlsConfigError::CaCert(d) => ConfigError::CaCert(d),
            tls::TlsConfigError::ClientCert(d) => ConfigError::ClientCert(d),
        })?;
        reqwest::Client::builder()
            .user_agent(concat!(
                "terraform-provider-gitlab/",
                env!("CARGO_PKG_VERSION")
            ))
            .connect_timeout(Duration::from_secs(10).min(self.timeout))
            .timeout(self.timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| ConfigError::Build(super::transport::error_chain(&e)))
    }
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
/// The user info runs to the last `@` before any `?` or `#`, so a password with a `/` in it
/// (which no parser takes as one) is masked too.
fn mask_userinfo_text(s: &str) -> String {
    let Some(scheme_end) = s.find("://") else {
        return s.to_string();
    };
    let rest = &s[scheme_end + 3..];
    let before_query = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    match before_query.rfind('@') {
        Some(at) => {
            let user = before_query[..at].split([':', '/']).next().unwrap_or("");
            format!("{}{user}:***@{}", &s[..scheme_end + 3], &rest[at + 1..])
        }
        None => s.to_string(),
    }
}

/// Whether `base_url` may carry credentials (user info: an `@` before any `?` or `#`),
/// whether or not it parses. Terraform prints the configuration line a diagnostic points
/// at, so a diagnostic about such a `base_url` must not point at it.
pub fn may_hold_credentials(base_url: &str) -> bool {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    rest[..rest.find(['?', '#']).unwrap_or(rest.len())].contains('@')
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
        // A `/` in the password: no parser takes it, and it is still masked.
        assert_eq!(masked_url("https://bob:pa/ss@h/"), "https://bob:***@h/");
        let e = api_base("https://bob:pa/ss@h:99999/")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("pa/ss"), "{e}");
        for (url, holds) in [
            ("https://bob:pw@h/", true),
            ("https://bob@h/", true),
            ("https://bob:pa/ss@h:99999/", true),
            ("bob:pw@h", true),
            ("https://h/api/v4", false),
            ("https://h/?q=a@b", false),
        ] {
            assert_eq!(may_hold_credentials(url), holds, "{url}");
        }
    }

    #[test]
    fn a_base_url_without_a_scheme_is_shown_its_fix() {
        let e = api_base("gitlab.example.com").unwrap_err().to_string();
        assert_eq!(
            e,
            "base_url \"gitlab.example.com\" is not an http(s) URL: it needs a scheme, e.g. \
             \"https://gitlab.example.com/\" (or http:// for a GitLab without TLS)"
        );
        let e = api_base("gitlab.example.com:8443/gitlab/")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"https://gitlab.example.com:8443/gitlab/\""),
            "{e}"
        );
        // Another scheme is not missing one.
        let e = api_base("ftp://h/").unwrap_err().to_string();
        assert!(!e.contains("needs a scheme"), "{e}");
    }

    #[test]
    fn user_info_is_sent_as_basic_auth_and_removed_from_the_url() {
        let cfg = ClientConfig {
            base_url: "https://bob:p%40ss@h/".into(),
            token: Secret::new("t0ken"),
            ..ClientConfig::default()
        };
        let (base, headers) = cfg.endpoint().unwrap();
        assert_eq!(base.as_str(), "https://h/api/v4/");
        use base64::Engine as _;
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("bob:p@ss")
        );
        assert_eq!(headers["authorization"], want.as_str());
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(headers["private-token"], "t0ken");
        // An Authorization header of the configuration wins, as in Go's net/http.
        let mut configured = BTreeMap::new();
        configured.insert("Authorization".to_string(), Secret::new("Basic other"));
        let (_, headers) = ClientConfig {
            headers: configured,
            ..cfg
        }
        .endpoint()
        .unwrap();
        assert_eq!(headers["authorization"], "Basic other");
    }

    #[test]
    fn gitlab_credentials_in_headers_replace_the_token() {
        let with = |k: &str, v: &str| {
            let mut headers = BTreeMap::new();
            headers.insert(k.to_string(), Secret::new(v));
            ClientConfig {
                base_url: "http://h/".into(),
                token: Secret::new("from-token"),
                headers,
                ..ClientConfig::default()
            }
            .endpoint()
            .unwrap()
            .1
        };
        let h = with("PRIVATE-TOKEN", "from-headers");
        assert_eq!(h["private-token"], "from-headers");
        let h = with("authorization", "Bearer from-headers");
        assert!(h.get("private-token").is_none());
        assert_eq!(h["authorization"], "Bearer from-headers");
        // A proxy's Basic credentials are not GitLab's: the token is still sent.
        let h = with("Authorization", "Basic cHJveHk6cHc=");
        assert_eq!(h["private-token"], "from-token");
        assert_eq!(
            credential_header([("X-Other", "Bearer x"), ("Private-Token", "y")]),
            Some("Private-Token".to_string())
        );
        assert_eq!(credential_header([("Authorization", "Basic x")]), None);
    }

    #[test]
    fn a_token_is_sent_as_a_bearer_token_marked_sensitive() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new(" glpat-x "),
            ..ClientConfig::default()
        };
        let (_, headers) = cfg.endpoint().unwrap();
        assert_eq!(headers["authorization"], "Bearer glpat-x");
        assert!(headers["authorization"].is_sensitive());
        assert!(!headers.contains_key("PRIVATE-TOKEN"));
        assert!(!format!("{headers:?}").contains("glpat-x"));
        // With the Authorization header taken by a proxy's credentials, an access token
        // still reaches GitLab, as PRIVATE-TOKEN.
        let mut proxy = BTreeMap::new();
        proxy.insert("Proxy-Authorization".to_string(), Secret::new("Basic x"));
        let (_, h) = ClientConfig {
            headers: proxy,
            ..cfg.clone()
        }
        .endpoint()
        .unwrap();
        assert_eq!(h["authorization"], "Bearer glpat-x");
        assert!(
            ClientConfig {
                token: Secret::new("bad\ntoken"),
                ..cfg
            }
            .endpoint()
            .is_err_and(|e| matches!(e, ConfigError::Token))
        );
    }

    #[test]
    fn a_job_token_is_sent_as_job_token_and_never_as_private_token() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new("glcbt-job"),
            job_token: true,
            ..ClientConfig::default()
        };
        let (_, headers) = cfg.endpoint().unwrap();
        assert!(headers["JOB-TOKEN"].is_sensitive());
        assert_eq!(headers["JOB-TOKEN"], "glcbt-job");
        assert!(!headers.contains_key("PRIVATE-TOKEN"));
    }
}
