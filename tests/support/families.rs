//! The three owners of certificate-based clusters as the end-to-end tests see them: what
//! differs between `gitlab_group_cluster`, `gitlab_project_cluster` and
//! `gitlab_instance_cluster` in a configuration, an import id, the simulator's seed (the
//! default one: group `qa` (42), project `qa/cluster-management` (7), the instance) and its
//! API, and who may write. A test written over a `&[&Family]` runs for each owner; several
//! families in one configuration share one simulator and one Terraform run.
//!
//! Instance clusters are written through the provider alias `gitlab.admin` (an
//! administrator's token), the others through the default provider (a Maintainer's token):
//! see [`providers`].

use serde_json::{Value as J, json};

use super::fixtures::{KUBE_TOKEN, MAINTAINER_TOKEN, provider_block};
use super::sim::Sim;

/// The seed's administrator (owner everywhere; the only user `/admin/clusters` lets in).
pub const ADMIN_TOKEN: &str = "sim-admin-token";
/// The seed's Developer of group `qa` (so of its projects).
pub const DEVELOPER: &str = super::fixtures::DEVELOPER_TOKEN;

/// One owner of clusters, and everything a test needs to know about it.
#[derive(Debug)]
pub struct Family {
    /// `group`, `project`, `instance` (for messages and output names).
    pub name: &'static str,
    /// The resource and single-cluster data source.
    pub resource: &'static str,
    /// The list data source.
    pub list: &'static str,
    /// The owner attribute; none for the instance.
    pub owner_attr: Option<&'static str>,
    /// The owner the tests use, as a full path, and its id in the seed.
    pub owner: &'static str,
    pub owner_id: i64,
    /// Another owner (moving a cluster there is a replacement), by path and id.
    pub other_owner: &'static str,
    pub other_owner_id: i64,
    /// The simulator's key naming a cluster's owner in `/-/sim/clusters`.
    pub sim_key: &'static str,
    /// What a path of this family's API holds (`/groups/`), to pick its requests and faults.
    pub route: &'static str,
    /// The `cluster_type` of the family's clusters.
    pub cluster_type: &'static str,
    /// The token that may write (through the provider this family's blocks use).
    pub writer: &'static str,
    /// A token that may not write, and the word the provider's error must say then.
    pub denied: &'static str,
    pub denied_hint: &'static str,
    /// What the error for a malformed import id names.
    pub import_format: &'static str,
    /// Whether GitLab refuses `kubernetes_namespace` on a managed cluster of this family
    /// (group and instance clusters; project clusters may always set one).
    pub namespace_needs_unmanaged: bool,
    /// The provider line of the family's blocks (`  provider = gitlab.admin\n`), or "".
    pub provider_line: &'static str,
}

pub static GROUP: Family = Family {
    name: "group",
    resource: "gitlab_group_cluster",
    list: "gitlab_group_clusters",
    owner_attr: Some("group"),
    owner: "qa",
    owner_id: 42,
    other_owner: "qa/platform",
    other_owner_id: 43,
    sim_key: "group_id",
    route: "/groups/",
    cluster_type: "group_type",
    writer: MAINTAINER_TOKEN,
    denied: DEVELOPER,
    denied_hint: "Maintainer",
    import_format: "<group>:<cluster_id>",
    namespace_needs_unmanaged: true,
    provider_line: "",
};

pub static PROJECT: Family = Family {
    name: "project",
    resource: "gitlab_project_cluster",
    list: "gitlab_project_clusters",
    owner_attr: Some("project"),
    owner: "qa/cluster-management",
    owner_id: 7,
    // The maintainer's own project, in a user namespace.
    other_owner: "maintainer/sandbox",
    other_owner_id: 9,
    sim_key: "project_id",
    route: "/projects/",
    cluster_type: "project_type",
    writer: MAINTAINER_TOKEN,
    denied: DEVELOPER,
    denied_hint: "Maintainer role on the project",
    import_format: "<project>:<cluster_id>",
    namespace_needs_unmanaged: false,
    provider_line: "",
};

pub static INSTANCE: Family = Family {
    name: "instance",
    resource: "gitlab_instance_cluster",
    list: "gitlab_instance_clusters",
    owner_attr: None,
    owner: "",
    owner_id: 0,
    other_owner: "",
    other_owner_id: 0,
    sim_key: "instance",
    route: "/admin/clusters",
    cluster_type: "instance_type",
    writer: ADMIN_TOKEN,
    denied: MAINTAINER_TOKEN,
    denied_hint: "administrator",
    import_format: "cluster's numeric id",
    namespace_needs_unmanaged: true,
    provider_line: "  provider           = gitlab.admin\n",
};

