//! Transport security to GitLab: the real Terraform CLI (1.0.3 and >= 1.11; the certificate
//! shapes on >= 1.11) drives the provider against the simulator served over HTTPS with a
//! CA and certificates made here (rcgen, and the `openssl` command line as users make them),
//! optionally requiring client certificates.

mod security_support;
mod support;

use std::time::Duration;

use security_support::*;
use support::*;
use terraform_provider_gitlab::gitlab::{Client, ClientConfig, Error};
use terraform_provider_gitlab::secret::Secret;
use tokio_util::sync::CancellationToken;

fn cluster() -> String {
    cluster_block("c", "")
}

/// Clusters of group `qa` (id 42), where the tests create theirs; the seed has one
/// cluster elsewhere.
fn qa_clusters(sim: &HttpsSim) -> Vec<serde_json::Value> {
    sim.clusters()
        .into_iter()
        .filter(|c| c["group_id"] == 42)
        .collect()
}

/// The Terraform version of the certificate-shape tests (a parameter, so they can run on
/// several).
const TF_NEW: &str = support::MODERN;

/// A Terraform work dir whose provider block has `attrs`, plus one cluster; initialised.
fn setup(tf_version: &str, attrs: &str, body: &str) -> TerraformCli {
    let tf = TerraformCli::new(tf_version);
    tf.write("main.tf", &format!("{}\n{body}", provider_hcl(attrs)));
    tf.init();
    tf
}

fn attrs(sim: &HttpsSim, extra: &str) -> String {
    format!(
        "  base_url = \"{}\"\n  token    = \"{MAINTAINER_TOKEN}\"\n{extra}",
        sim.base_url()
    )
}

/// A cluster configuration whose provider trusts the test CA (`cacert_file`) and has the
/// provider attributes `client` (HCL lines) besides.
fn trusting_test_ca(tf_version: &str, sim: &HttpsSim, pki: &Pki, client: &str) -> TerraformCli {
    let extra = format!(
        "  cacert_file = {}\n{client}",
        hcl_path(&pki.path("ca.pem"))
    );
    setup(tf_version, &attrs(sim, &extra), &cluster())
}

/// As [`trusting_test_ca`], presenting the client certificate and key in the files `cert`
/// and `key`.
fn with_client_identity(
    tf_version: &str,
    sim: &HttpsSim,
    pki: &Pki,
    cert: &str,
    key: &str,
) -> TerraformCli {
    let client = format!(
        "  client_cert = {}\n  client_key  = {}\n",
        hcl_path(cert),
        hcl_path(key)
    );
    trusting_test_ca(tf_version, sim, pki, &client)
}

#[track_caller]
fn assert_failed_with(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 1, "expected a failure:\n{}", run.all());
    run.assert_consistent();
    for n in needles {
        assert!(says(&run.stderr, n), "{n:?} missing from:\n{}", run.stderr);
    }
}

/// `haystack` contains `needle`, whatever line breaks Terraform's word wrapping put in.
fn says(haystack: &str, needle: &str) -> bool {
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    flat(haystack).contains(&flat(needle))
}

fn untrusted_server_certificate_is_refused_with_a_cacert_file_hint_and_nothing_is_created(
    tf_version: &str,
) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, false);
    let tf = setup(tf_version, &attrs(&sim, ""), &cluster());
    let r = tf.apply();
    assert_failed_with(
        &r,
        &[
            "Cannot reach GitLab",
            "not trusted",
            "`cacert_file`",
            // Terraform quotes the attribute the diagnostic is attached to.
            &format!("base_url = \"{}\"", sim.base_url()),
        ],
    );
    assert!(
        sim.log().is_empty(),
        "a request got through: {:?}",
        sim.log()
    );
    assert!(qa_clusters(&sim).is_empty());
}

fn cacert_file_with_the_servers_ca_makes_apply_plan_and_destroy_work(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, false);
    let tf = trusting_test_ca(tf_version, &sim, &pki, "");
    let r = tf.apply().ok();
    assert!(r.stdout.contains("1 added"), "{}", r.stdout);
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0, "no changes after apply");
    tf.destroy().ok();
    assert!(qa_clusters(&sim).is_empty());
}

