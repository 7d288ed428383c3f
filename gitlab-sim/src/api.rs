//! The GitLab REST API under `/api/v4`: `GET /user`, `GET /groups/:id` and the cluster
//! endpoints of the three families (group, project, instance; `families.rs` holds what differs)
//! in GitLab's order of checks (route, body parsing, authentication, owner lookup or admin
//! check, feature switch, Grape parameter validation, cluster lookup, authorization, services
//! (`services.rs`), model validation).

use hyper::Method;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, IF_UNMODIFIED_SINCE};
use serde_json::{Map, Value};

use crate::app::App;
use crate::db::{Cluster, DEVELOPER, Db, MAINTAINER, Owner, User};
use crate::entities::{self, Shape};
use crate::families::{self, Family};
use crate::http::SimResponse;
use crate::pagination;
use crate::params::{self, Default as D, Kind, Spec};
use crate::persist::Snapshot;
use crate::services::{self, Answer};
use crate::timefmt;

pub struct ApiRequest<'a> {
    pub method: &'a Method,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// `scheme://host[:port]` the client used (GitLab's external URL).
    pub base_url: &'a str,
}

pub struct Outcome {
    pub response: SimResponse,
    pub snapshot: Option<Snapshot>,
}

impl From<SimResponse> for Outcome {
    fn from(response: SimResponse) -> Self {
        Outcome {
            response,
            snapshot: None,
        }
    }
}

const AUTHORIZATION_TYPES: &[&str] = &["unknown_authorization", "rbac", "abac"];

static LIST_PARAMS: &[Spec] = &[
    Spec::opt("page", Kind::Int).default(D::Int(1)),
    Spec::opt("per_page", Kind::Int)
        .default(D::Int(20))
        .except(&[0]),
];

static CLUSTER_ID: &[Spec] = &[Spec::req("cluster_id", Kind::Int)];

static CREATE_PLATFORM: &[Spec] = &[
    Spec::req("api_url", Kind::Str).no_blank(),
    Spec::req("token", Kind::Str),
    Spec::opt("ca_cert", Kind::Str),
    Spec::opt("namespace", Kind::Str),
    Spec::opt("authorization_type", Kind::Str)
        .values(AUTHORIZATION_TYPES)
        .default(D::Str("rbac")),
];

static CREATE_PARAMS: &[Spec] = &[
    Spec::req("name", Kind::Str),
    Spec::opt("enabled", Kind::Bool).default(D::Bool(true)),
    Spec::opt("environment_scope", Kind::Str).default(D::Str("*")),
    Spec::opt("namespace_per_environment", Kind::Bool).default(D::Bool(true)),
    Spec::opt("domain", Kind::Str),
    Spec::opt("management_project_id", Kind::Int),
    Spec::opt("managed", Kind::Bool).default(D::Bool(true)),
    Spec::req(
        "platform_kubernetes_attributes",
        Kind::Hash(CREATE_PLATFORM),
    ),
];

static UPDATE_PLATFORM: &[Spec] = &[
    Spec::opt("api_url", Kind::Str),
    Spec::opt("token", Kind::Str),
    Spec::opt("ca_cert", Kind::Str),
    Spec::opt("namespace", Kind::Str),
];

static UPDATE_PARAMS: &[Spec] = &[
    Spec::req("cluster_id", Kind::Int),
    Spec::opt("name", Kind::Str),
    Spec::opt("enabled", Kind::Bool),
    Spec::opt("domain", Kind::Str),
    Spec::opt("environment_scope", Kind::Str),
    // GitLab declares a default here too, so an update without it resets it to true.
    Spec::opt("namespace_per_environment", Kind::Bool).default(D::Bool(true)),
    Spec::opt("management_project_id", Kind::Int),
    Spec::opt("managed", Kind::Bool),
    Spec::opt(
        "platform_kubernetes_attributes",
        Kind::Hash(UPDATE_PLATFORM),
    ),
];

