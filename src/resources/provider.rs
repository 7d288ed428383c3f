//! The `gitlab` provider: its configuration (the official provider's names, so switching
//! is a change of `source` only), and configuring it into an API client.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::errors::diagnostics;
use crate::framework::model::{Sensitive, Val};
use crate::framework::validate::IntRange;
use crate::framework::{AnyDataSource, AnyResource, ProviderDef, data_source, resource};
use crate::gitlab::config_file::{self, Field};
use crate::gitlab::{Client, ClientConfig, ConfigError, Error};
use crate::protocol::diag::{Diagnostic, Diagnostics};
use crate::protocol::logging::Redactor;
use crate::protocol::schema::{Attribute, Schema};
use crate::protocol::value::Type;
use crate::secret::Secret;

pub const DEFAULT_BASE_URL: &str = "https://gitlab.com/api/v4/";
pub const DEFAULT_RETRIES: i64 = 10;
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 60;

crate::tf_model! {
    pub struct ProviderConfig {
        base_url: Val<String>,
        token: Val<Sensitive>,
        cacert_file: Val<String>,
        insecure: Val<bool>,
        client_cert: Val<String>,
        client_key: Val<String>,
        headers: Val<BTreeMap<String, String>>,
        retries: Val<i64>,
        early_auth_check: Val<bool>,
        request_timeout: Val<i64>,
        config_file: Val<String>,
        context: Val<String>,
        enable_auto_ci_support: Val<bool>,
    }
}

/// What resources get once the provider is configured.
pub struct ProviderData {
    pub client: Client,
}

/// The provider definition. `redactor` learns every secret the configuration holds so
/// that no log line can carry it.
pub struct GitlabProvider {
    pub redactor: Redactor,
}

