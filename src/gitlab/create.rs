//! Creating a cluster without ever creating two: `POST …/clusters/user`, and when its
//! answer is lost (timeout, reset, 5xx from a proxy, a 2xx whose body cannot be read), the
//! owner's clusters are searched for the one this request would have made (same environment
//! scope, name and API URL): found, it is adopted; not found, the POST is sent again. A
//! retry that GitLab rejects as a duplicated environment scope means the earlier request
//! landed late: adopted too. The lookups run even while Terraform is stopping.
use reqwest::Method;

use super::client::{Client, encode};
use super::clusters::{ClusterOwner, decode_cluster};
use super::error::Error;
use super::transport::log_path;
use super::types::{Cluster, CreateCluster};

/// Retries of the lookups after an unknown outcome (they run even while Terraform stops).
const LOOKUP_RETRIES: u32 = 3;

/// A cluster created by [`Client::create_cluster`]; `adopted` when the POST's response
/// was lost and the cluster was found by lookup instead.
#[derive(Debug)]
pub struct Created {
    pub cluster: Cluster,
    pub adopted: bool,
}

impl Client {
    /// `POST …/clusters/user`, with the recovery of a lost answer described above.
    pub async fn create_cluster(
        &self,
        owner: &ClusterOwner,
        req: &CreateCluster,
    ) -> Result<Created, Error> {
        let url = self.clusters_url(owner, &[owner.add_segment()], &[]);
        let body = encode(req)?;
        let retries = self.transport.retries();
        let mut uncertain = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self
                .transport
                .send(Method::POST, url.clone(), Some(body.clone()))
                .await
            {
                Ok(r) => match decode_cluster(&r.body) {
                    Ok(cluster) => {
                        return Ok(Created {
                            cluster,
                            adopted: false,
                        });
                    }
                    Err(e) => Error::OutcomeUnknown {
                        detail: format!(
                            "GitLab accepted the request but its answer is unreadable: {e}"
                        ),
                    },
                },
                Err(e) => e,
            };
            match failure {
                Error::OutcomeUnknown { detail } => {
                    uncertain = true;
                    tracing::warn!(%detail, attempt, "cluster creation outcome unknown; looking the cluster up");
                    if let Some(cluster) = self.recover_created(owner, req).await? {
                        return Ok(Created {
                            cluster,
                            adopted: true,
                        });
                    }
                    if attempt > retries {
                        return Err(Error::OutcomeUnknown { detail });
                    }
                    let delay = self.transport.backoff(attempt);
                    tracing::info!(method = "POST", path = %log_path(&url), attempt, max_attempts = retries.saturating_add(1),
                        reason = %detail, delay_ms = delay.as_millis() as u64, "the cluster was not created; retrying GitLab request");
                    self.transport.pause(delay).await?;
                }
                e if uncertain && e.is_duplicate_environment_scope() => {
                    return match self.recover_created(owner, req).await? {
                        Some(cluster) => Ok(Created {
                            cluster,
                            adopted: true,
                        }),
                        None => Err(e),
                    };
                }
                e => return Err(e),
            }
        }
    }

    /// Looks up the cluster a request with an unknown outcome may have created. This
    /// runs even while Terraform is stopping: giving up here could orphan a cluster.
    async fn recover_created(
        &self,
        owner: &ClusterOwner,
        req: &CreateCluster,
    ) -> Result<Option<Cluster>, Error> {
        let lookup = Client {
            transport: self.transport.uncancellable(LOOKUP_RETRIES),
        };
        let Some(found) = lookup.find_created(owner, req).await? else {
            return Ok(None);
        };
        tracing::warn!(
            cluster_id = found.id,
            "found the cluster the lost request created; adopting it"
        );
        // The list entity lacks `group`: read it whole when possible.
        Ok(Some(
            lookup.get_cluster(owner, found.id).await.unwrap_or(found),
        ))
    }

    async fn find_created(
        &self,
        owner: &ClusterOwner,
        req: &CreateCluster,
    ) -> Result<Option<Cluster>, Error> {
        Ok(self
            .list_clusters(owner)
            .await?
            .into_iter()
            .find(|c| made_by(c, req)))
    }
}

/// Whether `c` is what `req` would have created: same environment scope, name and API URL.
fn made_by(c: &Cluster, req: &CreateCluster) -> bool {
    let scope = req.environment_scope.as_deref().unwrap_or("*");
    let api_url = req.platform_kubernetes_attributes.api_url.trim();
    c.environment_scope.as_deref().unwrap_or("*") == scope
        && c.name == req.name
        && c.platform_kubernetes
            .as_ref()
            .and_then(|p| p.api_url.as_deref())
            .map(str::trim)
            == Some(api_url)
}
