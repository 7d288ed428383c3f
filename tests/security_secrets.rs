//! Secrets never leave the provider except to where they belong: the GitLab `token`, the
//! cluster's `kubernetes_token` and the *contents* of the `client_key` PEM file appear in
//! no Terraform output and no log — with `TF_LOG=TRACE` and `TF_LOG_PROVIDER=TRACE`, through
//! create, plan, update, import, a 400 and a 401 from GitLab, and destroy — and in no
//! `Debug` rendering of the provider's own structures.
//!
//! The one place a secret is allowed is Terraform's state file, which stores
//! `kubernetes_token` (a sensitive attribute is masked in output, not kept out of state);
//! the tests assert that too, so the exception is deliberate rather than accidental.

mod security_support;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use terraform_provider_gitlab::framework::model::{Sensitive, TfValue, Val};
use terraform_provider_gitlab::gitlab::ClientConfig;
use terraform_provider_gitlab::gitlab::types::{
    CreateCluster, CreatePlatform, UpdateCluster, UpdatePlatform,
};
use terraform_provider_gitlab::resources::cluster_resource::{ClusterAttrs, ClusterState};
use terraform_provider_gitlab::resources::family::{OfGroup, OfProject};
use terraform_provider_gitlab::resources::provider::ProviderConfig;
use terraform_provider_gitlab::secret::Secret;

use security_support::*;
use support::*;

const SECOND_KUBE_TOKEN: &str = "rotated-kube-token-9f8e7d6c";
const IMPORTED_KUBE_TOKEN: &str = "imported-kube-token-1a2b3c4d";
const WRONG_GITLAB_TOKEN: &str = "glpat-wrong-but-secret-0a1b2c3d";

/// Everything one scenario printed or wrote, labelled, for the leak check.
#[derive(Default)]
struct Captured(Vec<(String, String)>);

impl Captured {
    fn run(&mut self, label: &str, run: Run) -> Run {
        self.0.push((format!("{label} stdout"), run.stdout.clone()));
        self.0.push((format!("{label} stderr"), run.stderr.clone()));
        run
    }

    fn file(&mut self, label: &str, path: &std::path::Path) {
        self.0.push((
            label.to_string(),
            std::fs::read_to_string(path).unwrap_or_default(),
        ));
    }

    /// Fails on any secret in any capture — also one that Terraform's word wrapping split
    /// over lines, so the search runs on the text with its whitespace removed as well.
    /// Lists every leak, with the context of each.
    #[track_caller]
    fn assert_free_of(&self, secrets: &[&str]) {
        let mut leaks = Vec::new();
        for (label, raw) in &self.0 {
            let squeezed: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
            for s in secrets {
                let found = [raw, &squeezed]
                    .into_iter()
                    .find_map(|t| Some((t, t.find(s)?)));
                if let Some((text, at)) = found {
                    let from = at.saturating_sub(300);
                    let to = (at + s.len() + 300).min(text.len());
                    let context = text.get(from..to).unwrap_or("(not on a char boundary)");
                    leaks.push(format!("secret {s:?} leaked into {label}:\n…{context}…"));
                }
            }
        }
        assert!(
            leaks.is_empty(),
            "{} leak(s):\n{}",
            leaks.len(),
            leaks.join("\n\n")
        );
    }
}

/// A Terraform work dir logging at TRACE (Terraform's and the provider's) into a file.
fn tracing_tf(tf_version: &str, log: &std::path::Path) -> TerraformCli {
    let mut tf = TerraformCli::new(tf_version);
    tf.set_env("TF_LOG", "TRACE");
    tf.set_env("TF_LOG_PROVIDER", "TRACE");
    tf.set_env("TF_LOG_PATH", &log.display().to_string());
    tf
}

/// Secrets reach the configuration here through sensitive variables (`TF_VAR_*`); literals
/// are the concern of [`secrets_written_in_the_configuration_appear_in_no_diagnostic`].
const VARIABLES: &str = r#"
variable "gitlab_token" {
  type      = string
  sensitive = true
}
variable "kube_token" {
  type      = string
  sensitive = true
}
variable "imported_kube_token" {
  type      = string
  sensitive = true
}
"#;

