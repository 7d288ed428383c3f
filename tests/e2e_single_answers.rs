//! End-to-end proof, with the real Terraform CLI (>= 1.11) against the simulator, that no
//! single GitLab answer can lose state, bind two states to one cluster, write to a cluster
//! the state does not own, or run without bound (issue "No single GitLab answer"). Each test
//! is one case the issue saw: a 404 for a cluster that exists, a 404 on the group lookup of a
//! respelling, a saved plan whose PUT cannot carry an outside change, a lost POST beside a
//! second state, a 201 naming another group's cluster, endless bodies and lists, Ctrl-C
//! during the lookup after a lost POST, and what the lookup's error says.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as J, json};
use support::sim_launcher::guard;
use support::*;

fn qa_clusters(sim: &Sim) -> Vec<J> {
    sim.clusters()
        .into_iter()
        .filter(|c| c["group_id"] == 42)
        .collect()
}

/// The provider block with quick retries and a short request timeout.
fn provider(sim: &Sim) -> String {
    provider_block(sim, MAINTAINER_TOKEN).replace(
        "  token    =",
        "  retries = 2\n  request_timeout = 5\n  token    =",
    )
}

/// A Terraform >= 1.11 work dir with `body` beside the provider block, initialised.
fn workspace(sim: &Sim, body: &str) -> TerraformCli {
    let tf = TerraformCli::new(MODERN);
    tf.write("main.tf", &format!("{}\n{body}", provider(sim)));
    tf.init();
    tf
}

fn rewrite(tf: &TerraformCli, sim: &Sim, body: &str) {
    tf.write("main.tf", &format!("{}\n{body}", provider(sim)));
}

/// How many requests of `method` whose path contains `part` the simulator saw.
fn requests(sim: &Sim, method: &str, part: &str) -> usize {
    sim.log()
        .iter()
        .filter(|e| e["method"] == method && e["path"].as_str().is_some_and(|p| p.contains(part)))
        .count()
}

fn cluster_id(tf: &TerraformCli) -> i64 {
    tf.resource("gitlab_group_cluster.c")["cluster_id"]
        .as_i64()
        .expect("cluster_id in state")
}

#[track_caller]
fn assert_owns_nothing(tf: &TerraformCli) {
    let state = tf.state();
    let resources = &state["values"]["root_module"]["resources"];
    assert!(
        resources.as_array().is_none_or(Vec::is_empty),
        "the state owns nothing: {state}"
    );
}

/// GitLab's body for a cluster id that names no cluster (`ActiveRecord::RecordNotFound`).
fn not_found_once(sim: &Sim, method: &str, id: i64) {
    sim.fault(json!({"method": method, "path": format!("/clusters/{id}"),
        "action": {"kind": "status", "status": 404, "body": "{\"message\":\"404 Not found\"}"}}));
}

#[test]
fn one_404_for_a_cluster_gitlab_still_lists_keeps_it_in_state_and_plans_no_create() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf);
    not_found_once(&sim, "GET", id);
    let plan = tf.plan();
    plan.assert_consistent();
    assert_eq!(
        plan.code,
        0,
        "the cluster is still listed: no change\n{}",
        plan.all()
    );
    assert_eq!(cluster_id(&tf), id);
}

#[test]
fn one_404_during_an_apply_that_changes_the_scope_updates_in_place_without_a_duplicate() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf);
    rewrite(
        &tf,
        &sim,
        &cluster_block("c", "  environment_scope = \"staging\"\n"),
    );
    not_found_once(&sim, "GET", id);
    let apply = tf.apply().ok();
    apply.assert_consistent();
    assert!(apply.stdout.contains("1 changed"), "{}", apply.stdout);
    let clusters = qa_clusters(&sim);
    assert_eq!(clusters.len(), 1, "no duplicate: {clusters:#?}");
    assert_eq!(clusters[0]["id"], id);
    assert_eq!(clusters[0]["environment_scope"], "staging");
}

