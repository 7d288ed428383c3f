//! The GitLab client configuration file of GitLab's Go client (`client-go`, package `config`,
//! schema `gitlab.com/config/v1beta1`, the file the official provider reads with
//! `config_file` / `context`), and client-go's synthesised configuration for a GitLab CI job
//! (`enable_auto_ci_support`): where the file is, parsing and validating it as client-go does,
//! and resolving one context into the server, TLS settings and credential it names. Knows
//! nothing about Terraform.
//!
//! Supported, as client-go reads them: `version`, `current-context`, `contexts`, `instances`
//! (`server`, `api-version`, `insecure-skip-tls-verify`, `certificate-authority[-source]`,
//! `client-cert[-source]`, `client-key[-source]`, `custom-headers`), `auths` with a
//! `personal-access-token` or a `job-token` (inline `token` or a `token-source`),
//! credential sources `env-var`, `file` and `value`, `preferences.retry-max`, and
//! `extensions` (read by other applications, ignored here). Refused with an error naming the
//! field: `oauth2` and `basic-auth` auths, `exec` and `keyring` sources, `rate-limit`, and
//! `preferences.retry-wait-min`/`retry-wait-max` (see [`unsupported`] for why).
//! Field names are accepted in the file's kebab-case and in the proto's snake_case, as
//! client-go's YAML reader accepts both.
//! The YAML itself is read by [`super::yaml`] into one tree, mapped here by hand onto the
//! schema: errors give the line and column and the field's name, never a value.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::gitlab::yaml::{self, Node, Value};
use crate::secret::Secret;

/// The only schema version there is.
pub const CONFIG_VERSION: &str = "gitlab.com/config/v1beta1";
/// client-go's own variable for the file's path (`config.EnvVarGitLabConfigFile`).
pub const ENV_CONFIG: &str = "GITLAB_CONFIG";
/// client-go's variable for the context to use (`config.EnvVarGitLabContext`).
pub const ENV_CONTEXT: &str = "GITLAB_CONTEXT";
/// The name client-go gives the context it synthesises in a CI job.
pub const CI_CONTEXT: &str = "auto-ci-support";

/// Reads one environment variable; injected so resolution is testable without touching the
/// process environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// Which provider setting an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    ConfigFile,
    Context,
    AutoCi,
}

/// A configuration file (or CI job) that cannot be used: where, for which context, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Error {
    /// What was read: `the GitLab config file "/path"` or `the GitLab CI job`.
    pub source: String,
    pub context: Option<String>,
    pub message: String,
    pub field: Field,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.context {
            Some(c) => write!(f, "{}, context {c:?}: {}", self.source, self.message),
            None => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

impl std::error::Error for Error {}

/// How the credential is sent to GitLab.
#[derive(Clone, Debug, PartialEq)]
pub enum Credential {
    /// `PRIVATE-TOKEN`: a personal, project, group or service account access token.
    AccessToken(Secret),
    /// `JOB-TOKEN`: a CI/CD job token.
    JobToken(Secret),
}

impl Credential {
    pub fn secret(&self) -> &Secret {
        match self {
            Credential::AccessToken(s) | Credential::JobToken(s) => s,
        }
    }
    pub fn is_job_token(&self) -> bool {
        matches!(self, Credential::JobToken(_))
    }
}

/// One context, resolved: everything needed to reach GitLab.
#[derive(Debug)]
pub struct Settings {
    /// For messages: `the GitLab config file "/path"` or `the GitLab CI job`.
    pub source: String,
    pub context: String,
    /// The API URL (`server` joined with `api/<api-version>` unless it already ends so).
    pub base_url: String,
    pub insecure: bool,
    pub ca_cert_pem: Option<Vec<u8>>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Secret>,
    pub headers: BTreeMap<String, Secret>,
    pub credential: Credential,
    pub retry_max: Option<u32>,
    /// The provider setting that chose these settings: [`Field::ConfigFile`], or
    /// [`Field::AutoCi`] for the CI job's.
    pub field: Field,
}

impl Settings {
    /// Every secret these settings hold, for the log redactor.
    pub fn secrets(&self) -> Vec<&str> {
        let mut s = vec![self.credential.secret().expose()];
        s.extend(self.headers.values().map(Secret::expose));
        s.extend(self.client_key_pem.iter().map(Secret::expose));
        s.into_iter()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// What the provider configuration asks for.
#[derive(Debug, Default)]
pub struct Request<'a> {
    /// `config_file` (or its `GITLAB_CONFIG_FILE`): an explicit path.
    pub path: Option<&'a str>,
    /// `context` (or its `GITLAB_CONTEXT`).
    pub context: Option<&'a str>,
    /// `enable_auto_ci_support`.
    pub auto_ci: bool,
}

/// The settings the official provider would take when no token is configured: the CI job's
/// (with `auto_ci`, inside a job), else the config file's. `Ok(None)` when there is no file
/// at all (no explicit path and none at the default locations).
pub fn resolve(req: &Request<'_>, env: Env<'_>) -> Result<Option<Settings>, Error> {
    let ci = req.auto_ci.then(|| ci_job(env)).flatten();
    let in_ci = ci.is_some();
    let (source, file) = if let Some(ci) = ci {
        ("the GitLab CI job".to_string(), ci)
    } else {
        let explicit = req
            .path
            .map(str::to_string)
            .or_else(|| env(ENV_CONFIG))
            .filter(|p| !p.trim().is_empty());
        let path = match explicit {
            Some(p) => PathBuf::from(expand_path(&p, env)),
            None => match default_path(env) {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        let source = format!("the GitLab config file {:?}", path.display().to_string());
        let text = std::fs::read_to_string(&path).map_err(|e| Error {
            source: source.clone(),
            context: None,
            message: format!(
                "cannot read it ({e}). Set `config_file` (or GITLAB_CONFIG_FILE) to the path of a readable \
                 {CONFIG_VERSION} file, or configure `token` instead"
            ),
            field: Field::ConfigFile,
        })?;
        let file = parse(&text).map_err(|message| Error {
            source: source.clone(),
            context: None,
            message,
            field: Field::ConfigFile,
        })?;
        (source, file)
    };
    let context = req
        .context
        .map(str::to_string)
        .or_else(|| env(ENV_CONTEXT).filter(|c| !c.is_empty()))
        .or_else(|| file.current_context.clone().filter(|c| !c.is_empty()));
    let Some(context) = context else {
        return Err(Error {
            source,
            context: None,
            message: "no context is selected: set `context` (or GITLAB_CONTEXT), or `current-context` in the \
                      file"
                .into(),
            field: Field::Context,
        });
    };
    file.settings(&context, env)
        .map(|mut s| {
            s.source = source.clone();
            if in_ci {
                s.field = Field::AutoCi;
            }
            Some(s)
        })
        .map_err(|(message, field)| Error {
            source,
            context: Some(context),
            message,
            field: if in_ci && field == Field::ConfigFile {
                Field::AutoCi
            } else {
                field
            },
        })
}

/// client-go's `DefaultConfigPath`: `GITLAB_CONFIG`, else the first that exists of the
/// user config directory's `gitlab/config.yaml`, `~/.gitlab/config.yaml` and
/// `./.gitlab/config.yaml`.
pub fn default_path(env: Env<'_>) -> Option<PathBuf> {
    if let Some(p) = env(ENV_CONFIG) {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let mut candidates = Vec::new();
    if let Some(dir) = user_config_dir(env) {
        candidates.push(dir.join("gitlab").join("config.yaml"));
    }
    if let Some(home) = env("HOME").filter(|h| !h.is_empty()) {
        candidates.push(Path::new(&home).join(".gitlab").join("config.yaml"));
    }
    candidates.push(Path::new(".").join(".gitlab").join("config.yaml"));
    candidates.into_iter().find(|p| p.is_file())
}

/// Go's `os.UserConfigDir`.
fn user_config_dir(env: Env<'_>) -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        return env("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join("Library/Application Support"));
    }
    if cfg!(windows) {
        return env("AppData").filter(|d| !d.is_empty()).map(PathBuf::from);
    }
    match env("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        Some(d) => Path::new(&d).is_absolute().then(|| PathBuf::from(d)),
        None => env("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(".config")),
    }
}

/// client-go's `expandPath`: `$VAR` / `${VAR}` (unset: empty), then a leading `~`.
fn expand_path(p: &str, env: Env<'_>) -> String {
    let mut out = String::new();
    let mut rest = p;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(j) => (&braced[..j], &braced[j + 1..]),
                None => (braced, ""),
            }
        } else {
            let j = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..j], &after[j..])
        };
        out.push_str(&env(name).unwrap_or_default());
        rest = tail;
    }
    out.push_str(rest);
    match out.strip_prefix('~') {
        Some(after) => match env("HOME") {
            Some(home) => format!("{home}{after}"),
            None => out,
        },
        None => out,
    }
}