fn server_certificate_is_checked_for_the_ip_address_too(tf_version: &str) {
    // The certificate's SAN covers 127.0.0.1 as an IP address: that works with the CA...
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, false);
    let by_ip = attrs(
        &sim,
        &format!("  cacert_file = {}\n", hcl_path(&pki.path("ca.pem"))),
    )
    .replace("localhost", "127.0.0.1");
    let tf = setup(tf_version, &by_ip, &cluster());
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    // ... while a CA that did not sign the server's certificate is no trust at all.
    let tf = setup(
        tf_version,
        &attrs(
            &sim,
            &format!("  cacert_file = {}\n", hcl_path(&pki.path("client-ca.pem"))),
        ),
        &cluster_block("other", "  environment_scope = \"other\"\n"),
    );
    assert_failed_with(&tf.apply(), &["not trusted", "`cacert_file`"]);
    assert_eq!(qa_clusters(&sim).len(), 1);
}

fn insecure_true_accepts_the_self_signed_server_without_a_ca(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, false);
    let tf = setup(tf_version, &attrs(&sim, "  insecure = true\n"), &cluster());
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0);
}

fn server_requiring_a_client_certificate_refuses_a_provider_without_one_and_says_so(
    tf_version: &str,
) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let tf = trusting_test_ca(tf_version, &sim, &pki, "");
    let r = tf.apply();
    // The server is trusted; what is missing is our certificate: the message must say
    // that, and name the attributes that supply it — not blame the server's certificate.
    assert_failed_with(&r, &["Cannot reach GitLab", "client_cert", "client_key"]);
    assert!(
        !says(&r.stderr, "certificate is not trusted"),
        "the server's certificate is blamed for a missing client certificate:\n{}",
        r.stderr
    );
    assert!(qa_clusters(&sim).is_empty());
}

fn client_certificate_signed_by_the_servers_client_ca_is_accepted(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let tf = with_client_identity(
        tf_version,
        &sim,
        &pki,
        &pki.path("client.pem"),
        &pki.path("client-key.pem"),
    );
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0);
    tf.destroy().ok();
    assert!(qa_clusters(&sim).is_empty());
}

fn client_certificate_from_an_untrusted_ca_is_refused(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let tf = with_client_identity(
        tf_version,
        &sim,
        &pki,
        &pki.path("rogue.pem"),
        &pki.path("rogue-key.pem"),
    );
    let r = tf.apply();
    // GitLab refused *our* certificate: say so, and point at the attribute supplying it.
    assert_failed_with(&r, &["Cannot reach GitLab", "client_cert"]);
    assert!(
        !says(&r.stderr, "certificate is not trusted"),
        "the server's certificate is blamed for a refused client certificate:\n{}",
        r.stderr
    );
    assert!(qa_clusters(&sim).is_empty());
}

fn client_key_without_client_cert_is_a_validation_error_naming_client_cert(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let client = format!(
        "  client_key  = {}\n",
        hcl_path(&pki.path("client-key.pem"))
    );
    let tf = trusting_test_ca(tf_version, &sim, &pki, &client);
    let r = tf.run(&["validate", "-no-color"]);
    assert_failed_with(&r, &["Incomplete client certificate", "client_cert"]);
    let r = tf.plan();
    assert_failed_with(&r, &["Incomplete client certificate", "client_cert"]);
    assert!(sim.log().is_empty(), "validation must precede any request");
}

fn client_cert_without_client_key_is_a_validation_error_naming_client_key(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let client = format!("  client_cert = {}\n", hcl_path(&pki.path("client.pem")));
    let tf = trusting_test_ca(tf_version, &sim, &pki, &client);
    let r = tf.run(&["validate", "-no-color"]);
    assert_failed_with(
        &r,
        &[
            "Incomplete client certificate",
            "Set both client_cert and client_key",
        ],
    );
    assert!(sim.log().is_empty());
}

fn missing_or_unreadable_cacert_file_names_cacert_file(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, false);
    let missing = pki.path("no-such-ca.pem");
    let directory = pki.dir.path().display().to_string();
    for path in [missing.as_str(), directory.as_str()] {
        let tf = setup(
            tf_version,
            &attrs(&sim, &format!("  cacert_file = {}\n", hcl_path(path))),
            &cluster(),
        );
        let r = tf.apply();
        assert_failed_with(
            &r,
            &[
                "Cannot read cacert_file",
                path,
                &format!("cacert_file = {}", hcl_path(path)),
            ],
        );
    }
    assert!(sim.log().is_empty());
    assert!(qa_clusters(&sim).is_empty());
}