#[test]
fn one_404_on_delete_of_a_cluster_gitlab_still_lists_deletes_it_before_saying_destroyed() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf);
    not_found_once(&sim, "DELETE", id);
    let destroy = tf.destroy().ok();
    assert!(
        destroy.stdout.contains("Destroy complete"),
        "{}",
        destroy.all()
    );
    assert!(
        qa_clusters(&sim).is_empty(),
        "the cluster is gone from GitLab"
    );
    assert_eq!(requests(&sim, "DELETE", &format!("/clusters/{id}")), 2);
}

#[test]
fn a_404_on_the_group_lookup_of_a_respelling_is_a_plan_error_never_a_replacement() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    rewrite(
        &tf,
        &sim,
        &cluster_block("c", "").replace("\"qa\"", "\"42\""),
    );
    // The same group: an in-place respelling, no GitLab write.
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        !plan.stdout.contains("forces replacement"),
        "{}",
        plan.stdout
    );
    sim.fault(json!({"method": "GET", "path": "/groups/42",
        "action": {"kind": "status", "status": 404, "body": "{\"message\":\"404 Group Not Found\"}"}}));
    let plan = tf.plan();
    assert_eq!(
        plan.code,
        1,
        "a lookup that cannot decide fails the plan\n{}",
        plan.all()
    );
    assert!(
        !plan.stdout.contains("forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(plan.stderr.contains("group"), "{}", plan.stderr);

    // A saved plan meeting the same 404 at apply: an error, never an inconsistent plan.
    let saved = tf
        .run(&["plan", "-out=respell.tfplan", "-no-color", "-input=false"])
        .ok();
    assert!(
        !saved.stdout.contains("forces replacement"),
        "{}",
        saved.stdout
    );
    sim.fault(json!({"method": "GET", "path": "/groups/42",
        "action": {"kind": "status", "status": 404, "body": "{\"message\":\"404 Group Not Found\"}"}}));
    let apply = tf.run(&["apply", "-no-color", "-input=false", "respell.tfplan"]);
    apply.assert_consistent();
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert_eq!(qa_clusters(&sim).len(), 1);
}

#[test]
fn after_a_saved_plan_state_records_what_gitlab_answered_not_what_was_planned() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf);
    rewrite(
        &tf,
        &sim,
        &cluster_block("c", "").replace("name               = \"c\"", "name = \"renamed\""),
    );
    tf.run(&["plan", "-out=rename.tfplan", "-no-color", "-input=false"])
        .ok();
    // Outside Terraform, meanwhile: a change no PUT can carry.
    sim.patch_cluster(id, json!({"authorization_type": "abac"}));
    let apply = tf.run(&["apply", "-no-color", "-input=false", "rename.tfplan"]);
    apply.assert_consistent();
    assert_eq!(
        apply.code,
        1,
        "the plan could not be carried out\n{}",
        apply.all()
    );
    assert!(
        apply
            .stderr
            .contains("kubernetes_authorization_type is not as planned"),
        "{}",
        apply.stderr
    );
    let state = tf.resource("gitlab_group_cluster.c");
    assert_eq!(
        state["kubernetes_authorization_type"], "abac",
        "what GitLab holds"
    );
    assert_eq!(state["name"], "renamed");
    let plan = tf.plan();
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("forces replacement"),
        "drift shows:\n{}",
        plan.stdout
    );
}

#[test]
fn a_lost_post_beside_a_second_state_never_adopts_the_other_states_cluster() {
    let sim = Sim::start();
    let body = cluster_block("c", "  environment_scope = \"production\"\n");
    let a = workspace(&sim, &body);
    a.apply().ok();
    let a_id = cluster_id(&a);
    let b = workspace(&sim, &body);
    // B's POST meets a proxy's 502 and is never applied.
    sim.fault(json!({"method": "POST", "path": "/clusters/user", "action": {"kind": "status", "status": 502}}));
    let apply = b.apply();
    apply.assert_consistent();
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert!(
        apply.stderr.contains("Environment scope already taken"),
        "{}",
        apply.stderr
    );
    assert_owns_nothing(&b);
    b.destroy().ok();
    let clusters = qa_clusters(&sim);
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0]["id"], a_id, "A's cluster is untouched");
}

