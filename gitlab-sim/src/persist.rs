//! `--state FILE`: the whole database written atomically (temp file + rename) after every
//! mutation, before the response is sent. Concurrent mutations coalesce: a write serializes
//! the current state, which covers every mutation made before it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A mutation that must be on disk before its response is sent.
pub struct Snapshot {
    pub version: u64,
}

pub struct Persister {
    path: PathBuf,
    version: AtomicU64,
    written: tokio::sync::Mutex<u64>,
}

/// Writes `bytes` to `path` atomically (a reader sees the old or the new file, never a mix).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.flush()?;
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

    /// Records a mutation; call while holding the database lock.
    pub fn mark(&self) -> Snapshot {
        Snapshot {
            version: self.version.fetch_add(1, Ordering::SeqCst) + 1,
        }
    }

    /// Ensures the state file holds at least mutation `snap`. `serialize` is called with the
    /// database locked and returns (latest mutation version, file content).
    pub async fn write(
        &self,
        snap: Snapshot,
        serialize: impl FnOnce() -> (u64, Vec<u8>),
    ) -> std::io::Result<()> {
        let mut written = self.written.lock().await;
        if snap.version <= *written {
            return Ok(());
        }
        let (version, bytes) = serialize();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomic(&path, &bytes))
            .await
            .map_err(std::io::Error::other)??;
        *written = version;
        Ok(())
    }

    pub fn current_version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }
}
