//! `--state FILE`: the whole database written atomically (temp file + fsync + rename) after
//! every mutation, before the response is sent; writes of older snapshots are skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::Db;

pub struct Snapshot {
    pub version: u64,
    pub bytes: Vec<u8>,
}

pub struct Persister {
    path: PathBuf,
    version: AtomicU64,
    written: tokio::sync::Mutex<u64>,
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

impl Persister {
    pub fn new(path: PathBuf) -> Self {
        Persister {
            path,
            version: AtomicU64::new(0),
            written: tokio::sync::Mutex::new(0),
        }
    }

    /// Takes a snapshot; call while holding the database lock so versions follow mutations.
    pub fn snapshot(&self, db: &Db) -> Snapshot {
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        let bytes = serde_json::to_vec_pretty(&db.to_seed()).unwrap_or_default();
        Snapshot { version, bytes }
    }

    pub async fn write(&self, snap: Snapshot) -> std::io::Result<()> {
        let mut written = self.written.lock().await;
        if snap.version <= *written {
            return Ok(());
        }
        let path = self.path.clone();
        let bytes = snap.bytes;
        tokio::task::spawn_blocking(move || write_atomic(&path, &bytes))
            .await
            .map_err(std::io::Error::other)??;
        *written = snap.version;
        Ok(())
    }
}
