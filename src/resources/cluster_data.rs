//! Data sources `gitlab_group_cluster`, `gitlab_project_cluster` and
//! `gitlab_instance_cluster`, written once: one cluster of the owner, found by `cluster_id`,
//! or by `name` and/or `environment_scope` (which must match exactly one cluster).

use std::marker::PhantomData;

use async_trait::async_trait;

use super::cluster::{ClusterItem, Identified, Remote, desc};
use super::errors::diagnostics;
use super::family::{Family, Owned, Place, WithOwner};
use super::provider::ProviderData;
use crate::framework::prelude::*;

/// The single-cluster data source's model: the family's owner, the Terraform id, and
/// everything GitLab says of the cluster ([`ClusterItem`]).
pub type ClusterData<F> = WithOwner<F, Identified<ClusterItem>>;

/// The read-only attributes every cluster data source exposes (everything but the token).
pub fn computed_cluster_attributes(f: &Family) -> Vec<Attribute> {
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
            .describe(&desc::mgmt_project(f)),
        Attribute::string("cluster_type")
            .computed()
            .describe(&desc::cluster_type(f)),
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

/// Fills every attribute from GitLab's entity: the attributes of a list item, plus the id
/// and the owner.
fn from_remote<F: Owned>(owner: &Val<String>, r: &Remote) -> ClusterData<F> {
    let spelled = owner.known().cloned().unwrap_or_default();
    ClusterData::<F>::new(
        owner.clone(),
        Identified {
            id: Val::Known(F::FAMILY.state_id(&spelled, r.cluster_id)),
            item: ClusterItem::from(r),
        },
    )
}

/// The single-cluster data source of family `F`.
pub struct ClusterDataSource<F>(PhantomData<F>);

impl<F> Default for ClusterDataSource<F> {
    fn default() -> Self {
        ClusterDataSource(PhantomData)
    }
}

#[async_trait]
impl<F: Owned> DataSource<ProviderData> for ClusterDataSource<F> {
    type Model = ClusterData<F>;

    fn type_name(&self) -> &'static str {
        F::FAMILY.resource
    }

    fn schema(&self) -> Schema {
        let f = F::FAMILY;
        let mut attrs = vec![Attribute::string("id").computed().describe(&desc::id(f))];
        attrs.extend(f.owner_attribute(false));
        attrs.extend([
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
                .describe(&format!(
                    "Find the cluster by environment scope (when `cluster_id` is not given); unique within {}.",
                    f.scope_unique_within
                )),
        ]);
        attrs.extend(computed_cluster_attributes(f));
        let whose = match f.owner_attr {
            Some(_) => format!("a GitLab {}", f.noun),
            None => "the GitLab instance (administrators only)".to_string(),
        };
        Schema::new(
            &format!("Reads one certificate-based Kubernetes cluster of {whose}."),
            attrs,
        )
    }

    fn validate(&self, c: &ClusterData<F>) -> Diagnostics {
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
        config: ClusterData<F>,
    ) -> Result<ClusterData<F>, Diagnostics> {
        let group = config.owner_str();
        let at = Place {
            family: F::FAMILY,
            owner: &group,
        };
        let client = &ctx.data.client;
        if let Some(id) = config.cluster_id.known() {
            let c = client
                .get_cluster(&at.client_owner(), *id)
                .await
                .map_err(|e| {
                    let d = diagnostics(&e, "read the cluster", &at);
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
            return Ok(from_remote(&config.owner, &Remote::from(&c)));
        }
        let all = client
            .list_clusters(&at.client_owner())
            .await
            .map_err(|e| diagnostics(&e, "list the clusters", &at))?;
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
            [one] => Ok(from_remote(&config.owner, &Remote::from(*one))),
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
                        "{} has no cluster with {} ({} clusters checked). Names and scopes must match \
                         exactly, letter case included.",
                        capitalised(&at.describe()),
                        wanted.join(" and "),
                        all.len()
                    ),
                )
                .into())
            }
            many => Err(Diagnostic::error(
                "Several clusters match",
                format!(
                    "{} clusters of {} match (ids {}). Add environment_scope or use cluster_id.",
                    many.len(),
                    at.describe(),
                    many.iter()
                        .map(|c| c.id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into()),
        }
    }
}

/// `the instance` → `The instance`, for the start of a sentence.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
