//! In-memory GitLab data (groups, projects, users, clusters) with the indexes the API needs
//! (token -> user, path -> group, clusters per group, environment scopes per group and per
//! management project) and GitLab's permission model (inherited group membership, admins as owners).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::seed::{
    GroupRef, Role, SeedCluster, SeedFile, SeedGroup, SeedMembership, SeedPlatform, SeedProject,
    SeedUser, Visibility,
};
use crate::timefmt;

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
    pub namespace_id: u64,
    pub description: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub tokens: Vec<String>,
    pub oauth_tokens: Vec<String>,
    pub admin: bool,
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

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: u64,
    pub group_id: u64,
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
    pub provider_gcp: Option<Value>,
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
    project_order: Vec<u64>,
    pub users: HashMap<u64, User>,
    user_order: Vec<u64>,
    user_by_token: HashMap<String, u64>,
    user_by_oauth_token: HashMap<String, u64>,
    pub clusters: HashMap<u64, Cluster>,
    group_clusters: HashMap<u64, Vec<u64>>,
    scope_index: HashMap<(u64, String), BTreeSet<u64>>,
    mgmt_index: HashMap<(u64, String), BTreeSet<u64>>,
    next_cluster_id: u64,
}

fn default_provider_gcp(id: u64) -> Value {
    json!({
        "cluster_id": id,
        "status_name": "created",
        "gcp_project_id": "sim-gcp-project",
        "zone": "us-central1-a",
        "machine_type": "n1-standard-2",
        "num_nodes": 3,
        "endpoint": "111.111.111.111"
    })
}

impl Db {
    /// Builds the database from a seed (or state) file, checking its references.
    pub fn from_seed(seed: SeedFile) -> Result<Db, String> {
        let mut db = Db {
            settings: Settings {
                certificate_based_clusters: seed.certificate_based_clusters,
                allow_local_requests: seed.allow_local_requests_from_web_hooks_and_services,
            },
            groups: HashMap::new(),
            group_by_path: HashMap::new(),
            group_order: Vec::new(),
            projects: HashMap::new(),
            project_order: Vec::new(),
            users: HashMap::new(),
            user_order: Vec::new(),
            user_by_token: HashMap::new(),
            user_by_oauth_token: HashMap::new(),
            clusters: HashMap::new(),
            group_clusters: HashMap::new(),
            scope_index: HashMap::new(),
            mgmt_index: HashMap::new(),
            next_cluster_id: 1,
        };
        db.load_groups(&seed.groups)?;
        for p in &seed.projects {
            db.load_project(p)?;
        }
        for u in &seed.users {
            db.load_user(u)?;
        }
        let mut max_id = 0;
        for c in &seed.clusters {
            db.load_cluster(c)?;
            max_id = max_id.max(c.id);
        }
        db.next_cluster_id = seed.next_cluster_id.unwrap_or(max_id + 1).max(max_id + 1);
        Ok(db)
    }

    fn load_groups(&mut self, groups: &[SeedGroup]) -> Result<(), String> {
        let by_id: HashMap<u64, &SeedGroup> = groups.iter().map(|g| (g.id, g)).collect();
        if by_id.len() != groups.len() {
            return Err("duplicate group id in seed".into());
        }
        for g in groups {
            if g.path.is_empty() || g.path.contains('/') {
                return Err(format!("group {}: invalid path {:?}", g.id, g.path));
            }
            // Walk up to build full path / name and detect cycles or dangling parents.
            let mut paths = vec![g.path.clone()];
            let mut names = vec![g.name.clone()];
            let mut cur = g.parent_id;
            let mut hops = 0;
            while let Some(pid) = cur {
                let p = by_id
                    .get(&pid)
                    .ok_or_else(|| format!("group {}: unknown parent_id {pid}", g.id))?;
                paths.push(p.path.clone());
                names.push(p.name.clone());
                cur = p.parent_id;
                hops += 1;
                if hops > 64 {
                    return Err(format!("group {}: parent chain has a cycle", g.id));
                }
            }
            paths.reverse();
            names.reverse();
            let full_path = paths.join("/");
            if let Some(fp) = &g.full_path
                && fp != &full_path
            {
                return Err(format!(
                    "group {}: full_path {fp:?} does not match derived {full_path:?}",
                    g.id
                ));
            }
            let key = full_path.to_lowercase();
            if self.group_by_path.insert(key, g.id).is_some() {
                return Err(format!("duplicate group path {full_path}"));
            }
            self.group_order.push(g.id);
            self.groups.insert(
                g.id,
                Group {
                    id: g.id,
                    name: g.name.clone(),
                    path: g.path.clone(),
                    full_path,
                    full_name: names.join(" / "),
                    parent_id: g.parent_id,
                    visibility: g.visibility,
                    description: g.description.clone(),
                },
            );
        }
        Ok(())
    }