#[test]
fn a_201_naming_another_groups_cluster_is_never_recorded_nor_written_to() {
    let sim = Sim::start();
    // Another group's cluster, made behind Terraform's back.
    let (_, other) = sim.api(
        reqwest::Method::POST,
        "/groups/qa%2Fplatform/clusters/user",
        MAINTAINER_TOKEN,
        Some(json!({"name": "theirs", "environment_scope": "theirs",
            "platform_kubernetes_attributes": {"api_url": "https://other.example.com", "token": "t"}})),
    );
    let other_id = other["id"].as_i64().expect("other cluster id");
    let tf = workspace(&sim, &cluster_block("c", ""));
    sim.fault(json!({"method": "POST", "path": "/clusters/user",
        "action": {"kind": "foreign", "cluster_id": other_id}}));
    let apply = tf.apply();
    apply.assert_consistent();
    let mine = qa_clusters(&sim);
    assert_eq!(mine.len(), 1, "{mine:#?}");
    if apply.code == 0 {
        assert_eq!(
            cluster_id(&tf),
            mine[0]["id"].as_i64().expect("id"),
            "the cluster it made"
        );
    } else {
        assert!(
            apply.stderr.contains("terraform import"),
            "{}",
            apply.stderr
        );
    }
    assert_ne!(mine[0]["id"], other_id);
    assert_eq!(requests(&sim, "PUT", &format!("/clusters/{other_id}")), 0);
    assert_eq!(
        requests(&sim, "DELETE", &format!("/clusters/{other_id}")),
        0
    );
    let theirs = sim
        .clusters()
        .into_iter()
        .find(|c| c["id"] == other_id)
        .expect("theirs");
    assert_eq!(theirs["name"], "theirs");
    assert_eq!(tf.plan().code, if apply.code == 0 { 0 } else { 2 });
}

#[test]
fn endless_bodies_and_lists_end_in_an_error_naming_the_bound() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf);
    sim.fault(json!({"method": "GET", "path": format!("/clusters/{id}"), "action": {"kind": "endless_body"}}));
    let plan = tf.plan();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        plan.stderr.replace('\n', " ").contains("4 MiB"),
        "names the body bound:\n{}",
        plan.stderr
    );
    assert_eq!(cluster_id(&tf), id, "state kept");

    rewrite(
        &tf,
        &sim,
        &format!(
            "{}\ndata \"gitlab_group_clusters\" \"all\" {{\n  group = \"qa\"\n}}\n",
            cluster_block("c", "")
        ),
    );
    sim.fault(
        json!({"method": "GET", "path": "/groups/qa/clusters", "count": 100000,
        "action": {"kind": "endless_list"}}),
    );
    let started = Instant::now();
    let plan = tf.plan();
    sim.clear_faults();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        plan.stderr.replace('\n', " ").contains("200 pages"),
        "names the page bound:\n{}",
        plan.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(120));

    sim.fault(json!({"method": "GET", "path": format!("/clusters/{id}"), "action": {"kind": "huge_page", "items": 1_000_000}}));
    let plan = tf.plan();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(!plan.stderr.contains("OutOfRange"), "{}", plan.stderr);
}

/// An apply whose POST is applied and its answer lost, with `lookup` queued on the lists
/// after the one before the POST: it fails saying the create may have gone through and how
/// to import, and leaves exactly one cluster. Returns Terraform's error, on one line.
fn apply_with_a_lost_post_and_a_faulty_lookup(lookup: J) -> String {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    sim.fault(
        json!({"method": "POST", "path": "/clusters/user", "action": {"kind": "drop_after_apply"}}),
    );
    sim.fault(lookup);
    let apply = tf.apply();
    sim.clear_faults();
    apply.assert_consistent();
    assert_eq!(apply.code, 1, "{}", apply.all());
    let err = apply.stderr.replace('\n', " ");
    assert!(err.contains("may have gone through"), "{err}");
    assert!(err.contains("terraform import"), "{err}");
    assert_eq!(qa_clusters(&sim).len(), 1, "no duplicate");
    err
}

#[test]
fn the_lookup_after_a_lost_post_follows_no_endless_list_and_says_how_to_import() {
    let err = apply_with_a_lost_post_and_a_faulty_lookup(
        json!({"method": "GET", "path": "/groups/qa/clusters", "after": 1, "count": 100000,
        "action": {"kind": "endless_list"}}),
    );
    assert!(err.contains("200 pages"), "{err}");
    assert!(!err.contains("`retries` = 3"), "{err}");
}

