//! The real provider binary, launched as go-plugin launches it (magic cookie, protocol
//! versions, a private socket directory, nothing inherited that would change the outcome),
//! with its stdout lines, stderr and exit status observable without sleeps; the go-plugin
//! handshake line parsed; and a start-and-connect with AutoMTLS as Terraform does it.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Instant;

use base64::Engine;

use super::connect::{Conn, Target, connect};
use super::process_guard;
use super::tls::{ClientAuth, Identity, tls_client};
use super::{HANG_GUARD, guard};

pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-gitlab")
}

/// A plugin launch being prepared: the environment go-plugin gives a plugin (magic cookie,
/// protocol versions 5 and 6, a private socket directory), nothing inherited that would
/// change the outcome.
pub struct Launch {
    cmd: Command,
    dir: tempfile::TempDir,
}

impl Default for Launch {
    fn default() -> Self {
        Self::new()
    }
}

impl Launch {
    pub fn new() -> Launch {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(bin());
        for k in [
            "TF_LOG",
            "TF_LOG_PROVIDER",
            "TF_LOG_PROVIDER_GITLAB",
            "TF_REATTACH_PROVIDERS",
            "TF_PROVIDER_GITLAB_LISTEN",
            "PLUGIN_CLIENT_CERT",
            "PLUGIN_MIN_PORT",
            "PLUGIN_MAX_PORT",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Launch { cmd, dir }
    }
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }
    pub fn arg(mut self, a: &str) -> Self {
        self.cmd.arg(a);
        self
    }
    pub fn client_cert(self, id: &Identity) -> Self {
        self.env("PLUGIN_CLIENT_CERT", &id.pem)
    }
    /// The directory given as `PLUGIN_UNIX_SOCKET_DIR`.
    pub fn socket_base(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    pub fn spawn(self) -> Plugin {
        // Dies with the test process, by any signal (see process_guard).
        let mut child = process_guard::spawn(self.cmd, "the provider binary");
        let pid = child.id();
        let (line_tx, stdout) = mpsc::channel();
        let out = child.child_mut().stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Stderr::default());
        let (sink, mut err) = (
            stderr.clone(),
            child.child_mut().stderr.take().expect("stderr"),
        );
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = err.read(&mut buf).unwrap_or(0);
                let mut s = sink.text.lock().unwrap();
                if n == 0 {
                    s.1 = true;
                    sink.changed.notify_all();
                    return;
                }
                s.0.push_str(&String::from_utf8_lossy(&buf[..n]));
                sink.changed.notify_all();
            }
        });
        let (exit_tx, exit) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = exit_tx.send(child.wait());
        });
        Plugin {
            pid,
            stdout,
            stderr,
            exit,
            status: None,
            socket_base: self.dir,
        }
    }
}

#[derive(Default)]
struct Stderr {
    /// Text so far, and whether the stream has ended.
    text: Mutex<(String, bool)>,
    changed: Condvar,
}

/// A running (or finished) provider process. Dropping it kills a process still running.
pub struct Plugin {
    pub pid: u32,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<Stderr>,
    exit: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    /// `PLUGIN_UNIX_SOCKET_DIR`, removed when the plugin is dropped.
    pub socket_base: tempfile::TempDir,
}