/// client-go's `WithAutoCISupport`: inside a GitLab CI job (`CI=true` and `CI_API_V4_URL`
/// set), one context `auto-ci-support` for `CI_API_V4_URL` with the job token
/// (`CI_JOB_TOKEN`), and the runner's TLS files (`CI_SERVER_TLS_CA_FILE`,
/// `CI_SERVER_TLS_CERT_FILE`, `CI_SERVER_TLS_KEY_FILE`) when set. The runner passes those as
/// file-type variables (their value is a path), so they are read as files.
pub fn ci_job(env: Env<'_>) -> Option<File> {
    if env("CI").as_deref() != Some("true") {
        return None;
    }
    let api = env("CI_API_V4_URL").filter(|u| !u.is_empty())?;
    let file_source = |var: &str| {
        env(var).filter(|v| !v.is_empty()).map(|path| Source {
            file: Some(path),
            ..Source::default()
        })
    };
    Some(File {
        version: None,
        current_context: Some(CI_CONTEXT.into()),
        instances: vec![Instance {
            name: CI_CONTEXT.into(),
            server: api,
            certificate_authority_source: file_source("CI_SERVER_TLS_CA_FILE"),
            client_cert_source: file_source("CI_SERVER_TLS_CERT_FILE"),
            client_key_source: file_source("CI_SERVER_TLS_KEY_FILE"),
            ..Instance::default()
        }],
        auths: vec![Auth {
            name: "auto-ci-support-job-token".into(),
            auth_info: Some(AuthInfo {
                job_token: Some(Token {
                    token: None,
                    token_source: Some(Source {
                        env_var: Some("CI_JOB_TOKEN".into()),
                        ..Source::default()
                    }),
                }),
                ..AuthInfo::default()
            }),
        }],
        contexts: vec![Context {
            name: CI_CONTEXT.into(),
            instance: CI_CONTEXT.into(),
            auth: "auto-ci-support-job-token".into(),
        }],
        preferences: None,
    })
}

// ---------------------------------------------------------------------------------------
// The schema

/// `config.v1beta1.Config`.
#[derive(Debug, Default)]
pub struct File {
    version: Option<String>,
    current_context: Option<String>,
    instances: Vec<Instance>,
    auths: Vec<Auth>,
    contexts: Vec<Context>,
    preferences: Option<Preferences>,
}

#[derive(Debug, Default)]
struct Instance {
    name: String,
    server: String,
    api_version: Option<String>,
    insecure_skip_tls_verify: Option<bool>,
    certificate_authority: Option<String>,
    certificate_authority_source: Option<Source>,
    client_cert: Option<String>,
    client_cert_source: Option<Source>,
    client_key: Option<String>,
    client_key_source: Option<Source>,
    rate_limit: bool,
    custom_headers: Vec<Header>,
}

#[derive(Debug, Default)]
struct Header {
    name: String,
    value: Option<String>,
    value_from: Option<Source>,
}

#[derive(Debug, Default)]
struct Auth {
    name: String,
    auth_info: Option<AuthInfo>,
}

#[derive(Debug, Default)]
struct AuthInfo {
    personal_access_token: Option<Token>,
    job_token: Option<Token>,
    oauth2: bool,
    basic_auth: bool,
}

#[derive(Debug, Default)]
struct Token {
    token: Option<String>,
    token_source: Option<Source>,
}

/// `config.v1beta1.CredentialSource`: exactly one of these.
#[derive(Debug, Default)]
struct Source {
    env_var: Option<String>,
    file: Option<String>,
    value: Option<String>,
    exec: bool,
    keyring: bool,
}

#[derive(Debug, Default)]
struct Context {
    name: String,
    instance: String,
    auth: String,
}

#[derive(Debug, Default)]
struct Preferences {
    retry_max: Option<i64>,
    retry_wait_min: bool,
    retry_wait_max: bool,
}

/// Why a field client-go defines has no meaning here.
pub fn unsupported(field: &str) -> &'static str {
    match field {
        "oauth2" => {
            "OAuth2 auths need client-go's interactive authorization flow and write refreshed tokens back \
             into the file; the official provider cannot use them either. Use a personal-access-token auth, \
             or `token`"
        }
        "basic-auth" => {
            "basic-auth exchanges a username and password for an OAuth token (password grant), which GitLab \
             disables by default; use a personal-access-token auth, or `token`"
        }
        "exec" => {
            "client-go itself disables exec credential sources (\"not yet supported\"); use env-var or file"
        }
        "keyring" => {
            "a Terraform provider has no access to the desktop keyring (client-go's keyring source); use \
             env-var or file"
        }
        "rate-limit" => {
            "this provider paces itself from GitLab's RateLimit-* response headers and has no fixed \
             client-side limiter; remove it"
        }
        _ => {
            "this provider retries with its own exponential backoff (base 250 ms, at most 60 s per wait); \
             remove it, or keep only retry-max"
        }
    }
}

