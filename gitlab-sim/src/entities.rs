//! JSON presenters mirroring GitLab's Grape entities: `Entities::Cluster` (list items),
//! `Entities::ClusterGroup` (single reads, create, update), `UserBasic`, `ProjectIdentity`,
//! `BasicGroupDetails`, `Platform::Kubernetes`, the `GET /user` (UserPublic) shape and the
//! `GET /groups/:id` (`Group` / `GroupDetail`) shape.

use serde::Serialize;
use serde_json::{Value, json};

use crate::db::{Cluster, DEFAULT_CREATED_AT, Db, Group, User};
use crate::seed::Visibility;

#[derive(Serialize)]
pub struct UserBasic<'a> {
    pub id: u64,
    pub username: &'a str,
    pub name: &'a str,
    pub state: &'a str,
    pub locked: bool,
    pub avatar_url: Option<&'a str>,
    pub web_url: String,
}

impl<'a> UserBasic<'a> {
    pub fn new(u: &'a User, base_url: &str) -> Self {
        UserBasic {
            id: u.id,
            username: &u.username,
            name: &u.name,
            state: &u.state,
            locked: false,
            avatar_url: u.avatar_url.as_deref(),
            web_url: format!("{base_url}/{}", u.username),
        }
    }
}

#[derive(Serialize)]
pub struct PlatformKubernetes<'a> {
    pub api_url: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub authorization_type: &'a str,
    pub ca_cert: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ProjectIdentity<'a> {
    pub id: u64,
    pub description: Option<&'a str>,
    pub name: &'a str,
    pub name_with_namespace: String,
    pub path: &'a str,
    pub path_with_namespace: &'a str,
    pub created_at: &'a str,
}

#[derive(Serialize)]
pub struct BasicGroupDetails<'a> {
    pub id: u64,
    pub web_url: String,
    pub name: &'a str,
}

/// `Entities::Cluster`, plus `group` for `Entities::ClusterGroup` and `group_id` for the
/// simulator's control listing.
#[derive(Serialize)]
pub struct ClusterEntity<'a> {
    pub id: u64,
    pub name: Option<&'a str>,
    pub created_at: &'a str,
    pub domain: Option<&'a str>,
    pub enabled: bool,
    pub managed: bool,
    pub provider_type: &'a str,
    pub platform_type: &'static str,
    pub environment_scope: Option<&'a str>,
    pub cluster_type: &'static str,
    pub namespace_per_environment: bool,
    pub user: Option<UserBasic<'a>>,
    pub platform_kubernetes: Option<PlatformKubernetes<'a>>,
    pub provider_gcp: Option<&'a Value>,
    pub management_project: Option<ProjectIdentity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<BasicGroupDetails<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
}

/// Which entity to present.
#[derive(Clone, Copy, PartialEq)]
pub enum Shape {
    /// `Entities::Cluster` (list).
    Cluster,
    /// `Entities::ClusterGroup` (get, create, update).
    ClusterGroup,
    /// ClusterGroup plus `group_id` (simulator control API).
    Control,
}

pub fn cluster<'a>(db: &'a Db, c: &'a Cluster, base_url: &str, shape: Shape) -> ClusterEntity<'a> {
    let group = db.groups.get(&c.group_id);
    ClusterEntity {
        id: c.id,
        name: c.name.as_deref(),
        created_at: &c.created_at,
        domain: c.domain.as_deref(),
        enabled: c.enabled,
        managed: c.managed,
        provider_type: &c.provider_type,
        platform_type: "kubernetes",
        environment_scope: c.environment_scope.as_deref(),
        cluster_type: "group_type",
        namespace_per_environment: c.namespace_per_environment,
        user: c
            .user_id
            .and_then(|id| db.users.get(&id))
            .map(|u| UserBasic::new(u, base_url)),
        platform_kubernetes: c.platform.as_ref().map(|p| PlatformKubernetes {
            api_url: p.api_url.as_deref(),
            namespace: p.namespace.as_deref(),
            authorization_type: &p.authorization_type,
            ca_cert: p.ca_cert.as_deref(),
        }),
        provider_gcp: c.provider_gcp.as_ref(),
        management_project: c
            .management_project_id
            .and_then(|id| db.projects.get(&id))
            .map(|p| ProjectIdentity {
                id: p.id,
                description: p.description.as_deref(),
                name: &p.name,
                name_with_namespace: format!(
                    "{} / {}",
                    db.groups
                        .get(&p.namespace_id)
                        .map_or("", |g| g.full_name.as_str()),
                    p.name
                ),
                path: &p.path,
                path_with_namespace: &p.path_with_namespace,
                created_at: &p.created_at,
            }),
        group: match (shape, group) {
            (Shape::ClusterGroup | Shape::Control, Some(g)) => Some(BasicGroupDetails {
                id: g.id,
                web_url: format!("{base_url}/groups/{}", g.full_path),
                name: &g.name,
            }),
            _ => None,
        },
        group_id: (shape == Shape::Control).then_some(c.group_id),
    }
}