/// What a cluster route does.
#[derive(Clone, Copy)]
enum Action<'a> {
    List,
    Create,
    Get(&'a str),
    Update(&'a str),
    Delete(&'a str),
}

enum Route<'a> {
    User,
    Group(&'a str),
    Project(&'a str),
    /// A cluster endpoint of `family`; `id` is the route's `:id` (None for instance clusters).
    Clusters {
        family: &'static Family,
        id: Option<&'a str>,
        action: Action<'a>,
    },
}

/// The cluster action of `rest` (the path after `.../clusters`).
fn action<'a>(method: &Method, family: &Family, rest: &[&'a str]) -> Option<Action<'a>> {
    let get = method == Method::GET || method == Method::HEAD;
    Some(match rest {
        [] if get => Action::List,
        [seg] if method == Method::POST && *seg == family.create_segment => Action::Create,
        [cid] if get => Action::Get(cid),
        [cid] if method == Method::PUT => Action::Update(cid),
        [cid] if method == Method::DELETE => Action::Delete(cid),
        _ => return None,
    })
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    let rest = path.strip_prefix("/api/v4/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return None;
    }
    let get = method == Method::GET || method == Method::HEAD;
    let clusters = |family: &'static Family, id: Option<&'a str>, rest: &[&'a str]| {
        action(method, family, rest).map(|action| Route::Clusters { family, id, action })
    };
    match segs.as_slice() {
        ["user"] if get => Some(Route::User),
        ["groups", id] if get => Some(Route::Group(id)),
        ["projects", id] if get => Some(Route::Project(id)),
        ["groups", id, "clusters", rest @ ..] => clusters(&families::GROUP, Some(id), rest),
        ["projects", id, "clusters", rest @ ..] => clusters(&families::PROJECT, Some(id), rest),
        ["admin", "clusters", rest @ ..] => clusters(&families::INSTANCE, None, rest),
        _ => None,
    }
}

/// Whether this request is routed to a cluster list (`GET /groups/:id/clusters`,
/// `/projects/:id/clusters`, `/admin/clusters`).
pub fn is_list(method: &Method, path: &str) -> bool {
    matches!(
        route(method, path),
        Some(Route::Clusters {
            action: Action::List,
            ..
        })
    )
}

/// What a successful answer of this route presents, if it presents clusters.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Presents {
    /// An array of `Entities::Cluster`.
    List,
    /// One cluster, as this entity.
    One(Shape),
}

/// The clusters a route presents, and the family whose clusters they are.
pub fn cluster_shape(method: &Method, path: &str) -> Option<(Presents, &'static Family)> {
    let Route::Clusters { family, action, .. } = route(method, path)? else {
        return None;
    };
    let presents = match action {
        Action::List => Presents::List,
        Action::Get(_) => Presents::One(family.get_shape),
        Action::Create => Presents::One(family.create_shape),
        Action::Update(_) => Presents::One(family.update_shape),
        Action::Delete(_) => return None,
    };
    Some((presents, family))
}

/// The family of the cluster route `path` names (None for other routes).
pub fn family_of(method: &Method, path: &str) -> Option<&'static Family> {
    match route(method, path)? {
        Route::Clusters { family, .. } => Some(family),
        _ => None,
    }
}

/// The params a list page's `Link` header re-encodes: the query string's, plus the route's
/// `id` (decoded), as the list route itself passes them.
pub fn link_params(method: &Method, path: &str, query: Option<&str>) -> Map<String, Value> {
    let mut params = params::parse_nested_query(query.unwrap_or("").as_bytes());
    if let Some(Route::Clusters {
        id: Some(id),
        action: Action::List,
        ..
    }) = route(method, path)
    {
        params.insert("id".into(), Value::String(decode(id)));
    }
    params
}

fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

/// The user a request authenticates as, found as GitLab's `auth_finders.rb` finds access
/// tokens: an OAuth-style bearer token (`Authorization: Bearer` or `access_token` param) is
/// looked up as an OAuth2 access token first; a personal (project, group) access token is
/// read from the `private_token` param, the `PRIVATE-TOKEN` header, then the bearer token.
/// An OAuth2 token in `PRIVATE-TOKEN` or `private_token` therefore finds nobody (401).
fn token_user<'d>(
    db: &'d Db,
    headers: &HeaderMap,
    params: &Map<String, Value>,
) -> Option<&'d User> {
    fn non_empty(s: &str) -> Option<&str> {
        let s = s.trim();
        (!s.is_empty()).then_some(s)
    }
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| {
            let (scheme, t) = auth.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(t)
        })
        .and_then(non_empty)
        .or_else(|| {
            params
                .get("access_token")
                .and_then(Value::as_str)
                .and_then(non_empty)
        });
    if let Some(u) = bearer.and_then(|t| db.user_by_oauth_token(t)) {
        return Some(u);
    }
    let private = params
        .get("private_token")
        .and_then(Value::as_str)
        .and_then(non_empty)
        .or_else(|| {
            headers
                .get("private-token")
                .and_then(|v| v.to_str().ok())
                .and_then(non_empty)
        });
    private.or(bearer).and_then(|t| db.user_by_token(t))
}

/// Whether the request carries a valid token (for the rate limiter's throttle name).
pub fn authenticated(app: &App, headers: &HeaderMap, query: Option<&str>) -> bool {
    let params = params::parse_nested_query(query.unwrap_or("").as_bytes());
    let db = app.db();
    token_user(&db, headers, &params).is_some_and(|u| u.state == "active")
}