#[test]
fn the_lookup_errors_state_the_configured_retries_and_that_the_create_may_have_landed() {
    let err = apply_with_a_lost_post_and_a_faulty_lookup(
        json!({"method": "GET", "path": "/groups/qa/clusters", "after": 1, "count": 3,
        "action": {"kind": "status", "status": 503}}),
    );
    assert!(err.contains("after 3 attempts"), "{err}");
}

#[test]
fn ctrl_c_during_the_lookup_after_a_lost_post_ends_it_and_says_how_to_import() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    sim.fault(
        json!({"method": "POST", "path": "/clusters/user", "action": {"kind": "drop_after_apply"}}),
    );
    sim.fault(json!({"method": "GET", "path": "/groups/qa/clusters", "after": 1, "action": {"kind": "hang"}}));
    let mut cmd = Command::new(&tf.bin);
    cmd.args(["apply", "-auto-approve", "-no-color", "-input=false"])
        .current_dir(tf.work())
        .envs(tf.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(tf.dir.path().join("int.out")).expect("out"))
        .stderr(std::fs::File::create(tf.dir.path().join("int.err")).expect("err"));
    let mut child = guard::spawn(cmd, "terraform apply (to be interrupted)");
    // Wait for the hanging lookup, then one Ctrl-C.
    let deadline = Instant::now() + Duration::from_secs(60);
    while requests(&sim, "POST", "/clusters/user") == 0 || qa_clusters(&sim).is_empty() {
        assert!(Instant::now() < deadline, "the POST never came");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.signal_group(libc::SIGINT);
    let stopped = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait() {
            break s;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(20),
            "one Ctrl-C did not end the lookup"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = format!(
        "{}\n{}",
        std::fs::read_to_string(tf.dir.path().join("int.out")).unwrap_or_default(),
        std::fs::read_to_string(tf.dir.path().join("int.err")).unwrap_or_default()
    )
    .replace('\n', " ");
    assert!(!status.success(), "{out}");
    assert!(out.contains("Terraform is stopping"), "{out}");
    assert!(out.contains("terraform import"), "{out}");
    assert!(!out.contains("data loss may have occurred"), "{out}");
    assert_eq!(qa_clusters(&sim).len(), 1);
}

#[test]
fn a_cluster_whose_group_gitlab_no_longer_shows_blocks_the_plan_but_destroy_without_refresh_ends_it()
 {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf);
    // The group is gone for this token: every answer about it says so.
    sim.fault(
        json!({"path": "/groups/qa", "count": 1000, "action": {"kind": "status", "status": 404,
        "body": "{\"message\":\"404 Group Not Found\"}"}}),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, 1, "the cautious refusal stays:\n{}", plan.all());
    let err = plan.stderr.replace('\n', " ");
    assert!(
        err.contains("removed") && err.contains("terraform state rm"),
        "{err}"
    );
    assert!(err.contains("destroy -refresh=false"), "{err}");
    let destroy = tf
        .run(&[
            "destroy",
            "-auto-approve",
            "-refresh=false",
            "-no-color",
            "-input=false",
        ])
        .ok();
    destroy.assert_consistent();
    let out = destroy.all().replace('\n', " ");
    assert!(out.contains("Destroy complete"), "{out}");
    assert!(
        out.contains(&format!("terraform import <resource address> qa:{id}")),
        "{out}"
    );
    assert_owns_nothing(&tf);
}

#[test]
fn a_deletion_answered_with_anything_but_gitlabs_204_is_checked_before_destroy_completes() {
    let sim = Sim::start();
    let tf = workspace(&sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf);
    sim.fault(json!({"method": "DELETE", "action": {"kind": "raw", "status": 200, "body": "{\"id\": 1,"}}));
    let destroy = tf.destroy().ok();
    assert!(
        destroy.stdout.contains("Destroy complete"),
        "{}",
        destroy.all()
    );
    assert!(qa_clusters(&sim).is_empty(), "deleted for real");
    assert_eq!(requests(&sim, "DELETE", &format!("/clusters/{id}")), 2);
}
