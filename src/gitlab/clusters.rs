//! The certificate-based cluster endpoints (`…/clusters`, GitLab's lib/api/group_clusters.rb
//! and its project and instance siblings): list (all pages), read, update and delete, for
//! the owner a [`ClusterOwner`] names. Creating one is in `create.rs`.
use reqwest::{Method, Url};

use super::client::{Client, decode, encode};
use super::error::Error;
use super::types::{Cluster, UpdateCluster};

/// The largest page GitLab serves.
pub const MAX_PER_PAGE: u32 = 100;
/// The most pages one walk of a cluster list reads: 20 000 clusters, twice the count past
/// which GitLab stops counting (`X-Total`); no owner has more. A list that goes on is
/// not GitLab's (a proxy or a fault), and following it would never end.
pub const MAX_PAGES: u32 = 200;

/// Whose clusters an endpoint reaches. GitLab serves group, project and instance clusters
/// with the same entity and operations, under different paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterOwner {
    /// `/groups/:id/clusters`: `:id` is the group's numeric id or full path (`parent/child`).
    Group(String),
    /// `/projects/:id/clusters`: `:id` is the project's numeric id or full path
    /// (`namespace/project`).
    Project(String),
    /// `/admin/clusters`: the instance's own clusters, for administrators.
    Instance,
}

impl ClusterOwner {
    /// The path segments before `clusters`, unencoded (each is encoded as one segment, so
    /// the `/` of a full path is `%2F`, as GitLab expects).
    pub fn path_prefix(&self) -> Vec<&str> {
        match self {
            ClusterOwner::Group(id) => vec!["groups", id],
            ClusterOwner::Project(id) => vec!["projects", id],
            ClusterOwner::Instance => vec!["admin"],
        }
    }

    /// The owner in words, for messages: `group "qa"`, `project "qa/app"`, `the instance`.
    pub fn describe(&self) -> String {
        match self {
            ClusterOwner::Group(id) => format!("group {id:?}"),
            ClusterOwner::Project(id) => format!("project {id:?}"),
            ClusterOwner::Instance => "the instance".to_string(),
        }
    }

    /// The `cluster_type` GitLab gives this owner's clusters.
    pub fn cluster_type(&self) -> &'static str {
        match self {
            ClusterOwner::Group(_) => "group_type",
            ClusterOwner::Project(_) => "project_type",
            ClusterOwner::Instance => "instance_type",
        }
    }

    /// Whether a cluster entity may be this owner's, from what it says of its owner: its
    /// `cluster_type`, and the `group` or `project` the single-cluster entities name (by
    /// numeric id, or by full path in any letter case, as GitLab finds paths). What an
    /// answer does not say is not held against it; `Err` says what it names instead.
    pub fn owns(&self, c: &Cluster) -> Result<(), String> {
        if let Some(t) = c.cluster_type.as_deref()
            && t != self.cluster_type()
        {
            return Err(format!("a cluster of type {t:?}"));
        }
        let named = |spelled: &str, id: i64, path: Option<&str>| {
            if let Ok(n) = spelled.trim().parse::<i64>() {
                return id <= 0 || id == n;
            }
            path.is_none_or(|p| p.eq_ignore_ascii_case(spelled.trim()))
        };
        match self {
            ClusterOwner::Group(spelled) => match &c.group {
                Some(g) if !named(spelled, g.id, group_path(&g.web_url)) => {
                    Err(format!("a cluster of group {} ({:?})", g.id, g.name))
                }
                _ => Ok(()),
            },
            ClusterOwner::Project(spelled) => match &c.project {
                Some(p)
                    if !named(
                        spelled,
                        p.id,
                        Some(p.path_with_namespace.as_str()).filter(|s| !s.is_empty()),
                    ) =>
                {
                    Err(format!(
                        "a cluster of project {} ({:?})",
                        p.id, p.path_with_namespace
                    ))
                }
                _ => Ok(()),
            },
            ClusterOwner::Instance => match (&c.group, &c.project) {
                (Some(g), _) => Err(format!("a cluster of group {} ({:?})", g.id, g.name)),
                (_, Some(p)) => Err(format!(
                    "a cluster of project {} ({:?})",
                    p.id, p.path_with_namespace
                )),
                _ => Ok(()),
            },
        }
    }

    /// The segment after `clusters` that adds an existing cluster: `user` for groups and
    /// projects (`POST …/clusters/user`), `add` for the instance (`POST /admin/clusters/add`).
    pub fn add_segment(&self) -> &'static str {
        match self {
            ClusterOwner::Group(_) | ClusterOwner::Project(_) => "user",
            ClusterOwner::Instance => "add",
        }
    }
}