/// A string attribute as the official provider (SDK semantics) reads it: `""` is unset, so
/// `token = var.gitlab_token` with `default = ""` falls back to the environment.
fn given(v: &Val<String>) -> Option<&str> {
    v.known()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn env_first(vars: &[&str]) -> Option<String> {
    vars.iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
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

#[async_trait]
impl ProviderDef for GitlabProvider {
    type Config = ProviderConfig;
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        Schema::new(
            "Manages GitLab group-level, certificate-based Kubernetes clusters.",
            vec![
                Attribute::string("base_url").optional().env(&["GITLAB_BASE_URL"]).describe(
                    "The GitLab API URL, with or without `/api/v4` (for example `https://gitlab.example.com/`). \
                     Defaults to `GITLAB_BASE_URL` (also when `\"\"`), then `https://gitlab.com/api/v4/`. User info \
                     (`https://user:password@host/`) is sent as HTTP Basic auth; the password is never shown.",
                ),
                Attribute::string("token").optional().sensitive().env(&["GITLAB_TOKEN"]).describe(
                    "A GitLab access token with the `api` scope, whose user is at least Maintainer of the groups \
                     managed. Defaults to `GITLAB_TOKEN` (also when `\"\"`). Not needed, and not sent, when `headers` \
                     carry `PRIVATE-TOKEN` or `Authorization = \"Bearer ...\"`.",
                ),
                Attribute::string("cacert_file")
                    .optional()
                    .describe("A PEM file of CA certificates to trust for GitLab, besides the system's. A server \
                     certificate that is itself in the file (self-signed, `CA:TRUE` or not) is trusted as GitLab's own; \
                     its validity and host names are still checked."),
                Attribute::bool("insecure")
                    .optional()
                    .describe("Skip verification of GitLab's TLS certificate. Defaults to `false`; avoid it."),
                Attribute::string("client_cert")
                    .optional()
                    .describe("A PEM client certificate file, for GitLab behind mutual TLS. Needs `client_key`."),
                Attribute::string("client_key")
                    .optional()
                    .describe("The PEM private key file of `client_cert`: RSA, ECDSA P-256 or P-384, or Ed25519. Its contents are never logged."),
                Attribute::new("headers", Type::map(Type::String))
                    .optional()
                    .sensitive()
                    .describe(
                        "Extra HTTP headers sent with every request to GitLab. Sensitive: they often carry \
                         credentials (for a proxy in front of GitLab, say). A `PRIVATE-TOKEN` or a bearer \
                         `Authorization` header here is GitLab's credential and replaces `token`.",
                    ),
                Attribute::number("retries").optional().validate(IntRange(0, 100)).describe(
                    "How many times a request is retried after rate limiting (429), 502/503/504 and connection \
                     errors, with exponential backoff and jitter; `early_auth_check` included. Defaults to `10`.",
                ),
                Attribute::bool("early_auth_check").optional().env(&["GITLAB_EARLY_AUTH_CHECK"]).describe(
                    "Check the token with `GET /user` when the provider is configured, so a bad token fails \
                     fast. Defaults to `GITLAB_EARLY_AUTH_CHECK`, then `true`.",
                ),
                Attribute::number("request_timeout")
                    .optional()
                    .validate(IntRange(1, 3600))
                    .describe("Seconds to wait for GitLab to answer one request. Defaults to `60`."),
                Attribute::string("config_file").optional().env(&["GITLAB_CONFIG_FILE"]).describe(
                    "A GitLab client configuration file (`gitlab.com/config/v1beta1`, as GitLab's Go client and the \
                     official provider read it), used only when no `token` (nor `GITLAB_TOKEN`) is set: its context \
                     gives the server, TLS settings and token. Defaults to `GITLAB_CONFIG_FILE`, then \
                     `GITLAB_CONFIG`, then the first of `gitlab/config.yaml` in the user config directory, \
                     `~/.gitlab/config.yaml` and `./.gitlab/config.yaml` that exists.",
                ),
                Attribute::string("context").optional().env(&["GITLAB_CONTEXT"]).describe(
                    "The context of the configuration file to use. Defaults to `GITLAB_CONTEXT`, then the file's \
                     `current-context`.",
                ),
                Attribute::bool("enable_auto_ci_support").optional().describe(
                    "Inside a GitLab CI job (`CI=true`), and when no `token` is set, use the job's API URL \
                     (`CI_API_V4_URL`) and CI/CD job token (`CI_JOB_TOKEN`, sent as `JOB-TOKEN`) instead of a \
                     configuration file. GitLab does not accept job tokens on the group cluster endpoints: see \
                     the CI section below. Defaults to `false`.",
                ),
            ],
        )
    }

    fn validate(&self, c: &ProviderConfig) -> Diagnostics {
        let mut d = Diagnostics::new();
        let set = |v: &Val<String>| v.is_unknown() || given(v).is_some();
        if set(&c.client_cert) != set(&c.client_key) {
            let attr = if !set(&c.client_cert) {
                "client_cert"
            } else {
                "client_key"
            };
            d.push(
                Diagnostic::error(
                    "Incomplete client certificate",
                    "Set both client_cert and client_key, or neither.",
                )
                .at_attr(attr),
            );
        }
        if let Some(u) = given(&c.base_url)
            && let Err(e) = crate::gitlab::config::api_base(u)
        {
            d.push(Diagnostic::error("Invalid base_url", format!("{e}.")).at_attr("base_url"));
        }
        d
    }

    async fn configure(
        &self,
        c: ProviderConfig,
        cancel: CancellationToken,
    ) -> Result<ProviderData, Diagnostics> {
        // Terraform prints the configuration line (and the values in it) a diagnostic points
        // at: never point at a base_url that carries a password.
        let secret_url = given(&c.base_url)
            .and_then(crate::gitlab::config::user_info)
            .is_some_and(|(_, p)| !p.is_empty());
        self.configure_client(c, cancel).await.map_err(|mut d| {
            if secret_url {
                for x in &mut d.0 {
                    if x.attribute
                        .as_ref()
                        .is_some_and(|a| a.to_string() == "base_url")
                    {
                        x.attribute = None;
                    }
                }
            }
            d
        })
    }

    fn resources(&self) -> Vec<std::sync::Arc<dyn AnyResource<ProviderData>>> {
        vec![resource(super::group_cluster::GroupCluster)]
    }

    fn data_sources(&self) -> Vec<std::sync::Arc<dyn AnyDataSource<ProviderData>>> {
        vec![
            data_source(super::group_cluster_data::GroupClusterDataSource),
            data_source(super::group_clusters_data::GroupClustersDataSource),
        ]
    }
}

impl GitlabProvider {
    async fn configure_client(
        &self,
        c: ProviderConfig,
        cancel: CancellationToken,
    ) -> Result<ProviderData, Diagnostics> {
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
        if let Some(first) = unknown.first() {
            return Err(Diagnostic::error(
                "Provider configuration depends on values not yet known",
                format!(
                    "{} cannot be known until apply, but the GitLab provider needs it to plan. Use values known at \
                     plan time (variables, data sources), or apply the resources they come from first (-target).",
                    unknown.join(", ")
                ),
            )
            .at_attr(first)
            .into());
        }
        if let Some(data) = self.configure_from_file(&c, &cancel).await? {
            return Ok(data);
        }
        let base_url = given(&c.base_url)
            .map(str::to_string)
            .or_else(|| env_first(&["GITLAB_BASE_URL"]))
            .unwrap_or_else(|| DEFAULT_BASE_URL.into());
        // A password in base_url's user info is sent as Basic auth: never shown.
        if let Some((user, password)) = crate::gitlab::config::user_info(&base_url) {
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
        let shown_url = crate::gitlab::config::masked_url(&base_url);
        let headers: BTreeMap<String, Secret> = c
            .headers
            .known()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.clone(), Secret::new(v.as_str())))
                    .collect()
            })
            .unwrap_or_default();
        for v in headers.values() {
            self.redactor.add(v.expose());
        }
        let header_credential = crate::gitlab::config::credential_header(
            headers.iter().map(|(k, v)| (k.as_str(), v.expose())),
        );
        let token = match c
            .token
            .known()
            .map(|t| t.expose().to_string())
            .filter(|t| !t.trim().is_empty())
            .or_else(|| env_first(&["GITLAB_TOKEN"]))
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
        let client_cert_pem = match (given(&c.client_cert), given(&c.client_key)) {
            (Some(cert), Some(key)) => {
                let key = String::from_utf8(read_file("client_key", key)?).map_err(|_| {
                    Diagnostics::from(
                        Diagnostic::error("Invalid client_key", "The key file is not PEM text.")
                            .at_attr("client_key"),
                    )
                })?;
                self.redactor.add(key.trim());
                use rustls::pki_types::pem::PemObject;
                let Ok(key_der) = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes())
                else {
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
                let cert_pem = read_file("client_cert", cert)?;
                if !rustls::pki_types::CertificateDer::pem_slice_iter(&cert_pem).any(|c| c.is_ok())
                {
                    return Err(Diagnostic::error(
                        "Invalid client_cert",
                        "The file holds no PEM certificate.",
                    )
                    .at_attr("client_cert")
                    .into());
                }
                Some((cert_pem, Secret::new(key)))
            }
            _ => None,
        };
        let cfg = ClientConfig {
            base_url: base_url.clone(),
            token,
            ca_cert_pem,
            insecure: c.insecure.known().copied().unwrap_or(false),
            client_cert_pem,
            headers,
            retries: c
                .retries
                .known()
                .copied()
                .unwrap_or(DEFAULT_RETRIES)
                .clamp(0, 100) as u32,
            timeout: Duration::from_secs(
                c.request_timeout
                    .known()
                    .copied()
                    .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
                    .clamp(1, 3600) as u64,
            ),
            ..ClientConfig::default()
        };
        let client = Client::new(&cfg, cancel).map_err(|e| {
            let attr = match e {
                ConfigError::BaseUrl(_) | ConfigError::ApiVersion(_) => "base_url",
                ConfigError::CaCert(_) => "cacert_file",
                ConfigError::ClientCert(_) => "client_cert",
                ConfigError::Header(_) => "headers",
                ConfigError::Token => "token",
                ConfigError::Build(_) => "base_url",
            };
            Diagnostics::from(
                Diagnostic::error("Invalid provider configuration", format!("{e}.")).at_attr(attr),
            )
        })?;
        if early_auth_enabled(&c)? {
            early_auth_check(&client, &shown_url).await?;
        }
        Ok(ProviderData { client })
    }
}

