//! JSON presenters mirroring GitLab's Grape entities: `Entities::Cluster` (list items, instance
//! clusters), `Entities::ClusterGroup` / `Entities::ClusterProject` (single reads, create,
//! update), `UserBasic`, `ProjectIdentity`, `BasicProjectDetails` with `NamespaceBasic`,
//! `BasicGroupDetails`, `Platform::Kubernetes`, `Provider::Gcp`, the `GET /user` (UserPublic)
//! shape and the `GET /groups/:id` (`Group` / `GroupDetail`) shape.

use serde::Serialize;
use serde_json::{Value, json};

use crate::db::{Cluster, DEFAULT_CREATED_AT, Db, Group, Owner, Project, User};
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

/// `Entities::Provider::Gcp`.
#[derive(Serialize)]
pub struct ProviderGcp<'a> {
    pub cluster_id: u64,
    pub status_name: &'a str,
    pub gcp_project_id: &'a str,
    pub zone: &'a str,
    pub machine_type: &'a str,
    pub num_nodes: u64,
    pub endpoint: Option<&'a str>,
}

/// `Entities::Cluster`, plus `group` for `Entities::ClusterGroup`, `project` for
/// `Entities::ClusterProject`, and the owner (`group_id`, `project_id` or `instance`) for the
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
    pub provider_gcp: Option<ProviderGcp<'a>>,
    pub management_project: Option<ProjectIdentity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<BasicGroupDetails<'a>>,
    /// `Some(None)` renders `"project": null` (ClusterProject of a cluster of no project).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Option<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<bool>,
}

/// Which entity to present.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Shape {
    /// `Entities::Cluster` (lists; instance clusters' get and create).
    Cluster,
    /// `Entities::ClusterGroup` (group clusters' get, create, update).
    ClusterGroup,
    /// `Entities::ClusterProject` (project clusters' get, create, update, and instance
    /// clusters' update, where `project` is null).
    ClusterProject,
    /// The owner's own single-cluster entity plus the owner: `group_id`, `project_id` or
    /// `"instance": true` (simulator control API).
    Control,
}

/// `name_with_namespace`'s namespace part: the group's full name, or the owner's name for a
/// personal namespace.
fn namespace_human_name(db: &Db, p: &Project) -> String {
    match (p.group_id(), db.namespace_owner(p.namespace_id)) {
        (Some(g), _) => db
            .groups
            .get(&g)
            .map_or(String::new(), |g| g.full_name.clone()),
        (None, Some(u)) => u.name.clone(),
        (None, None) => String::new(),
    }
}

/// `Entities::BasicProjectDetails` as the cluster routes present it: without a current user
/// in the entity's options, so `default_branch`, `readme_url` and `forks_count` (shown only
/// to who may `read_code`) appear for public projects alone; no license, no custom attributes.
pub fn basic_project_details(db: &Db, p: &Project, base_url: &str) -> Value {
    let web_url = format!("{base_url}/{}", p.path_with_namespace);
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, h)| h)
        .split(':')
        .next()
        .unwrap_or_default();
    let public = p.visibility == Visibility::Public;
    let mut v = serde_json::Map::new();
    let mut put = |k: &str, val: Value| {
        v.insert(k.to_string(), val);
    };
    put("id", json!(p.id));
    put("description", json!(p.description));
    put("name", json!(p.name));
    put(
        "name_with_namespace",
        json!(format!("{} / {}", namespace_human_name(db, p), p.name)),
    );
    put("path", json!(p.path));
    put("path_with_namespace", json!(p.path_with_namespace));
    put("created_at", json!(p.created_at));
    if public {
        put("default_branch", json!("main"));
    }
    put("tag_list", json!([]));
    put("topics", json!([]));
    put(
        "ssh_url_to_repo",
        json!(format!("git@{host}:{}.git", p.path_with_namespace)),
    );
    put("http_url_to_repo", json!(format!("{web_url}.git")));
    put("web_url", json!(web_url));
    if public {
        put("readme_url", Value::Null);
        put("forks_count", json!(0));
    }
    put("avatar_url", Value::Null);
    put("star_count", json!(0));
    put("last_activity_at", json!(p.created_at));
    let namespace = match (
        p.group_id().and_then(|g| db.groups.get(&g)),
        db.namespace_owner(p.namespace_id),
    ) {
        (Some(g), _) => json!({
            "id": g.id, "name": g.name, "path": g.path, "kind": "group",
            "full_path": g.full_path, "parent_id": g.parent_id, "avatar_url": null,
            "web_url": format!("{base_url}/groups/{}", g.full_path)
        }),
        (None, Some(u)) => json!({
            "id": p.namespace_id, "name": u.name, "path": u.username, "kind": "user",
            "full_path": u.username, "parent_id": null, "avatar_url": u.avatar_url,
            "web_url": format!("{base_url}/{}", u.username)
        }),
        (None, None) => Value::Null,
    };
    put("namespace", namespace);
    Value::Object(v)
}

pub fn cluster<'a>(db: &'a Db, c: &'a Cluster, base_url: &str, shape: Shape) -> ClusterEntity<'a> {
    let control = shape == Shape::Control;
    let group = match (shape, c.owner) {
        (Shape::ClusterGroup | Shape::Control, Owner::Group(g)) => db.groups.get(&g),
        _ => None,
    };
    let project = match (shape, c.owner) {
        (Shape::ClusterProject | Shape::Control, Owner::Project(p)) => Some(
            db.projects
                .get(&p)
                .map(|p| basic_project_details(db, p, base_url)),
        ),
        (Shape::ClusterProject, _) => Some(None),
        _ => None,
    };
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
        cluster_type: c.owner.cluster_type(),
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
        provider_gcp: c.provider_gcp.as_ref().map(|g| ProviderGcp {
            cluster_id: c.id,
            status_name: &g.status_name,
            gcp_project_id: &g.gcp_project_id,
            zone: &g.zone,
            machine_type: &g.machine_type,
            num_nodes: g.num_nodes,
            endpoint: g.endpoint.as_deref(),
        }),
        management_project: c
            .management_project_id
            .and_then(|id| db.projects.get(&id))
            .map(|p| ProjectIdentity {
                id: p.id,
                description: p.description.as_deref(),
                name: &p.name,
                name_with_namespace: format!("{} / {}", namespace_human_name(db, p), p.name),
                path: &p.path,
                path_with_namespace: &p.path_with_namespace,
                created_at: &p.created_at,
            }),
        group: group.map(|g| BasicGroupDetails {
            id: g.id,
            web_url: format!("{base_url}/groups/{}", g.full_path),
            name: &g.name,
        }),
        project,
        group_id: match c.owner {
            Owner::Group(g) if control => Some(g),
            _ => None,
        },
        project_id: match c.owner {
            Owner::Project(p) if control => Some(p),
            _ => None,
        },
        instance: (control && c.owner == Owner::Instance).then_some(true),
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
        m.insert("namespace_id".into(), json!(u.namespace_id));
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
