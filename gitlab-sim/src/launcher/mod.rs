//! The test harness of `gitlab-sim` (this package's library; the simulator itself is the
//! binary, `src/main.rs`, and shares no code with this): the one way every test suite, this
//! package's and the provider's, starts the simulator. [`Sim::start`] runs the binary
//! ([`binary`]) on port 0 as a guarded child (see [`guard`]: it dies with the test process,
//! by any signal), reads its `listening on <url>` line within a deadline, and kills it on
//! drop. [`guard`] also guards the tests' other children (Terraform, the provider plugin).

pub mod guard;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, SystemTime};

/// How long the simulator may take to print its listening line.
pub const START_LIMIT: Duration = Duration::from_secs(30);
/// How long the simulator may take to exit after SIGTERM/SIGINT.
pub const EXIT_LIMIT: Duration = Duration::from_secs(20);

/// Every HTTP client a test points at the simulator connects within this...
pub const HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// ...and gets its whole answer within this (the longest scripted delay is a few seconds).
pub const HTTP_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long building the simulator may take when [`binary`] has to (a cold build on 2 cores).
pub const BUILD_LIMIT: Duration = Duration::from_secs(1200);

/// Names the simulator binary to use instead of the one beside the test's build.
pub const BIN_ENV: &str = "GITLAB_SIM_BIN";

/// The seed file of the tests, the benchmarks and the quickstart (groups, users, tokens).
pub fn seed_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed.json")
}

/// A seed with clusters of all three owners (docs/simulator.md, "The families seed"): the
/// default seed's data plus project and instance clusters (GKE ones among them), a project
/// in a subgroup, a public project and a second administrator.
pub fn families_seed_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/families.json")
}

/// The `gitlab-sim` executable, found once per test process:
/// - `$GITLAB_SIM_BIN` if set (it must be a file: nothing is built then);
/// - else `gitlab-sim` in the Cargo profile directory of the running test executable
///   (`target/debug/` for `target/debug/deps/<test>-<hash>`), which `cargo test` at the
///   workspace root builds (both packages are default members). When it is missing, or older
///   than a source of the simulator, it is built first with
///   `$CARGO build --locked -p gitlab-sim --bin gitlab-sim` for that profile and target
///   directory (Cargo releases its build lock before it runs tests, so this does not wait on
///   the `cargo test` that runs us).
///
/// Panics saying what is missing when there is no binary to run: a test never skips.
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(find_binary).clone()
}

fn find_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os(BIN_ENV) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "{BIN_ENV}={} is not a file: set it to a built gitlab-sim binary, or unset it to \
             use (and build) the workspace's",
            bin.display()
        );
        return bin;
    }
    let exe = std::env::current_exe().expect("the path of the running test executable");
    let dir = exe.parent().expect("the test executable's directory");
    // target/<profile>/deps/<test>-<hash>, or target/<profile>/<exe> for a binary run directly.
    let profile_dir = if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("the Cargo profile directory")
    } else {
        dir
    };
    let bin = profile_dir.join(format!("gitlab-sim{}", std::env::consts::EXE_SUFFIX));
    if !is_fresh(&bin) {
        build(profile_dir);
    }
    assert!(
        bin.is_file(),
        "no gitlab-sim binary at {} after building it: build it with \
         `cargo build --locked -p gitlab-sim`, or name one in {BIN_ENV}",
        bin.display()
    );
    bin
}

/// Whether `bin` exists and is newer than the simulator's sources, manifest and built-in seed
/// (as Cargo itself judges a build: by modification times).
fn is_fresh(bin: &Path) -> bool {
    fn newest(path: &Path, acc: &mut SystemTime) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if let Ok(t) = meta.modified() {
            *acc = (*acc).max(t);
        }
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(path)
        {
            for e in entries.flatten() {
                newest(&e.path(), acc);
            }
        }
    }
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    let mut sources = SystemTime::UNIX_EPOCH;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    newest(&root.join("src"), &mut sources);
    newest(&root.join("Cargo.toml"), &mut sources);
    // The built-in seed is compiled in (src/seed.rs).
    newest(&seed_file(), &mut sources);
    built >= sources
}

