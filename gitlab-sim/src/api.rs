//! The GitLab REST API under `/api/v4`: `GET /user`, `GET /groups/:id` and the Group clusters
//! endpoints, in GitLab's order of checks (route, body parsing, authentication, group lookup,
//! feature switch, Grape parameter validation, authorization, cluster lookup, services, model
//! validation).

use hyper::Method;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, IF_UNMODIFIED_SINCE};
use serde_json::{Map, Value};

use crate::app::App;
use crate::db::{Cluster, DEVELOPER, Db, MAINTAINER, Platform, User};
use crate::entities::{self, Shape};
use crate::http::SimResponse;
use crate::pagination;
use crate::params::{self, Default as D, Kind, Spec};
use crate::persist::Snapshot;
use crate::timefmt;
use crate::validation::{self, Candidate, ErrorMap, MANAGEMENT_PROJECT_DENIED};

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

enum Route<'a> {
    User,
    Group(&'a str),
    List(&'a str),
    Create(&'a str),
    Get(&'a str, &'a str),
    Update(&'a str, &'a str),
    Delete(&'a str, &'a str),
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    let rest = path.strip_prefix("/api/v4/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return None;
    }
    let get = method == Method::GET || method == Method::HEAD;
    Some(match segs.as_slice() {
        ["user"] if get => Route::User,
        ["groups", id] if get => Route::Group(id),
        ["groups", id, "clusters"] if get => Route::List(id),
        ["groups", id, "clusters", "user"] if method == Method::POST => Route::Create(id),
        ["groups", id, "clusters", cid] if get => Route::Get(id, cid),
        ["groups", id, "clusters", cid] if method == Method::PUT => Route::Update(id, cid),
        ["groups", id, "clusters", cid] if method == Method::DELETE => Route::Delete(id, cid),
        _ => return None,
    })
}

/// Whether this request is routed to the cluster list (`GET /groups/:id/clusters`).
pub fn is_list(method: &Method, path: &str) -> bool {
    matches!(route(method, path), Some(Route::List(_)))
}

/// The entity a successful answer of this route presents, if it presents clusters:
/// `Entities::Cluster` items for the list, `Entities::ClusterGroup` for get, create, update.
pub fn cluster_shape(method: &Method, path: &str) -> Option<Shape> {
    match route(method, path)? {
        Route::List(_) => Some(Shape::Cluster),
        Route::Get(..) | Route::Create(_) | Route::Update(..) => Some(Shape::ClusterGroup),
        Route::User | Route::Group(_) | Route::Delete(..) => None,
    }
}

/// The params a list page's `Link` header re-encodes: the query string's, plus the route's
/// `id` (decoded), as the list route itself passes them.
pub fn link_params(method: &Method, path: &str, query: Option<&str>) -> Map<String, Value> {
    let mut params = params::parse_nested_query(query.unwrap_or("").as_bytes());
    if let Some(Route::List(id)) = route(method, path) {
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
/// `render_validation_error!`: `{"message": {"<attribute>": ["..."]}}` in GitLab's order.
fn validation_error(errors: &ErrorMap) -> SimResponse {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        message: &'a ErrorMap,
    }
    SimResponse::json(400, &Body { message: errors })
}

fn opt_string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// `Clusters::Management::ValidateManagementProjectPermissionsService`: the project must be in
/// the cluster's group (or a subgroup) and the user must be allowed to `admin_pipeline` on it.
fn management_project_allowed(db: &Db, user: &User, group_id: u64, project_id: i64) -> bool {
    let Ok(pid) = u64::try_from(project_id) else {
        return false;
    };
    let Some(p) = db.projects.get(&pid) else {
        return false;
    };
    db.group_within(p.namespace_id, group_id) && db.project_access(user, pid) >= MAINTAINER
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

enum Answer {
    Read(SimResponse),
    Wrote(SimResponse),
}

impl From<SimResponse> for Answer {
    fn from(r: SimResponse) -> Self {
        Answer::Read(r)
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

    let group_param = match &route {
        Route::User => {
            return SimResponse::json(200, &entities::current_user(&user, base)).into();
        }
        Route::Group(id) => return group(db, &user, id, &params, base).into(),
        Route::List(id) | Route::Create(id) => *id,
        Route::Get(id, _) | Route::Update(id, _) | Route::Delete(id, _) => *id,
    };
    // find_group! (404 when missing or not readable), then ensure_feature_enabled!
    let group_id_str = decode(group_param);
    let group_id = match db.find_group(&group_id_str) {
        Some(g) if db.can_read_group(&user, g) => g.id,
        _ => return SimResponse::message(404, "404 Group Not Found").into(),
    };
    if !db.settings.certificate_based_clusters {
        return SimResponse::message(404, "404 Not Found").into();
    }
    params.insert("id".into(), Value::String(group_id_str));
    if let Route::Get(_, cid) | Route::Update(_, cid) | Route::Delete(_, cid) = &route {
        params.insert("cluster_id".into(), Value::String(decode(cid)));
    }
    let access = db.group_access(&user, group_id);

    match route {
        Route::User | Route::Group(_) => unauthorized().into(),
        Route::List(_) => {
            let decl = match params::declared(&params, LIST_PARAMS, true) {
                Ok(d) => d,
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            if access < DEVELOPER {
                return forbidden().into();
            }
            let ids = db.group_cluster_ids(group_id);
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
        Route::Get(..) => {
            let cluster_id = match params::declared(&params, CLUSTER_ID, true) {
                Ok(d) => d.get("cluster_id").and_then(Value::as_i64),
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            let Some(c) = find_cluster(db, group_id, cluster_id) else {
                return SimResponse::message(404, "404 Not found").into();
            };
            if access < DEVELOPER {
                return forbidden().into();
            }
            SimResponse::json(200, &entities::cluster(db, c, base, Shape::ClusterGroup)).into()
        }
        Route::Create(_) => {
            let decl = match params::declared(&params, CREATE_PARAMS, true) {
                Ok(d) => d,
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            if access < MAINTAINER {
                return forbidden().into();
            }
            create(db, &user, group_id, &decl, base)
        }
        Route::Update(..) => {
            let decl = match params::declared(&params, UPDATE_PARAMS, false) {
                Ok(d) => d,
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            let Some(original) =
                find_cluster(db, group_id, decl.get("cluster_id").and_then(Value::as_i64)).cloned()
            else {
                return SimResponse::message(404, "404 Not found").into();
            };
            if access < MAINTAINER {
                return forbidden().into();
            }
            update(db, &user, original, &decl, base)
        }
        Route::Delete(..) => {
            let cluster_id = match params::declared(&params, CLUSTER_ID, true) {
                Ok(d) => d.get("cluster_id").and_then(Value::as_i64),
                Err(e) => return SimResponse::error(400, &e).into(),
            };
            let Some(c) = find_cluster(db, group_id, cluster_id) else {
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

/// `clusters_for_current_user.find(params[:cluster_id])`: only the group's own clusters.
fn find_cluster(db: &Db, group_id: u64, id: Option<i64>) -> Option<&Cluster> {
    let id = u64::try_from(id?).ok()?;
    db.clusters.get(&id).filter(|c| c.group_id == group_id)
}

fn create(
    db: &mut Db,
    user: &User,
    group_id: u64,
    decl: &Map<String, Value>,
    base: &str,
) -> Answer {
    // Clusters::CreateService: management project permissions first, alone.
    let mgmt = decl.get("management_project_id").and_then(Value::as_i64);
    if let Some(pid) = mgmt
        && !management_project_allowed(db, user, group_id, pid)
    {
        let mut e = ErrorMap::default();
        e.add("management_project_id", MANAGEMENT_PROJECT_DENIED);
        return validation_error(&e).into();
    }
    let pka = decl
        .get("platform_kubernetes_attributes")
        .and_then(Value::as_object);
    let pk = |k: &str| opt_string(pka.and_then(|m| m.get(k)));
    let mut platform = Platform {
        api_url: pk("api_url"),
        token: pk("token"),
        ca_cert: pk("ca_cert"),
        namespace: pk("namespace"),
        authorization_type: pk("authorization_type").unwrap_or_else(|| "rbac".into()),
    };
    validation::normalize_platform(&mut platform);
    let now = timefmt::now_ms();
    let mut cluster = Cluster {
        id: 0,
        group_id,
        name: opt_string(decl.get("name")),
        provider_type: "user".into(),
        enabled: decl.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        managed: decl.get("managed").and_then(Value::as_bool).unwrap_or(true),
        domain: opt_string(decl.get("domain")),
        environment_scope: opt_string(decl.get("environment_scope")),
        namespace_per_environment: decl
            .get("namespace_per_environment")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        created_at: timefmt::iso_ms(now),
        updated_ms: now,
        user_id: Some(user.id),
        management_project_id: mgmt.and_then(|p| u64::try_from(p).ok()),
        platform: Some(platform),
        provider_gcp: None,
    };
    let errors = validation::validate_cluster(
        db,
        &Candidate {
            cluster: &cluster,
            original: None,
            platform_dirty: true,
        },
    );
    if !errors.is_empty() {
        return validation_error(&errors).into();
    }
    cluster.id = db.allocate_cluster_id();
    let id = cluster.id;
    db.insert_cluster(cluster);
    Answer::Wrote(match db.clusters.get(&id) {
        Some(c) => SimResponse::json(201, &entities::cluster(db, c, base, Shape::ClusterGroup)),
        None => SimResponse::message(500, "500 Internal Server Error"),
    })
}

fn update(
    db: &mut Db,
    user: &User,
    original: Cluster,
    decl: &Map<String, Value>,
    base: &str,
) -> Answer {
    // Clusters::UpdateService: management project permissions first.
    if let Some(pid) = decl.get("management_project_id").and_then(Value::as_i64)
        && !management_project_allowed(db, user, original.group_id, pid)
    {
        let mut e = ErrorMap::default();
        e.add("management_project_id", MANAGEMENT_PROJECT_DENIED);
        return validation_error(&e).into();
    }
    let mut cand = original.clone();
    if decl.contains_key("name") {
        cand.name = opt_string(decl.get("name"));
    }
    if let Some(b) = decl.get("enabled").and_then(Value::as_bool) {
        cand.enabled = b;
    }
    if let Some(b) = decl.get("managed").and_then(Value::as_bool) {
        cand.managed = b;
    }
    if decl.contains_key("domain") {
        cand.domain = opt_string(decl.get("domain"));
    }
    if decl.contains_key("environment_scope") {
        cand.environment_scope = opt_string(decl.get("environment_scope"));
    }
    if let Some(b) = decl
        .get("namespace_per_environment")
        .and_then(Value::as_bool)
    {
        cand.namespace_per_environment = b;
    }
    if decl.contains_key("management_project_id") {
        cand.management_project_id = decl
            .get("management_project_id")
            .and_then(Value::as_i64)
            .and_then(|p| u64::try_from(p).ok());
    }
    let mut platform_dirty = false;
    if let Some(pka) = decl
        .get("platform_kubernetes_attributes")
        .and_then(Value::as_object)
    {
        // A blank token means "keep the current one".
        let mut pka = pka.clone();
        if validation::blank(pka.get("token").and_then(Value::as_str)) {
            pka.remove("token");
        }
        let had_platform = cand.platform.is_some();
        let mut p = cand.platform.take().unwrap_or(Platform {
            api_url: None,
            token: None,
            ca_cert: None,
            namespace: None,
            authorization_type: "rbac".into(),
        });
        let before = p.clone();
        for key in ["api_url", "token", "ca_cert", "namespace"] {
            if let Some(v) = pka.get(key) {
                let v = opt_string(Some(v));
                match key {
                    "api_url" => p.api_url = v,
                    "token" => p.token = v,
                    "ca_cert" => p.ca_cert = v,
                    _ => p.namespace = v,
                }
            }
        }
        platform_dirty = p != before || (!had_platform && !pka.is_empty());
        if platform_dirty {
            validation::normalize_platform(&mut p);
        }
        if had_platform || platform_dirty {
            cand.platform = Some(p);
        }
    }
    let errors = validation::validate_cluster(
        db,
        &Candidate {
            cluster: &cand,
            original: Some(&original),
            platform_dirty,
        },
    );
    if !errors.is_empty() {
        return validation_error(&errors).into();
    }
    let changed = cand != original;
    if changed {
        cand.updated_ms = timefmt::now_ms().max(original.updated_ms);
    }
    let id = cand.id;
    db.insert_cluster(cand);
    let response = match db.clusters.get(&id) {
        Some(c) => SimResponse::json(200, &entities::cluster(db, c, base, Shape::ClusterGroup)),
        None => SimResponse::message(500, "500 Internal Server Error"),
    };
    if changed {
        Answer::Wrote(response)
    } else {
        Answer::Read(response)
    }
}