impl Plugin {
    /// The next line the plugin prints on stdout; `None` once stdout is closed.
    pub fn stdout_line(&mut self) -> Option<String> {
        match self.stdout.recv_timeout(HANG_GUARD) {
            Ok(l) => Some(l),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "no stdout line within {HANG_GUARD:?}; stderr:\n{}",
                    self.stderr()
                )
            }
        }
    }
    /// Everything left on stdout until the plugin closes it.
    pub fn rest_of_stdout(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.stdout_line()).collect()
    }
    /// Reads and parses the go-plugin handshake line.
    pub fn handshake(&mut self) -> Handshake {
        match self.stdout_line() {
            Some(line) => Handshake::parse(&line),
            None => panic!(
                "the plugin closed stdout without a handshake; stderr:\n{}",
                self.stderr()
            ),
        }
    }
    pub fn stderr(&self) -> String {
        self.stderr.text.lock().unwrap().0.clone()
    }
    /// All of stderr, once the plugin has closed it.
    pub fn stderr_to_end(&self) -> String {
        let deadline = Instant::now() + HANG_GUARD;
        let mut s = self.stderr.text.lock().unwrap();
        while !s.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "stderr still open after {HANG_GUARD:?}");
            s = self.stderr.changed.wait_timeout(s, left).unwrap().0;
        }
        s.0.clone()
    }
    /// Waits until stderr contains `needle`; panics if stderr ends without it.
    pub fn await_stderr(&self, needle: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        let mut s = self.stderr.text.lock().unwrap();
        while !s.0.contains(needle) {
            assert!(!s.1, "stderr ended without {needle:?}:\n{}", s.0);
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "stderr lacks {needle:?} after {HANG_GUARD:?}:\n{}",
                s.0
            );
            s = self.stderr.changed.wait_timeout(s, left).unwrap().0;
        }
    }
    /// The exit status, waiting for the process to end.
    pub fn wait_exit(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        match self.exit.recv_timeout(HANG_GUARD) {
            Ok(s) => {
                self.status = Some(s);
                s
            }
            Err(_) => panic!(
                "the plugin did not exit within {HANG_GUARD:?}; stderr:\n{}",
                self.stderr()
            ),
        }
    }
    /// Whether the process has exited (without waiting).
    pub fn has_exited(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.exit.try_recv().ok();
        }
        self.status.is_some()
    }
    /// Sends `signal` to the plugin process (which this test started).
    pub fn signal(&mut self, signal: i32) {
        assert!(!self.has_exited(), "the plugin already exited");
        let pid = i32::try_from(self.pid).expect("pid");
        // SAFETY: kill(2) on our own child's pid; it has not been reaped (no exit status yet).
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            rc,
            0,
            "kill({pid}, {signal}): {}",
            std::io::Error::last_os_error()
        );
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        if !self.has_exited() {
            if let Ok(pid) = i32::try_from(self.pid) {
                // SAFETY: as in `signal`: our child, not yet reaped.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let _ = self.exit.recv_timeout(HANG_GUARD);
        }
    }
}

/// go-plugin's handshake line: `CORE|APP|NETWORK|ADDR|PROTOCOL|CERT`.
#[derive(Clone, Debug)]
pub struct Handshake {
    pub line: String,
    pub core_version: u32,
    pub protocol_version: u32,
    pub network: String,
    pub address: String,
    pub protocol: String,
    pub cert_base64: String,
}

impl Handshake {
    pub fn parse(line: &str) -> Handshake {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f.len(), 6, "handshake line needs 6 fields: {line:?}");
        Handshake {
            line: line.to_string(),
            core_version: f[0]
                .parse()
                .unwrap_or_else(|_| panic!("core version in {line:?}")),
            protocol_version: f[1]
                .parse()
                .unwrap_or_else(|_| panic!("protocol version in {line:?}")),
            network: f[2].to_string(),
            address: f[3].to_string(),
            protocol: f[4].to_string(),
            cert_base64: f[5].to_string(),
        }
    }
    /// The server certificate, decoded as go-plugin does (base64 without padding).
    pub fn server_cert(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&self.cert_base64)
            .unwrap_or_else(|e| {
                panic!(
                    "certificate field is not unpadded base64 ({e}): {:?}",
                    self.line
                )
            })
    }
    pub fn target(&self) -> Target {
        match self.network.as_str() {
            "unix" => Target::Unix(PathBuf::from(&self.address)),
            "tcp" => Target::Tcp(
                self.address
                    .parse()
                    .unwrap_or_else(|_| panic!("tcp address in {:?}", self.line)),
            ),
            other => panic!("unknown network {other:?} in {:?}", self.line),
        }
    }
}

/// Starts a plugin with AutoMTLS for `id` and connects to it as Terraform would.
pub async fn start_with_mtls(launch: Launch, id: &Identity) -> (Plugin, Handshake, Conn) {
    let mut plugin = launch.client_cert(id).spawn();
    let hs = plugin.handshake();
    let tls = tls_client(&hs.server_cert(), ClientAuth::Cert(id));
    let conn = guard("connect", connect(&hs.target(), Some(tls)))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "connect to {:?}: {e:?}; stderr:\n{}",
                hs.line,
                plugin.stderr()
            )
        });
    (plugin, hs, conn)
}
