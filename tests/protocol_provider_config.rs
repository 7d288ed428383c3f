//! The official provider's configuration, argument by argument and variable by variable:
//! every documented `provider "gitlab"` argument is in the schema with the same type, and
//! each (and each environment variable) is accepted with the same meaning. The real binary
//! is launched as go-plugin launches it, with a controlled environment (HOME, the GitLab and
//! CI variables), and configured over gRPC against the simulator or a recorder of request
//! heads. (`cacert_file`, `insecure`, `client_cert` and `client_key` are proven against a
//! real TLS server in `security_tls.rs`.)

mod grpc_support;
mod support;

use grpc_support::*;
use terraform_provider_gitlab::protocol::pb::tfplugin6;
use terraform_provider_gitlab::protocol::value::{Type, Value};

/// The official provider's documented arguments (gitlabhq/gitlab 18.x and 19.x, docs/index.md
/// "Schema"), with their types.
const OFFICIAL_ARGUMENTS: &[(&str, &str)] = &[
    ("base_url", "string"),
    ("cacert_file", "string"),
    ("client_cert", "string"),
    ("client_key", "string"),
    ("config_file", "string"),
    ("context", "string"),
    ("early_auth_check", "bool"),
    ("enable_auto_ci_support", "bool"),
    ("headers", "map"),
    ("insecure", "bool"),
    ("retries", "number"),
    ("token", "string"),
];

/// Every variable a test might inherit that would change the outcome.
const CLEARED: &[&str] = &[
    "GITLAB_TOKEN",
    "GITLAB_BASE_URL",
    "GITLAB_CONFIG_FILE",
    "GITLAB_CONFIG",
    "GITLAB_CONTEXT",
    "GITLAB_EARLY_AUTH_CHECK",
    "CI",
    "CI_API_V4_URL",
    "CI_SERVER_URL",
    "CI_JOB_TOKEN",
    "CI_SERVER_TLS_CA_FILE",
    "CI_SERVER_TLS_CERT_FILE",
    "CI_SERVER_TLS_KEY_FILE",
    "XDG_CONFIG_HOME",
];

/// A launched provider with an empty HOME and only `env` of the GitLab/CI variables.
struct Launched {
    _plugin: Plugin,
    tf: ProtocolClient,
    schemas: WireSchemas,
    home: tempfile::TempDir,
}

async fn launch(env: &[(&str, &str)]) -> Launched {
    let home = tempfile::tempdir().expect("home");
    let mut launch = Launch::new().env("HOME", home.path());
    for k in CLEARED {
        launch = launch.env_remove(k);
    }
    for (k, v) in env {
        launch = launch.env(k, v);
    }
    let id = Identity::go_plugin();
    let (plugin, hs, conn) = start_with_mtls(launch, &id).await;
    assert_eq!(hs.protocol_version, 6, "{}", hs.line);
    let mut tf = ProtocolClient::V6(tfplugin6::provider_client::ProviderClient::new(
        conn.channel,
    ));
    let schemas = guard("GetProviderSchema", tf.schemas())
        .await
        .expect("schema");
    Launched {
        _plugin: plugin,
        tf,
        schemas,
        home,
    }
}

impl Launched {
    async fn configure(&mut self, set: &[(&str, Value)]) -> Vec<Diag> {
        let config = self.schemas.provider.object(set);
        guard(
            "ConfigureProvider",
            self.tf
                .configure(Some(self.schemas.provider.msgpack(&config))),
        )
        .await
        .expect("ConfigureProvider answers")
    }

    /// Reads `gitlab_group_clusters` of group `qa`: the diagnostics of a real API call.
    async fn list_clusters(&mut self) -> Vec<Diag> {
        let s = &self.schemas.data_sources["gitlab_group_clusters"];
        let config = s.object(&[("group", "qa".into())]);
        guard(
            "ReadDataSource",
            self.tf
                .read_data_source("gitlab_group_clusters", Some(s.msgpack(&config))),
        )
        .await
        .expect("ReadDataSource answers")
        .1
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.home.path().join(name);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).expect("dir");
        }
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    }
}

#[track_caller]
fn ok(diags: &[Diag]) {
    assert!(errors(diags).is_empty(), "unexpected errors: {diags:?}");
}

