//! Release packaging: `.ci/package` builds the release binaries and writes the provider zip,
//! the gitlab-sim zip, SHA256SUMS, registry manifest and a provider mirror; the real Terraform
//! CLI installs the provider from that mirror — as a filesystem mirror and, served over HTTPS,
//! as a network mirror whose checksum Terraform verifies — and applies the quickstart example
//! against the GitLab simulator; the simulator unpacked from its zip starts and serves.
//!
//! The script packages the binaries this test build made (`PACKAGE_BINARY`,
//! `PACKAGE_SIM_BINARY`), so the suite does not pay for a release build; `.ci/package` without
//! them builds `--release`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as J;
use support::sim_launcher::guard;
use support::*;

const NAME: &str = "terraform-provider-gitlab";
const SIM: &str = "gitlab-sim";

/// The target directory this test was built in (`<target>/debug/terraform-provider-gitlab`).
fn target_dir() -> PathBuf {
    provider_binary()
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("target dir")
}

/// Runs a command to completion within `timeout`, returning (exit code, stdout, stderr).
fn run(cmd: &mut Command, timeout: Duration) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("out"))
        .stderr(std::fs::File::create(&err).expect("err"));
    let what = format!("{cmd:?}");
    let _w = guard::waiting_for(&what, timeout + Duration::from_secs(30));
    // The guard takes the command by value (its spawner thread forks it).
    let cmd = std::mem::replace(cmd, Command::new(cmd.get_program()));
    let mut child = guard::spawn(cmd, &what);
    let Some(status) = child.wait_within(timeout) else {
        drop(child);
        panic!("{what} did not finish within {timeout:?}");
    };
    drop(child);
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(out).unwrap_or_default(),
        std::fs::read_to_string(err).unwrap_or_default(),
    )
}

/// `binary` without its debug info (150 MB of it for the provider, which would only make every
/// zip and hash slow), as `strip --strip-debug` leaves it: the `.debug_*` sections dropped by
/// the `object` crate's ELF rewriter, so no binutils is needed.
fn stripped(binary: &Path, name: &str) -> PathBuf {
    let dir = target_dir().join("release-package-test");
    std::fs::create_dir_all(&dir).expect("dir");
    let out = dir.join(format!("{name}-{}", std::process::id()));
    let data = std::fs::read(binary).unwrap_or_else(|e| panic!("read {}: {e}", binary.display()));
    let mut elf = object::build::elf::Builder::read(&*data)
        .unwrap_or_else(|e| panic!("{} is not an ELF file object reads: {e}", binary.display()));
    for section in elf.sections.iter_mut() {
        if section.name.as_slice().starts_with(b".debug_") {
            section.delete = true;
        }
    }
    elf.delete_orphans();
    let mut stripped = Vec::with_capacity(data.len() / 4);
    elf.write(&mut stripped)
        .unwrap_or_else(|e| panic!("write {} without debug info: {e}", binary.display()));
    let tmp = out.with_extension("tmp");
    std::fs::write(&tmp, &stripped).expect("write stripped binary");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::rename(&tmp, &out).expect("rename stripped binary");
    out
}

/// The test build's provider, stripped once per test process.
fn stripped_binary() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        stripped(
            Path::new(env!("CARGO_BIN_EXE_terraform-provider-gitlab")),
            NAME,
        )
    })
    .clone()
}

/// The test build's gitlab-sim, stripped once per test process.
fn stripped_sim() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| stripped(&sim_launcher::binary(), SIM))
        .clone()
}

/// `.ci/package <out>` with extra environment; panics with its output when it fails.
fn package(out: &Path, env: &[(&str, &str)]) {
    let mut cmd = Command::new(repo_root().join(".ci/package"));
    // The packaging is what is tested here, not the optimiser: package the binary this
    // test build already made instead of paying for a release build in every test run.
    cmd.arg(out)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("PACKAGE_BINARY", stripped_binary())
        .env("PACKAGE_SIM_BINARY", stripped_sim())
        .envs(env.iter().copied());
    let (code, stdout, stderr) = run(&mut cmd, Duration::from_secs(300));
    assert_eq!(code, 0, ".ci/package failed:\n{stdout}\n{stderr}");
}

