//! `Clusters::CreateService` and `Clusters::UpdateService` for every owner: the management
//! project check first and alone (`ValidateManagementProjectPermissionsService`, scoped by
//! the owner: `families::management_project_in_scope`), then the cluster built or changed
//! from the declared params and validated as `Clusters::Cluster#valid?`; the answer presents
//! the entity of the owner's family.

use serde_json::{Map, Value};

use crate::db::{Cluster, Db, MAINTAINER, Owner, Platform, User};
use crate::entities;
use crate::families::{self, Family};
use crate::http::SimResponse;
use crate::timefmt;
use crate::validation::{self, Candidate, ErrorMap, MANAGEMENT_PROJECT_DENIED};

/// An answer, and whether it changed the database.
pub enum Answer {
    Read(SimResponse),
    Wrote(SimResponse),
}

impl From<SimResponse> for Answer {
    fn from(r: SimResponse) -> Self {
        Answer::Read(r)
    }
}

/// Who asks, for which owner, through which family's routes.
pub struct Ctx<'a> {
    pub user: &'a User,
    pub owner: Owner,
    pub family: &'static Family,
    /// `scheme://host[:port]` for the entity's URLs.
    pub base: &'a str,
}

/// `render_validation_error!`: `{"message": {"<attribute>": ["..."]}}` in GitLab's order.
pub fn validation_error(errors: &ErrorMap) -> SimResponse {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        message: &'a ErrorMap,
    }
    SimResponse::json(400, &Body { message: errors })
}

fn opt_string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// `ValidateManagementProjectPermissionsService`: the project must be in the owner's scope
/// and the user must be allowed to `admin_pipeline` on it (Maintainer).
fn management_project_allowed(db: &Db, user: &User, owner: Owner, project_id: i64) -> bool {
    let Ok(pid) = u64::try_from(project_id) else {
        return false;
    };
    let Some(p) = db.projects.get(&pid) else {
        return false;
    };
    families::management_project_in_scope(db, owner, p)
        && db.project_access(user, pid) >= MAINTAINER
}

/// The management project error, alone, when `decl` names a project the user may not use.
fn management_project_denied(
    db: &Db,
    ctx: &Ctx<'_>,
    decl: &Map<String, Value>,
) -> Option<SimResponse> {
    let pid = decl.get("management_project_id").and_then(Value::as_i64)?;
    if management_project_allowed(db, ctx.user, ctx.owner, pid) {
        return None;
    }
    let mut e = ErrorMap::default();
    e.add("management_project_id", MANAGEMENT_PROJECT_DENIED);
    Some(validation_error(&e))
}

/// `POST .../clusters/user` (`/admin/clusters/add`): a new user-provided cluster of the owner.
pub fn create(db: &mut Db, ctx: &Ctx<'_>, decl: &Map<String, Value>) -> Answer {
    // Clusters::CreateService: management project permissions first, alone.
    if let Some(denied) = management_project_denied(db, ctx, decl) {
        return denied.into();
    }
    let mgmt = decl.get("management_project_id").and_then(Value::as_i64);
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
        owner: ctx.owner,
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
        user_id: Some(ctx.user.id),
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
        Some(c) => SimResponse::json(
            201,
            &entities::cluster(db, c, ctx.base, ctx.family.create_shape),
        ),
        None => SimResponse::message(500, "500 Internal Server Error"),
    })
}

/// `PUT .../clusters/:cluster_id`: the declared fields that were sent, applied to `original`.
pub fn update(db: &mut Db, ctx: &Ctx<'_>, original: Cluster, decl: &Map<String, Value>) -> Answer {
    // Clusters::UpdateService: management project permissions first.
    if let Some(denied) = management_project_denied(db, ctx, decl) {
        return denied.into();
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
        Some(c) => SimResponse::json(
            200,
            &entities::cluster(db, c, ctx.base, ctx.family.update_shape),
        ),
        None => SimResponse::message(500, "500 Internal Server Error"),
    };
    if changed {
        Answer::Wrote(response)
    } else {
        Answer::Read(response)
    }
}