/// `GET /user`: `Entities::UserPublic` (admins: `UserWithAdmin`).
pub fn current_user(u: &User, base_url: &str) -> Value {
    let mut v = json!({
        "id": u.id,
        "username": u.username,
        "public_email": null,
        "name": u.name,
        "state": u.state,
        "locked": false,
        "avatar_url": u.avatar_url,
        "web_url": format!("{base_url}/{}", u.username),
        "created_at": u.created_at,
        "bio": "",
        "location": "",
        "linkedin": "",
        "twitter": "",
        "discord": "",
        "website_url": "",
        "github": "",
        "job_title": "",
        "pronouns": null,
        "organization": "",
        "bot": false,
        "work_information": null,
        "followers": 0,
        "following": 0,
        "is_followed": false,
        "local_time": null,
        "last_sign_in_at": u.created_at,
        "confirmed_at": u.created_at,
        "last_activity_on": null,
        "email": u.email,
        "theme_id": 3,
        "color_scheme_id": 1,
        "projects_limit": 100_000,
        "current_sign_in_at": u.created_at,
        "identities": [],
        "can_create_group": true,
        "can_create_project": true,
        "two_factor_enabled": false,
        "external": u.external,
        "private_profile": false,
        "commit_email": u.email,
        "preferred_language": "en",
        "shared_runners_minutes_limit": null,
        "extra_shared_runners_minutes_limit": null,
        "scim_identities": []
    });
    if u.admin
        && let Value::Object(m) = &mut v
    {
        m.insert("is_admin".into(), Value::Bool(true));
        m.insert("note".into(), Value::Null);
        m.insert("namespace_id".into(), Value::Null);
        m.insert("created_by".into(), Value::Null);
    }
    v
}

/// `GET /groups/:id`: `Entities::Group` (BasicGroupDetails plus the group settings, with an
/// instance's defaults for what the simulator does not model), and with `detail`
/// `Entities::GroupDetail` (`shared_with_groups`, `runners_token` for who may admin the
/// group, `prevent_sharing_groups_outside_hierarchy` on a top-level group, `projects` and
/// `shared_projects`).
pub fn group(g: &Group, base_url: &str, detail: bool, can_admin: bool) -> Value {
    let visibility = match g.visibility {
        Visibility::Private => "private",
        Visibility::Internal => "internal",
        Visibility::Public => "public",
    };
    let mut v = json!({
        "id": g.id,
        "web_url": format!("{base_url}/groups/{}", g.full_path),
        "name": g.name,
        "path": g.path,
        "description": g.description.as_deref().unwrap_or(""),
        "visibility": visibility,
        "share_with_group_lock": false,
        "require_two_factor_authentication": false,
        "two_factor_grace_period": 48,
        "project_creation_level": "developer",
        "auto_devops_enabled": null,
        "subgroup_creation_level": "maintainer",
        "emails_disabled": false,
        "emails_enabled": true,
        "show_diff_preview_in_email": true,
        "mentions_disabled": null,
        "lfs_enabled": true,
        "archived": false,
        "math_rendering_limits_enabled": true,
        "lock_math_rendering_limits_enabled": false,
        "default_branch": null,
        "default_branch_protection": 2,
        "default_branch_protection_defaults": {
            "allowed_to_push": [{"access_level": 40}],
            "allow_force_push": false,
            "allowed_to_merge": [{"access_level": 40}]
        },
        "avatar_url": null,
        "request_access_enabled": true,
        "full_name": g.full_name,
        "full_path": g.full_path,
        "created_at": DEFAULT_CREATED_AT,
        "parent_id": g.parent_id,
        "organization_id": 1,
        "shared_runners_setting": "enabled",
        "max_artifacts_size": null,
        "marked_for_deletion_on": null
    });
    if detail && let Value::Object(m) = &mut v {
        m.insert("shared_with_groups".into(), json!([]));
        if can_admin {
            m.insert(
                "runners_token".into(),
                Value::String(format!("GR1348941sim{:010}", g.id)),
            );
        }
        if g.parent_id.is_none() {
            m.insert(
                "prevent_sharing_groups_outside_hierarchy".into(),
                Value::Bool(false),
            );
        }
        m.insert("projects".into(), json!([]));
        m.insert("shared_projects".into(), json!([]));
    }
    v
}
