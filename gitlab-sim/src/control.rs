//! Test controls under `/-/sim/` (only with `--control`; never counted as API requests):
//! scripted faults, stats, checkpoint / restore of the whole database, feature flags switched
//! at run time, and reading / drifting / deleting clusters of every owner (group, project,
//! instance) behind the API's back.

use hyper::Method;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::entities::{self, Shape};
use crate::faults::FaultSpec;
use crate::http::SimResponse;
use crate::persist::Snapshot;

fn bad(msg: impl Into<String>) -> SimResponse {
    SimResponse::error(400, &msg.into())
}

fn not_found() -> SimResponse {
    SimResponse::error(404, "404 Not Found")
}

pub async fn handle(
    app: &App,
    method: &Method,
    path: &str,
    body: &[u8],
    base: &str,
) -> SimResponse {
    if !app.control {
        return not_found();
    }
    let sub = path.trim_start_matches("/-/sim").trim_matches('/');
    let segs: Vec<&str> = sub.split('/').collect();
    let (resp, snapshot) = match (method.clone(), segs.as_slice()) {
        (Method::POST, ["faults"]) => (add_fault(app, body), None),
        (Method::GET, ["faults"]) => (SimResponse::json(200, &app.faults().list()), None),
        (Method::DELETE, ["faults"]) => {
            app.faults().clear();
            (SimResponse::new(204), None)
        }
        (Method::GET, ["stats"]) => (SimResponse::json(200, &app.stats.snapshot()), None),
        (Method::POST, ["stats", "reset"]) => {
            app.stats.reset();
            (SimResponse::new(204), None)
        }
        (Method::POST, ["checkpoint"]) => {
            let db = app.db();
            let summary = summary(&db);
            *app.checkpoint() = Some(db.clone());
            (SimResponse::json(201, &summary), None)
        }
        (Method::POST, ["restore"]) => restore(app),
        (Method::GET, ["clusters"]) => {
            let db = app.db();
            let list: Vec<_> = db
                .all_cluster_ids()
                .iter()
                .filter_map(|id| db.clusters.get(id))
                .map(|c| entities::cluster(&db, c, base, Shape::Control))
                .collect();
            (SimResponse::json(200, &list), None)
        }
        (Method::PATCH, ["clusters", id]) => drift(app, id, body, base),
        (Method::GET, ["feature_flags"]) => (feature_flags(&app.db()), None),
        (Method::PUT, ["feature_flags", name]) => set_feature_flag(app, name, body),
        (Method::DELETE, ["clusters", id]) => {
            let mut db = app.db();
            match id.parse::<u64>().ok().and_then(|id| db.remove_cluster(id)) {
                Some(_) => (SimResponse::new(204), app.snapshot(&db)),
                None => (not_found(), None),
            }
        }
        _ => (not_found(), None),
    };
    app.persist(snapshot).await;
    resp
}

/// `GET /-/sim/feature_flags`: every flag the simulator knows, with its state.
fn feature_flags(db: &crate::db::Db) -> SimResponse {
    SimResponse::json(
        200,
        &json!({"certificate_based_clusters": db.settings.certificate_based_clusters}),
    )
}

/// `PUT /-/sim/feature_flags/:name` `{"enabled": bool}`: switches a flag for the whole
/// instance (GitLab's `Feature.enable` / `Feature.disable`), as the seed's setting would.
fn set_feature_flag(app: &App, name: &str, body: &[u8]) -> (SimResponse, Option<Snapshot>) {
    if name != "certificate_based_clusters" {
        return (
            SimResponse::json(
                404,
                &json!({"message": format!("unknown feature flag {name}: the simulator knows certificate_based_clusters")}),
            ),
            None,
        );
    }
    let enabled = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) if m.len() == 1 => m.get("enabled").and_then(Value::as_bool),
        _ => None,
    };
    let Some(enabled) = enabled else {
        return (bad("body must be {\"enabled\": true|false}"), None);
    };
    let mut db = app.db();
    db.settings.certificate_based_clusters = enabled;
    let snapshot = app.snapshot(&db);
    (
        SimResponse::json(200, &json!({"name": name, "enabled": enabled})),
        snapshot,
    )
}

/// What a checkpoint or restore answers: enough to see which database is in place.
fn summary(db: &crate::db::Db) -> Value {
    json!({
        "groups": db.groups.len(),
        "projects": db.projects.len(),
        "users": db.users.len(),
        "clusters": db.clusters.len(),
        "next_cluster_id": db.next_cluster_id(),
    })
}