/// `early_auth_check`, else `GITLAB_EARLY_AUTH_CHECK` (Go's `strconv.ParseBool` spellings), else on.
fn early_auth_enabled(c: &ProviderConfig) -> Result<bool, Diagnostics> {
    if let Some(b) = c.early_auth_check.known() {
        return Ok(*b);
    }
    match env_first(&["GITLAB_EARLY_AUTH_CHECK"]).as_deref() {
        None => Ok(true),
        Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
        Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
        Some(other) => Err(Diagnostic::error(
            "Invalid GITLAB_EARLY_AUTH_CHECK",
            format!("GITLAB_EARLY_AUTH_CHECK is {other:?}; set it to true or false, or set `early_auth_check`."),
        )
        .at_attr("early_auth_check")
        .into()),
    }
}

impl GitlabProvider {
    /// The official provider's configuration when no token is set: the GitLab CI job's
    /// (`enable_auto_ci_support`) or a context of the GitLab client config file
    /// (`config_file`, `context`), whose settings replace `base_url`, `cacert_file`,
    /// `insecure` and `client_cert`/`client_key` as they do there; `headers` are added to the
    /// file's. `None` when a token is set or there is no file, leaving `configure` as it was.
    async fn configure_from_file(
        &self,
        c: &ProviderConfig,
        cancel: &CancellationToken,
    ) -> Result<Option<ProviderData>, Diagnostics> {
        let has_token = c
            .token
            .known()
            .is_some_and(|t| !t.expose().trim().is_empty())
            || env_first(&["GITLAB_TOKEN"]).is_some_and(|t| !t.trim().is_empty());
        if has_token {
            return Ok(None);
        }
        let path = c
            .config_file
            .known()
            .cloned()
            .filter(|p| !p.is_empty())
            .or_else(|| env_first(&["GITLAB_CONFIG_FILE"]));
        let context = c
            .context
            .known()
            .cloned()
            .filter(|p| !p.is_empty())
            .or_else(|| env_first(&["GITLAB_CONTEXT"]));
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
        let mut headers = s.headers.clone();
        for (k, v) in c.headers.known().into_iter().flatten() {
            headers.insert(k.clone(), Secret::new(v.as_str()));
        }
        let cfg = ClientConfig {
            base_url: s.base_url.clone(),
            token: s.credential.secret().clone(),
            job_token: s.credential.is_job_token(),
            ca_cert_pem: s.ca_cert_pem.clone(),
            insecure: s.insecure,
            client_cert_pem: s.client_cert_pem.clone().zip(s.client_key_pem.clone()),
            headers,
            retries: s.retry_max.unwrap_or_else(|| {
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
        };
        let attr = if s.source == "the GitLab CI job" {
            "enable_auto_ci_support"
        } else {
            "config_file"
        };
        let client = Client::new(&cfg, cancel.clone()).map_err(|e| {
            Diagnostics::from(
                Diagnostic::error(
                    "Invalid GitLab configuration file",
                    format!("{}, context {:?}: {e}.", s.source, s.context),
                )
                .at_attr(attr),
            )
        })?;
        if early_auth_enabled(c)? {
            match client.current_user().await {
                Ok(u) => {
                    tracing::info!(user = %u.username, context = %s.context, "authenticated to GitLab")
                }
                Err(Error::Unauthorized { message }) => {
                    let detail = if s.credential.is_job_token() {
                        format!(
                            "GET /user answered 401 ({message}) to the CI/CD job token of {}. GitLab accepts job tokens \
                             only on the endpoints it opens to CI jobs, and neither /user nor any group cluster \
                             endpoint is one of them: give this provider an access token with the `api` scope \
                             (`token`, GITLAB_TOKEN from a masked CI/CD variable, or a personal-access-token auth in \
                             a configuration file).",
                            s.source
                        )
                    } else {
                        format!(
                            "GET /user answered 401 ({message}) to the token of {}, context {:?}: it must be a valid, \
                             unexpired access token with the `api` scope for {}.",
                            s.source, s.context, s.base_url
                        )
                    };
                    return Err(Diagnostic::error("GitLab rejected the token", detail)
                        .at_attr(attr)
                        .into());
                }
                Err(e) => {
                    return Err(Diagnostic::error(
                        "Cannot reach GitLab",
                        format!(
                            "{e} ({}, from {}, context {:?}).",
                            s.base_url, s.source, s.context
                        ),
                    )
                    .at_attr(attr)
                    .into());
                }
            }
        }
        Ok(Some(ProviderData { client }))
    }
}

/// `GET /user`, so a wrong token or URL fails before any plan. It runs under the
/// configured retry policy, as every other request does. `base_url` is the configured URL
/// with its password masked.
async fn early_auth_check(client: &Client, base_url: &str) -> Result<(), Diagnostics> {
    match client.current_user().await {
        Ok(u) => {
            tracing::info!(user = %u.username, "authenticated to GitLab");
            Ok(())
        }
        Err(Error::Unauthorized { message }) => Err(Diagnostic::error(
            "GitLab rejected the token",
            format!(
                "GET /user answered 401 ({message}). Check `token` (or GITLAB_TOKEN): it must be a valid, unexpired \
                 access token with the `api` scope for {base_url}."
            ),
        )
        .at_attr("token")
        .into()),
        Err(e @ (Error::Tls { .. } | Error::NotApi { .. })) => {
            Err(super::errors::connection("Cannot reach GitLab", &e).into())
        }
        Err(e @ (Error::Transport { .. } | Error::Timeout { .. })) => Err(Diagnostic::error(
            "Cannot reach GitLab",
            format!(
                "{e} ({base_url}). {} Check `base_url` and that GitLab is reachable from here.",
                super::errors::retried(e.attempts().unwrap_or(1))
            ),
        )
        .at_attr("base_url")
        .into()),
        Err(e @ Error::Decode { .. }) => Err(Diagnostic::error(
            "base_url does not look like a GitLab API",
            format!("{e}. `base_url` should be the GitLab URL, with or without /api/v4 ({base_url})."),
        )
        .at_attr("base_url")
        .into()),
        Err(e) => Err(diagnostics(&e, "check the token with GET /user", "")),
    }
}
