//! Files for running in the background: `--pid-file` (the process id) and `--ready-file`
//! (the startup lines, written once the port is bound), each written atomically and removed
//! again on a clean stop.

use std::path::{Path, PathBuf};

/// The run files written so far; [`RunFiles::remove`] deletes them.
#[derive(Default)]
pub struct RunFiles {
    written: Vec<PathBuf>,
}

impl RunFiles {
    /// Writes `text` to `path` through a temporary file in the same directory and a rename,
    /// so a reader never sees a partial file.
    pub fn write(&mut self, path: &Path, text: &str) -> Result<(), String> {
        let name = path
            .file_name()
            .ok_or_else(|| format!("{}: not a file name", path.display()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("{}: {e}", path.display())
        })?;
        self.written.push(path.to_path_buf());
        Ok(())
    }

    /// Removes every file written (a missing one is not an error: someone removed it first).
    pub fn remove(&mut self) {
        for path in self.written.drain(..) {
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                eprintln!("gitlab-sim: cannot remove {}: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_whole_and_removed_on_stop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pid, ready) = (dir.path().join("sim.pid"), dir.path().join("sim.ready"));
        let mut files = RunFiles::default();
        files.write(&pid, "123\n").expect("pid");
        files
            .write(&ready, "listening on http://x\n")
            .expect("ready");
        assert_eq!(std::fs::read_to_string(&pid).expect("pid"), "123\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        std::fs::remove_file(&pid).expect("someone else removes it");
        files.remove();
        assert!(!ready.exists());
    }

    #[test]
    fn an_unwritable_path_is_an_error_naming_it() {
        let mut files = RunFiles::default();
        let err = files
            .write(Path::new("/nonexistent-dir/sim.pid"), "1\n")
            .expect_err("no such directory");
        assert!(err.contains("/nonexistent-dir/"), "{err}");
    }
}
