//! The fault kinds of the grid, as `POST /-/sim/faults` specs aimed at one recorded request,
//! and which requests each kind can hit. Every kind targets whatever route the request is
//! on: group, project and instance cluster routes alike (the simulator's fault queue matches
//! by position, and its answers that fabricate or replace clusters stay in the route's
//! family).

use std::time::Duration;

use serde_json::{Value as J, json};

use super::simctl::Request;

/// The `delay` kind's wait: past the provider's 1 s request timeout.
pub const DELAY: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    S500,
    S502,
    S503,
    S429,
    S403,
    S404,
    Lost,
    Delay,
    Hang,
    Truncate,
    Malformed,
    Foreign,
    ForeignFamily,
    EndlessBody,
    EndlessList,
}

/// The clusters no workspace owns that a `foreign` answer names: `own`, the scenario's
/// `decoy` (same owner); `kin`, a decoy of another family named and scoped like the
/// scenario's cluster (`production`), rendered as the route renders a cluster.
#[derive(Clone, Copy, Debug)]
pub struct Decoys {
    pub own: i64,
    pub kin: i64,
}

pub const ALL: &[Kind] = &[
    Kind::S500,
    Kind::S502,
    Kind::S503,
    Kind::S429,
    Kind::S403,
    Kind::S404,
    Kind::Lost,
    Kind::Delay,
    Kind::Hang,
    Kind::Truncate,
    Kind::Malformed,
    Kind::Foreign,
    Kind::ForeignFamily,
    Kind::EndlessBody,
    Kind::EndlessList,
];

impl Kind {
    /// The table's column heading.
    pub fn name(self) -> &'static str {
        match self {
            Kind::S500 => "500",
            Kind::S502 => "502 html",
            Kind::S503 => "503 RA",
            Kind::S429 => "429 RA",
            Kind::S403 => "403",
            Kind::S404 => "404",
            Kind::Lost => "lost",
            Kind::Delay => "delay",
            Kind::Hang => "hang",
            Kind::Truncate => "truncate",
            Kind::Malformed => "malformed",
            Kind::Foreign => "foreign",
            Kind::ForeignFamily => "foreign family",
            Kind::EndlessBody => "endless body",
            Kind::EndlessList => "endless list",
        }
    }

    /// Kinds whose answer can grow the provider's memory: run alone, so the process's peak
    /// RSS is theirs.
    pub fn heavy(self) -> bool {
        matches!(self, Kind::EndlessBody | Kind::EndlessList)
    }

    /// Whether this kind can hit `r` (list kinds act on list requests only; `foreign` on
    /// single-cluster answers).
    pub fn applies(self, r: &Request) -> bool {
        match self {
            Kind::EndlessList => r.is_list(),
            // A list item carries no owner: another cluster in a list cannot be told apart.
            // The simulator's `foreign` leaves every answer but a cluster's as it is.
            Kind::Foreign | Kind::ForeignFamily => r.presents_cluster(),
            _ => true,
        }
    }

    fn action(self, decoys: Decoys) -> J {
        let status = |s: u16| json!({"kind": "status", "status": s});
        match self {
            Kind::S500 => status(500),
            Kind::S502 => status(502),
            Kind::S503 => json!({"kind": "status", "status": 503, "retry_after": 1}),
            Kind::S429 => json!({"kind": "status", "status": 429, "retry_after": 1}),
            Kind::S403 => {
                json!({"kind": "status", "status": 403, "body": r#"{"message":"403 Forbidden"}"#})
            }
            Kind::S404 => {
                json!({"kind": "status", "status": 404, "body": r#"{"message":"404 Not found"}"#})
            }
            Kind::Lost => json!({"kind": "drop_after_apply"}),
            // Past the provider's 1 s request timeout; then handled (applied) all the same.
            Kind::Delay => json!({"kind": "delay", "ms": DELAY.as_millis() as u64}),
            Kind::Hang => json!({"kind": "hang"}),
            Kind::Truncate => json!({"kind": "truncate", "apply": true}),
            Kind::Malformed => json!({
                "kind": "raw", "status": 200, "content_type": "application/json", "body": "{\"id\": 1,"
            }),
            Kind::Foreign => json!({"kind": "foreign", "cluster_id": decoys.own}),
            Kind::ForeignFamily => json!({"kind": "foreign", "cluster_id": decoys.kin}),
            Kind::EndlessBody => json!({"kind": "endless_body"}),
            Kind::EndlessList => json!({"kind": "endless_list", "fabricate": true}),
        }
    }

    /// The fault spec hitting request `index` of `log` (the clean run's requests): the
    /// `index`-th API request; for a list kind, every list request from that one on (a walk
    /// follows the fabricated pages), counted among list requests.
    pub fn spec(self, log: &[Request], index: usize, decoys: Decoys) -> J {
        match self {
            Kind::EndlessList => {
                let earlier = log[..index].iter().filter(|r| r.is_list()).count();
                json!({"method": "GET", "after": earlier, "count": 100_000, "action": self.action(decoys)})
            }
            _ => json!({"after": index, "count": 1, "action": self.action(decoys)}),
        }
    }
}