/// Every family.
pub static ALL: [&Family; 3] = [&GROUP, &PROJECT, &INSTANCE];
/// The group alone: the tests as they ran before project and instance clusters.
pub static GROUP_ONLY: [&Family; 1] = [&GROUP];
/// Project and instance clusters, side by side in one configuration.
pub static PROJECT_AND_INSTANCE: [&Family; 2] = [&PROJECT, &INSTANCE];

/// The default provider authenticating as `token`, plus the alias `gitlab.admin` (instance
/// clusters) as `admin_token`.
pub fn providers(sim: &Sim, token: &str, admin_token: &str) -> String {
    format!(
        "{}\nprovider \"gitlab\" {{\n  alias    = \"admin\"\n  base_url = \"{}\"\n  token    = \"{admin_token}\"\n}}\n",
        provider_block(sim, token),
        sim.api_url()
    )
}

/// [`providers`] with each family's writer.
pub fn writers(sim: &Sim) -> String {
    providers(sim, MAINTAINER_TOKEN, ADMIN_TOKEN)
}

impl Family {
    /// `gitlab_project_cluster.c`.
    pub fn address(&self, name: &str) -> String {
        format!("{}.{name}", self.resource)
    }

    /// The owner line of a block (`  group              = "qa"`), "" for the instance.
    pub fn owner_line(&self, owner: &str) -> String {
        match self.owner_attr {
            Some(attr) => format!("  {attr:<18} = \"{owner}\"\n"),
            None => String::new(),
        }
    }

    /// A resource block of this family for `owner`, laid out as [`super::cluster_block`]
    /// lays out the group's (tests respell its lines by `replace`).
    pub fn block_in(&self, owner: &str, name: &str, attrs: &str) -> String {
        format!(
            "resource \"{}\" \"{name}\" {{\n{}{}  name               = \"{name}\"\n  kubernetes_api_url = \"https://k8s.example.com:6443\"\n  kubernetes_token   = \"{KUBE_TOKEN}\"\n{attrs}\n}}\n",
            self.resource,
            self.provider_line,
            self.owner_line(owner)
        )
    }

    /// [`Family::block_in`] for the family's own owner.
    pub fn block(&self, name: &str, attrs: &str) -> String {
        self.block_in(self.owner, name, attrs)
    }

    /// The opening of a data source block of this family (`data "T" "name" {` plus the
    /// provider and owner lines); the caller adds the rest and the closing brace.
    pub fn data_open(&self, list: bool, name: &str, owner: &str) -> String {
        format!(
            "data \"{}\" \"{name}\" {{\n{}{}",
            if list { self.list } else { self.resource },
            self.provider_line,
            self.owner_line(owner)
        )
    }

    /// The resource and import id: `<owner>:<id>`, the bare id for the instance.
    pub fn import_id(&self, owner: &str, id: i64) -> String {
        match self.owner_attr {
            Some(_) => format!("{owner}:{id}"),
            None => id.to_string(),
        }
    }

    /// The family's clusters of `owner_id` in the simulator (all of them for the instance).
    pub fn clusters_of(&self, sim: &Sim, owner_id: i64) -> Vec<J> {
        sim.clusters()
            .into_iter()
            .filter(|c| match self.owner_attr {
                Some(_) => c[self.sim_key] == owner_id,
                None => c[self.sim_key] == true,
            })
            .collect()
    }

    /// The family's clusters of its own owner.
    pub fn clusters(&self, sim: &Sim) -> Vec<J> {
        self.clusters_of(sim, self.owner_id)
    }

    /// The API path of `owner`'s clusters: `/groups/qa%2Fplatform/clusters`, `/admin/clusters`.
    pub fn api(&self, owner: &str) -> String {
        match self.owner_attr {
            Some(_) => format!("{}{}/clusters", self.route, owner.replace('/', "%2F")),
            None => self.route.to_string(),
        }
    }

    /// Where a cluster is created: `.../clusters/user`, `/admin/clusters/add`.
    pub fn create_path(&self, owner: &str) -> String {
        match self.owner_attr {
            Some(_) => format!("{}/user", self.api(owner)),
            None => format!("{}/add", self.api(owner)),
        }
    }

