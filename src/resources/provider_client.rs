//! Configuring the provider into a GitLab API client, along one path: the settings of the
//! connection come from the provider block (and `GITLAB_*` variables), or, when no token is
//! set, from a context of GitLab's client configuration file or the CI job, as in the
//! official provider; the block's `headers`, `retries` and `request_timeout` apply to
//! either. Every secret met on the way is taught to the redactor; every failure is a
//! diagnostic on the attribute that fixes it, and `GET /user` checks the token first
//! (`early_auth_check`).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::errors::diagnostics;
use super::provider::{
    DEFAULT_BASE_URL, DEFAULT_RETRIES, DEFAULT_TIMEOUT_SECONDS, GitlabProvider, ProviderConfig,
    ProviderData, given,
};
use crate::framework::prelude::{Diagnostic, Diagnostics};
use crate::gitlab::config::{credential_header, masked_url, user_info};
use crate::gitlab::config_file::{self, Field, Settings};
use crate::gitlab::{Client, ClientConfig, ConfigError, Error};
use crate::secret::Secret;

/// Where a connection's settings came from: what its diagnostics say and point at.
enum Origin {
    /// The provider block; `shown_url` is its base URL with the password masked.
    Block { shown_url: String },
    /// A configuration file's context, or the CI job.
    File {
        source: String,
        context: String,
        base_url: String,
        job_token: bool,
        /// The attribute that chose it: `config_file` or `enable_auto_ci_support`.
        attr: &'static str,
    },
}

/// The settings one source gives: all of a [`ClientConfig`] but what the block always adds.
struct Connection {
    base_url: String,
    token: Secret,
    job_token: bool,
    ca_cert_pem: Option<Vec<u8>>,
    insecure: bool,
    client_cert_pem: Option<(Vec<u8>, Secret)>,
    /// The source's own headers; the block's are laid over them.
    headers: BTreeMap<String, Secret>,
    /// The source's own retry count, which wins over the block's `retries`.
    retries: Option<u32>,
    origin: Origin,
}

impl GitlabProvider {
    pub(super) async fn configure_client(
        &self,
        c: ProviderConfig,
        cancel: CancellationToken,
    ) -> Result<ProviderData, Diagnostics> {
        reject_unknown(&c)?;
        let headers = block_headers(&c);
        for v in headers.values() {
            self.redactor.add(v.expose());
        }
        let connection = match self.file_settings(&c)? {
            Some(s) => from_file(s),
            None => self.block_settings(&c, &headers)?,
        };
        let cfg = client_config(&c, &connection, headers);
        let client = Client::new(&cfg, cancel).map_err(|e| connection.origin.invalid_config(&e))?;
        if early_auth_enabled(&c) {
            connection.origin.check_token(&client).await?;
        }
        Ok(ProviderData { client })
    }

    /// The connection the provider block describes (its `GITLAB_*` fallbacks already filled in
    /// by the framework).
    fn block_settings(
        &self,
        c: &ProviderConfig,
        headers: &BTreeMap<String, Secret>,
    ) -> Result<Connection, Diagnostics> {
        let base_url = given(&c.base_url)
            .map(str::to_string)
            .unwrap_or_else(|| DEFAULT_BASE_URL.into());
        // A password in base_url's user info is sent as Basic auth: never shown.
        if let Some((user, password)) = user_info(&base_url) {
            use base64::Engine as _;
            self.redactor.add(&password);
            if let Some(raw) = url::Url::parse(base_url.trim())
                .ok()
                .and_then(|u| u.password().map(str::to_string))
            {
                self.redactor.add(&raw);
            }
            self.redactor.add(
                &base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")),
            );
        }
        let shown_url = masked_url(&base_url);
        let header_credential =
            credential_header(headers.iter().map(|(k, v)| (k.as_str(), v.expose())));
        let token = match c
            .token
            .known()
            .map(|t| t.expose().to_string())
            .filter(|t| !t.trim().is_empty())
        {
            Some(t) if !t.trim().is_empty() => Secret::new(t.trim()),
            _ if header_credential.is_some() => Secret::new(""),
            _ => {
                return Err(Diagnostic::error(
                    "Missing GitLab token",
                    "The GitLab provider needs an API token: set `token` in the provider block or the GITLAB_TOKEN \
                     environment variable (or send it yourself in `headers`, as PRIVATE-TOKEN or \
                     \"Authorization\" = \"Bearer ...\"). The token needs the `api` scope and the Maintainer role on \
                     the groups whose clusters it manages.",
                )
                .at_attr("token")
                .into());
            }
        };
        if let Some(h) = &header_credential
            && !token.expose().is_empty()
        {
            tracing::warn!(header = %h, "headers carry GitLab credentials: they are sent, and `token` is not");
        }
        self.redactor.add(token.expose());
        let ca_cert_pem = match given(&c.cacert_file) {
            Some(p) => Some(read_file("cacert_file", p)?),
            None => None,
        };
        Ok(Connection {
            base_url,
            token,
            job_token: false,
            ca_cert_pem,
            insecure: c.insecure.known().copied().unwrap_or(false),
            client_cert_pem: self.client_identity(c)?,
            headers: BTreeMap::new(),
            retries: None,
            origin: Origin::Block { shown_url },
        })
    }

