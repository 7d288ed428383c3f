//! The scenarios: what a user does with a cluster resource and its two data sources. Each is
//! a setup (fixture clusters made through the API, then steps), done once before the
//! simulator's checkpoint, and the steps every run replays from there; plus the
//! configuration each workspace ends with, which the clean converge applies. A scenario is
//! written once: the grid runs it for each owner (`owners.rs`), which supplies the resource,
//! the data sources, the owner attribute and its spellings.
//!
//! Every scenario's setup also makes `decoy` (scope `decoy/*`, of the scenario's owner), a
//! cluster no workspace owns: the `foreign` fault answers with it, and nothing may change it.

use serde_json::{Value as J, json};
use terraform_provider_gitlab::protocol::value::Value;

use super::owners::Owner;
use crate::grpc_support::WireSchema;

/// One cluster resource block.
#[derive(Clone, Debug)]
pub struct ClusterCfg {
    /// The owner attribute spelled as the owner's id rather than its path (no effect for the
    /// instance, which has no owner attribute: the configuration is then unchanged).
    pub by_id: bool,
    pub name: &'static str,
    pub scope: &'static str,
    pub auth: &'static str,
    pub domain: Option<&'static str>,
}

/// `prod`: the cluster most scenarios manage.
pub const PROD: ClusterCfg = ClusterCfg {
    by_id: false,
    name: "production",
    scope: "production",
    auth: "rbac",
    domain: None,
};

impl ClusterCfg {
    pub fn value(&self, owner: Owner, r: &WireSchema) -> Value {
        let mut set: Vec<(&str, Value)> = vec![
            ("name", self.name.into()),
            ("environment_scope", self.scope.into()),
            ("kubernetes_authorization_type", self.auth.into()),
            ("kubernetes_api_url", "https://k8s.example.com:6443".into()),
            ("kubernetes_token", "k8s-token".into()),
        ];
        if let Some(d) = self.domain {
            set.push(("domain", d.into()));
        }
        owner.object(r, self.by_id, &set)
    }
}

