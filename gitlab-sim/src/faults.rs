//! Failure injection: the queue of scripted faults (`POST /-/sim/faults`), the random
//! 502/503 fault rate (`--fault-rate`, deterministic with `--fault-seed`) and the whole-server
//! token bucket (`--rate-limit`) answering like GitLab's Rack::Attack throttle.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::SimResponse;
use crate::timefmt;

fn one() -> u64 {
    1
}
fn ok200() -> u16 {
    200
}
fn json_ct() -> String {
    "application/json".to_string()
}
fn yes() -> bool {
    true
}

/// What a queued fault does to a matching request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Answer this status without applying the request.
    Status {
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    /// Wait, then handle the request normally.
    Delay { ms: u64 },
    /// Close the connection without answering (not applied).
    Reset,
    /// Apply the request, then close the connection without answering.
    DropAfterApply,
    /// Answer exactly this (not applied).
    Raw {
        #[serde(default = "ok200")]
        status: u16,
        #[serde(default = "json_ct")]
        content_type: String,
        #[serde(default)]
        body: String,
    },
    /// Never answer and do not apply: hold the connection until the client closes it.
    Hang,
    /// (Apply if `apply`,) then send the real status and headers with the full
    /// Content-Length but only the first half of the body, and close the connection.
    Truncate {
        #[serde(default = "yes")]
        apply: bool,
    },
    /// Apply, then answer with another cluster's entity in place of the real one.
    Foreign {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cluster_id: Option<u64>,
    },
    /// Do not apply: answer 200 with a JSON array that never ends.
    EndlessBody,
    /// List requests only: a page whose next page always exists, without totals.
    EndlessList {
        #[serde(default = "yes")]
        fabricate: bool,
    },
    /// Do not apply: answer 200 with one streamed page of `items` fabricated clusters.
    HugePage { items: u64 },
}

impl Action {
    /// The name the request log gives a request this fault answered.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Status { .. } => "status",
            Action::Delay { .. } => "delay",
            Action::Reset => "reset",
            Action::DropAfterApply => "drop_after_apply",
            Action::Raw { .. } => "raw",
            Action::Hang => "hang",
            Action::Truncate { .. } => "truncate",
            Action::Foreign { .. } => "foreign",
            Action::EndlessBody => "endless_body",
            Action::EndlessList { .. } => "endless_list",
            Action::HugePage { .. } => "huge_page",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default = "one")]
    pub count: u64,
    /// Matching API requests let through before the fault acts.
    #[serde(default)]
    pub after: u64,
    pub action: Action,
}

#[derive(Debug, Clone, Serialize)]
pub struct Queued {
    pub id: u64,
    pub method: Option<String>,
    pub path: Option<String>,
    pub remaining: u64,
    pub after: u64,
    pub action: Action,
}

#[derive(Default)]
pub struct FaultQueue {
    next_id: u64,
    items: VecDeque<Queued>,
}