    /// `client_cert` and `client_key`, read and checked: PEM, and a key type that can sign.
    fn client_identity(
        &self,
        c: &ProviderConfig,
    ) -> Result<Option<(Vec<u8>, Secret)>, Diagnostics> {
        let (Some(cert), Some(key)) = (given(&c.client_cert), given(&c.client_key)) else {
            return Ok(None);
        };
        // `client_key` is a file's path, as in the official provider. A key pasted in its
        // place is a secret: learnt by the redactor, never quoted, and the diagnostic points
        // at no line (Terraform would print it, key and all).
        if !plausible_path(key) {
            self.redactor.add(key.trim());
            return Err(Diagnostic::error(
                "Invalid client_key",
                "client_key holds the key itself (PEM text), not the path of a file. Write the private key to a \
                 file and set client_key to its path, as the official provider reads it.",
            )
            .into());
        }
        let key = String::from_utf8(read_file("client_key", key)?).map_err(|_| {
            Diagnostics::from(
                Diagnostic::error("Invalid client_key", "The key file is not PEM text.")
                    .at_attr("client_key"),
            )
        })?;
        self.redactor.add(key.trim());
        use rustls::pki_types::pem::PemObject;
        let Ok(key_der) = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()) else {
            return Err(Diagnostic::error(
                "Invalid client_key",
                "The file holds no PEM private key (PKCS#8, PKCS#1 or SEC1).",
            )
            .at_attr("client_key")
            .into());
        };
        let provider = crate::tls_provider::provider();
        if provider.key_provider.load_private_key(key_der).is_err() {
            return Err(Diagnostic::error(
                "Unsupported client_key",
                "The private key's type cannot sign TLS handshakes here: use an RSA \
                 (2048-8192 bits), ECDSA P-256 or P-384, or Ed25519 key.",
            )
            .at_attr("client_key")
            .into());
        }
        if !plausible_path(cert) {
            return Err(Diagnostic::error(
                "Invalid client_cert",
                "client_cert holds the certificate itself (PEM text), not the path of a file. Write it to a file \
                 and set client_cert to its path, as the official provider reads it.",
            )
            .at_attr("client_cert")
            .into());
        }
        let cert_pem = read_file("client_cert", cert)?;
        if !rustls::pki_types::CertificateDer::pem_slice_iter(&cert_pem).any(|c| c.is_ok()) {
            return Err(Diagnostic::error(
                "Invalid client_cert",
                "The file holds no PEM certificate.",
            )
            .at_attr("client_cert")
            .into());
        }
        Ok(Some((cert_pem, Secret::new(key))))
    }

    /// The official provider's configuration when no token is set: the GitLab CI job's
    /// (`enable_auto_ci_support`) or a context of the GitLab client config file
    /// (`config_file`, `context`), whose settings replace `base_url`, `cacert_file`,
    /// `insecure` and `client_cert`/`client_key` as they do there. `None` when a token is
    /// set or there is no file, leaving the provider block to say it all.
    fn file_settings(&self, c: &ProviderConfig) -> Result<Option<Settings>, Diagnostics> {
        let has_token = c
            .token
            .known()
            .is_some_and(|t| !t.expose().trim().is_empty());
        if has_token {
            return Ok(None);
        }
        // The framework has filled what the block leaves unset from the schema's environment
        // variables (GITLAB_TOKEN, GITLAB_CONFIG_FILE, GITLAB_CONTEXT, ...).
        let path = c.config_file.known().cloned().filter(|p| !p.is_empty());
        let context = c.context.known().cloned().filter(|p| !p.is_empty());
        let request = config_file::Request {
            path: path.as_deref(),
            context: context.as_deref(),
            auto_ci: c.enable_auto_ci_support.known().copied().unwrap_or(false),
        };
        let s = match config_file::resolve(&request, &config_file::process_env) {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) => {
                let (summary, attr) = match e.field {
                    Field::ConfigFile => ("Invalid GitLab configuration file", "config_file"),
                    Field::Context => ("Unknown GitLab configuration context", "context"),
                    Field::AutoCi => (
                        "Cannot use the GitLab CI job's settings",
                        "enable_auto_ci_support",
                    ),
                };
                return Err(Diagnostic::error(summary, format!("{e}."))
                    .at_attr(attr)
                    .into());
            }
        };
        for secret in s.secrets() {
            self.redactor.add(secret);
        }
        let ignored: Vec<&str> = [
            ("base_url", c.base_url.is_null()),
            ("cacert_file", c.cacert_file.is_null()),
            ("insecure", c.insecure.is_null()),
            ("client_cert", c.client_cert.is_null()),
        ]
        .into_iter()
        .filter_map(|(k, null)| (!null).then_some(k))
        .collect();
        if !ignored.is_empty() {
            tracing::warn!(ignored = %ignored.join(", "), source = %s.source, context = %s.context,
                "no token is set, so the connection comes from the configuration file's context, as with the official provider");
        }
        Ok(Some(s))
    }
}

