//! What the end-to-end tests write and log in with: the simulator seed's tokens, a
//! Kubernetes token, the provider block for a simulator, a cluster resource block and a
//! CA certificate as users paste it.

use super::sim::Sim;

pub const MAINTAINER_TOKEN: &str = "sim-maintainer-token";
/// The maintainer's OAuth2 access token: GitLab takes it only as `Authorization: Bearer`.
pub const MAINTAINER_OAUTH_TOKEN: &str = "sim-maintainer-oauth-token";
pub const DEVELOPER_TOKEN: &str = "sim-developer-token";
pub const KUBE_TOKEN: &str = "kube-sa-token-5ecr3t-value";

pub fn provider_block(sim: &Sim, token: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    gitlab = {{ source = \"gitlab-rs/gitlab\" }}\n  }}\n}}\n\n\
         provider \"gitlab\" {{\n  base_url = \"{}\"\n  token    = \"{token}\"\n}}\n",
        sim.api_url()
    )
}

/// A fresh self-signed CA certificate in PEM, as users paste into `kubernetes_ca_cert`.
pub fn ca_cert_pem() -> String {
    rcgen::generate_simple_self_signed(vec!["kubernetes.default.svc".into()])
        .expect("cert")
        .cert
        .pem()
}

/// A cluster resource block of group `qa` (the group's [`super::families::Family::block`]).
pub fn cluster_block(name: &str, attrs: &str) -> String {
    super::families::GROUP.block(name, attrs)
}
