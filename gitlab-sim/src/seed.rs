//! Seed / state file format (JSON): groups, projects (in groups or in users' personal
//! namespaces), users with memberships (admins among them), clusters of the three owner kinds
//! (group, project, instance) with their GKE details, and instance switches. The `--state` file is written in this same format, so a state file is a
//! valid seed. Also holds the built-in default seed (tests/fixtures/seed.json, compiled in).

use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}
fn star() -> String {
    "*".to_string()
}
fn user_provider() -> String {
    "user".to_string()
}
fn rbac() -> String {
    "rbac".to_string()
}
fn active() -> String {
    "active".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// GitLab's `certificate_based_clusters` switch (off on new instances since 15.0). When false,
    /// every cluster endpoint answers 404 `{"message":"404 Not Found"}`.
    #[serde(default = "yes")]
    pub certificate_based_clusters: bool,
    /// GitLab's "Allow requests to the local network from webhooks and integrations" setting
    /// (off by default): when off, cluster `api_url`s pointing to localhost, loopback, private,
    /// link-local or shared addresses are rejected like GitLab's URL blocker does.
    #[serde(default)]
    pub allow_local_requests_from_web_hooks_and_services: bool,
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
    #[serde(default)]
    pub projects: Vec<SeedProject>,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub clusters: Vec<SeedCluster>,
    /// Next id of the global cluster sequence (default: highest seeded cluster id + 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cluster_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Private,
    Internal,
    Public,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    pub id: u64,
    pub name: String,
    /// Last path segment (`platform`); `full_path` is derived from the parent chain.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u64>,
    /// Optional; when given it must equal the derived full path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_path: Option<String>,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProject {
    pub id: u64,
    pub name: String,
    /// Last path segment; derived from `path_with_namespace` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Optional; when given it must equal `<group full_path>/<path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_with_namespace: Option<String>,
    /// Id of the namespace the project lives in: a group's id, or a user's `namespace_id`
    /// (their personal namespace; GitLab numbers both in one sequence).
    pub namespace_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `private` (default), `internal` or `public`: who may see the project (`read_project`).
    #[serde(default, skip_serializing_if = "is_private")]
    pub visibility: Visibility,
}

fn is_private(v: &Visibility) -> bool {
    *v == Visibility::Private
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
}

impl Role {
    /// GitLab's `Gitlab::Access` level.
    pub fn level(self) -> u8 {
        match self {
            Role::Guest => 10,
            Role::Reporter => 20,
            Role::Developer => 30,
            Role::Maintainer => 40,
            Role::Owner => 50,
        }
    }
    pub fn from_level(level: u8) -> Option<Role> {
        Some(match level {
            10 => Role::Guest,
            20 => Role::Reporter,
            30 => Role::Developer,
            40 => Role::Maintainer,
            50 => Role::Owner,
            _ => return None,
        })
    }
}

/// A group given by id or by full path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GroupRef {
    Id(u64),
    Path(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMembership {
    /// Group membership (inherited by subgroups and their projects)...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
    /// ...or project membership (exactly one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<u64>,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub id: u64,
    pub username: String,
    pub name: String,
    /// Personal access token accepted in `PRIVATE-TOKEN`, `Authorization: Bearer` or
    /// `private_token=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Further tokens of the same user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<String>,
    /// OAuth2 access tokens of the user (Doorkeeper's `oauth_access_tokens`): accepted only as
    /// `Authorization: Bearer` or `access_token=`, never in `PRIVATE-TOKEN` or `private_token=`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oauth_tokens: Vec<String>,
    /// An administrator: owner-level access everywhere, and the only kind of user the
    /// Instance clusters API (`/admin/clusters`) lets in.
    #[serde(default)]
    pub admin: bool,
    /// Id of the user's personal namespace (`<username>`), which projects may live in; none
    /// when omitted. Must not be a group's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_id: Option<u64>,
    /// `active` or `blocked` (blocked users cannot authenticate).
    #[serde(default = "active")]
    pub state: String,
    #[serde(default)]
    pub external: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default)]
    pub memberships: Vec<SeedMembership>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlatform {
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub ca_cert: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// `rbac`, `abac` or `unknown_authorization`.
    #[serde(default = "rbac")]
    pub authorization_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCluster {
    pub id: u64,
    /// The owner, exactly one of: `group_id` (a group cluster), `project_id` (a project
    /// cluster) or `"instance": true` (an instance cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub instance: bool,
    pub name: String,
    /// `user` (added existing cluster), `gcp` or `aws` (provider-managed: name, api_url, token
    /// and ca_cert cannot be changed through the API).
    #[serde(default = "user_provider")]
    pub provider_type: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "yes")]
    pub managed: bool,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default = "star")]
    pub environment_scope: String,
    #[serde(default = "yes")]
    pub namespace_per_environment: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Creator (rendered as `user`); null renders `"user": null`.
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub management_project_id: Option<u64>,
    #[serde(default)]
    pub platform_kubernetes: Option<SeedPlatform>,
    /// The GKE details of a `gcp` cluster (`Clusters::Providers::Gcp`), shown as
    /// `Entities::Provider::Gcp`; gcp clusters get defaults for what is omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_gcp: Option<SeedGcp>,
}

/// `Clusters::Providers::Gcp` as the API shows it. `cluster_id` is always the cluster's own id
/// (accepted and ignored here); keys GitLab's entity does not show are ignored too, so seeds
/// written for older simulators stay valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedGcp {
    #[serde(default = "created", alias = "status")]
    pub status_name: String,
    #[serde(default = "gcp_project")]
    pub gcp_project_id: String,
    #[serde(default = "zone")]
    pub zone: String,
    #[serde(default = "machine_type")]
    pub machine_type: String,
    #[serde(default = "num_nodes")]
    pub num_nodes: u64,
    #[serde(default = "endpoint")]
    pub endpoint: Option<String>,
}

fn created() -> String {
    "created".to_string()
}
fn gcp_project() -> String {
    "sim-gcp-project".to_string()
}
fn zone() -> String {
    "us-central1-a".to_string()
}
fn machine_type() -> String {
    "n1-standard-2".to_string()
}
fn num_nodes() -> u64 {
    3
}
fn endpoint() -> Option<String> {
    Some("111.111.111.111".to_string())
}

impl Default for SeedGcp {
    /// What a gcp cluster seeded without `provider_gcp` shows (GitLab's factory values).
    fn default() -> Self {
        SeedGcp {
            status_name: created(),
            gcp_project_id: gcp_project(),
            zone: zone(),
            machine_type: machine_type(),
            num_nodes: num_nodes(),
            endpoint: endpoint(),
        }
    }
}

/// The built-in default seed, identical to `gitlab-sim/tests/fixtures/seed.json`.
pub const DEFAULT_SEED: &str = include_str!("../tests/fixtures/seed.json");

pub fn parse(text: &str) -> Result<SeedFile, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid seed/state JSON: {e}"))
}