fn mtls_attrs(sim: &HttpsSim, pki: &Pki) -> String {
    format!(
        "  base_url    = \"{}\"\n  token       = var.gitlab_token\n  cacert_file = {}\n  client_cert = {}\n  client_key  = {}\n",
        sim.base_url(),
        hcl_path(&pki.path("ca.pem")),
        hcl_path(&pki.path("client.pem")),
        hcl_path(&pki.path("client-key.pem")),
    )
}

/// A cluster block whose kubernetes_token comes from `var.<var>`.
fn cluster(name: &str, var: &str, extra: &str) -> String {
    cluster_block(name, extra).replace(&format!("\"{KUBE_TOKEN}\""), &format!("var.{var}"))
}

fn write_config(tf: &TerraformCli, provider: &str, body: &str) {
    tf.write("main.tf", &format!("{provider}\n{VARIABLES}\n{body}"));
}

/// `haystack` contains `needle`, whatever line breaks Terraform's word wrapping put in.
fn says(haystack: &str, needle: &str) -> bool {
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    flat(haystack).contains(&flat(needle))
}

fn qa_clusters(sim: &HttpsSim) -> Vec<serde_json::Value> {
    sim.clusters()
        .into_iter()
        .filter(|c| c["group_id"] == 42)
        .collect()
}

fn no_secret_appears_in_any_output_or_trace_log_through_every_flow_including_failures(
    tf_version: &str,
) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("terraform.log");
    let mut tf = tracing_tf(tf_version, &log);
    tf.set_env("TF_VAR_gitlab_token", MAINTAINER_TOKEN);
    tf.set_env("TF_VAR_kube_token", KUBE_TOKEN);
    tf.set_env("TF_VAR_imported_kube_token", IMPORTED_KUBE_TOKEN);
    let mut out = Captured::default();
    let provider = provider_hcl(&mtls_attrs(&sim, &pki));

    // create
    let c = cluster("c", "kube_token", "");
    write_config(&tf, &provider, &c);
    out.run("init", tf.init());
    let apply = out.run("create", tf.apply().ok());
    assert!(apply.stdout.contains("1 added"), "{}", apply.stdout);
    out.run("plan", tf.plan());
    out.run("show", tf.run(&["show", "-no-color"]).ok());

    // update: a new kubernetes token, in place
    tf.set_env("TF_VAR_kube_token", SECOND_KUBE_TOKEN);
    let update = out.run("update", tf.apply().ok());
    assert!(update.stdout.contains("1 changed"), "{}", update.stdout);

    // import a cluster made outside Terraform
    let id = sim.create_cluster(
        "qa",
        json!({"name": "imp", "environment_scope": "imp",
               "platform_kubernetes_attributes": {"api_url": "https://imp.example.com", "token": IMPORTED_KUBE_TOKEN}}),
    );
    let imported = cluster(
        "imp",
        "imported_kube_token",
        "  environment_scope = \"imp\"\n",
    )
    .replace("k8s.example.com:6443", "imp.example.com");
    write_config(&tf, &provider, &format!("{c}\n{imported}"));
    out.run(
        "import",
        tf.run(&[
            "import",
            "-no-color",
            "-input=false",
            "gitlab_group_cluster.imp",
            &format!("qa:{id}"),
        ])
        .ok(),
    );
    out.run("plan after import", tf.plan());

    // a 400 from GitLab: another cluster with a taken environment scope (the request
    // carries a kubernetes token)
    let clash = cluster("clash", "kube_token", "");
    write_config(&tf, &provider, &format!("{c}\n{imported}\n{clash}"));
    let r = out.run("400", tf.apply());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(says(&r.stderr, "environment_scope"), "{}", r.stderr);

    // a 401: the provider's token is refused
    write_config(&tf, &provider, &format!("{c}\n{imported}"));
    tf.set_env("TF_VAR_gitlab_token", WRONG_GITLAB_TOKEN);
    let r = out.run("401", tf.plan());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(says(&r.stderr, "GitLab rejected the token"), "{}", r.stderr);

    // destroy
    tf.set_env("TF_VAR_gitlab_token", MAINTAINER_TOKEN);
    out.run("destroy", tf.destroy().ok());
    assert!(qa_clusters(&sim).is_empty());

    out.file("TF_LOG_PATH file", &log);
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        says(&trace, "GitLab request"),
        "the provider's own log lines must be in the trace (else this proves nothing)"
    );
    assert!(
        trace.contains("GET /api/v4/user") || trace.contains("path=/api/v4/user"),
        "no request lines in the trace log"
    );

    let key_lines = pki.client_key_lines();
    let mut secrets = vec![
        MAINTAINER_TOKEN,
        WRONG_GITLAB_TOKEN,
        KUBE_TOKEN,
        SECOND_KUBE_TOKEN,
        IMPORTED_KUBE_TOKEN,
    ];
    secrets.extend(key_lines.iter().map(String::as_str));
    out.assert_free_of(&secrets);

    // The state: Terraform keeps kubernetes_token there (by design), never the provider's
    // token or the key. Destroyed above, so check a fresh apply's state.
    write_config(&tf, &provider, &c);
    tf.apply().ok();
    let state = std::fs::read_to_string(tf.work().join("terraform.tfstate")).unwrap();
    assert!(
        state.contains(SECOND_KUBE_TOKEN),
        "kubernetes_token is expected in the state file"
    );
    let mut not_in_state = vec![MAINTAINER_TOKEN, WRONG_GITLAB_TOKEN];
    not_in_state.extend(key_lines.iter().map(String::as_str));
    let mut st = Captured::default();
    st.0.push(("terraform.tfstate".into(), state));
    st.assert_free_of(&not_in_state);
}