/// The connection a configuration file's context (or the CI job) describes.
fn from_file(s: Settings) -> Connection {
    let attr = match s.field {
        Field::AutoCi => "enable_auto_ci_support",
        Field::ConfigFile | Field::Context => "config_file",
    };
    Connection {
        base_url: s.base_url.clone(),
        token: s.credential.secret().clone(),
        job_token: s.credential.is_job_token(),
        ca_cert_pem: s.ca_cert_pem,
        insecure: s.insecure,
        client_cert_pem: s.client_cert_pem.zip(s.client_key_pem),
        headers: s.headers,
        retries: s.retry_max,
        origin: Origin::File {
            job_token: s.credential.is_job_token(),
            source: s.source,
            context: s.context,
            base_url: s.base_url,
            attr,
        },
    }
}

/// The client configuration: `connection`, with the block's `headers` laid over its own and
/// the block's `retries` (unless the source sets its own) and `request_timeout`.
fn client_config(
    c: &ProviderConfig,
    connection: &Connection,
    block_headers: BTreeMap<String, Secret>,
) -> ClientConfig {
    let mut headers = connection.headers.clone();
    headers.extend(block_headers);
    ClientConfig {
        base_url: connection.base_url.clone(),
        token: connection.token.clone(),
        job_token: connection.job_token,
        ca_cert_pem: connection.ca_cert_pem.clone(),
        insecure: connection.insecure,
        client_cert_pem: connection.client_cert_pem.clone(),
        headers,
        retries: connection.retries.unwrap_or_else(|| {
            c.retries
                .known()
                .copied()
                .unwrap_or(DEFAULT_RETRIES)
                .clamp(0, 100) as u32
        }),
        timeout: Duration::from_secs(
            c.request_timeout
                .known()
                .copied()
                .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
                .clamp(1, 3600) as u64,
        ),
        ..ClientConfig::default()
    }
}

/// The block's `headers`, as secrets.
fn block_headers(c: &ProviderConfig) -> BTreeMap<String, Secret> {
    c.headers
        .known()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), Secret::new(v.as_str())))
                .collect()
        })
        .unwrap_or_default()
}