/// Builds `gitlab-sim` into `profile_dir` (`<target-dir>/[<triple>/]<profile>`).
fn build(profile_dir: &Path) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("no Cargo profile in {}", profile_dir.display()),
    };
    let parent = profile_dir.parent().expect("the Cargo target directory");
    // Cargo marks the target directory's root with CACHEDIR.TAG; under `--target <triple>`
    // the profile directory sits one level deeper.
    let (target_dir, triple) = if parent.join("CACHEDIR.TAG").exists() {
        (parent, None)
    } else {
        match (parent.parent(), parent.file_name()) {
            (Some(root), Some(triple)) if root.join("CACHEDIR.TAG").exists() => {
                (root, Some(triple))
            }
            _ => panic!(
                "gitlab-sim must be built, but {} is not in a Cargo target directory: build \
                 it with `cargo build --locked -p gitlab-sim` and name it in {BIN_ENV}",
                profile_dir.display()
            ),
        }
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut cmd = Command::new(&cargo);
    cmd.args([
        "build",
        "--locked",
        "-p",
        "gitlab-sim",
        "--bin",
        "gitlab-sim",
    ])
    .arg("--manifest-path")
    .arg(&manifest)
    .arg("--target-dir")
    .arg(target_dir)
    .args(["--profile", profile]);
    if let Some(triple) = triple {
        cmd.arg("--target").arg(triple);
    }
    let what = format!(
        "building gitlab-sim ({} build ... --profile {profile})",
        cargo.to_string_lossy()
    );
    eprintln!("{what}");
    let out = guard::output(cmd, BUILD_LIMIT, &what);
    assert!(
        out.status.success(),
        "{what} failed ({}); build it with `cargo build --locked -p gitlab-sim`, or name a \
         built one in {BIN_ENV}:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `gitlab-sim`; killed on drop.
pub struct Sim {
    process: guard::Guarded,
    /// The base URL from the listening line (`http://127.0.0.1:<port>` or `https://...`).
    pub url: String,
}

impl Sim {
    /// Starts `gitlab-sim --listen 127.0.0.1:0 <args>`. Its stderr goes to the test's.
    pub fn start(args: &[&str]) -> Sim {
        let mut cmd = Command::new(binary());
        cmd.args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let what = format!("gitlab-sim {}", args.join(" "));
        let _w = guard::waiting_for(
            format!("the listening line of {what}"),
            START_LIMIT + Duration::from_secs(10),
        );
        let mut process = guard::spawn(cmd, &what);
        let stdout = process
            .child_mut()
            .stdout
            .take()
            .expect("gitlab-sim stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let _ = tx.send(line);
            // Keep reading (and discarding) so the simulator never writes into a closed pipe.
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(START_LIMIT) {
            Ok(line) => line,
            Err(_) => panic!("{what} printed no listening line within {START_LIMIT:?}"),
        };
        let url = match line.trim_end().strip_prefix("listening on ") {
            Some(url) => url.to_string(),
            None => {
                let status = process.wait_within(Duration::from_secs(5));
                panic!("{what}: unexpected first line {line:?} (exit status {status:?})")
            }
        };
        Sim { process, url }
    }

    /// URL of an API path (`/user` -> `<url>/api/v4/user`).
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v4{path}", self.url)
    }

    /// The port from the listening line.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {}", self.url))
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Sends `sig` (`libc::SIGTERM` ...) to the simulator.
    pub fn signal(&mut self, sig: i32) {
        self.process.signal(sig);
    }

    /// Waits for the simulator to exit (after [`Sim::signal`]), at most [`EXIT_LIMIT`].
    pub fn wait_exit(&mut self) -> ExitStatus {
        let _w = guard::waiting_for("gitlab-sim to exit", EXIT_LIMIT + Duration::from_secs(10));
        self.process
            .wait_within(EXIT_LIMIT)
            .unwrap_or_else(|| panic!("gitlab-sim did not exit within {EXIT_LIMIT:?}"))
    }
}