fn unauthorized() -> SimResponse {
    SimResponse::message(401, "401 Unauthorized")
}
fn forbidden() -> SimResponse {
    SimResponse::message(403, "403 Forbidden")
}

/// Where a path outside the REST API lands (lib/api/api.rb, config/routes.rb): Grape's v3
/// catch-all answers 410; anything not under `/api/v4/` is a Rails route, and Rails'
/// `ApplicationController#route_not_found` sends a client without a session to the sign-in
/// page. `None`: the API's own router decides (its catch-all answers
/// `404 {"error":"404 Not Found"}`).
fn outside_api(req: &ApiRequest<'_>) -> Option<SimResponse> {
    if req.path == "/api/v3" || req.path.starts_with("/api/v3/") {
        return Some(SimResponse::error(
            410,
            "API V3 is no longer supported. Use API V4 instead.",
        ));
    }
    if req.path.starts_with("/api/v4/") {
        return None;
    }
    Some(
        SimResponse::text(302, "text/html; charset=utf-8", "")
            .header("Location", format!("{}/users/sign_in", req.base_url)),
    )
}

/// Answers the request against the database, recording any mutation for the state file.
pub fn handle(app: &App, req: &ApiRequest<'_>) -> Outcome {
    let mut db = app.db();
    let (response, mutated) = answer(&mut db, req);
    let snapshot = if mutated { app.snapshot(&db) } else { None };
    Outcome { response, snapshot }
}

/// The answer the request would get, computed against a copy of the database and thrown
/// away (nothing is applied).
pub fn preview(app: &App, req: &ApiRequest<'_>) -> SimResponse {
    let mut copy = app.db().clone();
    answer(&mut copy, req).0
}

/// The response, and whether `db` was changed.
fn answer(db: &mut Db, req: &ApiRequest<'_>) -> (SimResponse, bool) {
    match answer_in(db, req) {
        Answer::Read(r) => (r, false),
        Answer::Wrote(r) => (r, true),
    }
}