/// A misbehaving GitLab (or a proxy in front of it) that echoes what it received into its
/// error bodies must not turn them into a leak: the secret values are redacted from the
/// diagnostics Terraform prints, as they are from log lines.
fn error_bodies_that_echo_a_secret_back_do_not_leak_it_into_diagnostics(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("terraform.log");
    let mut tf = tracing_tf(tf_version, &log);
    tf.set_env("TF_VAR_gitlab_token", MAINTAINER_TOKEN);
    tf.set_env("TF_VAR_kube_token", KUBE_TOKEN);
    tf.set_env("TF_VAR_imported_kube_token", IMPORTED_KUBE_TOKEN);
    // Two retries, so three 502s below exhaust them (the token check follows `retries`).
    let provider = provider_hcl(&format!("{}  retries = 2\n", mtls_attrs(&sim, &pki)));
    write_config(&tf, &provider, &cluster("c", "kube_token", ""));
    let mut out = Captured::default();
    out.run("init", tf.init());

    // 400 on create: "<kubernetes token> is invalid"
    sim.fault(json!({"method": "POST", "path": "/clusters/user", "count": 1,
        "action": {"kind": "status", "status": 400,
                   "body": json!({"message": {"platform_kubernetes.token": [format!("{KUBE_TOKEN} is invalid")]}}).to_string()}}));
    let r = out.run("echoed 400", tf.apply());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(says(&r.stderr, "is invalid"), "{}", r.stderr);

    // 401 on GET /user: "PRIVATE-TOKEN <token> revoked"
    sim.fault(json!({"method": "GET", "path": "/api/v4/user", "count": 1,
        "action": {"kind": "status", "status": 401,
                   "body": json!({"message": format!("401 Unauthorized: PRIVATE-TOKEN {MAINTAINER_TOKEN} revoked")}).to_string()}}));
    let r = out.run("echoed 401", tf.plan());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(says(&r.stderr, "revoked"), "{}", r.stderr);

    // 502 whose HTML page quotes the request's headers
    sim.fault(json!({"method": "GET", "path": "/api/v4/user", "count": 3,
        "action": {"kind": "status", "status": 502,
                   "body": format!("<html>upstream failed for PRIVATE-TOKEN: {MAINTAINER_TOKEN}</html>")}}));
    let r = out.run("echoed 502", tf.plan());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(says(&r.stderr, "upstream failed"), "{}", r.stderr);

    out.file("TF_LOG_PATH file", &log);
    out.assert_free_of(&[MAINTAINER_TOKEN, KUBE_TOKEN]);
}