fn cacert_file_that_holds_no_certificate_names_cacert_file(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, false);
    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    // A key is PEM, but not a certificate.
    for path in [garbage.as_str(), &pki.path("client-key.pem")] {
        let tf = setup(
            tf_version,
            &attrs(&sim, &format!("  cacert_file = {}\n", hcl_path(path))),
            &cluster(),
        );
        let r = tf.apply();
        assert_failed_with(
            &r,
            &[
                "CA certificate",
                &format!("cacert_file = {}", hcl_path(path)),
            ],
        );
    }
    assert!(sim.log().is_empty());
}

fn client_key_file_that_is_not_a_key_names_client_key(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let garbage = pki.path("garbage-key.pem");
    std::fs::write(&garbage, "not a key at all\n").unwrap();
    let tf = with_client_identity(tf_version, &sim, &pki, &pki.path("client.pem"), &garbage);
    let r = tf.apply();
    assert_failed_with(&r, &[&format!("client_key  = {}", hcl_path(&garbage))]);
    assert!(sim.log().is_empty());
}

/// A well-formed key of a type the TLS stack cannot sign with (ECDSA P-521) is named at
/// `client_key` with the supported types, before any request.
fn client_key_of_an_unsupported_type_names_client_key_and_the_supported_types(tf_version: &str) {
    let pki = Pki::new();
    let sim = HttpsSim::start(&pki, true);
    let p521 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let key = pki.path("p521-key.pem");
    std::fs::write(&key, p521.serialize_pem()).unwrap();
    let tf = with_client_identity(tf_version, &sim, &pki, &pki.path("client.pem"), &key);
    let r = tf.apply();
    assert_failed_with(
        &r,
        &[
            &format!("client_key  = {}", hcl_path(&key)),
            "Unsupported client_key",
            "ECDSA P-256 or P-384",
        ],
    );
    assert!(!r.all().contains("PRIVATE KEY"), "{}", r.all());
    assert!(sim.log().is_empty());
}