/// The token was refused: said in words, on no attribute, since Terraform would print the
/// configuration line holding the token.
#[track_caller]
fn token_refused(diags: &[Diag]) {
    let errs = errors(diags);
    let d = errs
        .first()
        .unwrap_or_else(|| panic!("expected the token refused, got {diags:?}"));
    assert_eq!(d.summary, "GitLab rejected the token", "{diags:?}");
    assert_eq!(d.path, None, "{diags:?}");
}

#[track_caller]
fn error_at<'a>(diags: &'a [Diag], attr: &str) -> &'a Diag {
    let errs = errors(diags);
    let d = errs
        .first()
        .unwrap_or_else(|| panic!("expected an error at {attr}, got {diags:?}"));
    assert_eq!(d.path, Some(attr_path(attr)), "{diags:?}");
    d
}

/// Two contexts on the simulator: `good` with the maintainer's token (read from an
/// environment variable), `bad` with a token GitLab does not know; `current` selects one.
fn config_yaml(sim: &support::Sim, current: &str) -> String {
    format!(
        "version: gitlab.com/config/v1beta1
current-context: {current}
instances:
  - name: simulator
    server: {url}
auths:
  - name: maintainer
    auth-info:
      personal-access-token:
        token-source:
          env-var: SIM_MAINTAINER_TOKEN
  - name: stranger
    auth-info:
      personal-access-token:
        token: glpat-nobody-knows-me
contexts:
  - name: good
    instance: simulator
    auth: maintainer
  - name: bad
    instance: simulator
    auth: stranger
",
        url = sim.url
    )
}

