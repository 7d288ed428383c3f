//! Building the database from a seed (or state) file, checking every reference, and writing
//! it back in the same format (for `--state`).

use std::collections::HashMap;

use super::{Cluster, DEFAULT_CREATED_AT, Db, Group, Owner, Platform, Project, Settings, User};
use crate::seed::{
    GroupRef, Role, SeedCluster, SeedFile, SeedGcp, SeedGroup, SeedMembership, SeedPlatform,
    SeedProject, SeedUser,
};
use crate::timefmt;

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
            project_by_path: HashMap::new(),
            project_order: Vec::new(),
            user_namespaces: HashMap::new(),
            users: HashMap::new(),
            user_order: Vec::new(),
            user_by_token: HashMap::new(),
            user_by_oauth_token: HashMap::new(),
            clusters: HashMap::new(),
            owner_clusters: HashMap::new(),
            scope_index: HashMap::new(),
            mgmt_index: HashMap::new(),
            next_cluster_id: 1,
        };
        db.load_groups(&seed.groups)?;
        // Personal namespaces first: projects may live in them. Their ids and paths (the
        // username) share one space with groups' ids and top-level paths, as in GitLab.
        for u in &seed.users {
            let Some(ns) = u.namespace_id else { continue };
            if db.groups.contains_key(&ns) || db.user_namespaces.insert(ns, u.id).is_some() {
                return Err(format!(
                    "user {}: namespace_id {ns} is already a group's or another user's",
                    u.id
                ));
            }
            if db.group_by_path.contains_key(&u.username.to_lowercase()) {
                return Err(format!(
                    "user {}: a group already has the path {:?} of this user's namespace",
                    u.id, u.username
                ));
            }
        }
        for p in &seed.projects {
            db.load_project(p, &seed.users)?;
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

    fn load_project(&mut self, p: &SeedProject, users: &[SeedUser]) -> Result<(), String> {
        // A group's project, or one in a user's personal namespace (`<username>/<path>`).
        let (namespace_path, personal_owner) = match self.groups.get(&p.namespace_id) {
            Some(g) => (g.full_path.clone(), None),
            None => {
                let owner = self
                    .user_namespaces
                    .get(&p.namespace_id)
                    .and_then(|uid| users.iter().find(|u| u.id == *uid))
                    .ok_or_else(|| {
                        format!("project {}: unknown namespace_id {}", p.id, p.namespace_id)
                    })?;
                (owner.username.clone(), Some(owner.id))
            }
        };
        let path = match (&p.path, &p.path_with_namespace) {
            (Some(path), _) => path.clone(),
            (None, Some(pwn)) => pwn.rsplit('/').next().unwrap_or_default().to_string(),
            (None, None) => return Err(format!("project {}: path missing", p.id)),
        };
        let pwn = format!("{namespace_path}/{path}");
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
        if self
            .project_by_path
            .insert(pwn.to_lowercase(), p.id)
            .is_some()
        {
            return Err(format!("duplicate project path {pwn}"));
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
                personal_owner,
                description: p.description.clone(),
                created_at: p
                    .created_at
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CREATED_AT.to_string()),
                visibility: p.visibility,
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
                namespace_id: u.namespace_id,
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
        let owner = match (c.group_id, c.project_id, c.instance) {
            (Some(g), None, false) if self.groups.contains_key(&g) => Owner::Group(g),
            (Some(g), None, false) => {
                return Err(format!("cluster {}: unknown group_id {g}", c.id));
            }
            (None, Some(p), false) if self.projects.contains_key(&p) => Owner::Project(p),
            (None, Some(p), false) => {
                return Err(format!("cluster {}: unknown project_id {p}", c.id));
            }
            (None, None, true) => Owner::Instance,
            _ => {
                return Err(format!(
                    "cluster {}: name exactly one owner: group_id, project_id or \"instance\": true",
                    c.id
                ));
            }
        };
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
            (None, "gcp") => Some(SeedGcp::default()),
            _ => None,
        };
        let cluster = Cluster {
            id: c.id,
            owner,
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
                visibility: p.visibility,
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
                    namespace_id: u.namespace_id,
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
                group_id: match c.owner {
                    Owner::Group(g) => Some(g),
                    _ => None,
                },
                project_id: match c.owner {
                    Owner::Project(p) => Some(p),
                    _ => None,
                },
                instance: c.owner == Owner::Instance,
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
}
