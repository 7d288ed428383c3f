//! terraform-provider-gitlab: a Terraform/OpenTofu provider for GitLab group clusters.
//!
//! Layers, one direction: `protocol` (wire) → `framework` (typed resources, plan rules) →
//! `resources` (the GitLab mapping) → `gitlab` (API client). The first two, with `secret`
//! and `tls_provider`, are the `tfplugin` crate (tfplugin/), re-exported here under their
//! old paths; the compiler keeps them from naming anything of GitLab. This file assembles them:
//! [`provider_stack`] is the one place the served provider is built (by the binary, the
//! docs generator and the in-process protocol tests alike), and [`serve_options`] is what
//! the wire layer is told of the provider.
pub mod docs;
pub mod gitlab;
pub mod resources;

pub use tfplugin::{framework, protocol, secret, tf_model, tls_provider};

use std::sync::Arc;

use framework::Framework;
use protocol::logging::Redactor;
use protocol::redact::Redacting;
use protocol::server::ServeOptions;
use resources::{GitlabProvider, PROVIDER_ADDRESS};

/// The provider as Terraform is served it: the GitLab definition on the framework, behind
/// the wrapper that scrubs every secret from diagnostics.
pub type ProviderStack = Redacting<Framework<GitlabProvider>>;

/// Builds the served provider. `redactor` is shared by every layer that learns secrets (the
/// provider's configuration, the environment fallbacks, every sensitive attribute value) and
/// by the log writer it came from (`protocol::logging::init`).
pub fn provider_stack(redactor: Redactor) -> Arc<ProviderStack> {
    let framework = Framework::new(GitlabProvider {
        redactor: redactor.clone(),
    })
    .with_redactor(redactor.clone());
    Arc::new(Redacting::new(framework, redactor))
}

/// What the wire layer knows of this provider: its name, registry address, the
/// `GITLAB` of `TF_LOG_PROVIDER_GITLAB` and `TF_PROVIDER_GITLAB_LISTEN`, and its crate
/// (the tracing target of its own log events).
pub fn serve_options() -> ServeOptions {
    ServeOptions::new("gitlab", PROVIDER_ADDRESS)
        .env_prefix("GITLAB")
        .log_target(env!("CARGO_CRATE_NAME"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::provider::ProviderServer;

    #[test]
    fn the_environment_variables_users_see_keep_their_names() {
        let opts = serve_options();
        assert_eq!(opts.listen_env(), "TF_PROVIDER_GITLAB_LISTEN");
        let log = opts.logging();
        assert_eq!(
            log.level_env,
            ["TF_LOG_PROVIDER_GITLAB", "TF_LOG_PROVIDER", "TF_LOG"]
        );
        assert_eq!(log.module, "provider.terraform-provider-gitlab");
        assert_eq!(log.target, "terraform_provider_gitlab");
    }

    #[test]
    fn the_stack_serves_the_wire_form_of_the_framework_schemas() {
        let stack = provider_stack(Redactor::default());
        let framework = stack.inner().framework_schemas();
        assert_eq!(
            stack.schemas().resources.keys().collect::<Vec<_>>(),
            framework.resources.keys().collect::<Vec<_>>()
        );
        let token = stack.schemas().provider.attribute("token").expect("token");
        assert!(token.sensitive);
    }
}
