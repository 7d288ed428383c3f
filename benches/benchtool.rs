//! benchtool: the two measurements of `benches/run` that need exact process accounting and
//! sub-millisecond timing, compiled standalone with `rustc` (std only, no crates) so the
//! benchmark needs nothing beyond the toolchain that builds the provider.
//!
//!   benchtool handshake <reps> <warmup> <label>=<binary> ...
//!       Starts each binary the way go-plugin does (environment prepared by the caller) and
//!       prints, per start, `<label> <microseconds to the first stdout line> <VmHWM kB>
//!       <first line>`; the binary is killed (SIGKILL) and reaped after each start. Binaries
//!       are interleaved (A B C A B C ...) so that background load hits all of them alike.
//!
//!   benchtool wrap <binary> [args...]
//!       Runs <binary> as a child, waits for it with wait4(2) and appends one line
//!       `pid=<pid> maxrss_kb=<ru_maxrss> utime_us=<..> stime_us=<..> wall_us=<..> status=<..>`
//!       to the file named by $BENCH_RUSAGE_LOG (nothing when unset), then exits with the
//!       child's status. The filesystem-mirror copy of each provider is a two-line script
//!       that execs this wrapper, so every provider process Terraform starts is accounted
//!       exactly, however short-lived (no polling). The child gets PR_SET_PDEATHSIG=SIGKILL
//!       so it cannot outlive a killed wrapper.
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

#[repr(C)]
#[derive(Default)]
struct Timeval {
    sec: i64,
    usec: i64,
}

/// struct rusage on x86_64 / aarch64 Linux.
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
}

const PR_SET_PDEATHSIG: i32 = 1;
const SIGKILL: u64 = 9;

fn usage() -> ! {
    eprintln!("usage: benchtool handshake <reps> <warmup> <label>=<binary>... | benchtool wrap <binary> [args...]");
    std::process::exit(2)
}

fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn handshake(args: &[String]) {
    if args.len() < 3 {
        usage()
    }
    let reps: usize = args[0].parse().unwrap_or_else(|_| usage());
    let warmup: usize = args[1].parse().unwrap_or_else(|_| usage());
    let bins: Vec<(&str, &str)> = args[2..]
        .iter()
        .map(|a| a.split_once('=').unwrap_or_else(|| usage()))
        .collect();
    let stdout = std::io::stdout();
    for i in 0..warmup + reps {
        for (label, bin) in &bins {
            let start = Instant::now();
            let mut child = Command::new(bin)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    eprintln!("benchtool: cannot start {bin}: {e}");
                    std::process::exit(1)
                });
            let mut line = String::new();
            let mut out = BufReader::new(child.stdout.take().expect("stdout"));
            let n = out.read_line(&mut line).unwrap_or(0);
            let elapsed = start.elapsed();
            let hwm = vm_hwm_kb(child.id());
            let _ = child.kill();
            let _ = child.wait();
            if n == 0 {
                eprintln!("benchtool: {label} ({bin}) printed no handshake line");
                std::process::exit(1);
            }
            if i >= warmup {
                let mut o = stdout.lock();
                let _ = writeln!(o, "{label} {} {hwm} {}", elapsed.as_micros(), line.trim_end());
            }
        }
    }
}

fn wrap(args: &[String]) -> ! {
    if args.is_empty() {
        usage()
    }
    let log = std::env::var_os("BENCH_RUSAGE_LOG").filter(|v| !v.is_empty());
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]);
    let Some(log) = log else {
        // Not measuring: become the provider.
        let e = cmd.exec();
        eprintln!("benchtool: cannot exec {}: {e}", args[0]);
        std::process::exit(127)
    };
    unsafe {
        cmd.pre_exec(|| {
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
    let start = Instant::now();
    let child = cmd.spawn().unwrap_or_else(|e| {
        eprintln!("benchtool: cannot start {}: {e}", args[0]);
        std::process::exit(127)
    });
    let pid = child.id() as i32;
    let mut status = 0i32;
    let mut ru = Rusage::default();
    loop {
        let r = unsafe { wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            eprintln!("benchtool: wait4 failed: {}", std::io::Error::last_os_error());
            std::process::exit(1)
        }
    }
    let wall = start.elapsed();
    // Exit code, or 128+signal like a shell.
    let code = if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) };
    let line = format!(
        "pid={pid} maxrss_kb={} utime_us={} stime_us={} wall_us={} status={code}\n",
        ru.maxrss,
        ru.utime.sec * 1_000_000 + ru.utime.usec,
        ru.stime.sec * 1_000_000 + ru.stime.usec,
        wall.as_micros()
    );
    // One short write with O_APPEND: lines of concurrent providers never interleave.
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&log) {
        let _ = f.write_all(line.as_bytes());
    }
    std::process::exit(code)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("handshake") => handshake(&args[1..]),
        Some("wrap") => wrap(&args[1..]),
        _ => usage(),
    }
}