/// What python3 reads from the zip: its members (name, Unix mode, SHA-256), the zip's
/// SHA-256, and Terraform's `h1:` hash of its contents (Go's dirhash.Hash1).
fn inspect_zip(zip: &Path) -> J {
    let script = r#"
import base64, hashlib, json, sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    members = [{"name": i.filename, "mode": (i.external_attr >> 16) & 0o7777,
                "sha256": hashlib.sha256(z.read(i)).hexdigest()} for i in z.infolist()]
summary = "".join(f"{m['sha256']}  {m['name']}\n" for m in sorted(members, key=lambda m: m["name"]))
print(json.dumps({
    "members": members,
    "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
    "h1": "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode(),
}))
"#;
    let (code, stdout, stderr) = run(
        Command::new("python3").args(["-c", script]).arg(zip),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).expect("zip inspection JSON")
}

/// Unpacks gitlab-sim from its release zip (as `unzip` would, mode included), starts it with
/// no seed file and checks it answers a Maintainer's request with the token it printed.
fn unpacked_simulator_serves(zip: &Path) {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = r#"
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        path = z.extract(i, sys.argv[2])
        os.chmod(path, (i.external_attr >> 16) & 0o7777)
"#;
    let (code, _, stderr) = run(
        Command::new("python3")
            .args(["-c", script])
            .arg(zip)
            .arg(dir.path()),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    let bin = dir.path().join(SIM);
    let (code, stdout, _) = run(Command::new(&bin).arg("--version"), Duration::from_secs(30));
    assert_eq!(
        (code, stdout.trim()),
        (0, format!("{SIM} {}", provider_version()).as_str())
    );
    let ready = dir.path().join("sim.ready");
    let mut cmd = Command::new(&bin);
    cmd.args(["--group", "platform/infra", "--ready-file"])
        .arg(&ready)
        .stdout(Stdio::null());
    let child = guard::spawn(cmd, "the unpacked gitlab-sim");
    let start = Instant::now();
    while !ready.exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = std::fs::read_to_string(&ready).unwrap_or_default();
    let url = lines.lines().find_map(|l| l.strip_prefix("listening on "));
    let token = lines.lines().find_map(|l| l.strip_prefix("token "));
    let answer = match (url, token) {
        (Some(url), Some(token)) => block_on(async move {
            terraform_provider_gitlab::tls_provider::install_default();
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client");
            let resp = client
                .get(format!("{url}/api/v4/groups/platform%2Finfra/clusters"))
                .header("PRIVATE-TOKEN", token)
                .send()
                .await
                .expect("request");
            (
                resp.status().as_u16(),
                resp.text().await.unwrap_or_default(),
            )
        }),
        _ => (0, String::new()),
    };
    drop(child);
    assert_eq!(answer, (200, "[]".to_string()), "startup lines {lines:?}");
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `hashes` of the provider in a `.terraform.lock.hcl`.
fn lock_hashes(lock: &str) -> Vec<String> {
    lock.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"')?.strip_suffix("\",").map(str::to_string))
        .filter(|h| h.starts_with("h1:") || h.starts_with("zh:"))
        .collect()
}

/// `terraform init`, which must install this version of the provider `how` ("unauthenticated",
/// "verified checksum"); returns the provider's hashes in the lock file it wrote.
fn init_installs(tf: &TerraformCli, how: &str) -> Vec<String> {
    let init = tf.init();
    let said = format!("Installed gitlab-rs/gitlab v{} ({how})", provider_version());
    assert!(
        init.stdout.contains(&said),
        "{said:?} not in:\n{}",
        init.stdout
    );
    let lock = std::fs::read_to_string(tf.work().join(".terraform.lock.hcl")).expect("lock file");
    lock_hashes(&lock)
}

