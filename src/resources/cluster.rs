//! What every cluster resource and data source shares, whatever owns the cluster:
//! attribute descriptions (one text, used by schemas and docs; the owner's words come from
//! its [`Family`]), and the mapping from GitLab's cluster entity to Terraform attribute
//! values.

use std::ops::Deref;

use super::family::Family;
use crate::framework::prelude::*;
use crate::gitlab::types::Cluster;

pub mod desc {
    use super::Family;

    /// The Terraform id: `<group>:<cluster_id>`, or the cluster id for the instance.
    pub fn id(f: &Family) -> String {
        match f.owner_attr {
            Some(a) => format!("The Terraform id: `<{a}>:<cluster_id>`."),
            None => "The Terraform id: the cluster's numeric id.".to_string(),
        }
    }
    pub fn env_scope(f: &Family) -> String {
        format!(
            "The environments this cluster serves (`*` for all). Unique within {}.",
            f.scope_unique_within
        )
    }
    pub fn mgmt_project(f: &Family) -> String {
        format!(
            "The id of the project used to manage the cluster's applications: {} (GitLab's rule).",
            f.management_project_scope
        )
    }
    pub fn cluster_type(f: &Family) -> String {
        format!("The cluster type GitLab reports (`{}`).", f.cluster_type())
    }
    pub const NAME: &str = "The name of the cluster.";
    pub const DOMAIN: &str = "The base domain of the cluster (for Auto DevOps).";
    pub const ENABLED: &str = "Whether the cluster is enabled.";
    pub const MANAGED: &str =
        "Whether GitLab manages namespaces and service accounts for this cluster.";
    pub const API_URL: &str =
        "The URL of the Kubernetes API server, e.g. `https://k8s.example.com:6443`.";
    pub const TOKEN: &str = "The service-account token GitLab uses to authenticate against Kubernetes. \
        GitLab never returns it, so it is kept from the configuration (in state) and cannot be imported. \
        Creating a cluster needs it or `kubernetes_token_wo`; an existing (imported) cluster needs neither, and \
        leaving it out sends nothing to GitLab. Conflicts with `kubernetes_token_wo`.";
    pub const TOKEN_WO: &str = "The service-account token, write-only: sent to GitLab but never stored in the plan \
        or state (Terraform 1.11 or later, OpenTofu 1.11 or later; older clients get an error, use \
        `kubernetes_token` with them). GitLab receives it on create, and whenever `kubernetes_token_wo_version` \
        changes; a new value under the same version is not seen. Conflicts with `kubernetes_token`.";
    pub const TOKEN_WO_VERSION: &str = "A whole number you change to send `kubernetes_token_wo` to GitLab again \
        (rotation). Setting it for the first time, or switching from `kubernetes_token` with it, also sends the \
        token. Needs `kubernetes_token_wo`.";
    pub const CA_CERT: &str = "The PEM CA certificate of the Kubernetes API server, if it is not publicly trusted. \
        GitLab strips surrounding whitespace; the provider treats such differences as no change.";
    pub const AUTH_TYPE: &str = "The cluster authorization type: `rbac`, `abac` or `unknown_authorization`. \
        GitLab cannot change it on an existing cluster.";
    pub fn namespace(f: &Family) -> String {
        let which = if f.namespace_needs_unmanaged {
            " GitLab accepts it only for clusters that are not managed (`managed = false`)."
        } else {
            " GitLab accepts it for project clusters whether managed or not."
        };
        format!("A fixed Kubernetes namespace for deployments.{which}")
    }
    pub const NAMESPACE_PER_ENV: &str = "Whether GitLab deploys each environment into its own namespace \
        (GitLab 13.2+; otherwise one namespace per project).";
    pub const CA_CERT_READ: &str = "The PEM CA certificate of the Kubernetes API server, as GitLab stores it \
        (without surrounding whitespace); null when none is set.";
    pub const AUTH_TYPE_READ: &str =
        "The cluster authorization type: `rbac`, `abac` or `unknown_authorization`.";
    pub const NAMESPACE_READ: &str = "The fixed Kubernetes namespace for deployments, if any (only clusters that \
        are not managed have one).";
    pub const CLUSTER_ID: &str = "The numeric id of the cluster in GitLab.";
    pub const CREATED_AT: &str = "When the cluster was created (ISO 8601).";
    pub const PROVIDER_TYPE: &str = "How the cluster was added: `user` for clusters added through the API (as this provider adds them), \
         `gcp` or `aws` for clusters GitLab created on a cloud (GitLab then refuses changes to their name, API \
         URL, token and CA certificate).";
    pub const PLATFORM_TYPE: &str = "The cluster platform (`kubernetes`).";
}

