//! No process outlives its test, and no test waits forever: the guard behind the launcher
//! (src/launcher/: PDEATHSIG, process groups, the reaper, the watchdog), checked on this test
//! binary itself. Each test re-runs itself as a child test binary (`ROLE` set), which
//! starts a simulator (and, like Terraform with its provider plugins, a grandchild), reports
//! their pids and is then killed or left stuck; the parent checks that none of them is left.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gitlab_sim::{Sim, guard};

/// Set in the child test binary: what it should do.
const ROLE: &str = "SIM_CLEANUP_ROLE";

/// What the child test binary started.
struct Started {
    child: guard::Guarded,
    /// (what, pid) of each process the child started.
    pids: Vec<(String, i32)>,
    stderr: mpsc::Receiver<String>,
}

/// Whether `pid` is a live (not zombie) process running `needle`.
fn running(pid: i32, needle: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state ...`: the command name is parenthesised, the state follows it.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim().chars().next();
    if state == Some('Z') {
        return false;
    }
    // The program's name is the command name as soon as exec has begun, while its command
    // line reads empty until exec has finished laying out the new program (which, on a
    // loaded machine, can take a while); a process that has not exec'd yet shows its
    // parent's command line, which names the program it is about to run.
    // (The kernel keeps the first 15 bytes of the name.)
    let named =
        !comm.is_empty() && (comm == needle || (comm.len() == 15 && needle.starts_with(comm)));
    named
        || std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(needle))
            .unwrap_or(false)
}

/// Runs this test again as a child test binary in `role`; returns once it said `@@ready`.
fn start_child(test: &str, role: &str) -> Started {
    let mut cmd = Command::new(std::env::current_exe().expect("current test binary"));
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = guard::spawn(cmd, &format!("the child test binary ({role})"));
    let (tx, lines) = mpsc::channel();
    let out = child.child_mut().stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (etx, stderr) = mpsc::channel();
    let err = child.child_mut().stderr.take().expect("stderr");
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        let _ = etx.send(text);
    });
    let mut pids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("the child test binary did not get ready: {e}"));
        // libtest writes `test <name> ... ` in front of the first line.
        let Some((_, said)) = line.split_once("@@") else {
            continue;
        };
        if said == "ready" {
            break;
        }
        if let Some(rest) = said.strip_prefix("pid ") {
            let (what, pid) = rest.rsplit_once(' ').expect("pid line");
            pids.push((what.to_string(), pid.parse().expect("pid")));
        }
    }
    Started {
        child,
        pids,
        stderr,
    }
}

/// Waits until none of `pids` runs any more; panics naming the survivors.
fn assert_all_gone(pids: &[(String, i32)]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let alive: Vec<_> = pids
            .iter()
            .filter(|(what, pid)| running(*pid, what))
            .collect();
        if alive.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running 20s after the test binary died: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The child's part: start what `role` says, report the pids (`@@pid <what> <pid>`), say
/// `@@ready`, then wait.
fn child_role(role: &str) -> ! {
    let sim = Sim::start(&[]);
    println!("@@pid gitlab-sim {}", sim.pid());
    let mut keep = Vec::new();
    if role.contains("grandchild") {
        // Like Terraform starting a provider plugin: a child that starts its own child.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 600 & echo $!; wait"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut sh = guard::spawn(cmd, "sh starting sleep");
        let mut line = String::new();
        BufReader::new(sh.child_mut().stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("grandchild pid");
        println!("@@pid sh {}", sh.id());
        println!("@@pid sleep {}", line.trim());
        keep.push(sh);
    }
    let _stuck = role
        .contains("stuck")
        .then(|| guard::waiting_for("a reply that never comes", Duration::from_secs(1)));
    println!("@@ready");
    // Killed (or ended by the watchdog) long before this.
    std::thread::sleep(Duration::from_secs(120));
    panic!("the child test binary was never killed");
}

fn kill_and_check(test: &str, sig: i32, role: &str) {
    if let Ok(role) = std::env::var(ROLE) {
        child_role(&role);
    }
    let mut started = start_child(test, role);
    let expected = if role.contains("grandchild") { 3 } else { 1 };
    assert_eq!(started.pids.len(), expected, "{:?}", started.pids);
    for (what, pid) in &started.pids {
        // A grandchild's pid is printed as soon as it is forked, maybe before it has exec'd
        // its program: give it a moment to become what it was started as.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !running(*pid, what) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            running(*pid, what),
            "{what} ({pid}) is not running: {:?}",
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()
        );
    }
    started.child.signal(sig);
    let status = started
        .child
        .wait_within(Duration::from_secs(30))
        .expect("the child test binary dies");
    assert!(!status.success(), "{status:?}");
    assert_all_gone(&started.pids);
}

#[test]
fn sigkill_of_the_test_binary_leaves_no_simulator_running() {
    kill_and_check(
        "sigkill_of_the_test_binary_leaves_no_simulator_running",
        libc::SIGKILL,
        "sim",
    );
}

#[test]
fn sigterm_of_the_test_binary_leaves_no_simulator_running() {
    kill_and_check(
        "sigterm_of_the_test_binary_leaves_no_simulator_running",
        libc::SIGTERM,
        "sim",
    );
}

#[test]
fn sigkill_of_the_test_binary_also_kills_grandchildren() {
    kill_and_check(
        "sigkill_of_the_test_binary_also_kills_grandchildren",
        libc::SIGKILL,
        "sim grandchild",
    );
}

#[test]
fn the_watchdog_ends_a_stuck_test_naming_what_it_waited_for_and_kills_its_children() {
    let test = "the_watchdog_ends_a_stuck_test_naming_what_it_waited_for_and_kills_its_children";
    if let Ok(role) = std::env::var(ROLE) {
        child_role(&role);
    }
    let mut started = start_child(test, "sim grandchild stuck");
    let status = started
        .child
        .wait_within(Duration::from_secs(60))
        .expect("the watchdog ends the stuck test binary");
    assert_eq!(status.code(), Some(101), "{status:?}");
    let stderr = started
        .stderr
        .recv_timeout(Duration::from_secs(20))
        .expect("stderr");
    assert!(
        stderr.contains(&format!(
            "watchdog: test `{test}` is stuck: waiting for a reply that never comes"
        )),
        "{stderr}"
    );
    assert_all_gone(&started.pids);
}

#[test]
fn a_simulator_started_by_a_thread_that_ended_keeps_running() {
    // PR_SET_PDEATHSIG fires when the forking *thread* exits; the guard forks from a thread
    // of its own, so a simulator outlives the short-lived thread that asked for it.
    let sim = std::thread::spawn(|| Sim::start(&[]))
        .join()
        .expect("thread");
    std::thread::sleep(Duration::from_millis(500));
    assert!(running(sim.pid() as i32, "gitlab-sim"));
    let pid = sim.pid() as i32;
    drop(sim);
    assert_all_gone(&[("gitlab-sim".to_string(), pid)]);
}
