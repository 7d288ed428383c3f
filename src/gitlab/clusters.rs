//! The certificate-based cluster endpoints (`…/clusters`, GitLab's lib/api/group_clusters.rb
//! and its project and instance siblings): list (all pages), read, update and delete, for
//! the owner a [`ClusterOwner`] names. Creating one is in `create.rs`.
use reqwest::{Method, Url};

use super::client::{Client, decode, encode};
use super::error::Error;
use super::types::{Cluster, UpdateCluster};

/// The largest page GitLab serves.
pub const MAX_PER_PAGE: u32 = 100;

/// Whose clusters an endpoint reaches. GitLab serves group, project and instance clusters
/// with the same entity and operations, under different paths; only the group's are used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterOwner {
    /// `/groups/:id/clusters`: `:id` is the group's numeric id or full path (`parent/child`).
    Group(String),
}

impl ClusterOwner {
    /// The path segments before `clusters`, unencoded (each is encoded as one segment, so
    /// the `/` of a full path is `%2F`, as GitLab expects).
    pub fn path_prefix(&self) -> Vec<&str> {
        match self {
            ClusterOwner::Group(id) => vec!["groups", id],
        }
    }

    /// The segment after `clusters` that adds an existing cluster: `user` for groups and
    /// projects (`POST …/clusters/user`).
    pub fn add_segment(&self) -> &'static str {
        match self {
            ClusterOwner::Group(_) => "user",
        }
    }
}

impl Client {
    /// The URL of `…/clusters/<rest>` of `owner`.
    pub(super) fn clusters_url(
        &self,
        owner: &ClusterOwner,
        rest: &[&str],
        query: &[(&str, String)],
    ) -> Url {
        let mut segments = owner.path_prefix();
        segments.push("clusters");
        segments.extend_from_slice(rest);
        self.transport.url(&segments, query)
    }

    /// One page of `GET …/clusters`; returns the next page number, if any.
    pub async fn list_clusters_page(
        &self,
        owner: &ClusterOwner,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<Cluster>, Option<u32>), Error> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let url = self.clusters_url(
            owner,
            &[],
            &[
                ("page", page.to_string()),
                ("per_page", per_page.to_string()),
            ],
        );
        let r = self.transport.send(Method::GET, url, None).await?;
        let items: Vec<Cluster> = decode(&r.body, "list of clusters")?;
        let next = match r.headers.get("x-next-page").and_then(|v| v.to_str().ok()) {
            Some(v) => v.trim().parse().ok(),
            // Without pagination headers, a full page may have a successor.
            None => (items.len() as u32 >= per_page).then_some(page + 1),
        };
        Ok((items, next))
    }

    /// Every cluster of `owner`, all pages.
    pub async fn list_clusters(&self, owner: &ClusterOwner) -> Result<Vec<Cluster>, Error> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let (items, next) = self.list_clusters_page(owner, page, MAX_PER_PAGE).await?;
            let empty = items.is_empty();
            all.extend(items);
            match next {
                Some(n) if n > page && !empty => page = n,
                _ => return Ok(all),
            }
        }
    }

    /// `GET …/clusters/:cluster_id`.
    pub async fn get_cluster(&self, owner: &ClusterOwner, id: i64) -> Result<Cluster, Error> {
        let url = self.clusters_url(owner, &[&id.to_string()], &[]);
        let r = self.transport.send(Method::GET, url, None).await?;
        decode_cluster(&r.body)
    }

    /// `PUT …/clusters/:cluster_id` (idempotent: retried like a GET).
    pub async fn update_cluster(
        &self,
        owner: &ClusterOwner,
        id: i64,
        req: &UpdateCluster,
    ) -> Result<Cluster, Error> {
        let url = self.clusters_url(owner, &[&id.to_string()], &[]);
        let r = self
            .transport
            .send(Method::PUT, url, Some(encode(req)?))
            .await?;
        decode_cluster(&r.body)
    }

    /// `DELETE …/clusters/:cluster_id`. A 404 is an error here; callers that treat
    /// "already gone" as success check [`Error::is_not_found`].
    pub async fn delete_cluster(&self, owner: &ClusterOwner, id: i64) -> Result<(), Error> {
        let url = self.clusters_url(owner, &[&id.to_string()], &[]);
        self.transport
            .send(Method::DELETE, url, None)
            .await
            .map(|_| ())
    }
}

/// A cluster entity, which must have an id.
pub(super) fn decode_cluster(body: &[u8]) -> Result<Cluster, Error> {
    let c: Cluster = decode(body, "cluster object")?;
    if c.id <= 0 {
        return Err(Error::Decode {
            detail: "the cluster object has no id".into(),
        });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ClientConfig;
    use crate::secret::Secret;
    use tokio_util::sync::CancellationToken;

    #[test]
    fn group_paths_are_url_encoded_as_one_segment() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new("t"),
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        let group = ClusterOwner::Group("parent/child.x".into());
        let u = c.clusters_url(&group, &["12"], &[("page", "2".into())]);
        assert_eq!(
            u.as_str(),
            "http://h/api/v4/groups/parent%2Fchild.x/clusters/12?page=2"
        );
        let add = c.clusters_url(&group, &[group.add_segment()], &[]);
        assert_eq!(
            add.as_str(),
            "http://h/api/v4/groups/parent%2Fchild.x/clusters/user"
        );
    }

    #[test]
    fn unexpected_cluster_shapes_are_decode_errors() {
        for body in [
            &b"[]"[..],
            b"{}",
            b"\"x\"",
            b"{\"id\":\"7\"}",
            b"<html>",
            b"",
        ] {
            assert!(
                matches!(decode_cluster(body), Err(Error::Decode { .. })),
                "{body:?}"
            );
        }
        assert_eq!(decode_cluster(br#"{"id":7}"#).unwrap().id, 7);
    }
}