    fn load_project(&mut self, p: &SeedProject) -> Result<(), String> {
        let group = self
            .groups
            .get(&p.namespace_id)
            .ok_or_else(|| format!("project {}: unknown namespace_id {}", p.id, p.namespace_id))?;
        let path = match (&p.path, &p.path_with_namespace) {
            (Some(path), _) => path.clone(),
            (None, Some(pwn)) => pwn.rsplit('/').next().unwrap_or_default().to_string(),
            (None, None) => return Err(format!("project {}: path missing", p.id)),
        };
        let pwn = format!("{}/{}", group.full_path, path);
        if let Some(given) = &p.path_with_namespace
            && given != &pwn
        {
            return Err(format!(
                "project {}: path_with_namespace {given:?} does not match {pwn:?}",
                p.id
            ));
        }
        if self.projects.contains_key(&p.id) {
            return Err(format!("duplicate project id {}", p.id));
        }
        self.project_order.push(p.id);
        self.projects.insert(
            p.id,
            Project {
                id: p.id,
                name: p.name.clone(),
                path,
                path_with_namespace: pwn,
                namespace_id: p.namespace_id,
                description: p.description.clone(),
                created_at: p
                    .created_at
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CREATED_AT.to_string()),
            },
        );
        Ok(())
    }

    fn resolve_group_ref(&self, r: &GroupRef) -> Option<u64> {
        match r {
            GroupRef::Id(id) => self.groups.contains_key(id).then_some(*id),
            GroupRef::Path(p) => self.group_by_path.get(&p.to_lowercase()).copied(),
        }
    }

    fn load_user(&mut self, u: &SeedUser) -> Result<(), String> {
        if self.users.contains_key(&u.id) {
            return Err(format!("duplicate user id {}", u.id));
        }
        let mut tokens: Vec<String> = u.token.iter().cloned().collect();
        tokens.extend(u.tokens.iter().cloned());
        for t in &tokens {
            if t.is_empty() {
                return Err(format!("user {}: empty token", u.id));
            }
            if self.user_by_token.insert(t.clone(), u.id).is_some() {
                return Err(format!("user {}: token already used by another user", u.id));
            }
        }
        for t in &u.oauth_tokens {
            if t.is_empty() {
                return Err(format!("user {}: empty OAuth token", u.id));
            }
            if self.user_by_token.contains_key(t)
                || self.user_by_oauth_token.insert(t.clone(), u.id).is_some()
            {
                return Err(format!("user {}: OAuth token already used", u.id));
            }
        }
        let mut group_roles = HashMap::new();
        let mut project_roles = HashMap::new();
        for m in &u.memberships {
            match (&m.group, m.project) {
                (Some(g), None) => {
                    let gid = self
                        .resolve_group_ref(g)
                        .ok_or_else(|| format!("user {}: unknown group {g:?}", u.id))?;
                    group_roles.insert(gid, m.role.level());
                }
                (None, Some(pid)) => {
                    if !self.projects.contains_key(&pid) {
                        return Err(format!("user {}: unknown project {pid}", u.id));
                    }
                    project_roles.insert(pid, m.role.level());
                }
                _ => {
                    return Err(format!(
                        "user {}: a membership names exactly one of group or project",
                        u.id
                    ));
                }
            }
        }
        self.user_order.push(u.id);
        self.users.insert(
            u.id,
            User {
                id: u.id,
                username: u.username.clone(),
                name: u.name.clone(),
                tokens,
                oauth_tokens: u.oauth_tokens.clone(),
                admin: u.admin,
                state: u.state.clone(),
                external: u.external,
                email: u.email.clone(),
                avatar_url: u.avatar_url.clone(),
                created_at: u
                    .created_at
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CREATED_AT.to_string()),
                group_roles,
                project_roles,
            },
        );
        Ok(())
    }

    fn load_cluster(&mut self, c: &SeedCluster) -> Result<(), String> {
        if self.clusters.contains_key(&c.id) || c.id == 0 {
            return Err(format!("duplicate or zero cluster id {}", c.id));
        }
        if !self.groups.contains_key(&c.group_id) {
            return Err(format!("cluster {}: unknown group_id {}", c.id, c.group_id));
        }
        if let Some(pid) = c.management_project_id
            && !self.projects.contains_key(&pid)
        {
            return Err(format!(
                "cluster {}: unknown management_project_id {pid}",
                c.id
            ));
        }
        if !matches!(c.provider_type.as_str(), "user" | "gcp" | "aws") {
            return Err(format!(
                "cluster {}: provider_type must be user, gcp or aws",
                c.id
            ));
        }
        let created_at = c
            .created_at
            .clone()
            .unwrap_or_else(|| timefmt::iso_ms(timefmt::now_ms()));
        let updated_ms = c
            .updated_at
            .as_deref()
            .or(Some(created_at.as_str()))
            .and_then(timefmt::parse_iso)
            .unwrap_or_else(timefmt::now_ms);
        let provider_gcp = match (&c.provider_gcp, c.provider_type.as_str()) {
            (Some(v), _) => Some(v.clone()),
            (None, "gcp") => Some(default_provider_gcp(c.id)),
            _ => None,
        };
        let cluster = Cluster {
            id: c.id,
            group_id: c.group_id,
            name: Some(c.name.clone()),
            provider_type: c.provider_type.clone(),
            enabled: c.enabled,
            managed: c.managed,
            domain: c.domain.clone(),
            environment_scope: Some(c.environment_scope.clone()),
            namespace_per_environment: c.namespace_per_environment,
            created_at,
            updated_ms,
            user_id: c.user_id,
            management_project_id: c.management_project_id,
            platform: c.platform_kubernetes.as_ref().map(|p| Platform {
                api_url: p.api_url.clone(),
                token: p.token.clone(),
                ca_cert: p.ca_cert.clone(),
                namespace: p.namespace.clone(),
                authorization_type: p.authorization_type.clone(),
            }),
            provider_gcp,
        };
        self.insert_cluster(cluster);
        Ok(())
    }

    /// Serializes the whole database back to the seed format (for `--state`).
    pub fn to_seed(&self) -> SeedFile {
        let groups = self
            .group_order
            .iter()
            .filter_map(|id| self.groups.get(id))
            .map(|g| SeedGroup {
                id: g.id,
                name: g.name.clone(),
                path: g.path.clone(),
                parent_id: g.parent_id,
                full_path: Some(g.full_path.clone()),
                visibility: g.visibility,
                description: g.description.clone(),
            })
            .collect();
        let projects = self
            .project_order
            .iter()
            .filter_map(|id| self.projects.get(id))
            .map(|p| SeedProject {
                id: p.id,
                name: p.name.clone(),
                path: Some(p.path.clone()),
                path_with_namespace: Some(p.path_with_namespace.clone()),
                namespace_id: p.namespace_id,
                description: p.description.clone(),
                created_at: Some(p.created_at.clone()),
            })
            .collect();
        let users = self
            .user_order
            .iter()
            .filter_map(|id| self.users.get(id))
            .map(|u| {
                let mut memberships: Vec<SeedMembership> = Vec::new();
                let mut g: Vec<_> = u.group_roles.iter().collect();
                g.sort();
                for (gid, lvl) in g {
                    if let Some(role) = Role::from_level(*lvl) {
                        memberships.push(SeedMembership {
                            group: Some(GroupRef::Id(*gid)),
                            project: None,
                            role,
                        });
                    }
                }
                let mut p: Vec<_> = u.project_roles.iter().collect();
                p.sort();
                for (pid, lvl) in p {
                    if let Some(role) = Role::from_level(*lvl) {
                        memberships.push(SeedMembership {
                            group: None,
                            project: Some(*pid),
                            role,
                        });
                    }
                }
                SeedUser {
                    id: u.id,
                    username: u.username.clone(),
                    name: u.name.clone(),
                    token: u.tokens.first().cloned(),
                    tokens: u.tokens.iter().skip(1).cloned().collect(),
                    oauth_tokens: u.oauth_tokens.clone(),
                    admin: u.admin,
                    state: u.state.clone(),
                    external: u.external,
                    email: u.email.clone(),
                    avatar_url: u.avatar_url.clone(),
                    created_at: Some(u.created_at.clone()),
                    memberships,
                }
            })
            .collect();
        let mut ids: Vec<u64> = self.clusters.keys().copied().collect();
        ids.sort_unstable();
        let clusters = ids
            .iter()
            .filter_map(|id| self.clusters.get(id))
            .map(|c| SeedCluster {
                id: c.id,
                group_id: c.group_id,
                name: c.name.clone().unwrap_or_default(),
                provider_type: c.provider_type.clone(),
                enabled: c.enabled,
                managed: c.managed,
                domain: c.domain.clone(),
                environment_scope: c.environment_scope.clone().unwrap_or_default(),
                namespace_per_environment: c.namespace_per_environment,
                created_at: Some(c.created_at.clone()),
                updated_at: Some(timefmt::iso_ms(c.updated_ms)),
                user_id: c.user_id,
                management_project_id: c.management_project_id,
                platform_kubernetes: c.platform.as_ref().map(|p| SeedPlatform {
                    api_url: p.api_url.clone(),
                    token: p.token.clone(),
                    ca_cert: p.ca_cert.clone(),
                    namespace: p.namespace.clone(),
                    authorization_type: p.authorization_type.clone(),
                }),
                provider_gcp: c.provider_gcp.clone(),
            })
            .collect();
        SeedFile {
            certificate_based_clusters: self.settings.certificate_based_clusters,
            allow_local_requests_from_web_hooks_and_services: self.settings.allow_local_requests,
            groups,
            projects,
            users,
            clusters,
            next_cluster_id: Some(self.next_cluster_id),
        }
    }

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

    /// Max access level of `user` on a project: direct project membership or inherited from
    /// the project's group chain.
    pub fn project_access(&self, user: &User, project_id: u64) -> u8 {
        if user.admin {
            return OWNER;
        }
        let Some(p) = self.projects.get(&project_id) else {
            return 0;
        };
        let direct = user.project_roles.get(&project_id).copied().unwrap_or(0);
        direct.max(self.group_access(user, p.namespace_id))
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
                .is_some_and(|p| self.group_within(p.namespace_id, group.id))
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

    /// Cluster ids of a group, ascending.
    pub fn group_cluster_ids(&self, group_id: u64) -> &[u64] {
        self.group_clusters
            .get(&group_id)
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
        let list = self.group_clusters.entry(c.group_id).or_default();
        match list.binary_search(&c.id) {
            Ok(_) => {}
            Err(pos) => list.insert(pos, c.id),
        }
        let scope = c.environment_scope.clone().unwrap_or_default();
        self.scope_index
            .entry((c.group_id, scope.clone()))
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
        if let Some(list) = self.group_clusters.get_mut(&c.group_id)
            && let Ok(pos) = list.binary_search(&c.id)
        {
            list.remove(pos);
        }
        let scope = c.environment_scope.clone().unwrap_or_default();
        let key = (c.group_id, scope.clone());
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

    /// Another cluster of `group_id` with this environment scope (GitLab's
    /// `unique_environment_scope`).
    pub fn scope_taken_in_group(&self, group_id: u64, scope: &str, except: Option<u64>) -> bool {
        self.scope_index
            .get(&(group_id, scope.to_string()))
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
