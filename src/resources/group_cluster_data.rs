//! Data source `gitlab_group_cluster`: one cluster of a group, found by `cluster_id`, or by
//! `name` and/or `environment_scope` (which must match exactly one cluster).

use async_trait::async_trait;

use super::cluster::{ClusterItem, GROUP_PATH, Remote, desc, owner, state_id};
use super::errors::diagnostics;
use super::provider::ProviderData;
use crate::framework::prelude::*;

crate::tf_model! {
    pub struct GroupClusterData {
        id: Val<String>,
        group: Val<String>,
        cluster_id: Val<i64>,
        name: Val<String>,
        environment_scope: Val<String>,
        domain: Val<String>,
        enabled: Val<bool>,
        managed: Val<bool>,
        kubernetes_api_url: Val<String>,
        kubernetes_ca_cert: Val<String>,
        kubernetes_authorization_type: Val<String>,
        kubernetes_namespace: Val<String>,
        namespace_per_environment: Val<bool>,
        management_project_id: Val<String>,
        cluster_type: Val<String>,
        created_at: Val<String>,
        provider_type: Val<String>,
        platform_type: Val<String>,
    }
}

/// The read-only attributes every cluster data source exposes (everything but the token).
pub fn computed_cluster_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("domain")
            .computed()
            .describe(desc::DOMAIN),
        Attribute::bool("enabled")
            .computed()
            .describe(desc::ENABLED),
        Attribute::bool("managed")
            .computed()
            .describe(desc::MANAGED),
        Attribute::string("kubernetes_api_url")
            .computed()
            .describe(desc::API_URL),
        Attribute::string("kubernetes_ca_cert")
            .computed()
            .describe(desc::CA_CERT_READ),
        Attribute::string("kubernetes_authorization_type")
            .computed()
            .describe(desc::AUTH_TYPE_READ),
        Attribute::string("kubernetes_namespace")
            .computed()
            .describe(desc::NAMESPACE_READ),
        Attribute::bool("namespace_per_environment")
            .computed()
            .describe(desc::NAMESPACE_PER_ENV),
        Attribute::string("management_project_id")
            .computed()
            .describe(desc::MGMT_PROJECT),
        Attribute::string("cluster_type")
            .computed()
            .describe(desc::CLUSTER_TYPE),
        Attribute::string("created_at")
            .computed()
            .describe(desc::CREATED_AT),
        Attribute::string("provider_type")
            .computed()
            .describe(desc::PROVIDER_TYPE),
        Attribute::string("platform_type")
            .computed()
            .describe(desc::PLATFORM_TYPE),
    ]
}

impl GroupClusterData {
    /// Fills every attribute from GitLab's entity: the attributes of a list item, plus
    /// the id and group.
    pub fn from_remote(group: &str, r: &Remote) -> Result<Self, Diagnostics> {
        let mut v = ClusterItem::from(r).to_value();
        if let Value::Object(m) = &mut v {
            m.insert("id".into(), Value::from(state_id(group, r.cluster_id)));
            m.insert("group".into(), Value::from(group));
        }
        Self::from_value(&v, &AttributePath::root()).map_err(Diagnostics::from)
    }
}

pub struct GroupClusterDataSource;

#[async_trait]
impl DataSource<ProviderData> for GroupClusterDataSource {
    type Model = GroupClusterData;

    fn type_name(&self) -> &'static str {
        "gitlab_group_cluster"
    }

    fn schema(&self) -> Schema {
        let mut attrs = vec![
            Attribute::string("id").computed().describe(desc::ID),
            Attribute::string("group")
                .required()
                .validate(NotBlank)
                .validate(GROUP_PATH)
                .describe(desc::GROUP),
            Attribute::number("cluster_id")
                .optional()
                .computed()
                .describe("The cluster to read. Alternatively, find it by `name` and/or `environment_scope`."),
            Attribute::string("name")
                .optional()
                .computed()
                .describe("Find the cluster by name (when `cluster_id` is not given)."),
            Attribute::string("environment_scope")
                .optional()
                .computed()
                .describe("Find the cluster by environment scope (when `cluster_id` is not given); unique in a group."),
        ];
        attrs.extend(computed_cluster_attributes());
        Schema::new(
            "Reads one certificate-based Kubernetes cluster of a GitLab group.",
            attrs,
        )
    }

    fn validate(&self, c: &GroupClusterData) -> Diagnostics {
        let mut d = Diagnostics::new();
        let by_id = !c.cluster_id.is_null();
        let by_filter = !c.name.is_null() || !c.environment_scope.is_null();
        if !by_id && !by_filter {
            d.push(
                Diagnostic::error(
                    "No cluster selected",
                    "Set cluster_id, or name and/or environment_scope, to say which cluster to read.",
                )
                .at_attr("cluster_id"),
            );
        }
        if by_id && by_filter {
            d.push(
                Diagnostic::error(
                    "Conflicting cluster selection",
                    "Set either cluster_id, or name/environment_scope, not both.",
                )
                .at_attr("cluster_id"),
            );
        }
        d
    }

    async fn read(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        config: GroupClusterData,
    ) -> Result<GroupClusterData, Diagnostics> {
        let group = config.group.known().cloned().unwrap_or_default();
        let client = &ctx.data.client;
        if let Some(id) = config.cluster_id.known() {
            let c = client.get_cluster(&owner(&group), *id).await.map_err(|e| {
                let d = diagnostics(&e, "read the cluster", &group);
                // The group is there and the cluster is not: `cluster_id` is what to fix.
                if e.missing() == Some(crate::gitlab::error::Missing::Cluster) {
                    d.0.into_iter()
                        .map(|x| x.at_attr("cluster_id"))
                        .collect::<Vec<_>>()
                        .into()
                } else {
                    d
                }
            })?;
            return GroupClusterData::from_remote(&group, &Remote::from(&c));
        }
        let all = client
            .list_clusters(&owner(&group))
            .await
            .map_err(|e| diagnostics(&e, "list the clusters", &group))?;
        let matching: Vec<_> = all
            .iter()
            .filter(|c| config.name.known().is_none_or(|n| &c.name == n))
            .filter(|c| {
                config
                    .environment_scope
                    .known()
                    .is_none_or(|s| c.environment_scope.as_deref() == Some(s.as_str()))
            })
            .collect();
        match matching.as_slice() {
            [one] => GroupClusterData::from_remote(&group, &Remote::from(*one)),
            [] => {
                let mut wanted = Vec::new();
                if let Some(n) = config.name.known() {
                    wanted.push(format!("name {n:?}"));
                }
                if let Some(e) = config.environment_scope.known() {
                    wanted.push(format!("environment_scope {e:?}"));
                }
                Err(Diagnostic::error(
                    "No matching cluster",
                    format!(
                        "Group {group:?} has no cluster with {} ({} clusters checked). Names and scopes must match \
                         exactly, letter case included.",
                        wanted.join(" and "),
                        all.len()
                    ),
                )
                .into())
            }
            many => Err(Diagnostic::error(
                "Several clusters match",
                format!(
                    "{} clusters of group {group:?} match (ids {}). Add environment_scope or use cluster_id.",
                    many.len(),
                    many.iter().map(|c| c.id.to_string()).collect::<Vec<_>>().join(", ")
                ),
            )
            .into()),
        }
    }
}
