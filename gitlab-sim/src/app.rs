//! Shared server state: the database (and its saved checkpoint), stats, fault machinery,
//! persistence and settings that every connection task sees.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use crate::db::Db;
use crate::faults::{FaultQueue, RandomFaults, RateLimiter};
use crate::persist::{Persister, Snapshot};
use crate::stats::Stats;

pub struct App {
    pub db: Mutex<Db>,
    /// The database as `POST /-/sim/checkpoint` saved it.
    pub checkpoint: Mutex<Option<Db>>,
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

    pub fn checkpoint(&self) -> MutexGuard<'_, Option<Db>> {
        self.checkpoint.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a mutation of `db` (call with the lock held) for the state file, if any.
    pub fn snapshot(&self, _db: &Db) -> Option<Snapshot> {
        self.persist.as_ref().map(Persister::mark)
    }

    /// Writes the state file so it includes `snap`; failures are reported on stderr and do
    /// not fail the request.
    pub async fn persist(&self, snap: Option<Snapshot>) {
        let (Some(p), Some(s)) = (&self.persist, snap) else {
            return;
        };
        let serialize = || {
            let db = self.db();
            let version = p.current_version();
            let bytes = serde_json::to_vec_pretty(&db.to_seed()).unwrap_or_default();
            (version, bytes)
        };
        if let Err(e) = p.write(s, serialize).await {
            eprintln!("gitlab-sim: cannot write state file: {e}");
        }
    }
}
