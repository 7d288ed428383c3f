//! The `gitlab` provider: its configuration (the official provider's names, so switching
//! is a change of `source` only), and `configure`, which `provider_client.rs` turns into an API client.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::framework::prelude::*;
use crate::gitlab::Client;

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
pub(super) fn given(v: &Val<String>) -> Option<&str> {
    v.known()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
}

#[async_trait]
impl ProviderDef for GitlabProvider {
    type Config = ProviderConfig;
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        Schema::new(
            "Manages GitLab's certificate-based Kubernetes clusters: of groups, of projects and of the instance.",
            vec![
                Attribute::string("base_url").optional().env(&["GITLAB_BASE_URL"]).describe(
                    "The GitLab API URL, with or without `/api/v4` (for example `https://gitlab.example.com/`). \
                     Defaults to `GITLAB_BASE_URL` (also when `\"\"`), then `https://gitlab.com/api/v4/`. User info \
                     (`https://user:password@host/`) is sent as HTTP Basic auth; the password is never shown.",
                ),
                Attribute::string("token").optional().sensitive().env(&["GITLAB_TOKEN"]).describe(
                    "A GitLab personal, group or project access token, or OAuth2 token, with the `api` scope, whose \
                     user is at least Maintainer of the groups managed; sent as `Authorization: Bearer`, as the \
                     official provider sends it. Defaults to `GITLAB_TOKEN` (also when `\"\"`). Not needed, and not \
                     sent, when `headers` carry `PRIVATE-TOKEN` or `Authorization = \"Bearer ...\"`.",
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
                    "How many times a request is retried after rate limiting (429) or a 5xx answer, as in the \
                     official provider, and a read, update or delete also after an answer cut off (timeout, \
                     reset), with exponential backoff and jitter; `early_auth_check` included. A create is resent \
                     only after a 429, and a connection that does not come about is never retried. Defaults to `10`.",
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
            let e = Diagnostic::error(
                "Incomplete client certificate",
                "Set both client_cert and client_key, or neither.",
            );
            // A key pasted into client_key is a secret: point at no line that holds it.
            let pasted_key =
                given(&c.client_key).is_some_and(|k| !super::provider_client::plausible_path(k));
            d.push(if pasted_key { e } else { e.at_attr(attr) });
        }
        if let Some(u) = given(&c.base_url)
            && let Err(e) = crate::gitlab::config::api_base(u)
        {
            let d0 = Diagnostic::error("Invalid base_url", format!("{e}."));
            // Terraform prints the line a diagnostic points at: not one with a password.
            d.push(if crate::gitlab::config::may_hold_credentials(u) {
                d0
            } else {
                d0.at_attr("base_url")
            });
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
        let secret_url =
            given(&c.base_url).is_some_and(crate::gitlab::config::may_hold_credentials);
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
        use super::cluster_resource::ClusterResource;
        use super::family::{OfGroup, OfInstance, OfProject};
        vec![
            resource(ClusterResource::<OfGroup>::default()),
            resource(ClusterResource::<OfProject>::default()),
            resource(ClusterResource::<OfInstance>::default()),
        ]
    }

    fn data_sources(&self) -> Vec<std::sync::Arc<dyn AnyDataSource<ProviderData>>> {
        use super::cluster_data::ClusterDataSource;
        use super::clusters_data::ClustersDataSource;
        use super::family::{OfGroup, OfInstance, OfProject};
        vec![
            data_source(ClusterDataSource::<OfGroup>::default()),
            data_source(ClustersDataSource::<OfGroup>::default()),
            data_source(ClusterDataSource::<OfProject>::default()),
            data_source(ClustersDataSource::<OfProject>::default()),
            data_source(ClusterDataSource::<OfInstance>::default()),
            data_source(ClustersDataSource::<OfInstance>::default()),
        ]
    }
}
