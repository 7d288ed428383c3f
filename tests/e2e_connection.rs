//! First contact with a self-managed GitLab, end to end: the real Terraform CLI (the version
//! in [`TF`]) drives the provider against the simulator with a wrong `base_url`, flaky
//! responses, user info in the URL, credentials in `headers`, empty strings meant to fall
//! back to the environment, and reads the provider's TRACE log back.

mod support;

use serde_json::json;
use support::*;

/// The Terraform version these tests run with (a parameter, so suites can run on several).
const TF: &str = support::MODERN;

/// A work dir with a provider block of `attrs` (HCL lines) and `body`; initialised.
fn terraform_with(attrs: &str, body: &str) -> TerraformCli {
    let tf = TerraformCli::new(TF);
    tf.write(
        "main.tf",
        &format!(
            "terraform {{\n  required_providers {{\n    gitlab = {{ source = \"gitlab-rs/gitlab\" }}\n  }}\n}}\n\n\
             provider \"gitlab\" {{\n{attrs}}}\n\n{body}"
        ),
    );
    tf.init();
    tf
}

const CLUSTERS: &str = "data \"gitlab_group_clusters\" \"qa\" {\n  group = \"qa\"\n}\n";

/// `haystack` contains `needle`, whatever line breaks Terraform's word wrapping put in.
fn says(haystack: &str, needle: &str) -> bool {
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    flat(haystack).contains(&flat(needle))
}

#[track_caller]
fn assert_says(run: &Run, needles: &[&str]) {
    for n in needles {
        assert!(says(&run.all(), n), "{n:?} missing from:\n{}", run.all());
    }
}

fn api_requests(sim: &Sim, path: &str) -> usize {
    sim.log().iter().filter(|e| e["path"] == path).count()
}

#[test]
fn a_base_url_that_is_not_the_rest_api_is_named_with_the_url_tried_at_configure_and_at_read() {
    let sim = Sim::start();
    for (base, tried) in [
        // A sub-path the instance does not have: a Rails route, answered with the sign-in redirect.
        (
            format!("{}/gitlab/", sim.url),
            format!("{}/gitlab/api/v4/user", sim.url),
        ),
        // The API path twice: Grape's catch-all 404 {"error":"404 Not Found"}.
        (
            format!("{}/api/v4/api/v4", sim.url),
            format!("{}/api/v4/api/v4/user", sim.url),
        ),
    ] {
        let tf = terraform_with(
            &format!("  base_url = \"{base}\"\n  token    = \"{MAINTAINER_TOKEN}\"\n"),
            CLUSTERS,
        );
        let r = tf.plan();
        assert_eq!(r.code, 1, "{}", r.all());
        r.assert_consistent();
        assert_says(
            &r,
            &[
                "base_url does not point at GitLab's REST API",
                &format!("GET {tried}"),
            ],
        );
        assert!(!says(&r.all(), "switched off"), "{}", r.all());
    }
    // Without the token check, the data source's read says the same (with the page tried).
    let tf = terraform_with(
        &format!(
            "  base_url = \"{}/api/v4/api/v4\"\n  token    = \"{MAINTAINER_TOKEN}\"\n  early_auth_check = false\n",
            sim.url
        ),
        CLUSTERS,
    );
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_says(
        &r,
        &[
            "base_url does not point at GitLab's REST API",
            "/api/v4/api/v4/groups/qa/clusters?page=1",
        ],
    );
    assert!(!says(&r.all(), "switched off"), "{}", r.all());
}

#[test]
fn an_api_v3_base_url_is_refused_at_validate_and_a_doubled_slash_is_harmless() {
    let sim = Sim::start();
    let tf = terraform_with(
        &format!(
            "  base_url = \"{}/api/v3\"\n  token    = \"{MAINTAINER_TOKEN}\"\n",
            sim.url
        ),
        CLUSTERS,
    );
    let r = tf.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_says(&r, &["Invalid base_url", "/api/v4"]);
    assert!(sim.log().is_empty(), "validation must precede any request");
    let tf = terraform_with(
        &format!(
            "  base_url = \"{}//api/v4\"\n  token    = \"{MAINTAINER_TOKEN}\"\n",
            sim.url
        ),
        CLUSTERS,
    );
    tf.plan().ok();
}