/// A stand-in for GitLab that records every request head and answers `GET /user` with a
/// user, and any other request with the next status of `script` (then 200 `[]`), closing
/// each connection so each request is seen on its own.
struct Recorder {
    url: String,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start(script: &[u16]) -> Recorder {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/api/v4/", listener.local_addr().expect("addr"));
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (log, mut script) = (heads.clone(), script.to_vec());
        script.reverse();
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_lowercase();
                let (status, body) = if head.starts_with("get /api/v4/user ") {
                    (200, r#"{"id":1,"username":"recorder"}"#)
                } else {
                    (script.pop().unwrap_or(200), "[]")
                };
                log.lock().expect("log").push(head);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        Recorder { url, heads, task }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("log").clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const FILE_ENV: (&str, &str) = ("SIM_MAINTAINER_TOKEN", support::MAINTAINER_TOKEN);

#[tokio::test]
async fn every_official_argument_is_in_the_schema_with_its_type_and_optional() {
    let l = launch(&[]).await;
    for (name, ty) in OFFICIAL_ARGUMENTS {
        let a = l
            .schemas
            .provider
            .attrs
            .get(*name)
            .unwrap_or_else(|| panic!("the schema lacks the official argument {name}"));
        let same = match *ty {
            "string" => a.ty == Type::String,
            "bool" => a.ty == Type::Bool,
            "number" => a.ty == Type::Number,
            _ => a.ty == Type::map(Type::String),
        };
        assert!(same, "{name}: {:?} is not {ty}", a.ty);
        assert!(a.optional && !a.required, "{name} must be optional");
    }
    assert!(l.schemas.provider.attrs["token"].sensitive);
}

#[tokio::test]
async fn token_and_base_url_arguments_and_their_variables_authenticate() {
    let sim = support::Sim::start();
    let mut l = launch(&[]).await;
    ok(&l
        .configure(&[
            ("base_url", sim.api_url().as_str().into()),
            ("token", support::MAINTAINER_TOKEN.into()),
        ])
        .await);
    ok(&l.list_clusters().await);

    let mut l = launch(&[
        ("GITLAB_BASE_URL", &sim.url),
        ("GITLAB_TOKEN", support::MAINTAINER_TOKEN),
    ])
    .await;
    ok(&l.configure(&[]).await);
    ok(&l.list_clusters().await);
}

#[tokio::test]
async fn early_auth_check_and_gitlab_early_auth_check_decide_on_get_user() {
    let sim = support::Sim::start();
    let wrong = [
        ("base_url", Value::from(sim.api_url().as_str())),
        ("token", "glpat-wrong".into()),
    ];
    let mut l = launch(&[]).await;
    token_refused(&l.configure(&wrong).await);
    let mut off = wrong.to_vec();
    off.push(("early_auth_check", false.into()));
    ok(&l.configure(&off).await);

    for (value, checks) in [("false", false), ("0", false), ("true", true), ("1", true)] {
        let mut l = launch(&[("GITLAB_EARLY_AUTH_CHECK", value)]).await;
        let d = l.configure(&wrong).await;
        if checks {
            token_refused(&d);
        } else {
            ok(&d);
        }
    }
    // The argument wins over the variable.
    let mut l = launch(&[("GITLAB_EARLY_AUTH_CHECK", "true")]).await;
    ok(&l.configure(&off).await);
    let mut l = launch(&[("GITLAB_EARLY_AUTH_CHECK", "maybe")]).await;
    let d = l.configure(&wrong).await;
    assert!(
        error_at(&d, "early_auth_check")
            .text()
            .contains("GITLAB_EARLY_AUTH_CHECK"),
        "{d:?}"
    );
}

#[tokio::test]
async fn config_file_and_context_select_the_server_and_token() {
    let sim = support::Sim::start();
    let mut l = launch(&[FILE_ENV]).await;
    let path = l.write("gitlab.yaml", &config_yaml(&sim, "bad"));
    ok(&l
        .configure(&[
            ("config_file", path.as_str().into()),
            ("context", "good".into()),
        ])
        .await);
    ok(&l.list_clusters().await);

    // Without `context`, current-context (`bad`) is used: GitLab refuses its token, and the
    // error names the file and the context.
    let d = l.configure(&[("config_file", path.as_str().into())]).await;
    let text = error_at(&d, "config_file").text();
    assert!(
        text.contains("gitlab.yaml") && text.contains("\"bad\"") && text.contains("401"),
        "{text}"
    );
    assert!(!text.contains("glpat-nobody-knows-me"), "{text}");

    let d = l
        .configure(&[
            ("config_file", path.as_str().into()),
            ("context", "staging".into()),
        ])
        .await;
    let text = error_at(&d, "context").text();
    assert!(
        text.contains("\"staging\"") && text.contains("\"good\", \"bad\""),
        "{text}"
    );
}

#[tokio::test]
async fn gitlab_config_file_and_gitlab_context_stand_for_the_arguments() {
    let sim = support::Sim::start();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("gitlab.yaml");
    std::fs::write(&path, config_yaml(&sim, "bad")).expect("write");
    let path = path.display().to_string();
    let mut l = launch(&[
        FILE_ENV,
        ("GITLAB_CONFIG_FILE", &path),
        ("GITLAB_CONTEXT", "good"),
    ])
    .await;
    ok(&l.configure(&[]).await);
    ok(&l.list_clusters().await);
    // The argument wins over GITLAB_CONTEXT.
    error_at(
        &l.configure(&[("context", "bad".into())]).await,
        "config_file",
    );
}

#[tokio::test]
async fn the_default_file_is_gitlab_config_yaml_in_the_user_config_dir() {
    let sim = support::Sim::start();
    let mut l = launch(&[FILE_ENV, ("GITLAB_CONTEXT", "good")]).await;
    // No file anywhere: the provider asks for a token, as before.
    let d = l.configure(&[]).await;
    assert!(
        error_at(&d, "token").text().contains("GITLAB_TOKEN"),
        "{d:?}"
    );
    l.write(".config/gitlab/config.yaml", &config_yaml(&sim, "bad"));
    ok(&l.configure(&[]).await);
    ok(&l.list_clusters().await);
}

#[tokio::test]
async fn a_token_wins_over_any_config_file() {
    let sim = support::Sim::start();
    let mut l = launch(&[]).await;
    // Only a context whose token GitLab refuses: a configured token must keep it unread.
    let path = l.write("gitlab.yaml", &config_yaml(&sim, "bad"));
    ok(&l
        .configure(&[
            ("base_url", sim.api_url().as_str().into()),
            ("token", support::MAINTAINER_TOKEN.into()),
            ("config_file", path.as_str().into()),
        ])
        .await);
    let missing = [("config_file", Value::from("/nonexistent/gitlab.yaml"))];
    let d = l.configure(&missing).await;
    assert!(
        error_at(&d, "config_file")
            .text()
            .contains("/nonexistent/gitlab.yaml"),
        "{d:?}"
    );
}

#[tokio::test]
async fn enable_auto_ci_support_uses_the_ci_job_token_which_gitlab_refuses_on_clusters() {
    let sim = support::Sim::start();
    let api = sim.api_url();
    let ci = [
        ("CI", "true"),
        ("CI_API_V4_URL", api.as_str()),
        ("CI_SERVER_URL", sim.url.as_str()),
        ("CI_JOB_TOKEN", "glcbt-64-job-token-secret"),
    ];
    let mut l = launch(&ci).await;
    let d = l
        .configure(&[("enable_auto_ci_support", true.into())])
        .await;
    let text = error_at(&d, "enable_auto_ci_support").text();
    assert!(
        text.contains("401") && text.contains("job token") && text.contains("GitLab CI job"),
        "{text}"
    );
    assert!(!text.contains("glcbt-64-job-token-secret"), "{text}");
    ok(&l
        .configure(&[
            ("enable_auto_ci_support", true.into()),
            ("early_auth_check", false.into()),
        ])
        .await);
    let d = l.list_clusters().await;
    assert!(
        errors(&d).iter().any(|e| e.text().contains("401")),
        "the cluster endpoints refuse job tokens: {d:?}"
    );

    // Without the argument the CI variables mean nothing: a token is still needed.
    let mut l = launch(&ci).await;
    error_at(&l.configure(&[]).await, "token");
}

#[tokio::test]
async fn headers_are_sent_with_every_request() {
    let gitlab = Recorder::start(&[]).await;
    let mut l = launch(&[]).await;
    let headers = Value::Map(
        [("X-Proxy-Auth".to_string(), Value::from("proxy-secret"))]
            .into_iter()
            .collect(),
    );
    ok(&l
        .configure(&[
            ("base_url", gitlab.url.as_str().into()),
            ("token", "glpat-recorded".into()),
            ("headers", headers),
        ])
        .await);
    ok(&l.list_clusters().await);
    let heads = gitlab.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for h in &heads {
        assert!(h.contains("\r\nx-proxy-auth: proxy-secret\r\n"), "{h}");
        // The token goes as a bearer token, as the official provider sends it.
        assert!(
            h.contains("\r\nauthorization: bearer glpat-recorded\r\n"),
            "{h}"
        );
        assert!(!h.contains("private-token"), "{h}");
    }
}

#[tokio::test]
async fn retries_bounds_the_attempts_after_a_503() {
    for (retries, attempts, fails) in [(0, 1, true), (1, 2, false)] {
        let gitlab = Recorder::start(&[503]).await;
        let mut l = launch(&[]).await;
        ok(&l
            .configure(&[
                ("base_url", gitlab.url.as_str().into()),
                ("token", "glpat-recorded".into()),
                ("early_auth_check", false.into()),
                ("retries", Value::int(retries)),
            ])
            .await);
        let d = l.list_clusters().await;
        assert_eq!(errors(&d).is_empty(), !fails, "retries {retries}: {d:?}");
        assert_eq!(gitlab.heads().len(), attempts, "retries {retries}");
    }
}

#[tokio::test]
async fn a_ci_job_token_is_sent_as_job_token_never_as_private_token() {
    let gitlab = Recorder::start(&[]).await;
    let mut l = launch(&[
        ("CI", "true"),
        ("CI_API_V4_URL", gitlab.url.as_str()),
        ("CI_JOB_TOKEN", "glcbt-recorded-job-token"),
    ])
    .await;
    ok(&l
        .configure(&[("enable_auto_ci_support", true.into())])
        .await);
    ok(&l.list_clusters().await);
    let heads = gitlab.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for h in &heads {
        assert!(
            h.contains("\r\njob-token: glcbt-recorded-job-token\r\n"),
            "{h}"
        );
        assert!(!h.contains("private-token"), "{h}");
    }
}
