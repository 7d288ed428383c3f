//! The answers of the fault explorer's fault kinds that rewrite or fabricate a response:
//! `foreign` (another cluster's entity in place of the real one), `endless_list` (a list page
//! that always has a next one), `huge_page` (one page of N fabricated clusters), the cluster
//! they fabricate from, and `hang`'s wait for the client to give up. Each stays within the
//! family of the route it answers (group, project or instance clusters).

use bytes::{Bytes, BytesMut};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::api::{self, ApiRequest, Presents};
use crate::app::App;
use crate::db::{Cluster, Owner, Platform};
use crate::entities::{self, Shape};
use crate::families::{self, Family, Kind};
use crate::http::SimResponse;
use crate::pagination::{self, Page};
use crate::streams::{self, FABRICATED_BASE, Template};

/// The family a request's fabricated clusters belong to: its route's, else group clusters'.
pub fn family_for(req: &ApiRequest<'_>) -> &'static Family {
    api::family_of(req.method, req.path).unwrap_or(&families::GROUP)
}

/// What fabricated clusters are cloned from: the simulator's lowest-id cluster of `family` as
/// the list presents it (`Entities::Cluster`), or a made-up user cluster of that family when
/// there is none.
pub fn template(app: &App, base: &str, family: &Family) -> Template {
    let db = app.db();
    let first = db
        .all_cluster_ids()
        .iter()
        .filter_map(|id| db.clusters.get(id))
        .find(|c| family.holds(c.owner));
    let made_up;
    let c = match first {
        Some(c) => c,
        None => {
            made_up = Cluster {
                id: FABRICATED_BASE,
                owner: match family.kind {
                    Kind::Group => Owner::Group(0),
                    Kind::Project => Owner::Project(0),
                    Kind::Instance => Owner::Instance,
                },
                name: Some("endless".into()),
                provider_type: "user".into(),
                enabled: true,
                managed: true,
                domain: None,
                environment_scope: Some("endless".into()),
                namespace_per_environment: true,
                created_at: crate::db::DEFAULT_CREATED_AT.into(),
                updated_ms: 0,
                user_id: None,
                management_project_id: None,
                platform: Some(Platform {
                    api_url: Some("https://kubernetes.example.com".into()),
                    token: None,
                    ca_cert: None,
                    namespace: None,
                    authorization_type: "rbac".into(),
                }),
                provider_gcp: None,
            };
            &made_up
        }
    };
    let mut entity = entities::cluster(&db, c, base, Shape::Cluster);
    entity.id = streams::ID_HOLE;
    entity.name = Some(streams::NAME_HOLE);
    entity.environment_scope = Some(streams::SCOPE_HOLE);
    serde_json::to_vec(&entity)
        .ok()
        .and_then(|json| Template::from_entity_json(&json))
        .unwrap_or_else(Template::minimal)
}

/// `hang`: returns when the client has closed the connection (`gone` resolves as hyper drops
/// the request) or after the bound.
pub async fn hang(gone: oneshot::Receiver<()>) {
    let _ = tokio::time::timeout(streams::MAX_TIME, gone).await;
}

/// `foreign`: the real answer with another cluster's entity (rendered for this route) in
/// place of the cluster, or of the list's clusters (then a one-element list): by default the
/// lowest-id cluster of the route's family that the answer does not describe. Answers that
/// are no cluster or list of clusters, and instances without another cluster, stay as they
/// are.
pub fn foreign(
    app: &App,
    req: &ApiRequest<'_>,
    mut resp: SimResponse,
    cluster_id: Option<u64>,
) -> SimResponse {
    let Some((presents, family)) = api::cluster_shape(req.method, req.path) else {
        return resp;
    };
    if !(200..300).contains(&resp.status) {
        return resp;
    }
    let Ok(real) = serde_json::from_slice::<Value>(&resp.body) else {
        return resp;
    };
    let described: Vec<u64> = match (&real, presents) {
        (Value::Array(items), Presents::List) => {
            items.iter().filter_map(|i| i.get("id")?.as_u64()).collect()
        }
        (Value::Object(m), Presents::One(_)) if m.contains_key("cluster_type") => {
            m.get("id").and_then(Value::as_u64).into_iter().collect()
        }
        _ => return resp,
    };
    let db = app.db();
    let other = match cluster_id {
        Some(id) => db.clusters.get(&id),
        None => db
            .all_cluster_ids()
            .into_iter()
            .filter(|id| !described.contains(id))
            .filter_map(|id| db.clusters.get(&id))
            .find(|c| family.holds(c.owner)),
    };
    let Some(c) = other else {
        return resp;
    };
    let body = match presents {
        Presents::List => {
            serde_json::to_vec(&[entities::cluster(&db, c, req.base_url, Shape::Cluster)])
        }
        Presents::One(shape) => serde_json::to_vec(&entities::cluster(&db, c, req.base_url, shape)),
    };
    if let Ok(body) = body {
        resp.body = Bytes::from(body);
    }
    resp
}

fn header_i64(resp: &SimResponse, name: &str) -> Option<i64> {
    resp.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.parse().ok())
}