/// A CLI configuration installing the provider only from `mirror_block`.
fn use_mirror(tf: &mut TerraformCli, file: &str, mirror_block: &str) {
    let cli = tf.dir.path().join(file);
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n{mirror_block}\n  direct {{\n    exclude = [\"{PROVIDER_SOURCE}\"]\n  }}\n}}\n"
        ),
    )
    .expect("cli config");
    tf.set_env("TF_CLI_CONFIG_FILE", &cli.display().to_string());
}

/// A static HTTPS server (python3) over `dir`, trusted through SSL_CERT_FILE; killed on drop.
struct Https {
    _child: guard::Guarded,
    url: String,
    cert: PathBuf,
    _dir: tempfile::TempDir,
}

impl Https {
    fn serve(dir: &Path) -> Https {
        use std::io::BufRead;
        let tls = tempfile::tempdir().expect("tempdir");
        let c = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("cert");
        let (cert, key) = (tls.path().join("cert.pem"), tls.path().join("key.pem"));
        std::fs::write(&cert, c.cert.pem()).expect("cert");
        std::fs::write(&key, c.signing_key.serialize_pem()).expect("key");
        let script = r#"
import functools, http.server, ssl, sys
root, cert, key = sys.argv[1:]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
        let mut cmd = Command::new("python3");
        cmd.args(["-c", script])
            .arg(dir)
            .arg(&cert)
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = guard::spawn(cmd, "the python3 https server");
        let stdout = child.child_mut().stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the python3 https server printed its port within 60s");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("port line {line:?}"));
        Https {
            _child: child,
            url: format!("https://127.0.0.1:{port}/"),
            cert,
            _dir: tls,
        }
    }
}

fn package_installs_from_its_mirror_and_applies_the_quickstart(tf_version: &str) {
    let version = provider_version();
    let platform = "linux_amd64";
    let out = tempfile::tempdir().expect("tempdir");
    let out = out.path();
    package(out, &[]);

    // The registry's files.
    let zip_name = format!("{NAME}_{version}_{platform}.zip");
    let manifest_name = format!("{NAME}_{version}_manifest.json");
    let sums_name = format!("{NAME}_{version}_SHA256SUMS");
    let manifest: J =
        serde_json::from_str(&std::fs::read_to_string(out.join(&manifest_name)).expect("manifest"))
            .expect("manifest JSON");
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0", "5.0"]}})
    );
    let zip = inspect_zip(&out.join(&zip_name));
    let member = format!("{NAME}_v{version}");
    assert_eq!(zip["members"].as_array().map(Vec::len), Some(1), "{zip}");
    assert_eq!(zip["members"][0]["name"], member.as_str());
    assert_eq!(zip["members"][0]["mode"], 0o755);
    let sim_zip_name = format!("{SIM}_{version}_{platform}.zip");
    let sim_zip = inspect_zip(&out.join(&sim_zip_name));
    let sims = sim_zip["members"].as_array().cloned().unwrap_or_default();
    let names: Vec<_> = sims
        .iter()
        .map(|m| (m["name"].clone(), m["mode"].clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (SIM.into(), 0o755.into()),
            ("simulator.md".into(), 0o644.into())
        ],
        "{sim_zip}"
    );
    assert_eq!(sims[0]["sha256"], sha256_hex(&stripped_sim()).as_str());
    assert_eq!(
        sims[1]["sha256"],
        sha256_hex(&repo_root().join("docs/simulator.md")).as_str()
    );
    let sums = std::fs::read_to_string(out.join(&sums_name)).expect("SHA256SUMS");
    let zip_sha = zip["sha256"].as_str().expect("sha").to_string();
    assert_eq!(
        sums,
        format!(
            "{zip_sha}  {zip_name}\n{}  {manifest_name}\n{}  {sim_zip_name}\n",
            sha256_hex(&out.join(&manifest_name)),
            sim_zip["sha256"].as_str().expect("sha"),
        )
    );
    unpacked_simulator_serves(&out.join(&sim_zip_name));

    // The mirror holds the same zip in the packed layout, and network-mirror indexes.
    let mirror = out.join("mirror");
    let provider_dir = mirror.join(PROVIDER_SOURCE);
    assert_eq!(sha256_hex(&provider_dir.join(&zip_name)), zip_sha);
    let index: J = serde_json::from_str(
        &std::fs::read_to_string(provider_dir.join("index.json")).expect("index.json"),
    )
    .expect("index JSON");
    assert_eq!(index, serde_json::json!({"versions": {version: {}}}));

    // Terraform installs it from the filesystem mirror; the lock records the h1: hash of
    // exactly the zip's contents. (Terraform records zh: hashes only for packages whose
    // SHA256SUMS the registry's signing key vouches for, never from a mirror.)
    let sim = Sim::start();
    let mut tf = TerraformCli::new(tf_version);
    use_mirror(
        &mut tf,
        "fs-mirror.tfrc",
        &format!(
            "  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}",
            mirror.display()
        ),
    );
    let quickstart = repo_root().join("examples/quickstart");
    for f in ["main.tf", "ca.crt"] {
        std::fs::copy(quickstart.join(f), tf.work().join(f)).expect("copy quickstart");
    }
    tf.set_env("TF_VAR_gitlab_url", &sim.api_url());
    tf.set_env("TF_VAR_gitlab_token", MAINTAINER_TOKEN);
    let hashes = init_installs(&tf, "unauthenticated");
    assert_eq!(
        hashes,
        vec![zip["h1"].as_str().unwrap_or_default().to_string()]
    );
    let installed = tf
        .work()
        .join(".terraform/providers")
        .join(PROVIDER_SOURCE)
        .join(version)
        .join(platform)
        .join(&member);
    assert_eq!(
        sha256_hex(&installed),
        zip["members"][0]["sha256"].as_str().unwrap_or_default()
    );

    let apply = tf.apply().ok();
    assert!(apply.stdout.contains("2 added"), "{}", apply.all());
    assert_eq!(
        sim.clusters()
            .iter()
            .filter(|c| c["group_id"] == 42)
            .count(),
        2
    );
    assert_eq!(tf.plan().code, 0, "a second plan must show no changes");
    tf.destroy().ok();

    // The README's simplest install: the zip under ~/.terraform.d/plugins/, which Terraform
    // searches without any provider_installation configuration.
    let mut home = TerraformCli::new(tf_version);
    let plugins = home
        .dir
        .path()
        .join("home/.terraform.d/plugins")
        .join(PROVIDER_SOURCE);
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::copy(out.join(&zip_name), plugins.join(&zip_name)).expect("copy zip");
    let empty = home.dir.path().join("empty.tfrc");
    std::fs::write(&empty, "").expect("empty cli config");
    home.set_env("TF_CLI_CONFIG_FILE", &empty.display().to_string());
    home.set_env("HOME", &home.dir.path().join("home").display().to_string());
    home.write("main.tf", &provider_block(&sim, MAINTAINER_TOKEN));
    assert_eq!(init_installs(&home, "unauthenticated"), hashes);

    // Served over HTTPS, the same directory is a network mirror: Terraform checks the zip
    // against the zh: hash the package script wrote from SHA256SUMS ...
    let https = Https::serve(&mirror);
    let mut net = TerraformCli::new(tf_version);
    net.set_env("SSL_CERT_FILE", &https.cert.display().to_string());
    use_mirror(
        &mut net,
        "net-mirror.tfrc",
        &format!(
            "  network_mirror {{\n    url     = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}",
            https.url
        ),
    );
    net.write("main.tf", &provider_block(&sim, MAINTAINER_TOKEN));
    assert_eq!(init_installs(&net, "verified checksum"), hashes);

    // ... and refuses the package when that checksum is not the zip's.
    let version_json = provider_dir.join(format!("{version}.json"));
    let listed = std::fs::read_to_string(&version_json).expect("version JSON");
    assert!(listed.contains(&format!("\"zh:{zip_sha}\"")), "{listed}");
    let wrong: String = zip_sha.chars().rev().collect();
    std::fs::write(&version_json, listed.replace(&zip_sha, &wrong)).expect("tamper");
    let mut tampered = TerraformCli::new(tf_version);
    for (k, v) in net.env.clone() {
        tampered.set_env(&k, &v);
    }
    tampered.write("main.tf", &provider_block(&sim, MAINTAINER_TOKEN));
    let r = tampered.run(&["init", "-no-color", "-input=false"]);
    assert_ne!(r.code, 0, "{}", r.all());
    // Terraform wraps its error text; compare with single spaces.
    let said = r.all().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains(&format!(
            "provider package doesn't match the expected checksum \"zh:{wrong}\""
        )),
        "{}",
        r.all()
    );
}

