//! Faults between the provider and GitLab, each with the real Terraform CLI against the
//! simulator: timeouts, connection resets, lost responses, 5xx, malformed answers. The
//! rule each proves: no duplicate, no lost cluster, no state damage, a clear error.

mod support;

use serde_json::{Value as J, json};
use support::*;

fn qa_clusters(sim: &Sim) -> Vec<J> {
    sim.clusters()
        .into_iter()
        .filter(|c| c["group_id"] == 42)
        .collect()
}

/// A provider block with a short request timeout and quick retries.
fn provider(sim: &Sim, timeout_s: u32) -> String {
    provider_block(sim, MAINTAINER_TOKEN).replace(
        "  token    =",
        &format!("  request_timeout = {timeout_s}\n  token    ="),
    )
}

fn setup(tf_version: &str, sim: &Sim, timeout_s: u32) -> TerraformCli {
    let tf = TerraformCli::new(tf_version);
    tf.write(
        "main.tf",
        &format!("{}\n{}", provider(sim, timeout_s), cluster_block("c", "")),
    );
    tf.init();
    tf
}

fn requests(sim: &Sim, method: &str, path_part: &str) -> usize {
    sim.log()
        .iter()
        .filter(|e| {
            e["method"] == method && e["path"].as_str().is_some_and(|p| p.contains(path_part))
        })
        .count()
}

fn a_read_that_times_out_is_retried(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 1);
    tf.apply().ok();
    let id = qa_clusters(&sim)[0]["id"].as_i64().unwrap();
    sim.reset_stats();
    sim.fault(json!({"method": "GET", "path": format!("/clusters/{id}"), "action": {"kind": "delay", "ms": 2500}}));
    let plan = tf.plan();
    assert_eq!(plan.code, 0, "{}", plan.all());
    // The simulator logs the delayed request when it finishes, after the client gave up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while requests(&sim, "GET", &format!("/clusters/{id}")) < 2
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        requests(&sim, "GET", &format!("/clusters/{id}")),
        2,
        "one timed out, one retried"
    );
}

fn a_create_that_times_out_yields_exactly_one_cluster(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 1);
    // GitLab applies the request only after the client gave up on it.
    sim.fault(json!({"method": "POST", "path": "/clusters/user", "action": {"kind": "delay", "ms": 2500}}));
    let r = tf.apply().ok();
    assert!(r.stdout.contains("1 added"), "{}", r.all());
    // Let the delayed request finish: it must not make a second cluster.
    std::thread::sleep(std::time::Duration::from_millis(2000));
    let clusters = qa_clusters(&sim);
    assert_eq!(clusters.len(), 1, "{clusters:#?}");
    assert_eq!(
        tf.resource("gitlab_group_cluster.c")["cluster_id"],
        clusters[0]["id"]
    );
    assert_eq!(tf.plan().code, 0);
}

fn a_connection_reset_during_create_is_recovered_without_duplicate(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 10);
    sim.fault(json!({"method": "POST", "path": "/clusters/user", "action": {"kind": "reset"}}));
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0);
}

fn a_connection_reset_during_refresh_is_retried(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 10);
    tf.apply().ok();
    sim.fault(
        json!({"method": "GET", "path": "/clusters/", "count": 2, "action": {"kind": "reset"}}),
    );
    assert_eq!(tf.plan().code, 0);
}

fn a_lost_update_response_is_retried_and_state_is_right(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 10);
    tf.apply().ok();
    sim.fault(json!({"method": "PUT", "action": {"kind": "drop_after_apply"}}));
    tf.write(
        "main.tf",
        &format!(
            "{}\n{}",
            provider(&sim, 10),
            cluster_block("c", "  domain = \"new.example.com\"\n")
        ),
    );
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim)[0]["domain"], "new.example.com");
    assert_eq!(
        tf.resource("gitlab_group_cluster.c")["domain"],
        "new.example.com"
    );
    assert_eq!(tf.plan().code, 0);
}

fn bad_gateway_on_delete_is_retried(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 10);
    tf.apply().ok();
    sim.fault(json!({"method": "DELETE", "count": 2, "action": {"kind": "status", "status": 502}}));
    tf.destroy().ok();
    assert!(qa_clusters(&sim).is_empty());
}