/// `POST /-/sim/restore`: the checkpoint's database back in place (kept for further
/// restores), an empty fault queue and zeroed stats.
fn restore(app: &App) -> (SimResponse, Option<Snapshot>) {
    let Some(saved) = app.checkpoint().clone() else {
        return (
            SimResponse::json(
                409,
                &json!({"message": "no checkpoint: POST /-/sim/checkpoint first"}),
            ),
            None,
        );
    };
    let mut db = app.db();
    *db = saved;
    let snapshot = app.snapshot(&db);
    let summary = summary(&db);
    drop(db);
    app.faults().clear();
    app.stats.reset();
    (SimResponse::json(200, &summary), snapshot)
}

fn add_fault(app: &App, body: &[u8]) -> SimResponse {
    let spec: FaultSpec = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) => return bad(format!("invalid fault: {e}")),
    };
    if let crate::faults::Action::Status { status, .. } | crate::faults::Action::Raw { status, .. } =
        &spec.action
        && !(100..=999).contains(status)
    {
        return bad("status must be a valid HTTP status code");
    }
    let queued = app.faults().push(spec);
    SimResponse::json(201, &queued)
}

fn field_str(v: &Value, key: &str, nullable: bool) -> Result<Option<String>, SimResponse> {
    match v {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Null if nullable => Ok(None),
        _ => Err(bad(format!(
            "{key} must be a string{}",
            if nullable { " or null" } else { "" }
        ))),
    }
}

fn field_bool(v: &Value, key: &str) -> Result<bool, SimResponse> {
    v.as_bool()
        .ok_or_else(|| bad(format!("{key} must be a boolean")))
}

/// `PATCH /-/sim/clusters/:id`: edits entity-level fields without any validation.
fn drift(app: &App, id: &str, body: &[u8], base: &str) -> (SimResponse, Option<Snapshot>) {
    let fields: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => m,
        _ => return (bad("body must be a JSON object"), None),
    };
    let mut db = app.db();
    let Some(mut c) = id
        .parse::<u64>()
        .ok()
        .and_then(|id| db.clusters.get(&id))
        .cloned()
    else {
        return (not_found(), None);
    };
    let apply = |c: &mut crate::db::Cluster| -> Result<(), SimResponse> {
        for (k, v) in &fields {
            let platform = || {
                c.platform.clone().unwrap_or(crate::db::Platform {
                    api_url: None,
                    token: None,
                    ca_cert: None,
                    namespace: None,
                    authorization_type: "rbac".into(),
                })
            };
            match k.as_str() {
                "name" => c.name = field_str(v, k, true)?,
                "domain" => c.domain = field_str(v, k, true)?,
                "environment_scope" => c.environment_scope = field_str(v, k, true)?,
                "enabled" => c.enabled = field_bool(v, k)?,
                "managed" => c.managed = field_bool(v, k)?,
                "namespace_per_environment" => c.namespace_per_environment = field_bool(v, k)?,
                "provider_type" => {
                    c.provider_type = field_str(v, k, false)?.unwrap_or_default();
                }
                "management_project_id" => {
                    c.management_project_id = match v {
                        Value::Null => None,
                        other => Some(other.as_u64().ok_or_else(|| {
                            bad("management_project_id must be an integer or null")
                        })?),
                    }
                }
                "api_url" | "ca_cert" | "namespace" | "token" | "authorization_type" => {
                    let mut p = platform();
                    let val = field_str(v, k, k != "authorization_type")?;
                    match k.as_str() {
                        "api_url" => p.api_url = val,
                        "ca_cert" => p.ca_cert = val,
                        "namespace" => p.namespace = val,
                        "token" => p.token = val,
                        _ => p.authorization_type = val.unwrap_or_default(),
                    }
                    c.platform = Some(p);
                }
                other => return Err(bad(format!("unknown field {other}"))),
            }
        }
        Ok(())
    };
    if let Err(resp) = apply(&mut c) {
        return (resp, None);
    }
    c.updated_ms = crate::timefmt::now_ms().max(c.updated_ms);
    let cid = c.id;
    db.insert_cluster(c);
    let snapshot = app.snapshot(&db);
    let resp = match db.clusters.get(&cid) {
        Some(c) => SimResponse::json(200, &entities::cluster(&db, c, base, Shape::Control)),
        None => SimResponse::json(500, &json!({"error": "cluster vanished"})),
    };
    (resp, snapshot)
}