/// A group's full path, from its web URL (`https://host/groups/<full path>`).
fn group_path(web_url: &str) -> Option<&str> {
    web_url
        .split_once("/groups/")
        .map(|(_, p)| p.trim_end_matches('/'))
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

    /// One page of `GET …/clusters`, checked against what was asked: at most `per_page`
    /// clusters, each with an id.
    pub async fn list_clusters_page(
        &self,
        owner: &ClusterOwner,
        page: u32,
        per_page: u32,
    ) -> Result<Page, Error> {
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
        if items.len() > per_page as usize {
            return Err(Error::ListUnbounded {
                what: format!("clusters of {}", owner.describe()),
                detail: format!(
                    "page {page} holds {} clusters where at most {per_page} were asked for",
                    items.len()
                ),
            });
        }
        if let Some(c) = items.iter().find(|c| c.id <= 0) {
            return Err(Error::Decode {
                detail: format!("a cluster in the list has no id (id {})", c.id),
            });
        }
        let header = |name: &str| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u32>().ok())
        };
        let next = match r.headers.get("x-next-page") {
            // An empty X-Next-Page is GitLab's "last page".
            Some(_) => header("x-next-page"),
            // Without pagination headers, a full page may have a successor.
            None => (items.len() as u32 >= per_page).then_some(page + 1),
        };
        Ok(Page {
            items,
            next,
            total_pages: header("x-total-pages"),
        })
    }

    /// Every cluster of `owner`, all pages, within bounds: never past the last page
    /// GitLab's `X-Total-Pages` names, never past [`MAX_PAGES`], never a page that only
    /// repeats clusters already listed, never a page that skips ahead. Hitting a bound is
    /// an error naming it, never a shorter list taken for the whole.
    pub async fn list_clusters(&self, owner: &ClusterOwner) -> Result<Vec<Cluster>, Error> {
        let unbounded = |detail: String| Error::ListUnbounded {
            what: format!("clusters of {}", owner.describe()),
            detail,
        };
        let mut all = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut page = 1;
        loop {
            let p = self.list_clusters_page(owner, page, MAX_PER_PAGE).await?;
            let fresh = p.items.len();
            let mut any_new = false;
            for c in p.items {
                if seen.insert(c.id) {
                    all.push(c);
                    any_new = true;
                }
            }
            if fresh > 0 && !any_new {
                return Err(unbounded(format!(
                    "page {page} lists only clusters that earlier pages listed"
                )));
            }
            let last = fresh == 0 || p.total_pages.is_some_and(|t| page >= t);
            match p.next {
                _ if last => return Ok(all),
                None => return Ok(all),
                Some(n) if n == page + 1 => {}
                Some(n) => {
                    return Err(unbounded(format!(
                        "page {page} names page {n} as the next one"
                    )));
                }
            }
            if page >= MAX_PAGES {
                return Err(unbounded(format!(
                    "it goes on past {MAX_PAGES} pages of {MAX_PER_PAGE} (X-Next-Page kept naming another page, \
                     and no X-Total-Pages said where it ends); the provider reads no more"
                )));
            }
            page += 1;
        }
    }

    /// `GET …/clusters/:cluster_id`, checked to be that cluster (and, where the answer
    /// names it, of that owner).
    pub async fn get_cluster(&self, owner: &ClusterOwner, id: i64) -> Result<Cluster, Error> {
        let url = self.clusters_url(owner, &[&id.to_string()], &[]);
        let r = self.transport.send(Method::GET, url, None).await?;
        let c = decode_cluster(&r.body)?;
        check_identity(owner, id, &c)?;
        Ok(c)
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
        let c = decode_cluster(&r.body)?;
        check_identity(owner, id, &c)?;
        Ok(c)
    }

    /// `DELETE …/clusters/:cluster_id`. A 404 is an error here; callers that treat
    /// "already gone" as success check [`Error::is_not_found`].
    /// GitLab answers a deletion `204 No Content` (`destroy_conditionally!`); any other
    /// success is not that answer (a proxy's page, a misrouted request) and proves nothing:
    /// [`Error::WrongEntity`].
    pub async fn delete_cluster(&self, owner: &ClusterOwner, id: i64) -> Result<(), Error> {
        let url = self.clusters_url(owner, &[&id.to_string()], &[]);
        let r = self.transport.send(Method::DELETE, url, None).await?;
        if r.status != reqwest::StatusCode::NO_CONTENT {
            return Err(Error::WrongEntity {
                wanted: format!("GitLab's 204 No Content for deleting cluster {id}"),
                got: format!(
                    "a {} answer ({})",
                    r.status.as_u16(),
                    super::error::body_message(&r.body)
                ),
            });
        }
        Ok(())
    }
}