/// Parses and validates a file as client-go's `Load` does (unknown fields, duplicate
/// names, dangling references and `current-context` are errors for the whole file).
pub fn parse(text: &str) -> Result<File, String> {
    let bad = |m: String| format!("not a valid {CONFIG_VERSION} file: {m}");
    let root = yaml::parse(text).map_err(|e| bad(e.to_string()))?;
    let file = File::read(&root).map_err(bad)?;
    file.validate()?;
    Ok(file)
}

// ---------------------------------------------------------------------------------------
// Reading the schema from the YAML tree, by hand: one small function per message, so the
// code is not instantiated per struct as a serde deserializer is (docs/performance.md).
// Messages give the line and column and the field's name, never a value.

type Read<T> = Result<T, String>;

/// The fields of mapping `n` (a `what`) given to `field` under their kebab-case names (the
/// file's spelling; snake_case is the proto's, and accepted too); a name not in `known` is
/// refused, naming it and the known ones, and so is a field set twice.
fn fields<'n>(
    n: &'n Node,
    what: &str,
    known: &[&'static str],
    field: &mut dyn FnMut(&'static str, &'n Node) -> Read<()>,
) -> Read<()> {
    let entries = match &n.value {
        Value::Null => return Ok(()),
        Value::Map(entries) => entries,
        other => {
            return Err(format!(
                "{}: {what} must be a mapping, not {}",
                n.pos,
                other.kind()
            ));
        }
    };
    let mut seen: Vec<&'static str> = Vec::new();
    for e in entries {
        let kebab = e.key.replace('_', "-");
        let Some(name) = known.iter().copied().find(|k| *k == kebab) else {
            return Err(format!(
                "{}: unknown field `{}` in {what}, expected one of `{}`",
                e.pos,
                e.key,
                known.join("`, `")
            ));
        };
        if seen.contains(&name) {
            return Err(format!("{}: `{name}` is set twice in {what}", e.pos));
        }
        seen.push(name);
        field(name, &e.value)?;
    }
    Ok(())
}

/// A string field (null: unset).
fn string(n: &Node, field: &str) -> Read<Option<String>> {
    match &n.value {
        Value::Null => Ok(None),
        Value::Str { text, .. } => Ok(Some(text.clone())),
        other => Err(format!(
            "{}: `{field}` must be a string, not {}",
            n.pos,
            other.kind()
        )),
    }
}

/// A plain scalar's text, for booleans and integers (null: unset).
fn plain<'n>(n: &'n Node, field: &str, what: &str) -> Read<Option<&'n str>> {
    match &n.value {
        Value::Null => Ok(None),
        Value::Str { text, plain: true } => Ok(Some(text)),
        _ => Err(format!("{}: `{field}` must be {what}", n.pos)),
    }
}

/// A boolean: YAML's `true`/`false`, and the 1.1 forms `yes`/`no`/`on`/`off`/`y`/`n`.
fn boolean(n: &Node, field: &str) -> Read<Option<bool>> {
    let what = "true or false";
    let Some(t) = plain(n, field, what)? else {
        return Ok(None);
    };
    match t.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" => Ok(Some(true)),
        "false" | "no" | "off" | "n" => Ok(Some(false)),
        _ => Err(format!("{}: `{field}` must be {what}", n.pos)),
    }
}

/// An integer: decimal, `0x` hexadecimal or `0o` octal, with an optional sign.
fn integer(n: &Node, field: &str) -> Read<Option<i64>> {
    let what = "an integer";
    let Some(t) = plain(n, field, what)? else {
        return Ok(None);
    };
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let parsed = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16)
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8)
    } else {
        digits.parse::<i64>()
    };
    match parsed {
        Ok(v) if !digits.starts_with(['+', '-']) => Ok(Some(if neg { -v } else { v })),
        _ => Err(format!("{}: `{field}` must be {what}", n.pos)),
    }
}

/// A sequence of `what`s, each read by `item` (null: none).
fn list<T>(n: &Node, field: &str, item: fn(&Node) -> Read<T>) -> Read<Vec<T>> {
    match &n.value {
        Value::Null => Ok(Vec::new()),
        Value::Seq(items) => items.iter().map(item).collect(),
        other => Err(format!(
            "{}: `{field}` must be a sequence, not {}",
            n.pos,
            other.kind()
        )),
    }
}

/// An optional mapping field read by `read` (null: unset).
fn optional<T>(n: &Node, read: fn(&Node) -> Read<T>) -> Read<Option<T>> {
    match n.value {
        Value::Null => Ok(None),
        _ => read(n).map(Some),
    }
}

impl File {
    fn read(n: &Node) -> Read<File> {
        let mut f = File::default();
        let known = [
            "version",
            "current-context",
            "instances",
            "auths",
            "contexts",
            "preferences",
            "extensions",
        ];
        fields(n, "the file", &known, &mut |k, v| {
            match k {
                "version" => f.version = string(v, k)?,
                "current-context" => f.current_context = string(v, k)?,
                "instances" => f.instances = list(v, k, Instance::read)?,
                "auths" => f.auths = list(v, k, Auth::read)?,
                "contexts" => f.contexts = list(v, k, Context::read)?,
                "preferences" => f.preferences = optional(v, Preferences::read)?,
                // Application-specific data for other tools; nothing here for this provider.
                _ => {}
            }
            Ok(())
        })?;
        Ok(f)
    }
}

impl Instance {
    fn read(n: &Node) -> Read<Instance> {
        let mut i = Instance::default();
        let known = [
            "name",
            "server",
            "api-version",
            "insecure-skip-tls-verify",
            "certificate-authority",
            "certificate-authority-source",
            "client-cert",
            "client-cert-source",
            "client-key",
            "client-key-source",
            "rate-limit",
            "custom-headers",
        ];
        fields(n, "an instance", &known, &mut |k, v| {
            match k {
                "name" => i.name = string(v, k)?.unwrap_or_default(),
                "server" => i.server = string(v, k)?.unwrap_or_default(),
                "api-version" => i.api_version = string(v, k)?,
                "insecure-skip-tls-verify" => i.insecure_skip_tls_verify = boolean(v, k)?,
                "certificate-authority" => i.certificate_authority = string(v, k)?,
                "certificate-authority-source" => {
                    i.certificate_authority_source = optional(v, Source::read)?;
                }
                "client-cert" => i.client_cert = string(v, k)?,
                "client-cert-source" => i.client_cert_source = optional(v, Source::read)?,
                "client-key" => i.client_key = string(v, k)?,
                "client-key-source" => i.client_key_source = optional(v, Source::read)?,
                "rate-limit" => i.rate_limit = v.value != Value::Null,
                _ => i.custom_headers = list(v, k, Header::read)?,
            }
            Ok(())
        })?;
        Ok(i)
    }
}

