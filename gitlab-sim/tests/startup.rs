//! Starting and stopping `gitlab-sim`: the listening line and a clean exit on SIGTERM and
//! SIGINT; started for a module test with no seed file: the startup lines (URL and a
//! Maintainer token), `--group`, and running in the background with `--pid-file` /
//! `--ready-file` and a clean stop on SIGTERM; its refusals (bad `--group` paths, seeds whose
//! cluster owners or namespaces do not add up) and `--help`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use gitlab_sim::{Sim, guard};

/// A simulator started with `args`, its stdout written to `stdout` (guarded: killed on drop).
fn start(args: &[&str], stdout: &Path) -> guard::Guarded {
    let mut cmd = Command::new(gitlab_sim::binary());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).expect("stdout file"))
        .stderr(Stdio::inherit());
    guard::spawn(cmd, &format!("gitlab-sim {}", args.join(" ")))
}

/// Runs `gitlab-sim <args>` to completion.
fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(gitlab_sim::binary());
    cmd.args(args);
    guard::output(
        cmd,
        Duration::from_secs(60),
        &format!("gitlab-sim {}", args.join(" ")),
    )
}

fn wait_for(path: &Path) -> String {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::read_to_string(path).expect("read")
}

/// One HTTP/1.1 GET with a token; returns (status, body).
fn get(url: &str, path: &str, token: &str) -> (u16, String) {
    let addr = url.strip_prefix("http://").expect("http URL");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nPRIVATE-TOKEN: {token}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("response");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn prints_listening_line_and_exits_cleanly_on_sigterm_and_sigint() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut sim = Sim::start(&[]);
        let port = sim
            .url
            .strip_prefix("http://127.0.0.1:")
            .expect("http url on 127.0.0.1");
        assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{}", sim.url);
        sim.signal(sig);
        assert_eq!(sim.wait_exit().code(), Some(0));
    }
}

#[test]
fn without_a_seed_it_prints_its_url_and_a_maintainer_token_of_the_groups_it_was_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, ready, pid) = (
        dir.path().join("out"),
        dir.path().join("sim.ready"),
        dir.path().join("sim.pid"),
    );
    let mut sim = start(
        &[
            "--group",
            "platform/infra",
            "--group",
            "qa",
            "--ready-file",
            ready.to_str().expect("path"),
            "--pid-file",
            pid.to_str().expect("path"),
        ],
        &out,
    );
    let lines = wait_for(&ready);
    // The ready file appears only once the lines are complete, and stdout says the same.
    assert_eq!(std::fs::read_to_string(&out).expect("stdout"), lines);
    let mut it = lines.lines();
    let url = it
        .next()
        .and_then(|l| l.strip_prefix("listening on "))
        .unwrap_or_else(|| panic!("first line of {lines:?}"))
        .to_string();
    let token = it
        .next()
        .and_then(|l| l.strip_prefix("token "))
        .unwrap_or_else(|| panic!("second line of {lines:?}"))
        .to_string();
    assert_eq!(it.next(), None, "{lines:?}");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(
        std::fs::read_to_string(&pid).expect("pid file").trim(),
        sim.id().to_string()
    );

    // The token is a Maintainer's: it may see the clusters of the given groups (Developer
    // and up), of a new nested one as of the built-in `qa`.
    for group in ["platform%2Finfra", "platform", "qa"] {
        let (status, body) = get(&url, &format!("/api/v4/groups/{group}/clusters"), &token);
        assert_eq!((status, body.as_str()), (200, "[]"), "{group}");
    }
    assert_eq!(get(&url, "/api/v4/groups/nope/clusters", &token).0, 404);
    let (status, body) = get(&url, "/api/v4/user", &token);
    assert_eq!(status, 200);
    assert!(body.contains("\"username\":\"maintainer\""), "{body}");

    // SIGTERM: a clean stop, exit 0, the run files gone.
    let pid_value = sim.id() as libc::pid_t;
    // SAFETY: signalling a child this test started and has not reaped yet.
    assert_eq!(unsafe { libc::kill(pid_value, libc::SIGTERM) }, 0);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = sim.try_wait() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert!(!ready.exists() && !pid.exists(), "run files left behind");
}

#[test]
fn with_a_seed_file_no_token_is_printed_and_groups_come_from_the_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let ready = dir.path().join("ready");
    let seed = gitlab_sim::seed_file();
    let seed = seed.to_str().expect("seed path");
    let _sim = start(
        &[
            "--seed",
            seed,
            "--ready-file",
            ready.to_str().expect("path"),
        ],
        &out,
    );
    let lines = wait_for(&ready);
    assert_eq!(lines.lines().count(), 1, "{lines:?}");
    assert!(lines.starts_with("listening on http://"), "{lines:?}");

    let refused = run(&["--seed", seed, "--group", "platform"]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("'--seed <FILE>' cannot be used with '--group <PATH>'"),
        "{said}"
    );
}

#[test]
fn a_group_path_gitlab_would_refuse_stops_the_start_naming_it() {
    let out = run(&["--group", "platform/infra.git"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--group \"platform/infra.git\": \"infra.git\" is not a GitLab group path"),
        "{said}"
    );
}

#[test]
fn help_says_how_to_start_it_for_a_test_and_where_the_api_is() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--group <PATH>",
        "--pid-file <FILE>",
        "--ready-file <FILE>",
        "listening on <url>",
        "token <token>",
        "GITLAB_BASE_URL=<url>/api/v4/",
        "SIGTERM",
    ] {
        assert!(help.contains(needle), "{needle:?} not in --help:\n{help}");
    }
}

#[test]
fn a_seed_whose_owners_or_namespaces_do_not_add_up_stops_the_start_naming_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(gitlab_sim::seed_file()).expect("fixture"))
            .expect("json");
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, &str); 6] = [
        (
            |s| s["clusters"][0]["project_id"] = 7.into(),
            "cluster 1: name exactly one owner: group_id, project_id or \"instance\": true",
        ),
        (
            |s| {
                s["clusters"][0]
                    .as_object_mut()
                    .expect("cluster")
                    .remove("group_id");
            },
            "cluster 1: name exactly one owner",
        ),
        (
            |s| {
                let c = s["clusters"][0].as_object_mut().expect("cluster");
                c.remove("group_id");
                c.insert("project_id".into(), 999.into());
            },
            "cluster 1: unknown project_id 999",
        ),
        (
            |s| s["users"][1]["namespace_id"] = 42.into(),
            "user 2: namespace_id 42 is already a group's or another user's",
        ),
        (
            |s| s["projects"][2]["namespace_id"] = 77.into(),
            "project 9: unknown namespace_id 77",
        ),
        (
            |s| s["groups"][2]["path"] = "maintainer".into(),
            "user 2: a group already has the path \"maintainer\" of this user's namespace",
        ),
    ];
    for (i, (edit, message)) in cases.into_iter().enumerate() {
        let mut seed = base.clone();
        edit(&mut seed);
        let path = dir.path().join(format!("seed{i}.json"));
        std::fs::write(&path, seed.to_string()).expect("write");
        let out = run(&["--seed", path.to_str().expect("utf8")]);
        assert_eq!(out.status.code(), Some(1), "{message}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(message), "{message}: {said}");
    }
    // A `--group` may not take a user's namespace path either.
    let out = run(&["--group", "maintainer/infra"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("a group already has the path \"maintainer\""),
        "{said}"
    );
}