/// One page of a cluster list: its clusters, the next page GitLab names, and the page
/// count GitLab gives (`X-Total-Pages`; absent above 10 000 records).
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Cluster>,
    pub next: Option<u32>,
    pub total_pages: Option<u32>,
}

/// That a single-cluster answer is the cluster `id` of `owner`: its id, its type, and its
/// group or project where the answer names one (GitLab's single-cluster entities do; a
/// list's do not).
pub(super) fn check_identity(owner: &ClusterOwner, id: i64, c: &Cluster) -> Result<(), Error> {
    let wrong = |got: String| Error::WrongEntity {
        wanted: format!("cluster {id} of {}", owner.describe()),
        got,
    };
    if c.id != id {
        return Err(wrong(format!("cluster {} ({:?})", c.id, c.name)));
    }
    owner
        .owns(c)
        .map_err(|what| wrong(format!("cluster {}, {what}", c.id)))
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
    use crate::gitlab::fake_gitlab::{Answer, serve};
    use crate::secret::Secret;
    use tokio_util::sync::CancellationToken;

    fn client(base_url: &str) -> Client {
        let cfg = ClientConfig {
            base_url: base_url.into(),
            token: Secret::new("t"),
            retries: 0,
            ..ClientConfig::default()
        };
        Client::new(&cfg, CancellationToken::new()).unwrap()
    }

    fn cluster_json(id: u64) -> String {
        format!(r#"{{"id":{id},"name":"c{id}","environment_scope":"e{id}"}}"#)
    }

    fn page(ids: impl Iterator<Item = u64>) -> String {
        format!("[{}]", ids.map(cluster_json).collect::<Vec<_>>().join(","))
    }

    /// The page number a list request asks for.
    fn page_of(line: &str) -> u64 {
        line.split("page=")
            .nth(1)
            .and_then(|p| p.split('&').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    fn qa() -> ClusterOwner {
        ClusterOwner::Group("qa".into())
    }

    #[tokio::test]
    async fn a_walk_stops_at_the_last_page_x_total_pages_names_even_if_next_page_goes_on() {
        let fake = serve(|line, _| {
            let p = page_of(line);
            Answer::json(200, page(p..=p))
                .header("x-next-page", (p + 1).to_string())
                .header("x-total-pages", "3")
        })
        .await;
        let all = client(&fake.base_url).list_clusters(&qa()).await.unwrap();
        assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(fake.seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_list_that_never_ends_stops_at_the_page_bound_with_an_error_naming_it() {
        let fake = serve(|line, _| {
            let p = page_of(line);
            Answer::json(200, page(p * 1000..p * 1000 + 100))
                .header("x-next-page", (p + 1).to_string())
        })
        .await;
        let e = client(&fake.base_url)
            .list_clusters(&qa())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::ListUnbounded { .. }), "{e:?}");
        assert!(e.to_string().contains("200 pages"), "{e}");
        assert_eq!(fake.seen.lock().unwrap().len(), MAX_PAGES as usize);
    }

    #[tokio::test]
    async fn a_page_that_only_repeats_earlier_clusters_is_an_error() {
        let fake = serve(|line, _| {
            let p = page_of(line);
            Answer::json(200, page(1..=2)).header("x-next-page", (p + 1).to_string())
        })
        .await;
        let e = client(&fake.base_url)
            .list_clusters(&qa())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("page 2 lists only clusters"), "{e}");
    }

    #[tokio::test]
    async fn a_page_larger_than_asked_for_is_an_error() {
        let fake = serve(|_, _| Answer::json(200, page(1..=101))).await;
        let e = client(&fake.base_url)
            .list_clusters(&qa())
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("101 clusters where at most 100"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_next_page_that_skips_ahead_is_an_error() {
        let fake = serve(|_, _| Answer::json(200, page(1..=1)).header("x-next-page", "5")).await;
        let e = client(&fake.base_url)
            .list_clusters(&qa())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("names page 5"), "{e}");
    }

    #[tokio::test]
    async fn a_list_ends_at_an_empty_next_page_header_or_an_empty_page() {
        let fake = serve(|line, _| match page_of(line) {
            1 => Answer::json(200, page(1..=100)).header("x-next-page", "2"),
            2 => Answer::json(200, page(101..=150)).header("x-next-page", ""),
            _ => Answer::json(200, page(500..=501)),
        })
        .await;
        assert_eq!(
            client(&fake.base_url)
                .list_clusters(&qa())
                .await
                .unwrap()
                .len(),
            150
        );
        // Without headers, a full page may have a successor; an empty page ends the list.
        let fake = serve(|line, _| match page_of(line) {
            1 => Answer::json(200, page(1..=100)),
            _ => Answer::json(200, "[]"),
        })
        .await;
        assert_eq!(
            client(&fake.base_url)
                .list_clusters(&qa())
                .await
                .unwrap()
                .len(),
            100
        );
        assert_eq!(fake.seen.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_single_cluster_answer_must_be_the_cluster_and_group_asked_for() {
        let fake = serve(|line, _| {
            if line.contains("/clusters/7") {
                Answer::json(200, r#"{"id":8,"name":"other"}"#)
            } else if line.contains("/clusters/9") {
                Answer::json(200, r#"{"id":9,"name":"x","group":{"id":5,"name":"o","web_url":"http://h/groups/other"}}"#)
            } else {
                Answer::json(200, r#"{"id":3,"name":"x","group":{"id":5,"name":"q","web_url":"http://h/groups/QA"}}"#)
            }
        })
        .await;
        let c = client(&fake.base_url);
        let e = c.get_cluster(&qa(), 7).await.unwrap_err();
        assert!(matches!(e, Error::WrongEntity { .. }), "{e:?}");
        assert!(e.to_string().contains("cluster 8"), "{e}");
        assert!(matches!(
            c.get_cluster(&qa(), 9).await,
            Err(Error::WrongEntity { .. })
        ));
        assert_eq!(
            c.get_cluster(&qa(), 3).await.unwrap().id,
            3,
            "the path in any case"
        );
        assert!(
            c.get_cluster(&ClusterOwner::Group("5".into()), 3)
                .await
                .is_ok(),
            "by id"
        );
        assert!(
            c.get_cluster(&ClusterOwner::Group("6".into()), 3)
                .await
                .is_err()
        );
    }

    #[test]
    fn a_cluster_entity_is_checked_against_the_owner_and_type_it_names() {
        let entity = |json: &str| -> Cluster { serde_json::from_str(json).unwrap() };
        let project = ClusterOwner::Project("Ops/App".into());
        let ok = entity(
            r#"{"id":1,"cluster_type":"project_type","project":{"id":9,"name":"app","path_with_namespace":"ops/app"}}"#,
        );
        assert_eq!(project.owns(&ok), Ok(()), "the path in any case");
        assert_eq!(ClusterOwner::Project("9".into()).owns(&ok), Ok(()));
        assert!(ClusterOwner::Project("8".into()).owns(&ok).is_err());
        let other = entity(
            r#"{"id":1,"cluster_type":"project_type","project":{"id":8,"name":"x","path_with_namespace":"ops/x"}}"#,
        );
        assert!(project.owns(&other).unwrap_err().contains("project 8"));
        // Another family's cluster, by its type or by the owner it names.
        let group_type = entity(r#"{"id":1,"cluster_type":"group_type"}"#);
        assert!(
            project
                .owns(&group_type)
                .unwrap_err()
                .contains("group_type")
        );
        assert!(ClusterOwner::Instance.owns(&group_type).is_err());
        let instance = entity(r#"{"id":1,"cluster_type":"instance_type","project":null}"#);
        assert_eq!(ClusterOwner::Instance.owns(&instance), Ok(()));
        let named = entity(r#"{"id":1,"group":{"id":5,"name":"q","web_url":"http://h/groups/q"}}"#);
        assert!(ClusterOwner::Instance.owns(&named).is_err());
        assert_eq!(ClusterOwner::Group("Q".into()).owns(&named), Ok(()));
        // What an answer does not say is not held against it (list entities name no owner).
        assert_eq!(project.owns(&entity(r#"{"id":1}"#)), Ok(()));
    }

    #[test]
    fn each_owner_has_its_own_endpoints() {
        let cfg = ClientConfig {
            base_url: "http://h/".into(),
            token: Secret::new("t"),
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        let p = ClusterOwner::Project("ops/app".into());
        assert_eq!(
            c.clusters_url(&p, &[p.add_segment()], &[]).as_str(),
            "http://h/api/v4/projects/ops%2Fapp/clusters/user"
        );
        let i = ClusterOwner::Instance;
        assert_eq!(
            c.clusters_url(&i, &[i.add_segment()], &[]).as_str(),
            "http://h/api/v4/admin/clusters/add"
        );
        assert_eq!(
            c.clusters_url(&i, &["3"], &[]).as_str(),
            "http://h/api/v4/admin/clusters/3"
        );
        assert_eq!(i.describe(), "the instance");
    }

    #[tokio::test]
    async fn a_deletion_is_only_gitlabs_204() {
        let fake = serve(|line, _| {
            if line.contains("/clusters/7") {
                Answer::json(204, "")
            } else {
                Answer::json(200, r#"{"id": 1,"#)
            }
        })
        .await;
        let c = client(&fake.base_url);
        assert!(c.delete_cluster(&qa(), 7).await.is_ok());
        let e = c.delete_cluster(&qa(), 8).await.unwrap_err();
        assert!(matches!(e, Error::WrongEntity { .. }), "{e:?}");
        assert!(e.to_string().contains("a 200 answer"), "{e}");
    }

    #[tokio::test]
    async fn an_answer_past_the_body_bound_is_an_error_naming_it_and_not_retried() {
        let big = format!("[{}]", " ".repeat(crate::gitlab::transport::MAX_BODY));
        let fake = serve(move |_, _| Answer::json(200, big.clone())).await;
        let cfg = ClientConfig {
            base_url: fake.base_url.clone(),
            token: Secret::new("t"),
            retries: 3,
            ..ClientConfig::default()
        };
        let c = Client::new(&cfg, CancellationToken::new()).unwrap();
        let e = c.list_clusters(&qa()).await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e:?}");
        assert!(e.to_string().contains("4 MiB"), "{e}");
        assert_eq!(fake.seen.lock().unwrap().len(), 1);
    }

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
