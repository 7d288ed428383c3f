//! The one launcher of `gitlab-sim` for every test suite: starts the binary Cargo built on
//! port 0 as a guarded child (see `guard`: it dies with the test process, by any signal), reads
//! its `listening on <url>` line within a deadline, and kills it on drop. Self-contained
//! (it needs only `libc` and the `gitlab-sim` binary target), so it can move with the
//! simulator.
#![allow(dead_code)]

pub mod guard;

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the simulator may take to print its listening line.
pub const START_LIMIT: Duration = Duration::from_secs(30);
/// How long the simulator may take to exit after SIGTERM/SIGINT.
pub const EXIT_LIMIT: Duration = Duration::from_secs(20);

/// Every HTTP client a test points at the simulator connects within this...
pub const HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// ...and gets its whole answer within this (the longest scripted delay is a few seconds).
pub const HTTP_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `gitlab-sim`; killed on drop.
pub struct Sim {
    process: guard::Guarded,
    /// The base URL from the listening line (`http://127.0.0.1:<port>` or `https://...`).
    pub url: String,
}

impl Sim {
    /// Starts `gitlab-sim --listen 127.0.0.1:0 <args>`. Its stderr goes to the test's.
    pub fn start(args: &[&str]) -> Sim {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitlab-sim"));
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