/// Settings the connection depends on must be known when the provider is configured.
fn reject_unknown(c: &ProviderConfig) -> Result<(), Diagnostics> {
    let unknown: Vec<&str> = [
        ("base_url", c.base_url.is_unknown()),
        ("token", c.token.is_unknown()),
        ("cacert_file", c.cacert_file.is_unknown()),
        ("client_cert", c.client_cert.is_unknown()),
        ("client_key", c.client_key.is_unknown()),
        ("headers", c.headers.is_unknown()),
        ("config_file", c.config_file.is_unknown()),
        ("context", c.context.is_unknown()),
    ]
    .into_iter()
    .filter_map(|(k, u)| u.then_some(k))
    .collect();
    match unknown.first() {
        None => Ok(()),
        Some(first) => Err(Diagnostic::error(
            "Provider configuration depends on values not yet known",
            format!(
                "{} cannot be known until apply, but the GitLab provider needs it to plan. Use values known at \
                 plan time (variables, data sources), or apply the resources they come from first (-target).",
                unknown.join(", ")
            ),
        )
        .at_attr(first)
        .into()),
    }
}

fn read_file(attr: &str, path: &str) -> Result<Vec<u8>, Diagnostic> {
    std::fs::read(path).map_err(|e| {
        Diagnostic::error(
            format!("Cannot read {attr}"),
            format!("Could not read {path:?}: {e}."),
        )
        .at_attr(attr)
    })
}

/// Whether a `client_key` or `client_cert` value can be a file's path, rather than PEM text
/// (or another secret) pasted in its place.
pub(super) fn plausible_path(v: &str) -> bool {
    !(v.contains("-----") || v.contains('\n') || v.contains('\r') || v.len() > 4096)
}

/// `early_auth_check` (or `GITLAB_EARLY_AUTH_CHECK`, which the framework read into it with
/// Go's `strconv.ParseBool` spellings), else on.
fn early_auth_enabled(c: &ProviderConfig) -> bool {
    c.early_auth_check.known().copied().unwrap_or(true)
}

impl Origin {
    /// A configuration the client refuses, on the setting that fixes it.
    fn invalid_config(&self, e: &ConfigError) -> Diagnostics {
        let d = match self {
            Origin::Block { .. } => {
                // `token` and `headers` are sensitive: said by name, on no line (Terraform
                // would print the line, value and all).
                let attr = match e {
                    ConfigError::BaseUrl(_) | ConfigError::ApiVersion(_) => Some("base_url"),
                    ConfigError::CaCert(_) => Some("cacert_file"),
                    ConfigError::ClientCert(_) => Some("client_cert"),
                    ConfigError::Header(_) | ConfigError::Token => None,
                    ConfigError::Build(_) => Some("base_url"),
                };
                let d = Diagnostic::error("Invalid provider configuration", format!("{e}."));
                match attr {
                    Some(a) => d.at_attr(a),
                    None => d,
                }
            }
            Origin::File {
                source,
                context,
                attr,
                ..
            } => Diagnostic::error(
                "Invalid GitLab configuration file",
                format!("{source}, context {context:?}: {e}."),
            )
            .at_attr(attr),
        };
        d.into()
    }

    /// `GET /user`, so a wrong token or URL fails before any plan. It runs under the
    /// configured retry policy, as every other request does.
    async fn check_token(&self, client: &Client) -> Result<(), Diagnostics> {
        match self {
            Origin::Block { shown_url } => early_auth_check(client, shown_url).await,
            Origin::File {
                source,
                context,
                base_url,
                job_token,
                attr,
            } => match client.current_user().await {
                Ok(u) => {
                    tracing::info!(user = %u.username, context = %context, "authenticated to GitLab");
                    Ok(())
                }
                Err(Error::Unauthorized { message }) => {
                    let detail = if *job_token {
                        format!(
                            "GET /user answered 401 ({message}) to the CI/CD job token of {source}. GitLab accepts job \
                             tokens only on the endpoints it opens to CI jobs, and neither /user nor any group cluster \
                             endpoint is one of them: give this provider an access token with the `api` scope \
                             (`token`, GITLAB_TOKEN from a masked CI/CD variable, or a personal-access-token auth in \
                             a configuration file)."
                        )
                    } else {
                        format!(
                            "GET /user answered 401 ({message}) to the token of {source}, context {context:?}: it must be \
                             a valid, unexpired access token with the `api` scope for {base_url}."
                        )
                    };
                    Err(Diagnostic::error("GitLab rejected the token", detail)
                        .at_attr(attr)
                        .into())
                }
                Err(e) => Err(Diagnostic::error(
                    "Cannot reach GitLab",
                    format!("{e} ({base_url}, from {source}, context {context:?})."),
                )
                .at_attr(attr)
                .into()),
            },
        }
    }
}