    /// Creates a cluster of `owner` through the API (as another tool would), scope `*`;
    /// returns its id.
    pub fn existing_cluster(&self, sim: &Sim, owner: &str, name: &str, ca: &str) -> i64 {
        let mut k8s = json!({"api_url": "https://k8s.example.com:6443", "token": KUBE_TOKEN});
        if !ca.is_empty() {
            k8s["ca_cert"] = json!(ca);
        }
        let (status, body) = sim.api(
            reqwest::Method::POST,
            &self.create_path(owner),
            self.writer,
            Some(json!({
                "name": name,
                "environment_scope": "*",
                "platform_kubernetes_attributes": k8s
            })),
        );
        assert_eq!(status, 201, "{}: {body}", self.name);
        body["id"].as_i64().expect("cluster id")
    }

    /// The bodies of the API requests of `method` on this family's routes, oldest first.
    pub fn bodies(&self, sim: &Sim, method: &str) -> Vec<J> {
        sim.log()
            .into_iter()
            .filter(|e| {
                e["method"] == method
                    && e["path"]
                        .as_str()
                        .is_some_and(|p| p.contains(self.route) && p.contains("/clusters"))
            })
            .map(|e| e["body"].clone())
            .collect()
    }

    /// The PUT bodies this family's clusters received.
    pub fn puts(&self, sim: &Sim) -> Vec<J> {
        self.bodies(sim, "PUT")
    }

    /// Queues a fault for `count` requests of `method` on this family's routes.
    pub fn fault(&self, sim: &Sim, method: &str, count: u32, action: J) {
        sim.fault(json!({"method": method, "path": self.route, "count": count, "action": action}));
    }

    /// The state gitlabhq/gitlab (SDKv2) writes for cluster `id` of this family's owner:
    /// `""` for unset strings, no `cluster_id`, the CA as GitLab returned it (stripped).
    pub fn official_attributes(&self, id: i64, name: &str, created_at: &J, ca: &str) -> J {
        let mut a = json!({
            "id": self.import_id(self.owner, id), "name": name, "domain": "",
            "enabled": true, "managed": true, "created_at": created_at,
            "provider_type": "user", "platform_type": "kubernetes", "environment_scope": "*",
            "cluster_type": self.cluster_type, "kubernetes_api_url": "https://k8s.example.com:6443",
            "kubernetes_token": KUBE_TOKEN, "kubernetes_ca_cert": ca,
            "kubernetes_authorization_type": "rbac", "management_project_id": ""
        });
        if let Some(attr) = self.owner_attr {
            a[attr] = json!(self.owner);
        }
        // The official project and instance resources have a namespace; the group's not.
        if self.owner_attr != Some("group") {
            a["kubernetes_namespace"] = json!("");
        }
        a
    }
}

/// Defines, for each function `name(tf_version: &str, families: &[&Family])`, the tests
/// `name::terraform_1_0_3` and `name::terraform_modern` (group clusters, as before project
/// and instance clusters came) and `name::project_and_instance_on_terraform_modern` (both
/// families in one configuration: one simulator, one Terraform run). The functions listed
/// under `every_terraform` also get `name::project_and_instance_on_terraform_1_0_3`.
///
/// ```ignore
/// on_every_family! {
///     modern: [create_then_plan_has_no_changes],
///     every_terraform: [drift_is_detected_and_corrected],
/// }
/// ```
#[macro_export]
macro_rules! on_every_family {
    (@tests $name:ident { $($extra:tt)* }) => {
        mod $name {
            use $crate::support::families::{GROUP_ONLY, PROJECT_AND_INSTANCE};
            #[test]
            fn terraform_1_0_3() {
                super::$name("1.0.3", &GROUP_ONLY)
            }
            #[test]
            fn terraform_modern() {
                super::$name($crate::support::MODERN, &GROUP_ONLY)
            }
            #[test]
            fn project_and_instance_on_terraform_modern() {
                super::$name($crate::support::MODERN, &PROJECT_AND_INSTANCE)
            }
            $($extra)*
        }
    };
    (modern: [$($m:ident),* $(,)?], every_terraform: [$($e:ident),* $(,)?] $(,)?) => {
        $( $crate::on_every_family!(@tests $m {}); )*
        $( $crate::on_every_family!(@tests $e {
            #[test]
            fn project_and_instance_on_terraform_1_0_3() {
                super::$e("1.0.3", &PROJECT_AND_INSTANCE)
            }
        }); )*
    };
}