/// Which cluster a step means: a workspace's (its state's `cluster_id` at that point) or a
/// fixture's.
#[derive(Clone, Debug)]
pub enum Target {
    Ws(usize),
    Fixture(&'static str),
}

/// How the single-cluster data source picks its cluster.
#[derive(Clone, Debug)]
pub enum DataBy {
    Id(Target),
    Name(&'static str),
}

#[derive(Clone, Debug)]
pub enum Step {
    /// `terraform apply` of this configuration (`None`: the block removed).
    Apply(usize, Option<ClusterCfg>),
    /// `terraform plan -out=<slot>`.
    PlanSaved(usize, Option<ClusterCfg>, &'static str),
    /// `terraform apply <slot>`.
    ApplySaved(&'static str),
    /// `terraform import` of the target as `<owner path>:<id>` (the bare id for the instance).
    Import(usize, Target),
    /// The single-cluster data source (`gitlab_group_cluster`, …) of the owner.
    ReadCluster(DataBy),
    /// The list data source (`gitlab_group_clusters`, …) of the owner.
    ReadClusters,
    /// An edit in GitLab behind Terraform's back (`PATCH /-/sim/clusters/:id`, no API
    /// request).
    Outside(Target, J),
}

pub struct Scenario {
    pub name: &'static str,
    pub workspaces: usize,
    /// Clusters made through the API before the setup steps: (label, name, scope), of the
    /// owner.
    pub fixtures: Vec<(&'static str, &'static str, &'static str)>,
    pub setup: Vec<Step>,
    pub steps: Vec<Step>,
    /// Each workspace's configuration at the end (what the clean converge applies).
    pub converge: Vec<Option<ClusterCfg>>,
    /// How the clean run ends.
    pub clean: Clean,
}

/// How the fault-free run of a scenario ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clean {
    /// Every step succeeds.
    Succeeds,
    /// This step fails: the refusal the scenario is about.
    FailsAt(usize),
    /// Every step succeeds, or this one fails (either is right; the invariants judge it).
    MayFailAt(usize),
}

impl Clean {
    /// Whether a clean run that failed at `step` (None: did not fail) is as designed.
    pub fn allows(self, step: Option<usize>) -> bool {
        match self {
            Clean::Succeeds => step.is_none(),
            Clean::FailsAt(i) => step == Some(i),
            Clean::MayFailAt(i) => step.is_none() || step == Some(i),
        }
    }
}

fn one(
    name: &'static str,
    setup: Vec<Step>,
    steps: Vec<Step>,
    end: Option<ClusterCfg>,
) -> Scenario {
    Scenario {
        name,
        workspaces: 1,
        fixtures: vec![("decoy", "decoy", "decoy/*")],
        setup,
        steps,
        converge: vec![end],
        clean: Clean::Succeeds,
    }
}

/// Every scenario, in table order.
pub fn all() -> Vec<Scenario> {
    let prod = || Some(PROD);
    let created = || vec![Step::Apply(0, prod())];
    // A new scope too: a create planned by mistake would then succeed (a duplicate).
    let renamed = ClusterCfg {
        name: "production-2",
        scope: "production-2",
        domain: Some("apps.example.com"),
        ..PROD
    };
    let abac = ClusterCfg {
        auth: "abac",
        ..PROD
    };
    let by_id = ClusterCfg {
        by_id: true,
        ..PROD
    };
    let imported = ClusterCfg {
        name: "imported",
        scope: "imported/*",
        ..PROD
    };
    let saved_rename = ClusterCfg {
        name: "production-renamed",
        ..PROD
    };
    let mut shared = one(
        "shared owner",
        created(),
        vec![Step::Apply(1, prod())],
        prod(),
    );
    shared.workspaces = 2;
    shared.converge = vec![prod(), None];
    shared.clean = Clean::FailsAt(0);
    // The saved rename cannot undo the outside change of a force-new attribute: the apply
    // records GitLab's `abac` or fails saying so (then the converge replaces the cluster).
    let mut saved = one(
        "saved plan",
        created(),
        vec![
            Step::PlanSaved(0, Some(saved_rename.clone()), "p"),
            Step::Outside(Target::Ws(0), json!({"authorization_type": "abac"})),
            Step::ApplySaved("p"),
        ],
        Some(saved_rename),
    );
    saved.clean = Clean::MayFailAt(2);
    let mut import = one(
        "import",
        vec![],
        vec![
            Step::Import(0, Target::Fixture("imported")),
            Step::Apply(0, Some(imported.clone())),
        ],
        Some(imported),
    );
    import.fixtures.push(("imported", "imported", "imported/*"));
    // `respell owner` spells the owner by id instead of path (`qa` → `42`,
    // `qa/platform/apps` → `10`); the instance has no owner to spell, so for it both respell
    // scenarios apply (or save and apply) the unchanged configuration: a no-op under faults.
    vec![
        one("create", vec![], created(), prod()),
        one(
            "update",
            created(),
            vec![Step::Apply(0, Some(renamed.clone()))],
            Some(renamed),
        ),
        one(
            "replace",
            created(),
            vec![Step::Apply(0, Some(abac.clone()))],
            Some(abac),
        ),
        one(
            "respell owner",
            created(),
            vec![Step::Apply(0, Some(by_id.clone()))],
            Some(by_id.clone()),
        ),
        one(
            "respell (saved)",
            created(),
            vec![
                Step::PlanSaved(0, Some(by_id.clone()), "p"),
                Step::ApplySaved("p"),
            ],
            Some(by_id),
        ),
        import,
        one(
            "drift",
            created(),
            vec![
                Step::Outside(
                    Target::Ws(0),
                    json!({"name": "renamed-outside", "domain": "drift.example.com"}),
                ),
                Step::Apply(0, prod()),
            ],
            prod(),
        ),
        one("delete", created(), vec![Step::Apply(0, None)], None),
        saved,
        one(
            "data cluster",
            created(),
            vec![
                Step::ReadCluster(DataBy::Id(Target::Ws(0))),
                Step::ReadCluster(DataBy::Name("production")),
            ],
            prod(),
        ),
        one("data clusters", created(), vec![Step::ReadClusters], prod()),
        shared,
    ]
}