/// Secrets written as literals in the configuration, where users do write them: an error
/// about one names the setting but points at no line, since Terraform prints the line a
/// diagnostic points at (literal and all). Covers a key pasted into `client_key`, an invalid
/// `base_url` with a password, a token GitLab refuses (401), and a 400 on create about the
/// cluster's `kubernetes_token`.
fn secrets_written_in_the_configuration_appear_in_no_diagnostic(tf_version: &str) {
    let sim = Sim::start();
    let pasted_key =
        format!("-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n");
    let url_password = "url-pa55w0rd-in-config";
    let host = sim.url.trim_start_matches("http://").to_string();
    let cert_path = hcl_path("/nonexistent/client.pem");
    let scenarios: Vec<(&str, String, String, &str)> = vec![
        (
            "client_key pasted",
            format!(
                "  base_url    = \"{}\"\n  token       = \"{MAINTAINER_TOKEN}\"\n  client_cert = {cert_path}\n  client_key  = <<-EOT\n{pasted_key}EOT\n",
                sim.api_url()
            ),
            CLUSTERS.to_string(),
            "client_key holds the key itself",
        ),
        (
            "client_key pasted, no client_cert",
            format!(
                "  base_url    = \"{}\"\n  token       = \"{MAINTAINER_TOKEN}\"\n  client_key  = <<-EOT\n{pasted_key}EOT\n",
                sim.api_url()
            ),
            CLUSTERS.to_string(),
            "Incomplete client certificate",
        ),
        (
            "base_url with a password, invalid",
            format!(
                "  base_url = \"http://robot:{url_password}@{host}:99999/\"\n  token    = \"{MAINTAINER_TOKEN}\"\n"
            ),
            CLUSTERS.to_string(),
            "Invalid base_url",
        ),
        (
            "token refused",
            format!(
                "  base_url = \"{}\"\n  token    = \"{WRONG_GITLAB_TOKEN}\"\n",
                sim.api_url()
            ),
            CLUSTERS.to_string(),
            "GitLab rejected the token",
        ),
        (
            "400 about kubernetes_token",
            format!(
                "  base_url = \"{}\"\n  token    = \"{MAINTAINER_TOKEN}\"\n",
                sim.api_url()
            ),
            format!(
                "resource \"gitlab_group_cluster\" \"c\" {{\n  group              = \"qa\"\n  name               = \"c\"\n  \
                 kubernetes_api_url = \"https://k8s.example.com:6443\"\n  kubernetes_token   = \"{KUBE_TOKEN}\"\n}}\n"
            ),
            "kubernetes_token",
        ),
    ];
    let mut out = Captured::default();
    for (label, provider, body, says_what) in scenarios {
        let tf = TerraformCli::new(tf_version);
        tf.write("main.tf", &format!("{}\n{body}", provider_hcl(&provider)));
        out.run(&format!("{label}: init"), tf.init());
        if label.starts_with("400") {
            sim.fault(json!({"method": "POST", "path": "/clusters/user", "count": 1,
                "action": {"kind": "status", "status": 400,
                           "body": json!({"message": {"platform_kubernetes.token": ["is invalid"]}}).to_string()}}));
        }
        let r = out.run(label, tf.apply());
        assert_eq!(r.code, 1, "{label}: {}", r.all());
        assert!(says(&r.all(), says_what), "{label}: {}", r.all());
    }
    out.assert_free_of(&[KEY_BODY, url_password, WRONG_GITLAB_TOKEN, KUBE_TOKEN]);
}

const CLUSTERS: &str = "data \"gitlab_group_clusters\" \"qa\" {\n  group = \"qa\"\n}\n";

// ---------------------------------------------------------------------------------------
// Debug renderings

const TOKEN: &str = "glpat-unit-secret-Zq81";
const KUBE: &str = "kube-unit-secret-Xw42";
const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUNITSECRETKEYBODY\n-----END PRIVATE KEY-----\n";
const KEY_BODY: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUNITSECRETKEYBODY";

#[track_caller]
fn assert_hidden(what: &str, rendering: &str) {
    for s in [TOKEN, KUBE, KEY_BODY] {
        assert!(
            !rendering.contains(s),
            "{what} Debug shows {s:?}:\n{rendering}"
        );
    }
}