/// Feature flag off: the clusters answer `404 {"message":"404 Not Found"}` on a group that
/// exists, which is not a wrong base_url.
#[test]
fn switched_off_certificate_clusters_are_still_named_as_such() {
    let mut seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sim_launcher::seed_file()).unwrap()).unwrap();
    seed["certificate_based_clusters"] = json!(false);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.json");
    std::fs::write(&path, seed.to_string()).unwrap();
    let sim = Sim::start_seed(&path, &[]);
    let tf = terraform_with(
        &format!(
            "  base_url = \"{}\"\n  token    = \"{MAINTAINER_TOKEN}\"\n",
            sim.api_url()
        ),
        CLUSTERS,
    );
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_says(&r, &["switched off"]);
    assert!(!says(&r.all(), "base_url does not point"), "{}", r.all());
}

#[test]
fn the_token_check_follows_retries_and_says_retried_only_when_it_did() {
    let sim = Sim::start();
    let attrs = |extra: &str| {
        format!(
            "  base_url = \"{}\"\n  token    = \"{MAINTAINER_TOKEN}\"\n{extra}",
            sim.api_url()
        )
    };
    let three_503 = json!({"method": "GET", "path": "/api/v4/user", "count": 3,
                           "action": {"kind": "status", "status": 503}});
    // Three 503s from the load balancer: the default policy (10 retries) rides them out.
    sim.fault(three_503.clone());
    terraform_with(&attrs(""), CLUSTERS).plan().ok();
    sim.reset_stats();
    // retries = 0: one request, and the error says it was not retried, in one line.
    sim.fault(three_503.clone());
    let tf = terraform_with(&attrs("  retries  = 0\n"), CLUSTERS);
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(api_requests(&sim, "/api/v4/user"), 1, "{:?}", sim.log());
    assert_says(
        &r,
        &[
            "Could not check the token with GET /user",
            "GitLab answered 503: 503 Service Temporarily Unavailable",
            "did not retry",
        ],
    );
    assert!(
        !r.all().contains("<html") && !r.all().contains("nginx"),
        "{}",
        r.all()
    );
    assert!(!says(&r.all(), "retried with backoff"), "{}", r.all());
    // retries = 2 against three 503s: sent three times, and says so.
    sim.reset_stats();
    sim.fault(three_503);
    let tf = terraform_with(&attrs("  retries  = 2\n"), CLUSTERS);
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(api_requests(&sim, "/api/v4/user"), 3, "{:?}", sim.log());
    assert_says(&r, &["sent the request 3 times", "(after 3 attempts)"]);
}

#[test]
fn a_password_in_base_url_is_sent_as_basic_auth_and_never_shown() {
    let sim = Sim::start();
    let password = "pa55-w0rd-in-url";
    let host = sim.url.trim_start_matches("http://");
    // A wrong sub-path, so the diagnostics quote the URL tried.
    let mut tf = terraform_with(
        &format!(
            "  base_url = \"http://robot:{password}@{host}/nope/\"\n  token    = \"{MAINTAINER_TOKEN}\"\n"
        ),
        CLUSTERS,
    );
    tf.set_env("TF_LOG_PROVIDER", "TRACE");
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_says(&r, &["base_url does not point at GitLab's REST API"]);
    assert!(
        !r.all().contains(password),
        "the password leaked:\n{}",
        r.all()
    );
    // Sent as Basic auth: the TRACE log lists the header, its value hidden.
    assert!(
        r.stderr.contains("authorization: [REDACTED]"),
        "{}",
        r.stderr
    );
    // And with a good URL it works: user info does not get in GitLab's way.
    let tf = terraform_with(
        &format!(
            "  base_url = \"http://robot:{password}@{host}/api/v4/\"\n  token    = \"{MAINTAINER_TOKEN}\"\n"
        ),
        CLUSTERS,
    );
    let r = tf.plan().ok();
    assert!(!r.all().contains(password));
}

