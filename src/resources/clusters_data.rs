//! Data sources `gitlab_group_clusters`, `gitlab_project_clusters` and
//! `gitlab_instance_clusters`, written once: every cluster of the owner (all pages).

use std::marker::PhantomData;

use async_trait::async_trait;

use super::cluster::{ClusterItem, Remote, desc};
use super::cluster_data::computed_cluster_attributes;
use super::errors::diagnostics;
use super::family::{Owned, Place, WithOwner};
use super::provider::ProviderData;
use crate::framework::prelude::*;

crate::tf_model! {
    /// Every attribute of the list data source but its owner.
    pub struct ClustersDataAttrs {
        id: Val<String>,
        clusters: Val<Vec<ClusterItem>>,
    }
}

/// The list data source's model: the family's owner plus [`ClustersDataAttrs`].
pub type ClustersData<F> = WithOwner<F, ClustersDataAttrs>;

/// The list data source of family `F`.
pub struct ClustersDataSource<F>(PhantomData<F>);

impl<F> Default for ClustersDataSource<F> {
    fn default() -> Self {
        ClustersDataSource(PhantomData)
    }
}

/// The list data source's `id`: the owner as given, or `instance`.
const INSTANCE_ID: &str = "instance";

#[async_trait]
impl<F: Owned> DataSource<ProviderData> for ClustersDataSource<F> {
    type Model = ClustersData<F>;

    fn type_name(&self) -> &'static str {
        F::FAMILY.list_name
    }

    fn schema(&self) -> Schema {
        let f = F::FAMILY;
        let mut item = vec![
            Attribute::number("cluster_id")
                .computed()
                .describe(desc::CLUSTER_ID),
            Attribute::string("name").computed().describe(desc::NAME),
            Attribute::string("environment_scope")
                .computed()
                .describe(&desc::env_scope(f)),
        ];
        item.extend(computed_cluster_attributes(f));
        let (whose, id_desc) = match f.owner_attr {
            Some(a) => (
                format!("a GitLab {}", f.noun),
                format!("The {a}, as given."),
            ),
            None => (
                "the GitLab instance (administrators only)".to_string(),
                format!("Always `{INSTANCE_ID}`."),
            ),
        };
        let mut attrs = vec![Attribute::string("id").computed().describe(&id_desc)];
        attrs.extend(f.owner_attribute(false));
        attrs.push(
            Attribute::list_of_objects("clusters", item)
                .computed()
                .describe(&format!(
                    "The {}'s clusters, oldest first (by cluster id).",
                    f.noun
                )),
        );
        Schema::new(
            &format!("Lists every certificate-based Kubernetes cluster of {whose}."),
            attrs,
        )
    }

    async fn read(
        &self,
        ctx: &Ctx<'_, ProviderData>,
        config: ClustersData<F>,
    ) -> Result<ClustersData<F>, Diagnostics> {
        let owner = config.owner_str();
        let at = Place {
            family: F::FAMILY,
            owner: &owner,
        };
        let mut all = ctx
            .data
            .client
            .list_clusters(&at.client_owner())
            .await
            .map_err(|e| diagnostics(&e, "list the clusters", &at))?;
        // GitLab's list has no defined order (`group.clusters`, no ORDER BY): sort, so the
        // documented order holds and plans do not shuffle.
        all.sort_by_key(|c| c.id);
        let id = match F::FAMILY.owner_attr {
            Some(_) => owner.clone(),
            None => INSTANCE_ID.to_string(),
        };
        Ok(ClustersData::<F>::new(
            config.owner.clone(),
            ClustersDataAttrs {
                id: Val::Known(id),
                clusters: Val::Known(
                    all.iter()
                        .map(|c| ClusterItem::from(&Remote::from(c)))
                        .collect(),
                ),
            },
        ))
    }
}
