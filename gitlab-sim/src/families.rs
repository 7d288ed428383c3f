//! The three owners of certificate-based clusters as data, not as copies of the handlers: the
//! Group clusters API (`/groups/:id/clusters`, lib/api/group_clusters.rb), the Project clusters
//! API (`/projects/:id/clusters`, lib/api/project_clusters.rb) and the Instance clusters API
//! (`/admin/clusters`, lib/api/admin/instance_clusters.rb). What differs between them lives
//! here: the route prefix and create segment, how the owner is found and who may see it, the
//! access level the caller has, the entity each endpoint presents, and where a management
//! project may come from.

use crate::db::{Db, OWNER, Owner, Project, User};
use crate::entities::Shape;
use crate::http::SimResponse;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Group,
    Project,
    Instance,
}

/// One family of cluster endpoints.
#[derive(Debug)]
pub struct Family {
    pub kind: Kind,
    /// The last path segment of the create route (`clusters/user`, `clusters/add`).
    pub create_segment: &'static str,
    /// The entities `get`, `create` and `update` present (lists are always
    /// `Entities::Cluster`).
    pub get_shape: Shape,
    pub create_shape: Shape,
    pub update_shape: Shape,
}

pub static GROUP: Family = Family {
    kind: Kind::Group,
    create_segment: "user",
    get_shape: Shape::ClusterGroup,
    create_shape: Shape::ClusterGroup,
    update_shape: Shape::ClusterGroup,
};

pub static PROJECT: Family = Family {
    kind: Kind::Project,
    create_segment: "user",
    get_shape: Shape::ClusterProject,
    create_shape: Shape::ClusterProject,
    update_shape: Shape::ClusterProject,
};

/// `get` and `create` present `Entities::Cluster`, but `update` presents
/// `Entities::ClusterProject` (so an instance cluster's PUT answer carries `"project": null`).
pub static INSTANCE: Family = Family {
    kind: Kind::Instance,
    create_segment: "add",
    get_shape: Shape::Cluster,
    create_shape: Shape::Cluster,
    update_shape: Shape::ClusterProject,
};

impl Family {
    /// The family whose routes a cluster of `owner` is served under.
    pub fn of(owner: Owner) -> &'static Family {
        match owner {
            Owner::Group(_) => &GROUP,
            Owner::Project(_) => &PROJECT,
            Owner::Instance => &INSTANCE,
        }
    }

    /// Whether a cluster of `owner` is of this family.
    pub fn holds(&self, owner: Owner) -> bool {
        std::ptr::eq(Family::of(owner), self)
    }

    /// The owner the route names and the caller's access level on it, in GitLab's order:
    /// `find_group!` / `user_project` answer 404 for an owner that does not exist or that the
    /// user may not read (`read_group` / `read_project`); `authenticated_as_admin!` answers
    /// 403 to anyone but an administrator. `id` is the route's decoded `:id`.
    pub fn resolve(&self, db: &Db, user: &User, id: &str) -> Result<(Owner, u8), SimResponse> {
        match self.kind {
            Kind::Group => match db.find_group(id) {
                Some(g) if db.can_read_group(user, g) => {
                    Ok((Owner::Group(g.id), db.group_access(user, g.id)))
                }
                _ => Err(SimResponse::message(404, "404 Group Not Found")),
            },
            Kind::Project => match db.find_project(id) {
                Some(p) if db.can_read_project(user, p) => {
                    Ok((Owner::Project(p.id), db.project_access(user, p.id)))
                }
                _ => Err(SimResponse::message(404, "404 Project Not Found")),
            },
            Kind::Instance if user.admin => Ok((Owner::Instance, OWNER)),
            Kind::Instance => Err(SimResponse::message(403, "403 Forbidden")),
        }
    }
}

/// `ValidateManagementProjectPermissionsService#management_project_scope`: any project for an
/// instance cluster; a project of the cluster's group or its subgroups for a group cluster; a
/// project of the same namespace (no subgroups) for a project cluster.
pub fn management_project_in_scope(db: &Db, owner: Owner, project: &Project) -> bool {
    match owner {
        Owner::Instance => true,
        Owner::Group(g) => project.group_id().is_some_and(|pg| db.group_within(pg, g)),
        Owner::Project(p) => db
            .projects
            .get(&p)
            .is_some_and(|cp| cp.namespace_id == project.namespace_id),
    }
}