fn answer_in(db: &mut Db, req: &ApiRequest<'_>) -> Answer {
    if let Some(r) = outside_api(req) {
        return r.into();
    }
    let Some(route) = route(req.method, req.path) else {
        return SimResponse::error(404, "404 Not Found").into();
    };
    let content_type = req.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let mut params = params::parse_nested_query(req.query.unwrap_or("").as_bytes());
    if matches!(
        *req.method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        match params::parse_body(content_type, req.body) {
            Ok(body) => params.extend(body),
            Err(e) => return SimResponse::error(e.status(), &e.message()).into(),
        }
    }

    // authenticate!
    let user = match token_user(db, req.headers, &params).filter(|u| u.state == "active") {
        Some(u) => u.clone(),
        None => return unauthorized().into(),
    };
    let base = req.base_url;

    let (family, id_param, action) = match route {
        Route::User => {
            return SimResponse::json(200, &entities::current_user(&user, base)).into();
        }
        Route::Group(id) => return group(db, &user, id, &params, base).into(),
        Route::Project(id) => return project(db, &user, id, base).into(),
        Route::Clusters { family, id, action } => (family, id, action),
    };
    // find_group! / user_project (404 when missing or not readable) or authenticated_as_admin!
    // (403), then ensure_feature_enabled!
    let id_str = id_param.map(decode);
    let (owner, access) = match family.resolve(db, &user, id_str.as_deref().unwrap_or("")) {
        Ok(found) => found,
        Err(r) => return r.into(),
    };
    if !db.settings.certificate_based_clusters {
        return SimResponse::message(404, "404 Not Found").into();
    }
    if let Some(id) = id_str {
        params.insert("id".into(), Value::String(id));
    }
    if let Action::Get(cid) | Action::Update(cid) | Action::Delete(cid) = action {
        params.insert("cluster_id".into(), Value::String(decode(cid)));
    }
    let ctx = services::Ctx {
        user: &user,
        owner,
        family,
        base,
    };

    match action {
        Action::List => {
            let decl = match params::declared(&params, LIST_PARAMS, true) {
                Ok(d) => d,
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            if access < DEVELOPER {
                return forbidden().into();
            }
            let ids = db.owner_cluster_ids(owner);
            let page = pagination::paginate(
                ids.len(),
                decl.get("page").and_then(Value::as_i64).unwrap_or(1),
                decl.get("per_page").and_then(Value::as_i64).unwrap_or(20),
            );
            let start = page.offset.min(ids.len());
            let end = start.saturating_add(page.per_page as usize).min(ids.len());
            let items: Vec<_> = ids[start..end]
                .iter()
                .filter_map(|id| db.clusters.get(id))
                .map(|c| entities::cluster(db, c, base, Shape::Cluster))
                .collect();
            let mut resp = SimResponse::json(200, &items);
            for (k, v) in pagination::headers(&page, base, req.path, &params) {
                resp = resp.header(&k, v);
            }
            resp.into()
        }
        Action::Get(_) => {
            let cluster_id = match params::declared(&params, CLUSTER_ID, true) {
                Ok(d) => d.get("cluster_id").and_then(Value::as_i64),
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            let Some(c) = find_cluster(db, owner, cluster_id) else {
                return SimResponse::message(404, "404 Not found").into();
            };
            if access < DEVELOPER {
                return forbidden().into();
            }
            SimResponse::json(200, &entities::cluster(db, c, base, family.get_shape)).into()
        }
        Action::Create => {
            let decl = match params::declared(&params, CREATE_PARAMS, true) {
                Ok(d) => d,
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            if access < MAINTAINER {
                return forbidden().into();
            }
            services::create(db, &ctx, &decl)
        }
        Action::Update(_) => {
            let decl = match params::declared(&params, UPDATE_PARAMS, false) {
                Ok(d) => d,
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            let Some(original) =
                find_cluster(db, owner, decl.get("cluster_id").and_then(Value::as_i64)).cloned()
            else {
                return SimResponse::message(404, "404 Not found").into();
            };
            if access < MAINTAINER {
                return forbidden().into();
            }
            services::update(db, &ctx, original, &decl)
        }
        Action::Delete(_) => {
            let cluster_id = match params::declared(&params, CLUSTER_ID, true) {
                Ok(d) => d.get("cluster_id").and_then(Value::as_i64),
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            let Some(c) = find_cluster(db, owner, cluster_id) else {
                return SimResponse::message(404, "404 Not found").into();
            };
            if access < MAINTAINER {
                return forbidden().into();
            }
            // destroy_conditionally!: If-Unmodified-Since older than the last update -> 412.
            if let Some(since) = req
                .headers
                .get(IF_UNMODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(timefmt::parse_http_date)
                && c.updated_ms > since.saturating_mul(1000)
            {
                return SimResponse::message(412, "412 Precondition Failed").into();
            }
            let id = c.id;
            db.remove_cluster(id);
            Answer::Wrote(SimResponse::new(204))
        }
    }
}

static GROUP_PARAMS: &[Spec] = &[
    Spec::opt("with_projects", Kind::Bool).default(D::Bool(true)),
    Spec::opt("with_custom_attributes", Kind::Bool).default(D::Bool(false)),
];

/// `GET /groups/:id` (lib/api/groups.rb): Grape params, `find_group!`, then
/// `Entities::GroupDetail` (or `Entities::Group` with `with_projects=false`).
fn group(db: &Db, user: &User, id: &str, params: &Map<String, Value>, base: &str) -> SimResponse {
    // Grape validates the declared params before the endpoint runs `find_group!`.
    let decl = match params::declared(params, GROUP_PARAMS, true) {
        Ok(d) => d,
        Err(e) => return SimResponse::error(400, &e),
    };
    let group = match db.find_group(&decode(id)) {
        Some(g) if db.can_read_group(user, g) => g,
        _ => return SimResponse::message(404, "404 Group Not Found"),
    };
    let detail = decl
        .get("with_projects")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let can_admin = db.group_access(user, group.id) >= crate::db::OWNER;
    SimResponse::json(200, &entities::group(group, base, detail, can_admin))
}

/// `GET /projects/:id` (lib/api/projects.rb): `find_project!` (404 for a project that does not
/// exist or that the user may not read), then the project entity. The simulator presents
/// `Entities::BasicProjectDetails`, which holds what identifies a project (`id`,
/// `path_with_namespace`, `web_url`); `Entities::Project`'s further fields are not modelled.
fn project(db: &Db, user: &User, id: &str, base: &str) -> SimResponse {
    match db.find_project(&decode(id)) {
        Some(p) if db.can_read_project(user, p) => {
            SimResponse::json(200, &entities::basic_project_details(db, p, base))
        }
        _ => SimResponse::message(404, "404 Project Not Found"),
    }
}

/// `clusters_for_current_user.find(params[:cluster_id])`: only the owner's own clusters.
fn find_cluster(db: &Db, owner: Owner, id: Option<i64>) -> Option<&Cluster> {
    let id = u64::try_from(id?).ok()?;
    db.clusters.get(&id).filter(|c| c.owner == owner)
}
