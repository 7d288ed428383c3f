//! Shared server state: the database, stats, fault machinery, persistence and settings that
//! every connection task sees.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use crate::db::Db;
use crate::faults::{FaultQueue, RandomFaults, RateLimiter};
use crate::persist::{Persister, Snapshot};
use crate::stats::Stats;

pub struct App {
    pub db: Mutex<Db>,
    pub stats: Stats,
    pub faults: Mutex<FaultQueue>,
    pub limiter: Option<RateLimiter>,
    pub random_faults: Option<RandomFaults>,
    pub control: bool,
    pub persist: Option<Persister>,
    pub scheme: &'static str,
    pub listen: SocketAddr,
}

impl App {
    pub fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A snapshot of `db` for the state file (when `--state` is set).
    pub fn snapshot(&self, db: &Db) -> Option<Snapshot> {
        self.persist.as_ref().map(|p| p.snapshot(db))
    }

    /// Writes a snapshot; failures are reported on stderr and do not fail the request.
    pub async fn persist(&self, snap: Option<Snapshot>) {
        if let (Some(p), Some(s)) = (&self.persist, snap)
            && let Err(e) = p.write(s).await
        {
            eprintln!("gitlab-sim: cannot write state file: {e}");
        }
    }
}