/// TLS verification failures are permanent: retrying them only delays the error (with the
/// default 10 retries and backoff, by about a minute when `early_auth_check` is off).
/// In-process through the GitLab client, counting the TCP connections the server accepts.
#[test]
fn certificate_failures_are_not_retried_like_transient_connection_errors() {
    let pki = Pki::new();
    let mut retried = Vec::new();
    for (require_client_cert, what) in [
        (false, "untrusted server certificate"),
        (true, "missing client certificate"),
    ] {
        let sim = HttpsSim::start(&pki, require_client_cert);
        let cfg = ClientConfig {
            base_url: sim.base_url(),
            token: Secret::new(MAINTAINER_TOKEN),
            ca_cert_pem: require_client_cert.then(|| pki.ca_pem.clone().into_bytes()),
            retries: 4,
            backoff_base: Duration::from_millis(1),
            ..ClientConfig::default()
        };
        let client = Client::new(&cfg, CancellationToken::new()).unwrap();
        let before = sim.connections();
        let err = block_on(client.current_user()).unwrap_err();
        let attempts = sim.connections() - before - 1;
        assert!(matches!(err, Error::Tls { .. }), "{what}: {err}");
        if attempts != 1 {
            retried.push(format!(
                "{what}: {attempts} connections for one request ({err})"
            ));
        }
    }
    assert!(retried.is_empty(), "{}", retried.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Certificate shapes made with openssl, each against its own HTTPS simulator.

const LOCAL_SAN: &str = "DNS:localhost,IP:127.0.0.1";

/// The simulator serving `<name>.pem` of `ssl`, and a Terraform dir whose provider trusts
/// `cacert` (a file of `ssl`, or none) and reads the clusters of group qa.
fn shape(ssl: &Openssl, name: &str, cacert: Option<&str>) -> (HttpsSim, TerraformCli) {
    let sim = HttpsSim::start_with_cert(
        &ssl.path(&format!("{name}.pem")),
        &ssl.path(&format!("{name}-key.pem")),
    );
    let extra = cacert
        .map(|c| format!("  cacert_file = {}\n", hcl_path(&ssl.path(c))))
        .unwrap_or_default();
    let tf = setup(TF_NEW, &attrs(&sim, &extra), &cluster());
    (sim, tf)
}

#[test]
fn an_openssl_self_signed_ca_true_certificate_in_cacert_file_is_trusted_as_the_servers_own() {
    let ssl = Openssl::new();
    ssl.self_signed_ca_true("server", LOCAL_SAN);
    let (sim, tf) = shape(&ssl, "server", Some("server.pem"));
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0);
    // Not in cacert_file, it is named for what it is, with the fix.
    let (sim, tf) = shape(&ssl, "server", None);
    assert_failed_with(
        &tf.plan(),
        &[
            "presents a CA certificate as its own",
            "Set `cacert_file` to exactly that certificate",
        ],
    );
    assert!(sim.log().is_empty());
}

#[test]
fn an_openssl_self_signed_ca_false_certificate_in_cacert_file_is_trusted() {
    let ssl = Openssl::new();
    ssl.self_signed_ca_false("server", LOCAL_SAN);
    let (sim, tf) = shape(&ssl, "server", Some("server.pem"));
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    let (_sim, tf) = shape(&ssl, "server", None);
    assert_failed_with(&tf.plan(), &["not trusted", "set `cacert_file`"]);
}

#[test]
fn an_openssl_leaf_is_trusted_through_its_ca_or_as_itself() {
    let ssl = Openssl::new();
    ssl.ca_and_leaf("ca", "server", LOCAL_SAN);
    for trusted in ["ca.pem", "server.pem"] {
        let (sim, tf) = shape(&ssl, "server", Some(trusted));
        tf.apply().ok();
        assert_eq!(qa_clusters(&sim).len(), 1, "{trusted}");
    }
}

#[test]
fn an_expired_certificate_in_cacert_file_is_refused_as_expired_not_as_untrusted() {
    let ssl = Openssl::new();
    ssl.expired_self_signed("server", LOCAL_SAN);
    let (sim, tf) = shape(&ssl, "server", Some("server.pem"));
    let r = tf.plan();
    assert_failed_with(
        &r,
        &[
            "certificate expired at 2020-02-01T00:00:00Z",
            "Renew GitLab's certificate",
        ],
    );
    assert!(!says(&r.stderr, "set `cacert_file`"), "{}", r.stderr);
    assert!(sim.log().is_empty());
}

#[test]
fn a_certificate_for_another_host_is_refused_as_a_name_mismatch_even_when_in_cacert_file() {
    let ssl = Openssl::new();
    ssl.self_signed_ca_true("server", "DNS:gitlab.example.test");
    let (sim, tf) = shape(&ssl, "server", Some("server.pem"));
    let r = tf.plan();
    assert_failed_with(
        &r,
        &[
            "certificate is not valid for localhost: it is valid for gitlab.example.test",
            "not the fix for a name mismatch",
        ],
    );
    assert!(!says(&r.stderr, "set `cacert_file`"), "{}", r.stderr);
    assert!(!says(&r.stderr, "not trusted"), "{}", r.stderr);
    assert!(sim.log().is_empty());
}

#[test]
fn a_cacert_file_that_did_not_issue_the_certificate_is_named_at_cacert_file() {
    let ssl = Openssl::new();
    ssl.ca_and_leaf("ca", "server", LOCAL_SAN);
    ssl.self_signed_ca_true("unrelated", LOCAL_SAN);
    let (sim, tf) = shape(&ssl, "server", Some("unrelated.pem"));
    assert_failed_with(
        &tf.plan(),
        &[
            "not trusted: no certificate in `cacert_file` issued it",
            &format!("cacert_file = {}", hcl_path(&ssl.path("unrelated.pem"))),
        ],
    );
    assert!(sim.log().is_empty());
}

on_every_terraform!(
    untrusted_server_certificate_is_refused_with_a_cacert_file_hint_and_nothing_is_created,
    cacert_file_with_the_servers_ca_makes_apply_plan_and_destroy_work,
    server_certificate_is_checked_for_the_ip_address_too,
    insecure_true_accepts_the_self_signed_server_without_a_ca,
    server_requiring_a_client_certificate_refuses_a_provider_without_one_and_says_so,
    client_certificate_signed_by_the_servers_client_ca_is_accepted,
    client_certificate_from_an_untrusted_ca_is_refused,
    client_key_without_client_cert_is_a_validation_error_naming_client_cert,
    client_cert_without_client_key_is_a_validation_error_naming_client_key,
    missing_or_unreadable_cacert_file_names_cacert_file,
    cacert_file_that_holds_no_certificate_names_cacert_file,
    client_key_file_that_is_not_a_key_names_client_key,
    client_key_of_an_unsupported_type_names_client_key_and_the_supported_types,
);
