//! In-memory GitLab data (groups, projects, users, clusters) with the indexes the API needs
//! (token -> user, path -> group or project, clusters per owner, environment scopes per owner
//! and per management project) and GitLab's permission model (inherited group membership,
//! personal namespaces' owners, admins as owners). Loading from and writing back to the seed
//! format is in `db/load.rs`.

mod load;

use std::collections::{BTreeSet, HashMap};

use crate::seed::{SeedGcp, Visibility};

pub const GUEST: u8 = 10;
pub const DEVELOPER: u8 = 30;
pub const MAINTAINER: u8 = 40;
pub const OWNER: u8 = 50;

pub const DEFAULT_CREATED_AT: &str = "2026-01-01T00:00:00.000Z";

#[derive(Debug, Clone)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub full_path: String,
    /// Names of the ancestor chain joined by " / " (GitLab's `full_name`).
    pub full_name: String,
    pub parent_id: Option<u64>,
    pub visibility: Visibility,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub path_with_namespace: String,
    /// A group's id or a user's personal namespace id.
    pub namespace_id: u64,
    /// The user whose personal namespace holds the project (None: a group's project).
    pub personal_owner: Option<u64>,
    pub description: Option<String>,
    pub created_at: String,
    pub visibility: Visibility,
}

impl Project {
    /// The group the project lives in (None in a personal namespace).
    pub fn group_id(&self) -> Option<u64> {
        match self.personal_owner {
            Some(_) => None,
            None => Some(self.namespace_id),
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub tokens: Vec<String>,
    pub oauth_tokens: Vec<String>,
    pub admin: bool,
    /// The user's personal namespace id, if seeded.
    pub namespace_id: Option<u64>,
    pub state: String,
    pub external: bool,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: String,
    pub group_roles: HashMap<u64, u8>,
    pub project_roles: HashMap<u64, u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Platform {
    pub api_url: Option<String>,
    pub token: Option<String>,
    pub ca_cert: Option<String>,
    pub namespace: Option<String>,
    pub authorization_type: String,
}

/// Whose cluster it is: GitLab's `cluster_type` with the group or project it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Group(u64),
    Project(u64),
    Instance,
}

impl Owner {
    /// `Entities::Cluster#cluster_type`.
    pub fn cluster_type(self) -> &'static str {
        match self {
            Owner::Group(_) => "group_type",
            Owner::Project(_) => "project_type",
            Owner::Instance => "instance_type",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: u64,
    pub owner: Owner,
    pub name: Option<String>,
    pub provider_type: String,
    pub enabled: bool,
    pub managed: bool,
    pub domain: Option<String>,
    pub environment_scope: Option<String>,
    pub namespace_per_environment: bool,
    pub created_at: String,
    pub updated_ms: i64,
    pub user_id: Option<u64>,
    pub management_project_id: Option<u64>,
    pub platform: Option<Platform>,
    pub provider_gcp: Option<SeedGcp>,
}

impl Cluster {
    pub fn provided_by_user(&self) -> bool {
        self.provider_type == "user"
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub certificate_based_clusters: bool,
    pub allow_local_requests: bool,
}

#[derive(Debug, Clone)]
pub struct Db {
    pub settings: Settings,
    pub groups: HashMap<u64, Group>,
    group_by_path: HashMap<String, u64>,
    group_order: Vec<u64>,
    pub projects: HashMap<u64, Project>,
    project_by_path: HashMap<String, u64>,
    project_order: Vec<u64>,
    /// Personal namespace id -> user id.
    user_namespaces: HashMap<u64, u64>,
    pub users: HashMap<u64, User>,
    user_order: Vec<u64>,
    user_by_token: HashMap<String, u64>,
    user_by_oauth_token: HashMap<String, u64>,
    pub clusters: HashMap<u64, Cluster>,
    owner_clusters: HashMap<Owner, Vec<u64>>,
    scope_index: HashMap<(Owner, String), BTreeSet<u64>>,
    mgmt_index: HashMap<(u64, String), BTreeSet<u64>>,
    next_cluster_id: u64,
}

impl Db {
    // ----- lookups -------------------------------------------------------------------------

    /// The user of a personal (or project, group) access token.
    pub fn user_by_token(&self, token: &str) -> Option<&User> {
        self.user_by_token
            .get(token)
            .and_then(|id| self.users.get(id))
    }

    /// The user of an OAuth2 access token.
    pub fn user_by_oauth_token(&self, token: &str) -> Option<&User> {
        self.user_by_oauth_token
            .get(token)
            .and_then(|id| self.users.get(id))
    }

    /// `find_group`: a numeric id, else a full path (case-insensitive).
    pub fn find_group(&self, id: &str) -> Option<&Group> {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return id.parse::<u64>().ok().and_then(|n| self.groups.get(&n));
        }
        self.group_by_path
            .get(&id.to_lowercase())
            .and_then(|gid| self.groups.get(gid))
    }

    /// Whether `group_id` is `ancestor` or one of its descendants.
    pub fn group_within(&self, group_id: u64, ancestor: u64) -> bool {
        let mut cur = Some(group_id);
        let mut hops = 0;
        while let Some(g) = cur {
            if g == ancestor {
                return true;
            }
            cur = self.groups.get(&g).and_then(|g| g.parent_id);
            hops += 1;
            if hops > 64 {
                break;
            }
        }
        false
    }

    /// Max access level of `user` on `group_id`, memberships inherited from ancestor groups;
    /// admins count as owners (GitLab's `max_member_access_for_user`).
    pub fn group_access(&self, user: &User, group_id: u64) -> u8 {
        if user.admin {
            return OWNER;
        }
        let mut best = 0;
        let mut cur = Some(group_id);
        let mut hops = 0;
        while let Some(g) = cur {
            if let Some(lvl) = user.group_roles.get(&g) {
                best = best.max(*lvl);
            }
            cur = self.groups.get(&g).and_then(|g| g.parent_id);
            hops += 1;
            if hops > 64 {
                break;
            }
        }
        best
    }

    /// Max access level of `user` on a project: direct project membership, inherited from
    /// the project's group chain, or Owner of a project in the user's personal namespace.
    pub fn project_access(&self, user: &User, project_id: u64) -> u8 {
        if user.admin {
            return OWNER;
        }
        let Some(p) = self.projects.get(&project_id) else {
            return 0;
        };
        let direct = user.project_roles.get(&project_id).copied().unwrap_or(0);
        let inherited = match (p.group_id(), p.personal_owner) {
            (Some(g), _) => self.group_access(user, g),
            (None, Some(owner)) if owner == user.id => OWNER,
            _ => 0,
        };
        direct.max(inherited)
    }

    /// `find_project`: a numeric id, else a full path (case-insensitive).
    pub fn find_project(&self, id: &str) -> Option<&Project> {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return id.parse::<u64>().ok().and_then(|n| self.projects.get(&n));
        }
        self.project_by_path
            .get(&id.to_lowercase())
            .and_then(|pid| self.projects.get(pid))
    }

    /// ProjectPolicy `read_project`: public project, internal project for non-external users,
    /// any membership (direct, through its groups, or the personal namespace's owner), admins.
    pub fn can_read_project(&self, user: &User, project: &Project) -> bool {
        user.admin
            || project.visibility == Visibility::Public
            || (project.visibility == Visibility::Internal && !user.external)
            || self.project_access(user, project.id) >= GUEST
    }

    /// The owner of a personal namespace (None for groups and unknown ids).
    pub fn namespace_owner(&self, namespace_id: u64) -> Option<&User> {
        self.user_namespaces
            .get(&namespace_id)
            .and_then(|uid| self.users.get(uid))
    }

    /// GroupPolicy `read_group`: public group, internal group for non-external users, any
    /// membership (or a project membership inside the group), admins.
    pub fn can_read_group(&self, user: &User, group: &Group) -> bool {
        if user.admin || group.visibility == Visibility::Public {
            return true;
        }
        if group.visibility == Visibility::Internal && !user.external {
            return true;
        }
        if self.group_access(user, group.id) >= GUEST {
            return true;
        }
        user.project_roles.keys().any(|pid| {
            self.projects
                .get(pid)
                .and_then(Project::group_id)
                .is_some_and(|g| self.group_within(g, group.id))
        })
    }

    // ----- clusters ------------------------------------------------------------------------

    /// The id the next created cluster gets.
    pub fn next_cluster_id(&self) -> u64 {
        self.next_cluster_id
    }

    pub fn allocate_cluster_id(&mut self) -> u64 {
        let id = self.next_cluster_id;
        self.next_cluster_id += 1;
        id
    }

    /// Cluster ids of an owner, ascending.
    pub fn owner_cluster_ids(&self, owner: Owner) -> &[u64] {
        self.owner_clusters
            .get(&owner)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// All cluster ids, ascending.
    pub fn all_cluster_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.clusters.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    fn index_add(&mut self, c: &Cluster) {
        let list = self.owner_clusters.entry(c.owner).or_default();
        match list.binary_search(&c.id) {
            Ok(_) => {}
            Err(pos) => list.insert(pos, c.id),
        }
        let scope = c.environment_scope.clone().unwrap_or_default();
        self.scope_index
            .entry((c.owner, scope.clone()))
            .or_default()
            .insert(c.id);
        if let Some(pid) = c.management_project_id {
            self.mgmt_index
                .entry((pid, scope))
                .or_default()
                .insert(c.id);
        }
    }

    fn index_remove(&mut self, c: &Cluster) {
        if let Some(list) = self.owner_clusters.get_mut(&c.owner)
            && let Ok(pos) = list.binary_search(&c.id)
        {
            list.remove(pos);
        }
        let scope = c.environment_scope.clone().unwrap_or_default();
        let key = (c.owner, scope.clone());
        if let Some(set) = self.scope_index.get_mut(&key) {
            set.remove(&c.id);
            if set.is_empty() {
                self.scope_index.remove(&key);
            }
        }
        if let Some(pid) = c.management_project_id {
            let key = (pid, scope);
            if let Some(set) = self.mgmt_index.get_mut(&key) {
                set.remove(&c.id);
                if set.is_empty() {
                    self.mgmt_index.remove(&key);
                }
            }
        }
    }

    pub fn insert_cluster(&mut self, c: Cluster) {
        if let Some(old) = self.clusters.remove(&c.id) {
            self.index_remove(&old);
        }
        self.index_add(&c);
        self.clusters.insert(c.id, c);
    }

    pub fn remove_cluster(&mut self, id: u64) -> Option<Cluster> {
        let c = self.clusters.remove(&id)?;
        self.index_remove(&c);
        Some(c)
    }

    /// Another cluster of the same owner (the group, the project, or the instance) with this
    /// environment scope (GitLab's `unique_environment_scope`: `clusterable.clusters`).
    pub fn scope_taken_by_owner(&self, owner: Owner, scope: &str, except: Option<u64>) -> bool {
        self.scope_index
            .get(&(owner, scope.to_string()))
            .is_some_and(|set| set.iter().any(|id| Some(*id) != except))
    }

    /// Another cluster managed by `project_id` with this environment scope (GitLab's
    /// `unique_management_project_environment_scope`).
    pub fn scope_taken_for_management_project(
        &self,
        project_id: u64,
        scope: &str,
        except: Option<u64>,
    ) -> bool {
        self.mgmt_index
            .get(&(project_id, scope.to_string()))
            .is_some_and(|set| set.iter().any(|id| Some(*id) != except))
    }
}
