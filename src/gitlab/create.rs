//! Creating a cluster without ever creating two, and without ever adopting one this request
//! did not make. Before the POST, the owner's clusters are listed: none of them can be the
//! one this request makes. The POST's answer must describe what was asked for (same name,
//! environment scope and API URL, the same owner where it says, and not a cluster listed
//! before). An answer that does not, or that is lost (timeout, reset, 5xx from a proxy, an
//! unreadable or runaway 2xx), is an unknown outcome: the owner's clusters are listed again,
//! and the one cluster that matches the request and was not there before is adopted. None,
//! and the POST is sent again: GitLab refuses a second cluster for one environment scope, so
//! a late first request cannot leave a duplicate. Every wait ends when Terraform stops; the
//! error then says the cluster may exist, so the resource layer can say how to import it.
use std::collections::HashSet;

use reqwest::Method;

use super::client::{Client, encode};
use super::clusters::{ClusterOwner, decode_cluster};
use super::error::Error;
use super::transport::log_path;
use super::types::{Cluster, CreateCluster};

/// A cluster created by [`Client::create_cluster`]; `adopted` when the POST's answer was
/// lost or wrong and the cluster was found by lookup instead.
#[derive(Debug)]
pub struct Created {
    pub cluster: Cluster,
    pub adopted: bool,
}

