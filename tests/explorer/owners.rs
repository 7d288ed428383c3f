//! The grid's family dimension: the three owners of certificate-based clusters as data. Every
//! scenario runs for each of them, through its own resource and data sources, its own routes
//! and its own token; what differs between them lives here and nowhere else in the explorer.
//!
//! The simulator runs the families seed (`gitlab_sim::families_seed_file()`, docs/simulator.md),
//! which already holds clusters of all three families that no workspace owns; every job also
//! makes decoys of the other two families named like the scenario's cluster
//! (`production` / `production`), see [`Owner::others`] and `grid.rs`.

use serde_json::Value as J;
use terraform_provider_gitlab::protocol::value::Value;

use crate::grpc_support::WireSchema;

/// Whose clusters a run manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// `gitlab_group_cluster` in group `qa` (id 42).
    Group,
    /// `gitlab_project_cluster` in project `qa/platform/apps` (id 10, a project of a subgroup,
    /// which the maintainer of `qa` maintains).
    Project,
    /// `gitlab_instance_cluster`, with the administrator's token.
    Instance,
}

pub const ALL: [Owner; 3] = [Owner::Group, Owner::Project, Owner::Instance];

/// Groups and projects of the families seed: full path → id.
const GROUPS: &[(&str, i64)] = &[("qa", 42), ("qa/platform", 43), ("other", 50)];
const PROJECTS: &[(&str, i64)] = &[
    ("qa/cluster-management", 7),
    ("other/other-tools", 8),
    ("maintainer/sandbox", 9),
    ("qa/platform/apps", 10),
    ("other/public-docs", 11),
];

fn lookup(table: &[(&str, i64)], spelled: &str) -> Option<i64> {
    table
        .iter()
        .find(|(p, _)| *p == spelled)
        .map(|(_, id)| *id)
        .or_else(|| spelled.parse().ok())
}

impl Owner {
    /// The table's name of the owner.
    pub fn name(self) -> &'static str {
        match self {
            Owner::Group => "group",
            Owner::Project => "project",
            Owner::Instance => "instance",
        }
    }

    /// The resource, which is also the single-cluster data source.
    pub fn resource(self) -> &'static str {
        match self {
            Owner::Group => "gitlab_group_cluster",
            Owner::Project => "gitlab_project_cluster",
            Owner::Instance => "gitlab_instance_cluster",
        }
    }

    /// The list data source.
    pub fn list(self) -> &'static str {
        match self {
            Owner::Group => "gitlab_group_clusters",
            Owner::Project => "gitlab_project_clusters",
            Owner::Instance => "gitlab_instance_clusters",
        }
    }

    /// The owner attribute (none for the instance).
    pub fn attr(self) -> Option<&'static str> {
        match self {
            Owner::Group => Some("group"),
            Owner::Project => Some("project"),
            Owner::Instance => None,
        }
    }

    /// The owner as a configuration spells it: its full path, or (`by_id`) its numeric id;
    /// `""` for the instance, which has nothing to spell.
    pub fn spelled(self, by_id: bool) -> &'static str {
        match (self, by_id) {
            (Owner::Group, false) => "qa",
            (Owner::Group, true) => "42",
            (Owner::Project, false) => "qa/platform/apps",
            (Owner::Project, true) => "10",
            (Owner::Instance, _) => "",
        }
    }

    /// The id a spelling of this family's owner names (`None`: not one the seed has). The
    /// instance is one, spelled `""`.
    pub fn id_of(self, spelled: &str) -> Option<i64> {
        match self {
            Owner::Group => lookup(GROUPS, spelled),
            Owner::Project => lookup(PROJECTS, spelled),
            Owner::Instance => spelled.is_empty().then_some(0),
        }
    }

    /// The owner of a cluster as `/-/sim/clusters` lists it, when it is of this family: its
    /// group or project id (0 for the instance).
    pub fn owner_in(self, c: &J) -> Option<i64> {
        match self {
            Owner::Group => c["group_id"].as_i64(),
            Owner::Project => c["project_id"].as_i64(),
            Owner::Instance => (c["instance"] == J::Bool(true)).then_some(0),
        }
    }

    /// Whether `c` is one of this owner's (the scenario's) clusters.
    pub fn holds(self, c: &J) -> bool {
        self.owner_in(c) == self.id_of(self.spelled(false))
    }

    /// The owner's state value: the owner attribute as the state spells it, resolved to an
    /// id (0 for the instance, whose state has no owner attribute).
    pub fn owner_of_state(self, state: &Value) -> Option<i64> {
        match self.attr() {
            Some(a) => state.get(a).as_str().and_then(|s| self.id_of(s)),
            None => Some(0),
        }
    }

    /// The import id of a cluster: `<owner>:<id>`, or the bare id for the instance.
    pub fn import_id(self, cluster_id: i64) -> String {
        match self.attr() {
            Some(_) => format!("{}:{cluster_id}", self.spelled(false)),
            None => cluster_id.to_string(),
        }
    }

    /// A configuration of `schema` (the resource's or a data source's): `set`, plus the owner
    /// attribute spelled as asked.
    pub fn object(self, schema: &WireSchema, by_id: bool, set: &[(&str, Value)]) -> Value {
        let mut all: Vec<(&str, Value)> = set.to_vec();
        if let Some(a) = self.attr() {
            all.push((a, self.spelled(by_id).into()));
        }
        schema.object(&all)
    }

    /// The API route of the owner's clusters, under `/api/v4`.
    pub fn clusters_route(self) -> String {
        match self {
            Owner::Group => "groups/42/clusters".into(),
            Owner::Project => "projects/10/clusters".into(),
            Owner::Instance => "admin/clusters".into(),
        }
    }

    /// The create route's last segment.
    pub fn create_segment(self) -> &'static str {
        match self {
            Owner::Instance => "add",
            _ => "user",
        }
    }

    /// The token the provider (and fixtures) use: the maintainer of `qa`, or an administrator
    /// for instance clusters.
    pub fn token(self) -> &'static str {
        match self {
            Owner::Instance => "sim-admin-token",
            _ => crate::support::MAINTAINER_TOKEN,
        }
    }

    /// The fixture label of this family's decoy in a job of another family.
    pub fn decoy_label(self) -> &'static str {
        match self {
            Owner::Group => "decoy of the group family",
            Owner::Project => "decoy of the project family",
            Owner::Instance => "decoy of the instance family",
        }
    }

    /// The other two families, whose decoys every job makes.
    pub fn others(self) -> impl Iterator<Item = Owner> {
        ALL.into_iter().filter(move |o| *o != self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_owner_knows_its_clusters_and_spellings() {
        let g = json!({"id": 1, "group_id": 42});
        let p = json!({"id": 2, "project_id": 10});
        let i = json!({"id": 3, "instance": true});
        let elsewhere = json!({"id": 4, "project_id": 7});
        assert!(Owner::Group.holds(&g) && !Owner::Group.holds(&p) && !Owner::Group.holds(&i));
        assert!(Owner::Project.holds(&p) && !Owner::Project.holds(&elsewhere));
        assert!(Owner::Instance.holds(&i) && !Owner::Instance.holds(&g));
        for o in ALL {
            assert_eq!(o.id_of(o.spelled(false)), o.id_of(o.spelled(true)));
        }
        assert_eq!(Owner::Project.import_id(5), "qa/platform/apps:5");
        assert_eq!(Owner::Instance.import_id(5), "5");
    }
}