/// GitLab answers `""` or `null` for unset strings; Terraform wants null.
pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

/// Plain, typed view of the fields the provider maps, read from the entity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Remote {
    pub cluster_id: i64,
    pub name: String,
    pub domain: Option<String>,
    pub enabled: Option<bool>,
    pub managed: Option<bool>,
    pub api_url: Option<String>,
    pub ca_cert: Option<String>,
    pub authorization_type: Option<String>,
    pub namespace: Option<String>,
    pub environment_scope: Option<String>,
    pub namespace_per_environment: Option<bool>,
    pub management_project_id: Option<String>,
    pub cluster_type: Option<String>,
    pub created_at: Option<String>,
    pub provider_type: Option<String>,
    pub platform_type: Option<String>,
}

impl From<&Cluster> for Remote {
    fn from(c: &Cluster) -> Self {
        let pk = c.platform_kubernetes.clone().unwrap_or_default();
        Remote {
            cluster_id: c.id,
            name: c.name.clone(),
            domain: non_empty(c.domain.as_deref()),
            enabled: c.enabled,
            managed: c.managed,
            api_url: non_empty(pk.api_url.as_deref()),
            ca_cert: non_empty(pk.ca_cert.as_deref()),
            authorization_type: non_empty(pk.authorization_type.as_deref()),
            namespace: non_empty(pk.namespace.as_deref()),
            environment_scope: c.environment_scope.clone(),
            namespace_per_environment: c.namespace_per_environment,
            management_project_id: c.management_project.as_ref().map(|p| p.id.to_string()),
            cluster_type: c.cluster_type.clone(),
            created_at: c.created_at.clone(),
            provider_type: c.provider_type.clone(),
            platform_type: c.platform_type.clone(),
        }
    }
}

crate::tf_model! {
    /// Everything a data source exposes about one cluster (all but the token).
    pub struct ClusterItem {
        cluster_id: Val<i64>,
        name: Val<String>,
        environment_scope: Val<String>,
        domain: Val<String>,
        enabled: Val<bool>,
        managed: Val<bool>,
        kubernetes_api_url: Val<String>,
        kubernetes_ca_cert: Val<String>,
        kubernetes_authorization_type: Val<String>,
        kubernetes_namespace: Val<String>,
        namespace_per_environment: Val<bool>,
        management_project_id: Val<String>,
        cluster_type: Val<String>,
        created_at: Val<String>,
        provider_type: Val<String>,
        platform_type: Val<String>,
    }
}

impl From<&Remote> for ClusterItem {
    fn from(r: &Remote) -> Self {
        ClusterItem {
            cluster_id: Val::Known(r.cluster_id),
            name: Val::Known(r.name.clone()),
            environment_scope: r.environment_scope.clone().into(),
            domain: r.domain.clone().into(),
            enabled: r.enabled.into(),
            managed: r.managed.into(),
            kubernetes_api_url: r.api_url.clone().into(),
            kubernetes_ca_cert: r.ca_cert.clone().into(),
            kubernetes_authorization_type: r.authorization_type.clone().into(),
            kubernetes_namespace: r.namespace.clone().into(),
            namespace_per_environment: r.namespace_per_environment.into(),
            management_project_id: r.management_project_id.clone().into(),
            cluster_type: r.cluster_type.clone().into(),
            created_at: r.created_at.clone().into(),
            provider_type: r.provider_type.clone().into(),
            platform_type: r.platform_type.clone().into(),
        }
    }
}

/// A model `T` plus the Terraform `id` attribute. Derefs to `T`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identified<T> {
    pub id: Val<String>,
    pub item: T,
}

impl<T> Deref for Identified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T: TfValue> TfValue for Identified<T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        Ok(Identified {
            id: Val::from_value(v.get("id"), &path.push_attr("id"))?,
            item: T::from_value(v, path)?,
        })
    }
    fn to_value(&self) -> Value {
        let mut v = self.item.to_value();
        if let Value::Object(m) = &mut v {
            m.insert("id".to_string(), self.id.to_value());
        }
        v
    }
}