/// A throwaway GnuPG home with one signing key; its agent is killed on drop.
struct Gpg {
    /// gpg-agent in the foreground, as a guarded child: the agent gpg would start itself
    /// detaches into a session of its own and outlives a killed test. Dropped before `home`.
    _agent: guard::Guarded,
    home: tempfile::TempDir,
    fingerprint: String,
}

impl Gpg {
    fn new() -> Gpg {
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let mut agent = Command::new("gpg-agent");
        agent
            .env("GNUPGHOME", home.path())
            .args(["--daemon", "--no-detach"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let agent = guard::try_spawn(agent, "gpg-agent").unwrap_or_else(|e| {
            panic!(
                "gpg-agent could not run ({e}): install gnupg, which brings it (Debian/Ubuntu: \
                 `apt-get install gnupg`; macOS: `brew install gnupg`)"
            )
        });
        let socket = home.path().join("S.gpg-agent");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "gpg-agent made no socket at {} within 30s",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let gpg = |args: &[&str]| {
            let (code, stdout, stderr) = run(
                Command::new("gpg")
                    .env("GNUPGHOME", home.path())
                    .args(["--batch", "--no-autostart", "--pinentry-mode", "loopback"])
                    .args(["--passphrase", ""])
                    .args(args),
                Duration::from_secs(120),
            );
            assert_eq!(code, 0, "gpg {args:?}: {stderr}");
            stdout
        };
        gpg(&[
            "--quick-gen-key",
            "Release Test <release@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ]);
        let listing = gpg(&["--with-colons", "--list-secret-keys"]);
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|l| l.trim_matches(':').to_string())
            .expect("fingerprint");
        Gpg {
            _agent: agent,
            home,
            fingerprint,
        }
    }
}

#[test]
fn package_is_reproducible_and_signs_its_checksums_when_given_a_key() {
    // Signing is done by GnuPG (.ci/package calls gpg, as the registry's signing key is a
    // GnuPG key): a prerequisite, never skipped.
    let mut probe = Command::new("gpg");
    probe.arg("--version").stdout(Stdio::null());
    let found = guard::try_spawn(probe, "gpg --version")
        .ok()
        .and_then(|mut c| c.wait_within(Duration::from_secs(60)))
        .is_some_and(|s| s.success());
    assert!(
        found,
        "gpg could not run: .ci/package signs SHA256SUMS with GnuPG and this test checks that \
         signature. Install gnupg (Debian/Ubuntu: `apt-get install gnupg`; macOS: \
         `brew install gnupg`), see the README's Prerequisites."
    );
    let version = provider_version();
    let sums_name = format!("{NAME}_{version}_SHA256SUMS");
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    package(a.path(), &[]);
    assert!(!a.path().join(format!("{sums_name}.sig")).exists());

    let gpg = Gpg::new();
    let home = gpg.home.path().display().to_string();
    let env = vec![
        ("GNUPGHOME", home.as_str()),
        ("GPG_FINGERPRINT", gpg.fingerprint.as_str()),
    ];
    package(b.path(), &env);
    // Same sources, same bytes: the zip and manifest checksums do not change between runs.
    let read = |dir: &Path| std::fs::read_to_string(dir.join(&sums_name)).expect("SHA256SUMS");
    assert_eq!(read(a.path()), read(b.path()));
    let (code, _, stderr) = run(
        Command::new("gpg")
            .env("GNUPGHOME", &home)
            .arg("--verify")
            .arg(b.path().join(format!("{sums_name}.sig")))
            .arg(b.path().join(&sums_name)),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "signature does not verify: {stderr}");
    assert!(stderr.contains("Good signature"), "{stderr}");
}

on_every_terraform!(package_installs_from_its_mirror_and_applies_the_quickstart,);
