//! Child processes a test cannot leak or wait on forever, and the watchdog of tests that
//! drive them.
//!
//! Every child (simulator, Terraform, provider, helper server) is started by [`spawn`]:
//! - in its own process group, which [`Guarded`]'s `Drop` kills as a whole (Terraform's
//!   provider plugins are its children, in its group);
//! - with `PR_SET_PDEATHSIG(SIGKILL)`, so the kernel kills it when the test process dies by
//!   any signal, SIGKILL included. The kernel sends that signal when the *thread* that forked
//!   the child exits, so every child is forked by one spawner thread that lives as long as
//!   the process, never by a test thread or a tokio worker;
//! - registered with a reaper: a `sh` outside the test's process group that reads a pipe
//!   only the test process holds, and once that pipe closes (the test process ended, however
//!   it ended) SIGKILLs every process group still registered. That catches grandchildren,
//!   which PDEATHSIG (not inherited across fork) does not.
//!
//! A test thread that has a guarded child alive, or is inside [`waiting_for`], is watched: if
//! a wait outlives its limit, or nothing happens for [`IDLE_LIMIT`], the watchdog writes which
//! test waited for what, kills every guarded process group and ends the test binary with
//! status 101, long before CI's own timeout.
use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// How long a watched test may go without starting or finishing a wait.
pub const IDLE_LIMIT: Duration = Duration::from_secs(180);

/// How often the watchdog looks.
const WATCHDOG_TICK: Duration = Duration::from_millis(200);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test must not take the guard of every other test down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------
// Spawning

type Job = (Command, mpsc::Sender<io::Result<Child>>);

/// The long-lived thread that forks every child (see the module header for why).
fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("child-spawner".into())
            .spawn(move || {
                // The sender lives in a static, so this loop ends only with the process.
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("start the child-spawner thread");
        Mutex::new(tx)
    })
}

/// The reaper's stdin (see the module header); `None` if it could not be started.
fn reaper() -> &'static Mutex<Option<ChildStdin>> {
    static REAPER: OnceLock<Mutex<Option<ChildStdin>>> = OnceLock::new();
    REAPER.get_or_init(|| {
        const SCRIPT: &str = r#"groups=
while read -r op pg; do
  case "$op" in
    +) groups="$groups $pg" ;;
    -) rest=; for g in $groups; do [ "$g" = "$pg" ] || rest="$rest $g"; done; groups=$rest ;;
  esac
done
for g in $groups; do kill -9 "-$g" 2>/dev/null; done
"#;
        let mut cmd = Command::new("sh");
        cmd.args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Out of the test's process group: a group-wide kill of the test spares it.
            .process_group(0);
        let child = run_on_spawner(cmd);
        Mutex::new(child.ok().and_then(|mut c| c.stdin.take()))
    })
}

fn run_on_spawner(cmd: Command) -> io::Result<Child> {
    let (tx, rx) = mpsc::channel();
    lock(spawner())
        .send((cmd, tx))
        .map_err(|_| io::Error::other("the child-spawner thread is gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("the child-spawner thread is gone"))?
}

/// Process groups of guarded children still alive (for the watchdog's last act).
fn groups() -> &'static Mutex<HashSet<i32>> {
    static GROUPS: OnceLock<Mutex<HashSet<i32>>> = OnceLock::new();
    GROUPS.get_or_init(|| Mutex::new(HashSet::new()))
}

fn tell_reaper(op: char, pgid: i32) {
    if let Some(stdin) = lock(reaper()).as_mut() {
        // One short line is one atomic pipe write.
        let _ = stdin.write_all(format!("{op} {pgid}\n").as_bytes());
    }
}

/// Starts `cmd` as a guarded child (module header). `what` names it in messages.
pub fn spawn(cmd: Command, what: &str) -> Guarded {
    try_spawn(cmd, what).unwrap_or_else(|e| panic!("start {what}: {e}"))
}

/// [`spawn`], returning the error when the program cannot be started (is not installed).
pub fn try_spawn(mut cmd: Command, what: &str) -> io::Result<Guarded> {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
    // functions (prctl, getppid), allocating nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The test process may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    cmd.process_group(0);
    // Start the reaper before the first child, so the child is never unguarded.
    let reaper_up = lock(reaper()).is_some();
    assert!(
        reaper_up,
        "cannot start the child reaper (`sh` on PATH is needed to guard {what})"
    );
    let child = run_on_spawner(cmd)?;
    let pgid = child.id() as i32;
    lock(groups()).insert(pgid);
    tell_reaper('+', pgid);
    Ok(Guarded {
        child,
        pgid,
        what: what.to_string(),
        status: None,
        _watched: Watched::new(),
    })
}

/// A child started by [`spawn`]. Dropping it kills its whole process group.
pub struct Guarded {
    child: Child,
    pgid: i32,
    what: String,
    status: Option<ExitStatus>,
    _watched: Watched,
}

impl Guarded {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The process group (the child's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The std child, for its pipes (`stdout.take()` ...).
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The exit status if the child has exited (without waiting).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap_or_else(|e| {
                panic!("wait for {}: {e}", self.what);
            });
        }
        self.status
    }

    /// Waits up to `limit` for the child to exit.
    pub fn wait_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.try_wait() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the child to exit, however long: only for threads that are themselves
    /// bounded by something else (a reader the test waits on with a deadline).
    pub fn wait(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        let s = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.what));
        self.status = Some(s);
        s
    }

    /// Sends `sig` to the child itself.
    pub fn signal(&mut self, sig: i32) {
        assert!(
            self.try_wait().is_none(),
            "{} already exited; cannot send signal {sig}",
            self.what
        );
        // SAFETY: kill(2) on our own child, not yet reaped (checked just above).
        let rc = unsafe { libc::kill(self.pgid, sig) };
        assert_eq!(
            rc,
            0,
            "kill({}, {sig}) ({}): {}",
            self.pgid,
            self.what,
            io::Error::last_os_error()
        );
    }

    /// Sends `sig` to the child's whole process group (as a terminal's Ctrl-C does).
    pub fn signal_group(&self, sig: i32) {
        // SAFETY: killpg on the group this child leads; the group outlives a reaped leader
        // only while members remain, so the id is not someone else's.
        let rc = unsafe { libc::killpg(self.pgid, sig) };
        assert_eq!(
            rc,
            0,
            "killpg({}, {sig}) ({}): {}",
            self.pgid,
            self.what,
            io::Error::last_os_error()
        );
    }

    /// Kills the whole process group and reaps the child.
    pub fn kill(&mut self) -> ExitStatus {
        // SAFETY: as in `signal_group`; ESRCH (nobody left) is fine.
        unsafe { libc::killpg(self.pgid, libc::SIGKILL) };
        self.wait()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.kill();
        lock(groups()).remove(&self.pgid);
        tell_reaper('-', self.pgid);
    }
}