/// `GET /user` for a connection of the provider block. `base_url` is the configured URL
/// with its password masked. No diagnostic here points at `token`: Terraform would print the
/// configuration line, and with it the token (or the values of the expression it is).
async fn early_auth_check(client: &Client, base_url: &str) -> Result<(), Diagnostics> {
    match client.current_user().await {
        Ok(u) => {
            tracing::info!(user = %u.username, "authenticated to GitLab");
            Ok(())
        }
        Err(e) => Err(match early_auth_diagnostic(&e, base_url) {
            Some(d) => d.into(),
            // What is left (rate limits, 5xx, connection and TLS failures) names no owner.
            None => diagnostics(
                &e,
                "check the token with GET /user",
                &super::family::Place {
                    family: &super::family::INSTANCE,
                    owner: "",
                },
            ),
        }),
    }
}

/// What a failed `GET /user` of the token check means, on the attribute that fixes it (never
/// `token`: see [`early_auth_check`]); `None` for what [`diagnostics`] says as well as for
/// any other request (rate limits, 5xx after the retries).
fn early_auth_diagnostic(e: &Error, base_url: &str) -> Option<Diagnostic> {
    Some(match e {
        Error::Unauthorized { message } => Diagnostic::error(
            "GitLab rejected the token",
            format!(
                "GET /user answered 401 ({message}). Check the provider's `token` (or GITLAB_TOKEN): it must be a \
                 valid, unexpired personal, project or group access token, or OAuth2 token, with the `api` scope \
                 for {base_url}."
            ),
        ),
        Error::Forbidden { message } => Diagnostic::error(
            "GitLab refused the token",
            format!(
                "GET /user answered 403 ({message}): GitLab knows the token but does not let it act here. The \
                 token needs the `api` scope (a `read_api`, `read_user` or `read_repository` token is not \
                 enough), and its user must not be blocked, deactivated or waiting for approval. Check the \
                 provider's `token` (or GITLAB_TOKEN) for {base_url}."
            ),
        ),
        Error::NotFound { message } => Diagnostic::error(
            "base_url does not look like a GitLab API",
            format!(
                "GET /user answered 404 ({message}): GitLab's REST API always has /user, so {base_url} is not \
                 GitLab's API (a proxy's path, another service). Set `base_url` to GitLab's address, e.g. \
                 https://gitlab.example.com/ (with /api/v4 or without)."
            ),
        )
        .at_attr("base_url"),
        Error::Tls { .. } | Error::NotApi { .. } | Error::Unreachable { .. } => {
            super::errors::connection("Cannot reach GitLab", e)
        }
        Error::Transport { .. } | Error::Timeout { .. } => Diagnostic::error(
            "Cannot reach GitLab",
            format!(
                "{e} ({base_url}). {} Check `base_url` and that GitLab is reachable from here.",
                super::errors::retried(e.attempts().unwrap_or(1))
            ),
        )
        .at_attr("base_url"),
        Error::Decode { .. } => Diagnostic::error(
            "base_url does not look like a GitLab API",
            format!("{e}. `base_url` should be the GitLab URL, with or without /api/v4 ({base_url})."),
        )
        .at_attr("base_url"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::Val;

    fn connection(headers: &[(&str, &str)], retries: Option<u32>) -> Connection {
        Connection {
            base_url: "https://gitlab.example.com/".into(),
            token: Secret::new("t"),
            job_token: false,
            ca_cert_pem: None,
            insecure: false,
            client_cert_pem: None,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), Secret::new(*v)))
                .collect(),
            retries,
            origin: Origin::Block {
                shown_url: String::new(),
            },
        }
    }

    #[test]
    fn the_blocks_headers_are_laid_over_the_sources_and_the_sources_retries_win() {
        let c = ProviderConfig {
            headers: Val::Known(BTreeMap::from([
                ("X-Proxy".to_string(), "block".to_string()),
                ("X-Block".to_string(), "1".to_string()),
            ])),
            retries: Val::Known(7),
            request_timeout: Val::Known(5),
            ..ProviderConfig::default()
        };
        let from_file = connection(&[("X-Proxy", "file"), ("X-File", "2")], Some(2));
        let cfg = client_config(&c, &from_file, block_headers(&c));
        let headers: Vec<(&str, &str)> = cfg
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        assert_eq!(
            headers,
            [("X-Block", "1"), ("X-File", "2"), ("X-Proxy", "block")]
        );
        assert_eq!(cfg.retries, 2);
        assert_eq!(cfg.timeout, Duration::from_secs(5));
        let from_block = connection(&[], None);
        assert_eq!(client_config(&c, &from_block, BTreeMap::new()).retries, 7);
    }

    #[test]
    fn retries_and_timeout_default_as_documented_and_stay_in_range() {
        let unset = ProviderConfig::default();
        let cfg = client_config(&unset, &connection(&[], None), BTreeMap::new());
        assert_eq!(cfg.retries, DEFAULT_RETRIES as u32);
        assert_eq!(
            cfg.timeout,
            Duration::from_secs(DEFAULT_TIMEOUT_SECONDS as u64)
        );
        let wild = ProviderConfig {
            retries: Val::Known(1000),
            request_timeout: Val::Known(0),
            ..ProviderConfig::default()
        };
        let cfg = client_config(&wild, &connection(&[], None), BTreeMap::new());
        assert_eq!(cfg.retries, 100);
        assert_eq!(cfg.timeout, Duration::from_secs(1));
    }

    #[test]
    fn the_token_checks_401_403_and_404_are_said_as_such_and_never_at_token() {
        let url = "https://gitlab.example.com/api/v4/";
        let d = |e: Error| early_auth_diagnostic(&e, url).expect("a diagnostic of its own");
        let refused = d(Error::Unauthorized {
            message: "401 Unauthorized".into(),
        });
        assert_eq!(refused.summary, "GitLab rejected the token");
        assert_eq!(refused.attribute, None);
        let forbidden = d(Error::Forbidden {
            message: "403 Forbidden - insufficient_scope".into(),
        });
        assert_eq!(forbidden.attribute, None);
        assert!(
            forbidden.detail.contains("`api` scope"),
            "{}",
            forbidden.detail
        );
        assert!(!forbidden.detail.contains("group"), "{}", forbidden.detail);
        let missing = d(Error::NotFound {
            message: "404 Not Found".into(),
        });
        assert_eq!(missing.attribute.unwrap().to_string(), "base_url");
        assert!(
            !missing.detail.contains("switched off"),
            "{}",
            missing.detail
        );
        assert!(
            missing.detail.contains("not GitLab's API"),
            "{}",
            missing.detail
        );
        let gone = d(Error::Unreachable {
            detail: "nothing listens on h:1 (connection refused)".into(),
        });
        assert!(gone.detail.contains("not retried"), "{}", gone.detail);
        // A 503 after the retries: the general text, with what retrying did.
        assert!(early_auth_diagnostic(&Error::from_response(503, b"x"), url).is_none());
    }

    #[test]
    fn a_key_or_certificate_pasted_for_a_path_is_told_apart() {
        assert!(plausible_path("/etc/gitlab/client-key.pem"));
        assert!(plausible_path("C:\\keys\\client.pem"));
        assert!(!plausible_path(
            "-----BEGIN PRIVATE KEY-----\nMIG...\n-----END PRIVATE KEY-----\n"
        ));
        assert!(!plausible_path("MIG...\nabc"));
    }
}
