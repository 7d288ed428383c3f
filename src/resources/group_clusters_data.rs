//! Data source `gitlab_group_clusters`: every cluster of a group (all pages).

use async_trait::async_trait;

use super::cluster::{ClusterItem, Remote, desc, owner};
use super::errors::diagnostics;
use super::group_cluster_data::computed_cluster_attributes;
use super::provider::ProviderData;
use crate::framework::prelude::*;

crate::tf_model! {
    pub struct GroupClustersData {
        id: Val<String>,
        group: Val<String>,
        clusters: Val<Vec<ClusterItem>>,
    }
}

pub struct GroupClustersDataSource;

#[async_trait]
impl DataSource<ProviderData> for GroupClustersDataSource {
    type Model = GroupClustersData;

    fn type_name(&self) -> &'static str {
        "gitlab_group_clusters"
    }

    fn schema(&self) -> Schema {
        let mut item = vec![
            Attribute::number("cluster_id")
                .computed()
                .describe(desc::CLUSTER_ID),
            Attribute::string("name").computed().describe(desc::NAME),
            Attribute::string("environment_scope")
                .computed()
                .describe(desc::ENV_SCOPE),
        ];
        item.extend(computed_cluster_attributes());
        Schema::new(
            "Lists every certificate-based Kubernetes cluster of a GitLab group.",
            vec![
                Attribute::string("id")
                    .computed()
                    .describe("The group, as given."),
                Attribute::string("group")
                    .required()
                    .validate(NotBlank)
                    .validate(super::cluster::GROUP_PATH)
                    .describe(desc::GROUP),
                Attribute::list_of_objects("clusters", item)
                    .computed()
                    .describe("The group's clusters, oldest first (by cluster id)."),
            ],
        )
    }

    async fn read(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        config: GroupClustersData,
    ) -> Result<GroupClustersData, Diagnostics> {
        let group = config.group.known().cloned().unwrap_or_default();
        let mut all = ctx
            .data
            .client
            .list_clusters(&owner(&group))
            .await
            .map_err(|e| diagnostics(&e, "list the clusters", &group))?;
        // GitLab's list has no defined order (`group.clusters`, no ORDER BY): sort, so the
        // documented order holds and plans do not shuffle.
        all.sort_by_key(|c| c.id);
        Ok(GroupClustersData {
            id: Val::Known(group.clone()),
            group: Val::Known(group),
            clusters: Val::Known(
                all.iter()
                    .map(|c| ClusterItem::from(&Remote::from(c)))
                    .collect(),
            ),
        })
    }
}