fn internal_error_on_delete_keeps_the_cluster_in_state(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 10);
    tf.apply().ok();
    // A 500 is retried (as the official provider's client does): it persists past `retries`.
    tf.write(
        "main.tf",
        &format!(
            "{}\n{}",
            provider(&sim, 10).replace("  token    =", "  retries = 1\n  token    ="),
            cluster_block("c", "")
        ),
    );
    sim.fault(
        json!({"method": "DELETE", "count": 2, "action": {"kind": "status", "status": 500,
        "body": "{\"message\":\"500 Internal Server Error\"}"}}),
    );
    let r = tf.destroy();
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Could not delete the cluster") && r.stderr.contains("500"),
        "{}",
        r.stderr
    );
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(
        tf.resource("gitlab_group_cluster.c")["cluster_id"],
        qa_clusters(&sim)[0]["id"]
    );
    tf.destroy().ok();
    assert!(qa_clusters(&sim).is_empty());
}

fn malformed_read_leaves_state_untouched(tf_version: &str, body: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 10);
    tf.apply().ok();
    let state_path = tf.work().join("terraform.tfstate");
    let before = std::fs::read(&state_path).unwrap();
    let id = qa_clusters(&sim)[0]["id"].as_i64().unwrap();
    sim.fault(json!({"method": "GET", "path": format!("/clusters/{id}"),
        "action": {"kind": "raw", "status": 200, "body": body}}));
    let r = tf.run(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-no-color",
        "-input=false",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    r.assert_consistent();
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(&state_path).unwrap(),
        before,
        "state must be untouched"
    );
    assert_eq!(tf.plan().code, 0, "the next run is fine");
}

fn malformed_json_from_gitlab_is_a_clear_error_and_state_is_untouched(tf_version: &str) {
    malformed_read_leaves_state_untouched(tf_version, "{\"id\": 1, \"name\": ");
}

fn an_unexpected_json_shape_is_a_clear_error_and_state_is_untouched(tf_version: &str) {
    malformed_read_leaves_state_untouched(tf_version, "[{\"unexpected\": true}]");
}

fn an_unreadable_create_answer_is_checked_before_retrying(tf_version: &str) {
    let sim = Sim::start();
    let tf = setup(tf_version, &sim, 10);
    sim.fault(json!({"method": "POST", "path": "/clusters/user",
        "action": {"kind": "raw", "status": 201, "body": "<html>proxy says hi</html>"}}));
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(requests(&sim, "POST", "/clusters/user"), 2);
    assert_eq!(tf.plan().code, 0);
}

fn persistent_rate_limiting_gives_up_with_advice(tf_version: &str) {
    let sim = Sim::start();
    let tf = TerraformCli::new(tf_version);
    let p = provider(&sim, 10).replace("  token    =", "  retries = 1\n  token    =");
    tf.write("main.tf", &format!("{p}\n{}", cluster_block("c", "")));
    tf.init();
    sim.fault(json!({"method": "POST", "count": 5, "action": {"kind": "status", "status": 429, "retry_after": 0}}));
    let r = tf.apply();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("429") && r.stderr.contains("retries"),
        "{}",
        r.stderr
    );
    assert!(qa_clusters(&sim).is_empty());
    assert!(
        tf.state()["values"]["root_module"]["resources"].is_null(),
        "nothing recorded"
    );
}

on_every_terraform!(
    a_read_that_times_out_is_retried,
    a_create_that_times_out_yields_exactly_one_cluster,
    a_connection_reset_during_create_is_recovered_without_duplicate,
    a_connection_reset_during_refresh_is_retried,
    a_lost_update_response_is_retried_and_state_is_right,
    bad_gateway_on_delete_is_retried,
    internal_error_on_delete_keeps_the_cluster_in_state,
    malformed_json_from_gitlab_is_a_clear_error_and_state_is_untouched,
    an_unexpected_json_shape_is_a_clear_error_and_state_is_untouched,
    an_unreadable_create_answer_is_checked_before_retrying,
    persistent_rate_limiting_gives_up_with_advice,
);