impl Header {
    fn read(n: &Node) -> Read<Header> {
        let mut h = Header::default();
        fields(
            n,
            "a custom header",
            &["name", "value", "value-from"],
            &mut |k, v| {
                match k {
                    "name" => h.name = string(v, k)?.unwrap_or_default(),
                    "value" => h.value = string(v, k)?,
                    _ => h.value_from = optional(v, Source::read)?,
                }
                Ok(())
            },
        )?;
        Ok(h)
    }
}

impl Auth {
    fn read(n: &Node) -> Read<Auth> {
        let mut a = Auth::default();
        fields(n, "an auth", &["name", "auth-info"], &mut |k, v| {
            match k {
                "name" => a.name = string(v, k)?.unwrap_or_default(),
                _ => a.auth_info = optional(v, AuthInfo::read)?,
            }
            Ok(())
        })?;
        Ok(a)
    }
}

impl AuthInfo {
    fn read(n: &Node) -> Read<AuthInfo> {
        let mut a = AuthInfo::default();
        let known = ["personal-access-token", "job-token", "oauth2", "basic-auth"];
        fields(n, "`auth-info`", &known, &mut |k, v| {
            match k {
                "personal-access-token" => a.personal_access_token = Token::read_as(v, k)?,
                "job-token" => a.job_token = Token::read_as(v, k)?,
                "oauth2" => a.oauth2 = v.value != Value::Null,
                _ => a.basic_auth = v.value != Value::Null,
            }
            Ok(())
        })?;
        Ok(a)
    }
}

impl Token {
    /// The token of auth kind `kind`: a mapping (a token written in its place is refused
    /// without quoting it).
    fn read_as(n: &Node, kind: &str) -> Read<Option<Token>> {
        if n.value == Value::Null {
            return Ok(None);
        }
        let mut t = Token::default();
        fields(
            n,
            &format!("`{kind}`"),
            &["token", "token-source"],
            &mut |k, v| {
                match k {
                    "token" => t.token = string(v, k)?,
                    _ => t.token_source = optional(v, Source::read)?,
                }
                Ok(())
            },
        )?;
        Ok(Some(t))
    }
}

impl Source {
    fn read(n: &Node) -> Read<Source> {
        let mut s = Source::default();
        let known = ["env-var", "file", "value", "exec", "keyring"];
        fields(n, "a credential source", &known, &mut |k, v| {
            match k {
                "env-var" => s.env_var = string(v, k)?,
                "file" => s.file = string(v, k)?,
                "value" => s.value = string(v, k)?,
                "exec" => s.exec = v.value != Value::Null,
                _ => s.keyring = v.value != Value::Null,
            }
            Ok(())
        })?;
        Ok(s)
    }
}

impl Context {
    fn read(n: &Node) -> Read<Context> {
        let mut c = Context::default();
        fields(
            n,
            "a context",
            &["name", "instance", "auth"],
            &mut |k, v| {
                let text = string(v, k)?.unwrap_or_default();
                match k {
                    "name" => c.name = text,
                    "instance" => c.instance = text,
                    _ => c.auth = text,
                }
                Ok(())
            },
        )?;
        Ok(c)
    }
}

impl Preferences {
    fn read(n: &Node) -> Read<Preferences> {
        let mut p = Preferences::default();
        let known = ["retry-max", "retry-wait-min", "retry-wait-max"];
        fields(n, "`preferences`", &known, &mut |k, v| {
            match k {
                "retry-max" => p.retry_max = integer(v, k)?,
                "retry-wait-min" => p.retry_wait_min = v.value != Value::Null,
                _ => p.retry_wait_max = v.value != Value::Null,
            }
            Ok(())
        })?;
        Ok(p)
    }
}

fn unique<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut seen = HashSet::new();
    for n in names {
        if n.chars().count() < 3 {
            return Err(format!(
                "{what}: name {n:?} is too short (value length must be at least 3 characters)"
            ));
        }
        if !seen.insert(n) {
            return Err(format!(
                "{what}: all names must be unique ({n:?} is repeated)"
            ));
        }
    }
    Ok(())
}

impl File {
    fn validate(&self) -> Result<(), String> {
        if let Some(v) = &self.version
            && v != CONFIG_VERSION
        {
            return Err(format!(
                "version {v:?} is not supported; this provider reads {CONFIG_VERSION}"
            ));
        }
        unique("instances", self.instances.iter().map(|i| i.name.as_str()))?;
        unique("auths", self.auths.iter().map(|a| a.name.as_str()))?;
        unique("contexts", self.contexts.iter().map(|c| c.name.as_str()))?;
        for i in &self.instances {
            if i.server.trim().is_empty() {
                return Err(format!("instance {:?} has no `server`", i.name));
            }
        }
        for a in &self.auths {
            if a.auth_info.is_none() {
                return Err(format!("auth {:?} has no `auth-info`", a.name));
            }
        }
        for c in &self.contexts {
            if !self.instances.iter().any(|i| i.name == c.instance) {
                return Err(format!(
                    "context {:?}: context.instance must reference an existing instance name ({:?} is not one)",
                    c.name, c.instance
                ));
            }
            if !self.auths.iter().any(|a| a.name == c.auth) {
                return Err(format!(
                    "context {:?}: context.auth must reference an existing auth name ({:?} is not one)",
                    c.name, c.auth
                ));
            }
        }
        if let Some(cc) = self.current_context.as_deref().filter(|c| !c.is_empty())
            && !self.contexts.iter().any(|c| c.name == cc)
        {
            return Err(format!(
                "current_context must reference an existing context name ({cc:?} is not one)"
            ));
        }
        Ok(())
    }

    /// The context names, for "did you mean" messages.
    fn context_names(&self) -> String {
        let names: Vec<String> = self
            .contexts
            .iter()
            .map(|c| format!("{:?}", c.name))
            .collect();
        if names.is_empty() {
            "the file defines no contexts".into()
        } else {
            format!("the file defines {}", names.join(", "))
        }
    }