#[test]
fn empty_strings_fall_back_to_the_environment_like_unset_attributes() {
    let sim = Sim::start();
    let mut tf = terraform_with(
        "  base_url    = var.base_url\n  token       = var.gitlab_token\n  cacert_file = \"\"\n  client_cert = \"\"\n  client_key  = \"\"\n",
        &format!(
            "variable \"gitlab_token\" {{\n  default   = \"\"\n  sensitive = true\n}}\n\
             variable \"base_url\" {{\n  default = \"\"\n}}\n\n{CLUSTERS}"
        ),
    );
    tf.set_env("GITLAB_TOKEN", MAINTAINER_TOKEN);
    tf.set_env("GITLAB_BASE_URL", &sim.api_url());
    tf.plan().ok();
    assert!(
        api_requests(&sim, "/api/v4/groups/qa/clusters") >= 1,
        "{:?}",
        sim.log()
    );
}

#[test]
fn gitlab_credentials_in_headers_are_used_instead_of_token() {
    let sim = Sim::start();
    let base = sim.api_url();
    // Authorization: Bearer without `token`: no "Missing GitLab token".
    let tf = terraform_with(
        &format!(
            "  base_url = \"{base}\"\n  headers  = {{ Authorization = \"Bearer {MAINTAINER_TOKEN}\" }}\n"
        ),
        CLUSTERS,
    );
    tf.plan().ok();
    // PRIVATE-TOKEN in headers wins over `token` (here a wrong one), as in the official provider.
    let tf = terraform_with(
        &format!(
            "  base_url = \"{base}\"\n  token    = \"not-a-valid-token\"\n  headers  = {{ \"PRIVATE-TOKEN\" = \"{MAINTAINER_TOKEN}\" }}\n"
        ),
        CLUSTERS,
    );
    tf.plan().ok();
    // A proxy's Basic credentials are not GitLab's: the token is still needed.
    let tf = terraform_with(
        &format!(
            "  base_url = \"{base}\"\n  headers  = {{ Authorization = \"Basic cHJveHk6cHc=\" }}\n"
        ),
        CLUSTERS,
    );
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_says(&r, &["Missing GitLab token"]);
}

/// The log a person debugs with: each attempt with its outcome, each retry with its reason
/// and delay, the page in the path, and at TRACE the response headers (GitLab's rate-limit
/// figures among them) without secrets.
#[test]
fn trace_logs_show_every_attempt_its_delay_reason_and_page_and_the_response_headers() {
    // One request per 5 s: the list that follows the token check is throttled once.
    let sim = Sim::start_with(&["--rate-limit", "0.2"]);
    let list = "/api/v4/groups/qa/clusters";
    sim.fault(json!({"method": "GET", "path": list, "count": 1,
                     "action": {"kind": "status", "status": 503}}));
    let mut tf = terraform_with(
        &format!(
            "  base_url = \"{}\"\n  token    = \"{MAINTAINER_TOKEN}\"\n",
            sim.api_url()
        ),
        CLUSTERS,
    );
    tf.set_env("TF_LOG_PROVIDER", "TRACE");
    let r = tf.plan().ok();
    let log: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-gitlab"))
        .collect();
    let with = |needles: &[&str]| -> Vec<&str> {
        log.iter()
            .copied()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .collect()
    };
    let page = "path=\"/api/v4/groups/qa/clusters?page=1&per_page=100\"";
    let page_alt = "path=/api/v4/groups/qa/clusters?page=1&per_page=100";
    let paged = |l: &&str| l.contains(page) || l.contains(page_alt);
    let retries = with(&["retrying GitLab request", "delay_ms="]);
    assert!(
        retries.iter().any(|l| paged(l)
            && l.contains("503 Service Temporarily Unavailable")
            && l.contains("attempt=1")),
        "no retry line for the 503:\n{}",
        log.join("\n")
    );
    assert!(
        retries.iter().any(|l| paged(l)
            && l.contains("429 Too Many Requests, Retry-After")
            && l.contains("attempt=2")),
        "no retry line for the 429:\n{}",
        log.join("\n")
    );
    let attempts: Vec<&str> = with(&["GitLab request:", "status="])
        .into_iter()
        .filter(paged)
        .collect();
    assert_eq!(attempts.len(), 3, "503, 429, 200:\n{}", log.join("\n"));
    let throttled = with(&["GitLab response headers", "ratelimit_remaining=0"]);
    assert!(
        throttled.iter().any(|l| l.contains("ratelimit_limit=12")),
        "no rate-limit figures:\n{}",
        log.join("\n")
    );
    assert!(
        with(&["GitLab response headers", "x-next-page"])
            .iter()
            .any(paged),
        "no response headers of the list:\n{}",
        log.join("\n")
    );
    assert!(
        !r.stderr.contains(MAINTAINER_TOKEN),
        "the token leaked into the log"
    );
    // The provider's own lines carry one time, hclog's @timestamp; the `timestamp=` of
    // Terraform's text log is go-plugin's rendering of it (see docs/index.md, Logs).
    assert!(
        log.iter().all(|l| l.matches("timestamp=").count() <= 1),
        "{}",
        log.join("\n")
    );
}