impl FaultQueue {
    pub fn push(&mut self, spec: FaultSpec) -> Queued {
        self.next_id += 1;
        let q = Queued {
            id: self.next_id,
            method: spec.method.map(|m| m.to_ascii_uppercase()),
            path: spec.path,
            remaining: spec.count,
            after: spec.after,
            action: spec.action,
        };
        if q.remaining > 0 {
            self.items.push_back(q.clone());
        }
        q
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    pub fn list(&self) -> Vec<Queued> {
        self.items.iter().cloned().collect()
    }

    /// Offers an API request to the queue in order: each matching fault still letting
    /// requests through counts it down and passes it on; the first matching fault with none
    /// left to let through acts (one use of its count) and later faults never see the request.
    /// `endless_list` faults match list requests (`is_list`) only.
    pub fn take(&mut self, method: &str, path: &str, is_list: bool) -> Option<Action> {
        let mut acting = None;
        for (idx, q) in self.items.iter_mut().enumerate() {
            let matches = q
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && q.path.as_deref().is_none_or(|p| path.contains(p))
                && (is_list || !matches!(q.action, Action::EndlessList { .. }));
            if !matches {
                continue;
            }
            if q.after > 0 {
                q.after -= 1;
                continue;
            }
            acting = Some(idx);
            break;
        }
        let idx = acting?;
        let item = &mut self.items[idx];
        item.remaining -= 1;
        let action = item.action.clone();
        if item.remaining == 0 {
            self.items.remove(idx);
        }
        Some(action)
    }
}

/// nginx's error page for 502/503 (what sits in front of GitLab's Puma/Workhorse).
pub fn gateway_error(status: u16) -> SimResponse {
    let reason = match status {
        502 => "502 Bad Gateway",
        503 => "503 Service Temporarily Unavailable",
        504 => "504 Gateway Time-out",
        _ => "500 Internal Server Error",
    };
    let body = format!(
        "<html>\r\n<head><title>{reason}</title></head>\r\n<body>\r\n<center><h1>{reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    SimResponse::text(status, "text/html", body)
}

/// The response of a `{"kind":"status"}` fault.
pub fn status_response(status: u16, retry_after: Option<u64>, body: Option<&str>) -> SimResponse {
    let mut r = match body {
        Some(b) => {
            let ct = if serde_json::from_str::<Value>(b).is_ok() {
                "application/json"
            } else {
                "text/plain"
            };
            SimResponse::text(status, ct, b.to_string())
        }
        None => match status {
            429 => SimResponse::text(429, "text/plain", "Retry later\n"),
            502..=504 => gateway_error(status),
            _ => {
                let reason = hyper::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                SimResponse::json(status, &json!({ "message": format!("{status} {reason}") }))
            }
        },
    };
    if let Some(s) = retry_after {
        r = r.header("Retry-After", s.to_string());
    }
    r
}

/// `--fault-rate`: a deterministic stream of 502/503 decisions.
pub struct RandomFaults {
    rate: f64,
    rng: Mutex<fastrand::Rng>,
}

impl RandomFaults {
    pub fn new(rate: f64, seed: u64) -> Self {
        RandomFaults {
            rate,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }

    pub fn pick(&self) -> Option<u16> {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let hit = rng.f64() < self.rate;
        let code = if rng.bool() { 502 } else { 503 };
        hit.then_some(code)
    }
}

/// `--rate-limit`: a token bucket holding one second's worth of requests.
pub struct RateLimiter {
    rps: f64,
    state: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    window: i64,
    observed: u64,
}

pub struct Throttled {
    pub retry_after: u64,
    pub observed: u64,
    pub limit_per_minute: u64,
    pub reset_unix: i64,
}

impl RateLimiter {
    pub fn new(rps: f64) -> Self {
        RateLimiter {
            rps,
            state: Mutex::new(Bucket {
                tokens: rps.max(1.0),
                last: Instant::now(),
                window: 0,
                observed: 0,
            }),
        }
    }

    pub fn check(&self) -> Result<(), Throttled> {
        let mut b = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let elapsed = now.duration_since(b.last).as_secs_f64();
        b.last = now;
        b.tokens = (b.tokens + elapsed * self.rps).min(self.rps.max(1.0));
        let now_s = timefmt::now_ms().div_euclid(1000);
        if b.window != now_s {
            b.window = now_s;
            b.observed = 0;
        }
        b.observed += 1;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - b.tokens) / self.rps).ceil().max(1.0) as u64;
        Err(Throttled {
            retry_after: wait,
            observed: b.observed,
            limit_per_minute: (self.rps * 60.0).ceil() as u64,
            reset_unix: now_s + wait as i64,
        })
    }
}

/// Rack::Attack's throttled response as GitLab configures it.
pub fn throttled_response(t: &Throttled, authenticated: bool) -> SimResponse {
    let name = if authenticated {
        "throttle_authenticated_api"
    } else {
        "throttle_unauthenticated_api"
    };
    SimResponse::text(429, "text/plain", "Retry later\n")
        .header("RateLimit-Name", name)
        .header("RateLimit-Limit", t.limit_per_minute.to_string())
        .header("RateLimit-Observed", t.observed.to_string())
        .header("RateLimit-Remaining", "0")
        .header("RateLimit-Reset", t.reset_unix.to_string())
        .header("RateLimit-ResetTime", timefmt::http_date(t.reset_unix))
        .header("Retry-After", t.retry_after.to_string())
}