/// `endless_list`: the real list answer (when it is a 200 page) turned into a page whose
/// next page always exists, without totals: `per_page` fabricated clusters with ids no
/// other page repeats, or (without `fabricate`) the real first page's items.
pub fn endless_list(
    app: &App,
    req: &ApiRequest<'_>,
    real: SimResponse,
    fabricate: bool,
) -> SimResponse {
    if real.status != 200 {
        return real;
    }
    let (Some(page), Some(per_page)) =
        (header_i64(&real, "X-Page"), header_i64(&real, "X-Per-Page"))
    else {
        return real;
    };
    let body = if fabricate {
        let t = template(app, req.base_url, family_for(req));
        let count = u64::try_from(per_page).unwrap_or(0);
        let first = FABRICATED_BASE + u64::try_from(page - 1).unwrap_or(0) * count + 1;
        let mut out = BytesMut::from(&b"["[..]);
        for id in first..first + count {
            if id > first {
                out.extend_from_slice(b",");
            }
            t.write(id, &mut out);
        }
        out.extend_from_slice(b"]");
        out.freeze()
    } else {
        let mut query: Vec<&str> = req
            .query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && p.split('=').next() != Some("page"))
            .collect();
        query.push("page=1");
        let query = query.join("&");
        let first_page = api::handle(
            app,
            &ApiRequest {
                query: Some(&query),
                ..*req
            },
        );
        first_page.response.body
    };
    let endless = Page {
        per_page,
        page,
        offset: 0,
        next: Some(page + 1),
        prev: (page > 1).then(|| page - 1),
        total: 0,
        total_pages: 1,
        without_count: true,
    };
    let params = api::link_params(req.method, req.path, req.query);
    let mut resp = SimResponse::text(200, "application/json", body);
    for (k, v) in pagination::headers(&endless, req.base_url, req.path, &params) {
        resp = resp.header(&k, v);
    }
    resp
}

/// `huge_page`: 200 with the headers of a single page of `items` records (the body is
/// streamed by the caller).
pub fn huge_page_head(req: &ApiRequest<'_>, items: u64) -> SimResponse {
    let per_page = i64::try_from(items).unwrap_or(i64::MAX);
    let page = Page {
        per_page,
        page: 1,
        offset: 0,
        next: None,
        prev: None,
        total: usize::try_from(items).unwrap_or(usize::MAX),
        total_pages: 1,
        without_count: false,
    };
    let params = api::link_params(req.method, req.path, req.query);
    let mut resp = SimResponse::new(200).header("Content-Type", "application/json");
    for (k, v) in pagination::headers(&page, req.base_url, req.path, &params) {
        resp = resp.header(&k, v);
    }
    resp
}