/// The token goes out as the official provider sends it (`Authorization: Bearer`), so an
/// OAuth2 access token works; GitLab (and the simulator) never take one as `PRIVATE-TOKEN`.
#[test]
fn an_oauth2_token_works_as_with_the_official_provider() {
    let sim = Sim::start();
    let tf = terraform_with(
        &format!(
            "  base_url = \"{}\"\n  token    = \"{MAINTAINER_OAUTH_TOKEN}\"\n",
            sim.api_url()
        ),
        CLUSTERS,
    );
    let r = tf.plan().ok();
    assert!(!r.all().contains(MAINTAINER_OAUTH_TOKEN));
    assert_eq!(api_requests(&sim, "/api/v4/user"), 1, "{:?}", sim.log());
    assert!(
        api_requests(&sim, "/api/v4/groups/qa/clusters") >= 1,
        "{:?}",
        sim.log()
    );
}

/// Nothing changes by waiting when nothing listens, the host name does not resolve, or
/// `https://` meets a plain-HTTP server: the provider fails at once (the official provider's
/// client does not retry a connection error either) and says what is wrong in words.
#[test]
fn an_unreachable_gitlab_and_https_to_plain_http_fail_at_once_saying_what_is_wrong() {
    let sim = Sim::start();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let host = sim.url.trim_start_matches("http://").to_string();
    for (base, needles) in [
        (
            format!("http://127.0.0.1:{closed}/"),
            vec![format!(
                "nothing listens on 127.0.0.1:{closed} (connection refused)"
            )],
        ),
        (
            "https://gitlab.host.invalid/".to_string(),
            vec!["the host name gitlab.host.invalid does not resolve".to_string()],
        ),
        (
            format!("https://{host}/"),
            vec![
                "the server answered plain HTTP, not TLS".to_string(),
                "use http:// in base_url".to_string(),
            ],
        ),
    ] {
        // The default `retries` (10): a retried failure would take over a minute.
        let tf = terraform_with(
            &format!("  base_url = \"{base}\"\n  token    = \"{MAINTAINER_TOKEN}\"\n"),
            CLUSTERS,
        );
        let started = std::time::Instant::now();
        let r = tf.plan();
        let took = started.elapsed();
        assert_eq!(r.code, 1, "{}", r.all());
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        assert_says(&r, &needles);
        assert!(!says(&r.all(), "received corrupt message"), "{}", r.all());
        assert!(
            took < std::time::Duration::from_secs(20),
            "{base}: took {took:?}, so it was retried:\n{}",
            r.all()
        );
    }
}