impl Client {
    /// `POST …/clusters/user`, with the checks and the recovery described above. An
    /// [`Error::OutcomeUnknown`] from here means the cluster may exist in GitLab.
    pub async fn create_cluster(
        &self,
        owner: &ClusterOwner,
        req: &CreateCluster,
    ) -> Result<Created, Error> {
        let before: HashSet<i64> = self
            .list_clusters(owner)
            .await?
            .iter()
            .map(|c| c.id)
            .collect();
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
                    Ok(cluster) if made_here(&cluster, req, owner, &before) => {
                        return Ok(Created {
                            cluster,
                            adopted: false,
                        });
                    }
                    Ok(other) => Error::OutcomeUnknown {
                        detail: format!(
                            "GitLab's answer to the create request describes another cluster (id {}, name {:?}, \
                             environment scope {:?})",
                            other.id,
                            other.name,
                            other.environment_scope.as_deref().unwrap_or("*")
                        ),
                    },
                    Err(e) => Error::OutcomeUnknown {
                        detail: format!(
                            "GitLab accepted the create request but its answer is unreadable: {e}"
                        ),
                    },
                },
                Err(e) => e,
            };
            match failure {
                Error::OutcomeUnknown { detail } => {
                    uncertain = true;
                    tracing::warn!(%detail, attempt, "cluster creation outcome unknown; looking the cluster up");
                    if let Some(cluster) = self.recover(owner, req, &before, &detail).await? {
                        return Ok(Created {
                            cluster,
                            adopted: true,
                        });
                    }
                    if attempt > retries {
                        return Err(Error::OutcomeUnknown {
                            detail: format!(
                                "{detail}; the cluster was not found afterwards, and the request was sent \
                                 {attempt} times (`retries` = {retries})"
                            ),
                        });
                    }
                    let delay = self.transport.backoff(attempt);
                    tracing::info!(method = "POST", path = %log_path(&url), attempt, max_attempts = retries.saturating_add(1),
                        reason = %detail, delay_ms = delay.as_millis() as u64, "the cluster was not created; retrying GitLab request");
                    if self.transport.pause(delay).await.is_err() {
                        return Err(stopping(&detail));
                    }
                }
                e if uncertain && e.is_duplicate_environment_scope() => {
                    let lost = "a create request whose answer was lost may have landed late";
                    return match self.recover(owner, req, &before, lost).await? {
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

    /// Looks for the cluster a request with an unknown outcome (`lost` says why) may have
    /// made: a cluster of `owner` that matches `req` and is not among `before`. `Ok(None)`:
    /// the request made none. An error is [`Error::OutcomeUnknown`], saying why the search
    /// could not decide (a failed list, Terraform stopping, more than one candidate).
    async fn recover(
        &self,
        owner: &ClusterOwner,
        req: &CreateCluster,
        before: &HashSet<i64>,
        lost: &str,
    ) -> Result<Option<Cluster>, Error> {
        let list = match self.list_clusters(owner).await {
            Ok(list) => list,
            Err(Error::Cancelled) => return Err(stopping(lost)),
            Err(e) => {
                return Err(Error::OutcomeUnknown {
                    detail: format!(
                        "{lost}; looking for the cluster it may have created failed: {e}"
                    ),
                });
            }
        };
        let found: Vec<&Cluster> = list
            .iter()
            .filter(|c| !before.contains(&c.id) && made_by(c, req))
            .collect();
        let c = match found.as_slice() {
            [] => return Ok(None),
            [c] => *c,
            many => {
                let ids: Vec<String> = many.iter().map(|c| c.id.to_string()).collect();
                return Err(Error::OutcomeUnknown {
                    detail: format!(
                        "{lost}; {} new clusters match the request (ids {}), so the provider cannot tell which one \
                         it made",
                        many.len(),
                        ids.join(", ")
                    ),
                });
            }
        };
        tracing::warn!(
            cluster_id = c.id,
            "found the cluster the lost request created; adopting it"
        );
        // The list entity lacks `group`: read it whole, and keep the list's when that fails.
        Ok(Some(match self.get_cluster(owner, c.id).await {
            Ok(full) if made_by(&full, req) => full,
            _ => c.clone(),
        }))
    }
}

/// The error when Terraform stops while the outcome of a create is unknown.
fn stopping(lost: &str) -> Error {
    Error::OutcomeUnknown {
        detail: format!(
            "{lost}; Terraform is stopping, so the provider stopped looking for the cluster it may have created"
        ),
    }
}

/// Whether `c`, a create's answer, is the cluster this request made: it matches the
/// request, was not listed before it, and belongs to `owner` where the answer says.
fn made_here(
    c: &Cluster,
    req: &CreateCluster,
    owner: &ClusterOwner,
    before: &HashSet<i64>,
) -> bool {
    made_by(c, req) && !before.contains(&c.id) && owner.owns(c).is_ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::fake_gitlab::{Answer, serve};
    use crate::gitlab::types::{CreatePlatform, GroupBasic, PlatformKubernetes};

    fn req() -> CreateCluster {
        CreateCluster {
            name: "prod".into(),
            environment_scope: Some("production".into()),
            platform_kubernetes_attributes: CreatePlatform {
                api_url: "https://k8s.example.com".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn cluster(id: i64, group: Option<(i64, &str)>) -> Cluster {
        Cluster {
            id,
            name: "prod".into(),
            environment_scope: Some("production".into()),
            platform_kubernetes: Some(PlatformKubernetes {
                api_url: Some("https://k8s.example.com".into()),
                ..Default::default()
            }),
            group: group.map(|(id, path)| GroupBasic {
                id,
                name: path.into(),
                web_url: format!("https://gitlab.example.com/groups/{path}"),
            }),
            ..Default::default()
        }
    }

    fn client(base_url: &str, retries: u32) -> Client {
        let cfg = crate::gitlab::ClientConfig {
            base_url: base_url.into(),
            token: crate::secret::Secret::new("t"),
            retries,
            backoff_base: std::time::Duration::from_millis(1),
            ..Default::default()
        };
        Client::new(&cfg, tokio_util::sync::CancellationToken::new()).unwrap()
    }

    const PROD: &str = r#""name":"prod","environment_scope":"production","platform_kubernetes":{"api_url":"https://k8s.example.com"}"#;

    #[tokio::test]
    async fn a_lost_post_never_adopts_the_matching_cluster_that_existed_before_it() {
        // Another state's cluster (100) already serves the scope; this POST meets a 502.
        let fake = serve(|line, _| {
            if line.starts_with("GET") {
                Answer::json(200, format!("[{{\"id\":100,{PROD}}}]"))
            } else if line.starts_with("POST") && line.contains("/clusters/user") {
                Answer::json(502, "<html><title>502 Bad Gateway</title></html>")
            } else {
                Answer::json(404, "{}")
            }
        })
        .await;
        let e = client(&fake.base_url, 0)
            .create_cluster(&ClusterOwner::Group("qa".into()), &req())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::OutcomeUnknown { .. }), "{e:?}");
        assert!(
            e.to_string().contains("sent 1 times (`retries` = 0)"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_201_describing_another_cluster_is_a_lost_answer_and_the_new_match_is_adopted() {
        let fake = serve(|line, n| {
            if line.starts_with("POST") {
                // GitLab made 101, but the answer names another group's cluster.
                Answer::json(201, r#"{"id":7,"name":"theirs","environment_scope":"theirs","group":{"id":9,"name":"o","web_url":"http://h/groups/o"}}"#)
            } else if line.contains("/clusters/101") {
                Answer::json(200, format!("{{\"id\":101,{PROD}}}"))
            } else if n == 0 {
                Answer::json(200, "[]")
            } else {
                Answer::json(200, format!("[{{\"id\":7,\"name\":\"theirs\"}},{{\"id\":101,{PROD}}}]"))
            }
        })
        .await;
        let created = client(&fake.base_url, 2)
            .create_cluster(&ClusterOwner::Group("qa".into()), &req())
            .await
            .unwrap();
        assert_eq!(created.cluster.id, 101);
        assert!(created.adopted);
        let seen = fake.seen.lock().unwrap().clone();
        assert_eq!(
            seen.iter().filter(|l| l.starts_with("POST")).count(),
            1,
            "{seen:?}"
        );
        assert!(
            !seen.iter().any(|l| l.contains("/clusters/7")),
            "never touches the other: {seen:?}"
        );
    }

    #[tokio::test]
    async fn two_new_matching_clusters_are_an_unknown_outcome_not_a_guess() {
        let fake = serve(|line, n| {
            if line.starts_with("POST") {
                Answer::json(504, "")
            } else if n == 0 {
                Answer::json(200, "[]")
            } else {
                Answer::json(
                    200,
                    format!("[{{\"id\":101,{PROD}}},{{\"id\":102,{PROD}}}]"),
                )
            }
        })
        .await;
        let e = client(&fake.base_url, 2)
            .create_cluster(&ClusterOwner::Group("qa".into()), &req())
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("2 new clusters match the request (ids 101, 102)"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_failed_lookup_says_the_create_may_have_landed_with_the_configured_retries() {
        let fake = serve(|line, n| {
            if line.starts_with("POST") {
                Answer::json(502, "")
            } else if n == 0 {
                Answer::json(200, "[]")
            } else {
                Answer::json(503, "")
            }
        })
        .await;
        let e = client(&fake.base_url, 2)
            .create_cluster(&ClusterOwner::Group("qa".into()), &req())
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("looking for the cluster it may have created failed"),
            "{text}"
        );
        assert!(
            text.contains("after 3 attempts"),
            "the configured retries (2): {text}"
        );
    }

    #[test]
    fn only_a_matching_cluster_that_was_not_listed_before_is_this_requests() {
        let owner = ClusterOwner::Group("qa".into());
        let before: HashSet<i64> = [100].into();
        assert!(made_here(
            &cluster(101, Some((42, "qa"))),
            &req(),
            &owner,
            &before
        ));
        assert!(made_here(&cluster(101, None), &req(), &owner, &before));
        assert!(
            !made_here(&cluster(100, Some((42, "qa"))), &req(), &owner, &before),
            "listed before"
        );
        assert!(
            !made_here(&cluster(101, Some((7, "other"))), &req(), &owner, &before),
            "another group"
        );
        let mut renamed = cluster(101, None);
        renamed.name = "staging".into();
        assert!(!made_here(&renamed, &req(), &owner, &before));
        let mut scope = cluster(101, None);
        scope.environment_scope = Some("*".into());
        assert!(!made_here(&scope, &req(), &owner, &before));
        let by_id = ClusterOwner::Group("42".into());
        assert!(made_here(
            &cluster(101, Some((42, "qa"))),
            &req(),
            &by_id,
            &before
        ));
        assert!(!made_here(
            &cluster(101, Some((43, "qa"))),
            &req(),
            &by_id,
            &before
        ));
    }
}