#[test]
fn provider_config_debug_hides_the_token() {
    let c = ProviderConfig {
        base_url: Val::Known("https://gitlab.example.com".into()),
        token: Val::Known(Sensitive::new(TOKEN)),
        cacert_file: Val::Known("/etc/ca.pem".into()),
        insecure: Val::Known(false),
        client_cert: Val::Known("/etc/client.pem".into()),
        client_key: Val::Known("/etc/client-key.pem".into()),
        headers: Val::Known(BTreeMap::from([("X-Trace".into(), "1".into())])),
        retries: Val::Known(3),
        early_auth_check: Val::Known(true),
        request_timeout: Val::Known(30),
        config_file: Val::Known("/etc/gitlab/config.yaml".into()),
        context: Val::Known("work".into()),
        enable_auto_ci_support: Val::Known(false),
    };
    let d = format!("{c:?}");
    assert_hidden("ProviderConfig", &d);
    assert!(d.contains("[REDACTED]"), "{d}");
    assert!(
        d.contains("/etc/client-key.pem"),
        "the key's path is no secret: {d}"
    );
    // The Terraform value it converts to prints string lengths only.
    assert_hidden("ProviderConfig value", &format!("{:?}", c.to_value()));
    assert_hidden("ProviderConfig pretty", &format!("{c:#?}"));
}

#[test]
fn cluster_state_debug_hides_the_kubernetes_token_in_every_family() {
    let attrs = ClusterAttrs {
        id: Val::Known("qa:7".into()),
        name: Val::Known("c".into()),
        kubernetes_api_url: Val::Known("https://k8s.example.com".into()),
        kubernetes_token: Val::Known(Sensitive::new(KUBE)),
        kubernetes_token_wo: Val::Known(Sensitive::new(KUBE)),
        cluster_id: Val::Known(7),
        ..Default::default()
    };
    let s = ClusterState::<OfGroup>::new(Val::Known("qa".into()), attrs.clone());
    assert_hidden("ClusterState", &format!("{s:?}"));
    assert_hidden("ClusterState pretty", &format!("{s:#?}"));
    assert_hidden("ClusterState value", &format!("{:?}", s.to_value()));
    let p = ClusterState::<OfProject>::new(Val::Known("qa/app".into()), attrs);
    assert_hidden("project ClusterState", &format!("{p:#?}"));
}

#[test]
fn client_config_debug_hides_the_token_and_the_client_key() {
    let c = ClientConfig {
        base_url: "https://gitlab.example.com/".into(),
        token: Secret::new(TOKEN),
        job_token: false,
        ca_cert_pem: Some(
            b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        insecure: false,
        client_cert_pem: Some((
            b"-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n".to_vec(),
            Secret::new(KEY_PEM),
        )),
        headers: BTreeMap::new(),
        retries: 1,
        timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(10),
    };
    assert_hidden("ClientConfig", &format!("{c:?}"));
    assert_hidden("ClientConfig pretty", &format!("{c:#?}"));
}

#[test]
fn create_and_update_request_debug_hides_the_kubernetes_token() {
    let create = CreateCluster {
        name: "c".into(),
        platform_kubernetes_attributes: CreatePlatform {
            api_url: "https://k8s.example.com".into(),
            token: Some(Secret::new(KUBE)),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_hidden("CreateCluster", &format!("{create:?}"));
    assert_hidden("CreateCluster pretty", &format!("{create:#?}"));
    let update = UpdateCluster {
        platform_kubernetes_attributes: UpdatePlatform {
            token: Some(Secret::new(KUBE)),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_hidden("UpdateCluster", &format!("{update:?}"));
    // Serialising is for GitLab: there the token must be present.
    assert!(serde_json::to_string(&create).unwrap().contains(KUBE));
}

on_every_terraform!(
    no_secret_appears_in_any_output_or_trace_log_through_every_flow_including_failures,
    error_bodies_that_echo_a_secret_back_do_not_leak_it_into_diagnostics,
    secrets_written_in_the_configuration_appear_in_no_diagnostic,
);