/// Runs `cmd` to completion (stdin closed, stdout and stderr captured) within `limit`;
/// panics naming `what` if it takes longer, after killing its process group.
pub fn output(mut cmd: Command, limit: Duration, what: &str) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let _w = waiting_for(what.to_string(), limit + Duration::from_secs(30));
    let mut child = spawn(cmd, what);
    let read = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = read(
        child
            .child_mut()
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = read(
        child
            .child_mut()
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let Some(status) = child.wait_within(limit) else {
        drop(child);
        let partial = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
        panic!("{what} did not finish within {limit:?}; stderr so far:\n{partial}");
    };
    // Kill what the child may have left behind holding the pipes, then collect them.
    drop(child);
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------
// Watchdog

struct Step {
    id: u64,
    what: String,
    start: Instant,
    limit: Duration,
}

struct Watch {
    test: String,
    children: usize,
    steps: Vec<Step>,
    progress: Instant,
    last: String,
}

fn watches() -> &'static Mutex<HashMap<ThreadId, Watch>> {
    static WATCHES: OnceLock<Mutex<HashMap<ThreadId, Watch>>> = OnceLock::new();
    WATCHES.get_or_init(|| {
        std::thread::Builder::new()
            .name("test-watchdog".into())
            .spawn(watchdog)
            .expect("start the test watchdog thread");
        Mutex::new(HashMap::new())
    })
}

fn with_watch<R>(thread: ThreadId, f: impl FnOnce(&mut Watch) -> R) -> R {
    let mut all = lock(watches());
    let w = all.entry(thread).or_insert_with(|| Watch {
        test: std::thread::current()
            .name()
            .unwrap_or("<unnamed thread>")
            .to_string(),
        children: 0,
        steps: Vec::new(),
        progress: Instant::now(),
        last: "nothing yet".into(),
    });
    let r = f(w);
    if w.children == 0 && w.steps.is_empty() {
        all.remove(&thread);
    }
    r
}

/// Counts a guarded child against the thread that started it.
struct Watched(ThreadId);

impl Watched {
    fn new() -> Watched {
        let me = std::thread::current().id();
        with_watch(me, |w| {
            w.children += 1;
            w.progress = Instant::now();
        });
        Watched(me)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        with_watch(self.0, |w| {
            w.children = w.children.saturating_sub(1);
            w.progress = Instant::now();
        });
    }
}

/// Says what the current test is waiting for until the returned guard drops. If that takes
/// longer than `limit`, the watchdog ends the test binary with this description. Waits nest.
pub fn waiting_for(what: impl Into<String>, limit: Duration) -> Waiting {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let me = std::thread::current().id();
    let what = what.into();
    with_watch(me, |w| {
        w.steps.push(Step {
            id,
            what,
            start: Instant::now(),
            limit,
        });
        w.progress = Instant::now();
    });
    Waiting { thread: me, id }
}

/// See [`waiting_for`].
pub struct Waiting {
    thread: ThreadId,
    id: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        with_watch(self.thread, |w| {
            if let Some(i) = w.steps.iter().position(|s| s.id == self.id) {
                let s = w.steps.remove(i);
                w.last = s.what;
            }
            w.progress = Instant::now();
        });
    }
}

fn watchdog() {
    loop {
        std::thread::sleep(WATCHDOG_TICK);
        let now = Instant::now();
        let stuck = {
            let all = lock(watches());
            all.values().find_map(|w| {
                let (what, since, limit) = match w.steps.last() {
                    Some(s) => (format!("waiting for {}", s.what), s.start, s.limit),
                    None => (
                        format!(
                            "no progress while its child processes run (the last wait was for {}; \
                             an await or a blocking call without a deadline?)",
                            w.last
                        ),
                        w.progress,
                        IDLE_LIMIT,
                    ),
                };
                (now.duration_since(since) > limit).then(|| {
                    format!(
                        "\nwatchdog: test `{}` is stuck: {what}, for more than {limit:?}. \
                         Ending the test binary and every process it started.\n",
                        w.test
                    )
                })
            })
        };
        if let Some(message) = stuck {
            // Straight to the file descriptor: libtest captures a test's eprintln!, and this
            // thread may have inherited that capture.
            let _ = io::stderr().write_all(message.as_bytes());
            for pgid in lock(groups()).iter() {
                // SAFETY: process groups of our own guarded children.
                unsafe { libc::killpg(*pgid, libc::SIGKILL) };
            }
            std::process::exit(101);
        }
    }
}