    /// Resolves context `name` (already validated references) into settings.
    fn settings(&self, name: &str, env: Env<'_>) -> Result<Settings, (String, Field)> {
        let Some(ctx) = self.contexts.iter().find(|c| c.name == name) else {
            return Err((
                format!(
                    "there is no such context ({}); set `context` (or GITLAB_CONTEXT) to one of them",
                    self.context_names()
                ),
                Field::Context,
            ));
        };
        let cf = |m: String| (m, Field::ConfigFile);
        let instance = self
            .instances
            .iter()
            .find(|i| i.name == ctx.instance)
            .ok_or_else(|| cf(format!("instance {:?} is not defined", ctx.instance)))?;
        let auth = self
            .auths
            .iter()
            .find(|a| a.name == ctx.auth)
            .ok_or_else(|| cf(format!("auth {:?} is not defined", ctx.auth)))?;
        let ip = format!("instance {:?}", instance.name);
        if instance.rate_limit {
            return Err(cf(format!(
                "{ip}: `rate-limit` is not supported: {}",
                unsupported("rate-limit")
            )));
        }
        let mut retry_max = None;
        if let Some(p) = &self.preferences {
            for (set, field) in [
                (p.retry_wait_min, "retry-wait-min"),
                (p.retry_wait_max, "retry-wait-max"),
            ] {
                if set {
                    return Err(cf(format!(
                        "preferences: `{field}` is not supported: {}",
                        unsupported(field)
                    )));
                }
            }
            if let Some(n) = p.retry_max {
                retry_max = Some(u32::try_from(n.clamp(0, 100)).unwrap_or(0));
            }
        }
        let pem = |inline: &Option<String>, source: &Option<Source>, field: &str| {
            one_of(
                inline.as_deref(),
                source.as_ref(),
                &format!("{ip}: {field}"),
                env,
            )
            .map_err(cf)
        };
        let ca = pem(
            &instance.certificate_authority,
            &instance.certificate_authority_source,
            "certificate-authority",
        )?;
        let cert = pem(
            &instance.client_cert,
            &instance.client_cert_source,
            "client-cert",
        )?;
        let key = pem(
            &instance.client_key,
            &instance.client_key_source,
            "client-key",
        )?;
        if cert.is_some() != key.is_some() {
            return Err(cf(format!(
                "{ip}: set both client-cert and client-key (or their -source forms), or neither"
            )));
        }
        let mut headers = BTreeMap::new();
        for h in &instance.custom_headers {
            if h.name.trim().is_empty() {
                return Err(cf(format!("{ip}: a custom header has no `name`")));
            }
            let value = one_of(
                h.value.as_deref(),
                h.value_from.as_ref(),
                &format!("{ip}: custom header {:?}: value", h.name),
                env,
            )
            .map_err(cf)?
            .ok_or_else(|| cf(format!("{ip}: custom header {:?} has no value", h.name)))?;
            headers.insert(h.name.clone(), Secret::new(value));
        }
        let ap = format!("auth {:?}", auth.name);
        let info = auth
            .auth_info
            .as_ref()
            .ok_or_else(|| cf(format!("{ap} has no `auth-info`")))?;
        let kinds = [
            (
                "personal-access-token",
                info.personal_access_token.is_some(),
            ),
            ("job-token", info.job_token.is_some()),
            ("oauth2", info.oauth2),
            ("basic-auth", info.basic_auth),
        ];
        let set: Vec<&str> = kinds.iter().filter(|(_, s)| *s).map(|(k, _)| *k).collect();
        if set.len() > 1 {
            return Err(cf(format!(
                "{ap}: auth-info sets {}; set exactly one",
                set.join(" and ")
            )));
        }
        let token_of = |t: &Token, kind: &str| -> Result<Secret, (String, Field)> {
            let v = one_of(
                t.token.as_deref(),
                t.token_source.as_ref(),
                &format!("{ap}: {kind}: token"),
                env,
            )
            .map_err(cf)?
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                cf(format!(
                    "{ap}: {kind} has no token (set `token` or `token-source`)"
                ))
            })?;
            Ok(Secret::new(v))
        };
        let credential = match (&info.personal_access_token, &info.job_token) {
            (Some(t), _) => Credential::AccessToken(token_of(t, "personal-access-token")?),
            (_, Some(t)) => Credential::JobToken(token_of(t, "job-token")?),
            _ => {
                return Err(cf(match set.first() {
                    Some(kind) => format!("{ap}: `{kind}` is not supported: {}", unsupported(kind)),
                    None => format!(
                        "{ap}: auth-info is empty; give it a personal-access-token with a token or token-source"
                    ),
                }));
            }
        };
        Ok(Settings {
            source: String::new(),
            context: name.to_string(),
            base_url: api_url(&instance.server, instance.api_version.as_deref()),
            insecure: instance.insecure_skip_tls_verify.unwrap_or(false),
            ca_cert_pem: ca.map(String::into_bytes),
            client_cert_pem: cert.map(String::into_bytes),
            client_key_pem: key.map(Secret::new),
            headers,
            credential,
            retry_max,
            field: Field::ConfigFile,
        })
    }
}

/// client-go's `resolveBaseURL`: `server` + `api/<version>` unless it already ends so.
fn api_url(server: &str, version: Option<&str>) -> String {
    let suffix = format!("api/{}", version.filter(|v| !v.is_empty()).unwrap_or("v4"));
    let trimmed = server.trim().trim_end_matches('/');
    if trimmed.ends_with(&suffix) {
        format!("{trimmed}/")
    } else {
        format!("{trimmed}/{suffix}/")
    }
}

/// A protobuf oneof of an inline value and a credential source.
fn one_of(
    inline: Option<&str>,
    source: Option<&Source>,
    what: &str,
    env: Env<'_>,
) -> Result<Option<String>, String> {
    match (inline, source) {
        (Some(_), Some(_)) => Err(format!(
            "{what}: set the value or its -source form, not both"
        )),
        (Some(v), None) => Ok(Some(v.to_string())),
        (None, Some(s)) => read_source(s, what, env).map(Some),
        (None, None) => Ok(None),
    }
}

/// client-go's `resolveCredentialSource`, for the sources this provider supports.
fn read_source(s: &Source, what: &str, env: Env<'_>) -> Result<String, String> {
    let kinds = [
        ("env-var", s.env_var.is_some()),
        ("file", s.file.is_some()),
        ("value", s.value.is_some()),
        ("exec", s.exec),
        ("keyring", s.keyring),
    ];
    let set: Vec<&str> = kinds.iter().filter(|(_, v)| *v).map(|(k, _)| *k).collect();
    match set.as_slice() {
        [] => {
            return Err(format!(
                "{what}: the source is empty; set env-var, file or value"
            ));
        }
        [_] => {}
        many => {
            return Err(format!(
                "{what}: the source sets {}; set exactly one",
                many.join(" and ")
            ));
        }
    }
    if let Some(var) = &s.env_var {
        return env(var).ok_or_else(|| {
            format!(
                "{what}: credential source not found: the environment variable {var:?} is not set"
            )
        });
    }
    if let Some(file) = &s.file {
        let path = expand_path(file, env);
        return std::fs::read_to_string(&path)
            .map_err(|e| format!("{what}: cannot read the file {path:?}: {e}"));
    }
    if let Some(v) = &s.value {
        return Ok(v.clone());
    }
    let kind = set.first().copied().unwrap_or("exec");
    Err(format!(
        "{what}: the `{kind}` source is not supported: {}",
        unsupported(kind)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const BASIC: &str = "\
version: gitlab.com/config/v1beta1
current-context: prod
instances:
  - name: prod-gitlab
    server: https://gitlab.example.com
  - name: dev-gitlab
    server: https://gitlab-dev.example.com/api/v4
auths:
  - name: prod-token
    auth-info:
      personal-access-token:
        token: glpat-prod-secret
  - name: dev-token
    auth_info:
      personal-access-token:
        token-source:
          env-var: DEV_TOKEN
contexts:
  - name: prod
    instance: prod-gitlab
    auth: prod-token
  - name: dev
    instance: dev-gitlab
    auth: dev-token
";

    fn write(dir: &Path, name: &str, text: &str) -> String {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn resolve_text(
        text: &str,
        context: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Settings, Error> {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "config.yaml", text);
        let env = env_of(env);
        resolve(
            &Request {
                path: Some(&path),
                context,
                auto_ci: false,
            },
            &env,
        )
        .map(|s| s.expect("settings"))
    }

    fn err_text(text: &str, context: Option<&str>, env: &[(&str, &str)]) -> Error {
        resolve_text(text, context, env).expect_err("an error")
    }

    #[test]
    fn current_context_is_used_when_no_context_is_given() {
        let s = resolve_text(BASIC, None, &[]).unwrap();
        assert_eq!(s.context, "prod");
        assert_eq!(s.base_url, "https://gitlab.example.com/api/v4/");
        assert_eq!(
            s.credential,
            Credential::AccessToken(Secret::new("glpat-prod-secret"))
        );
        assert!(!s.insecure);
        assert!(s.source.contains("config.yaml"), "{}", s.source);
    }

    #[test]
    fn the_given_context_wins_over_gitlab_context_and_current_context() {
        let s = resolve_text(
            BASIC,
            Some("dev"),
            &[("DEV_TOKEN", "glpat-dev"), ("GITLAB_CONTEXT", "prod")],
        )
        .unwrap();
        assert_eq!(s.context, "dev");
        assert_eq!(s.base_url, "https://gitlab-dev.example.com/api/v4/");
        assert_eq!(
            s.credential,
            Credential::AccessToken(Secret::new("glpat-dev"))
        );
    }

    #[test]
    fn gitlab_context_wins_over_current_context() {
        let s = resolve_text(
            BASIC,
            None,
            &[("GITLAB_CONTEXT", "dev"), ("DEV_TOKEN", "glpat-dev")],
        )
        .unwrap();
        assert_eq!(s.context, "dev");
    }

    #[test]
    fn an_unknown_context_names_the_file_the_context_and_the_known_ones() {
        let e = err_text(BASIC, Some("staging"), &[]);
        assert_eq!(e.field, Field::Context);
        let t = e.to_string();
        assert!(
            t.contains("config.yaml") && t.contains("\"staging\""),
            "{t}"
        );
        assert!(t.contains("\"prod\", \"dev\""), "{t}");
    }

    #[test]
    fn no_context_at_all_is_an_error_at_context() {
        let text = BASIC.replace("current-context: prod\n", "");
        let e = err_text(&text, None, &[]);
        assert_eq!(e.field, Field::Context);
        assert!(e.message.contains("no context is selected"), "{e}");
    }

    #[test]
    fn a_token_from_a_missing_env_var_is_an_error_naming_the_variable() {
        let e = err_text(BASIC, Some("dev"), &[]);
        assert_eq!(e.field, Field::ConfigFile);
        assert_eq!(e.context.as_deref(), Some("dev"));
        assert!(
            e.message.contains("\"DEV_TOKEN\"") && e.message.contains("auth \"dev-token\""),
            "{e}"
        );
    }

    #[test]
    fn a_token_from_a_file_is_read_trimmed_with_home_and_variables_expanded() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "token", "glpat-from-file\n");
        let text = BASIC.replace(
            "token: glpat-prod-secret",
            "token-source:\n          file: ~/$SUB/token",
        );
        let home = dir.path().parent().unwrap().display().to_string();
        let sub = dir
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let s = resolve_text(&text, None, &[("HOME", &home), ("SUB", &sub)]).unwrap();
        assert_eq!(
            s.credential,
            Credential::AccessToken(Secret::new("glpat-from-file"))
        );
        let missing = text.replace("~/$SUB/token", "/nonexistent/token");
        let e = err_text(&missing, None, &[]);
        assert!(e.message.contains("/nonexistent/token"), "{e}");
    }

    #[test]
    fn a_value_source_and_a_job_token_are_read() {
        let text = BASIC.replace(
            "personal-access-token:\n        token: glpat-prod-secret",
            "job-token:\n        token-source:\n          value: job-secret",
        );
        let s = resolve_text(&text, None, &[]).unwrap();
        assert_eq!(
            s.credential,
            Credential::JobToken(Secret::new("job-secret"))
        );
        assert!(s.credential.is_job_token());
    }

    #[test]
    fn instance_tls_headers_api_version_and_retry_max_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let ca = write(dir.path(), "ca.pem", "CA PEM");
        let text = format!(
            "\
preferences:
  retry-max: 3
instances:
  - name: tls-instance
    server: https://gitlab.example.com/
    api-version: v4
    insecure-skip-tls-verify: true
    certificate-authority-source:
      file: {ca}
    client-cert: CERT PEM
    client-key-source:
      env-var: KEY
    custom-headers:
      - name: X-Proxy
        value: proxy-secret
      - name: X-From-Env
        value-from:
          env-var: HDR
auths:
  - name: pat-user
    auth-info:
      personal-access-token:
        token: t0ken-value
contexts:
  - name: tls-ctx
    instance: tls-instance
    auth: pat-user
"
        );
        let s = resolve_text(
            &text,
            Some("tls-ctx"),
            &[("KEY", "KEY PEM"), ("HDR", "env-header")],
        )
        .unwrap();
        assert_eq!(s.base_url, "https://gitlab.example.com/api/v4/");
        assert!(s.insecure);
        assert_eq!(s.ca_cert_pem.as_deref(), Some(&b"CA PEM"[..]));
        assert_eq!(s.client_cert_pem.as_deref(), Some(&b"CERT PEM"[..]));
        assert_eq!(s.client_key_pem, Some(Secret::new("KEY PEM")));
        assert_eq!(s.headers["X-Proxy"], Secret::new("proxy-secret"));
        assert_eq!(s.headers["X-From-Env"], Secret::new("env-header"));
        assert_eq!(s.retry_max, Some(3));
        let mut secrets = s.secrets();
        secrets.sort_unstable();
        assert_eq!(
            secrets,
            ["KEY PEM", "env-header", "proxy-secret", "t0ken-value"]
        );
    }

    #[test]
    fn a_client_cert_without_its_key_is_an_error() {
        let text = BASIC.replace(
            "server: https://gitlab.example.com\n",
            "server: https://gitlab.example.com\n    client-cert: CERT\n",
        );
        let e = err_text(&text, None, &[]);
        assert!(e.message.contains("client-cert and client-key"), "{e}");
    }

    #[test]
    fn api_url_joins_the_api_version_unless_the_server_ends_with_it() {
        assert_eq!(
            api_url("https://g.example", None),
            "https://g.example/api/v4/"
        );
        assert_eq!(
            api_url("https://g.example/sub/api/v4/", None),
            "https://g.example/sub/api/v4/"
        );
        assert_eq!(
            api_url("https://g.example", Some("v5")),
            "https://g.example/api/v5/"
        );
    }

    #[test]
    fn unsupported_auths_sources_and_settings_are_refused_naming_the_field() {
        let cases = [
            (
                "personal-access-token:\n        token: glpat-prod-secret",
                "oauth2:\n        access-token: a\n        client-id: c",
                "`oauth2`",
            ),
            (
                "personal-access-token:\n        token: glpat-prod-secret",
                "basic-auth:\n        username: u\n        password: p",
                "`basic-auth`",
            ),
            (
                "token: glpat-prod-secret",
                "token-source:\n          exec:\n            command: echo",
                "`exec`",
            ),
            (
                "token: glpat-prod-secret",
                "token-source:\n          keyring:\n            service: s\n            user: u",
                "`keyring`",
            ),
            (
                "server: https://gitlab.example.com\n",
                "server: https://gitlab.example.com\n    rate-limit:\n      requests-per-second: 10\n      burst: 2\n",
                "`rate-limit`",
            ),
            (
                "current-context: prod\n",
                "current-context: prod\npreferences:\n  retry-wait-min: 100ms\n",
                "`retry-wait-min`",
            ),
        ];
        for (from, to, field) in cases {
            let text = BASIC.replacen(from, to, 1);
            let e = err_text(&text, None, &[]);
            assert_eq!(e.field, Field::ConfigFile, "{field}: {e}");
            assert!(
                e.message.contains(field) && e.message.contains("not supported"),
                "{field}: {e}"
            );
        }
    }

    #[test]
    fn an_unknown_field_is_refused_naming_it() {
        let text = BASIC.replace("server: https://gitlab.example.com\n", "sever: x\n");
        let e = err_text(&text, None, &[]);
        assert!(e.message.contains("sever"), "{e}");
    }

    #[test]
    fn errors_give_the_line_and_column_and_the_known_fields() {
        let text = BASIC.replace("server: https://gitlab.example.com\n", "sever: x\n");
        let e = err_text(&text, None, &[]);
        assert!(
            e.message
                .contains("line 5, column 5: unknown field `sever` in an instance")
                && e.message.contains("`server`"),
            "{e}"
        );
        let twice = BASIC.replace("auth_info:", "auth-info: {}\n    auth_info:");
        let e = err_text(&twice, None, &[]);
        assert!(
            e.message
                .contains("line 15, column 5: `auth-info` is set twice"),
            "{e}"
        );
        let bad_yaml = BASIC.replace("token: glpat-prod-secret", "token: \"glpat-prod-secret");
        let e = err_text(&bad_yaml, None, &[]);
        assert!(
            e.message
                .contains("line 12, column 16: a quoted string is not closed"),
            "{e}"
        );
        assert!(!e.to_string().contains("glpat-prod-secret"), "{e}");
        let not_bool = BASIC.replace(
            "server: https://gitlab.example.com\n",
            "server: https://gitlab.example.com\n    insecure-skip-tls-verify: glpat-x\n",
        );
        let e = err_text(&not_bool, None, &[]);
        assert!(
            e.message
                .contains("`insecure-skip-tls-verify` must be true or false"),
            "{e}"
        );
        assert!(!e.to_string().contains("glpat-x"), "{e}");
    }

    #[test]
    fn block_scalars_flow_style_anchors_and_yaml_1_1_booleans_are_read() {
        let text = "\
# PEM inline, as `kubectl`-style files write it
instances:
  - &base
    name: inline-pem
    server: 'https://gitlab.example.com'
    insecure_skip_tls_verify: yes
    client-cert: |
      -----BEGIN CERTIFICATE-----
      MIIB
      -----END CERTIFICATE-----
    client-key: |-
      KEY PEM
    custom-headers: [{name: X-A, value: \"a\\tb\"}]
  - <<: *base
    name: other
auths: [{name: pat, auth-info: {personal-access-token: {token: t0ken}}}]
contexts:
- name: ctx
  instance: inline-pem
  auth: pat
preferences: {retry-max: 0x3}
extensions: {anything: [goes, {here: 1}]}
";
        let s = resolve_text(text, Some("ctx"), &[]).unwrap();
        assert!(s.insecure);
        assert_eq!(
            s.client_cert_pem.as_deref(),
            Some(&b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"[..])
        );
        assert_eq!(s.client_key_pem, Some(Secret::new("KEY PEM")));
        assert_eq!(s.headers["X-A"], Secret::new("a\tb"));
        assert_eq!(s.retry_max, Some(3));
        assert_eq!(s.base_url, "https://gitlab.example.com/api/v4/");
    }

    #[test]
    fn a_token_where_a_mapping_belongs_is_not_quoted_back() {
        let text = BASIC.replace(
            "personal-access-token:\n        token: glpat-prod-secret",
            "personal-access-token: glpat-prod-secret",
        );
        let e = err_text(&text, None, &[]);
        assert!(!e.to_string().contains("glpat-prod-secret"), "{e}");
        assert!(e.message.contains("not a valid"), "{e}");
    }

    #[test]
    fn whole_file_validation_matches_client_go() {
        let cases = [
            (
                BASIC.replace("name: dev-gitlab", "name: prod-gitlab"),
                "instances: all names must be unique",
            ),
            (
                BASIC.replace("name: dev-token", "name: prod-token"),
                "auths: all names must be unique",
            ),
            (
                BASIC.replace("name: dev\n", "name: prod\n"),
                "contexts: all names must be unique",
            ),
            (
                BASIC.replace("instance: dev-gitlab", "instance: nowhere"),
                "context.instance must reference",
            ),
            (
                BASIC.replace("auth: dev-token", "auth: nobody"),
                "context.auth must reference",
            ),
            (
                BASIC.replace("current-context: prod", "current-context: gone"),
                "current_context must reference",
            ),
            (
                BASIC.replace("version: gitlab.com/config/v1beta1", "version: v2"),
                "version \"v2\" is not supported",
            ),
            (
                BASIC.replace("name: dev-gitlab", "name: d"),
                "at least 3 characters",
            ),
            (
                BASIC.replace("    server: https://gitlab-dev.example.com/api/v4\n", ""),
                "has no `server`",
            ),
        ];
        for (text, want) in cases {
            let e = err_text(&text, Some("prod"), &[]);
            assert!(e.message.contains(want), "want {want:?}: {e}");
        }
    }

    #[test]
    fn an_empty_file_has_no_context() {
        let e = err_text("# nothing yet\n", None, &[]);
        assert_eq!(e.field, Field::Context);
    }

    #[test]
    fn a_missing_explicit_file_is_an_error_naming_it() {
        let env = env_of(&[]);
        let e = resolve(
            &Request {
                path: Some("/nonexistent/gitlab.yaml"),
                ..Request::default()
            },
            &env,
        )
        .expect_err("missing");
        assert_eq!(e.field, Field::ConfigFile);
        assert!(e.to_string().contains("/nonexistent/gitlab.yaml"), "{e}");
    }

    #[test]
    fn gitlab_config_names_the_file_when_no_path_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "c.yaml", BASIC);
        let env = env_of(&[("GITLAB_CONFIG", &path)]);
        let s = resolve(&Request::default(), &env)
            .unwrap()
            .expect("settings");
        assert_eq!(s.context, "prod");
    }

    #[test]
    fn the_default_path_is_the_user_config_dir_then_home_dot_gitlab() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(home.join(".gitlab")).unwrap();
        std::fs::create_dir_all(xdg.join("gitlab")).unwrap();
        let (h, x) = (home.display().to_string(), xdg.display().to_string());
        let env = env_of(&[("HOME", &h), ("XDG_CONFIG_HOME", &x)]);
        assert_eq!(default_path(&env), None, "nothing there yet");
        write(&home.join(".gitlab"), "config.yaml", BASIC);
        assert_eq!(default_path(&env), Some(home.join(".gitlab/config.yaml")));
        write(&xdg.join("gitlab"), "config.yaml", BASIC);
        assert_eq!(default_path(&env), Some(xdg.join("gitlab/config.yaml")));
        let no_xdg = env_of(&[("HOME", &h)]);
        std::fs::create_dir_all(home.join(".config/gitlab")).unwrap();
        write(&home.join(".config/gitlab"), "config.yaml", BASIC);
        assert_eq!(
            default_path(&no_xdg),
            Some(home.join(".config/gitlab/config.yaml"))
        );
    }

    #[test]
    fn no_file_anywhere_resolves_to_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let h = dir.path().display().to_string();
        let env = env_of(&[("HOME", &h), ("XDG_CONFIG_HOME", &h)]);
        assert!(resolve(&Request::default(), &env).unwrap().is_none());
    }

    #[test]
    fn a_ci_job_gives_the_api_url_and_the_job_token_over_any_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "c.yaml", BASIC);
        let ca = write(dir.path(), "ca.pem", "RUNNER CA");
        let env = env_of(&[
            ("CI", "true"),
            ("CI_API_V4_URL", "https://gitlab.ci.example/api/v4"),
            ("CI_JOB_TOKEN", "glcbt-job-secret"),
            ("CI_SERVER_TLS_CA_FILE", &ca),
        ]);
        let req = Request {
            path: Some(&path),
            context: None,
            auto_ci: true,
        };
        let s = resolve(&req, &env).unwrap().expect("settings");
        assert_eq!(s.context, CI_CONTEXT);
        assert_eq!(s.base_url, "https://gitlab.ci.example/api/v4/");
        assert_eq!(
            s.credential,
            Credential::JobToken(Secret::new("glcbt-job-secret"))
        );
        assert_eq!(s.ca_cert_pem.as_deref(), Some(&b"RUNNER CA"[..]));
        assert_eq!(s.source, "the GitLab CI job");
        // Without enable_auto_ci_support the file is read as usual.
        let s = resolve(
            &Request {
                auto_ci: false,
                ..req
            },
            &env,
        )
        .unwrap()
        .expect("settings");
        assert_eq!(s.context, "prod");
    }

    #[test]
    fn outside_a_ci_job_auto_ci_support_falls_back_to_the_file() {
        for env in [
            env_of(&[("CI_API_V4_URL", "https://x/api/v4"), ("CI_JOB_TOKEN", "j")]),
            env_of(&[("CI", "true"), ("CI_JOB_TOKEN", "j")]),
        ] {
            assert!(ci_job(&env).is_none());
        }
    }

    #[test]
    fn a_ci_job_without_its_token_or_with_another_context_is_an_error() {
        let env = env_of(&[("CI", "true"), ("CI_API_V4_URL", "https://g/api/v4")]);
        let e = resolve(
            &Request {
                auto_ci: true,
                ..Request::default()
            },
            &env,
        )
        .expect_err("no token");
        assert!(e.message.contains("CI_JOB_TOKEN"), "{e}");
        assert_eq!(e.source, "the GitLab CI job");
        let env = env_of(&[
            ("CI", "true"),
            ("CI_API_V4_URL", "https://g/api/v4"),
            ("CI_JOB_TOKEN", "j"),
        ]);
        let e = resolve(
            &Request {
                auto_ci: true,
                context: Some("prod"),
                ..Request::default()
            },
            &env,
        )
        .expect_err("context");
        assert_eq!(e.field, Field::Context);
        assert!(e.message.contains("\"auto-ci-support\""), "{e}");
    }

    #[test]
    fn expand_path_expands_variables_and_home() {
        let env = env_of(&[("HOME", "/home/u"), ("X", "dir")]);
        assert_eq!(expand_path("~/$X/${X}/a", &env), "/home/u/dir/dir/a");
        assert_eq!(expand_path("/a/$UNSET/b", &env), "/a//b");
    }

    #[test]
    fn settings_debug_never_prints_secrets() {
        let s = resolve_text(BASIC, None, &[]).unwrap();
        assert!(!format!("{s:?}").contains("glpat-prod-secret"));
    }
}
