//! End-to-end: the real Terraform CLI drives the provider against the GitLab simulator,
//! every test on Terraform 1.0.3 (from PyPI) and on the newest Terraform >= 1.11 found
//! (`on_every_terraform!`). Each test has its own simulator and work directory.

mod support;

use serde_json::{Value as J, json};
use support::*;

/// PUT request bodies the simulator received, oldest first.
fn puts(sim: &Sim) -> Vec<J> {
    sim.log()
        .into_iter()
        .filter(|e| e["method"] == "PUT")
        .map(|e| e["body"].clone())
        .collect()
}

fn qa_clusters(sim: &Sim) -> Vec<J> {
    sim.clusters()
        .into_iter()
        .filter(|c| c["group_id"] == 42)
        .collect()
}

fn setup(tf_version: &str, body: &str) -> (Sim, TerraformCli) {
    let sim = Sim::start();
    let tf = terraform_as(tf_version, &sim, MAINTAINER_TOKEN, body);
    (sim, tf)
}

/// Terraform `tf_version`, initialised in a fresh directory, with the provider pointed at
/// `sim` authenticating as `token`, and `body` after the provider block.
fn terraform_as(tf_version: &str, sim: &Sim, token: &str, body: &str) -> TerraformCli {
    let tf = TerraformCli::new(tf_version);
    tf.write(
        "main.tf",
        &format!("{}\n{body}", provider_block(sim, token)),
    );
    tf.init();
    tf
}

fn create_then_plan_has_no_changes_and_state_matches_gitlab(tf_version: &str) {
    let ca = ca_cert_pem(); // ends with a newline, which GitLab strips
    let (sim, tf) = setup(
        tf_version,
        &cluster_block(
            "c",
            &format!("  domain = \"example.com\"\n  kubernetes_ca_cert = <<-EOT\n{ca}  EOT\n"),
        ),
    );
    let apply = tf.apply().ok();
    assert!(apply.stdout.contains("1 added"), "{}", apply.stdout);
    assert!(
        !apply.all().contains(KUBE_TOKEN),
        "the token leaked into apply output"
    );
    let plan = tf.plan();
    assert_eq!(plan.code, 0, "perpetual diff after apply:\n{}", plan.all());

    let clusters = qa_clusters(&sim);
    assert_eq!(clusters.len(), 1);
    let c = tf.resource("gitlab_group_cluster.c");
    let id = clusters[0]["id"].as_i64().unwrap();
    assert_eq!(c["id"], format!("qa:{id}"));
    assert_eq!(c["cluster_id"], id);
    assert_eq!(c["enabled"], true);
    assert_eq!(c["managed"], true);
    assert_eq!(c["environment_scope"], "*");
    assert_eq!(c["kubernetes_authorization_type"], "rbac");
    assert_eq!(c["namespace_per_environment"], true);
    assert_eq!(c["cluster_type"], "group_type");
    assert_eq!(c["provider_type"], "user");
    assert_eq!(c["platform_type"], "kubernetes");
    assert_eq!(c["created_at"], clusters[0]["created_at"]);
    assert_eq!(clusters[0]["platform_kubernetes"]["ca_cert"], ca.trim());
}

fn each_in_place_change_sends_a_put_with_only_that_field(tf_version: &str) {
    let ca = ca_cert_pem();
    let base = |extra: &str| {
        let block = cluster_block("c", &format!("  managed = false\n{extra}"));
        if extra.contains("name = \"renamed\"") {
            block.replacen("  name               = \"c\"\n", "", 1)
        } else {
            block
        }
    };
    let (sim, tf) = setup(tf_version, &base(""));
    tf.apply().ok();
    let steps: Vec<(String, J)> = vec![
        ("  name = \"renamed\"\n".into(), json!({"name": "renamed"})),
        (
            "  domain = \"example.org\"\n".into(),
            json!({"domain": "example.org"}),
        ),
        ("  enabled = false\n".into(), json!({"enabled": false})),
        (
            "  environment_scope = \"review/*\"\n".into(),
            json!({"environment_scope": "review/*"}),
        ),
        (
            "  management_project_id = \"7\"\n".into(),
            json!({"management_project_id": 7}),
        ),
        (
            "  kubernetes_namespace = \"apps\"\n".into(),
            json!({"platform_kubernetes_attributes": {"namespace": "apps"}}),
        ),
        (
            format!("  kubernetes_ca_cert = <<-EOT\n{ca}  EOT\n"),
            json!({"platform_kubernetes_attributes": {"ca_cert": ca}}),
        ),
        (
            "  namespace_per_environment = false\n".into(),
            json!({"namespace_per_environment": false}),
        ),
    ];
    let mut extra = String::new();
    let mut block = base("");
    for (i, (line, want)) in steps.iter().enumerate() {
        extra.push_str(line);
        block = base(&extra);
        tf.config(&sim, &block);
        let r = tf.apply().ok();
        assert!(r.stdout.contains("1 changed"), "step {i}: {}", r.stdout);
        let all = puts(&sim);
        assert_eq!(all.len(), i + 1, "one PUT per step");
        assert_eq!(all[i], *want, "step {i}: PUT body");
        assert_eq!(tf.plan().code, 0, "step {i}: no changes after apply");
    }
    // The token and the API URL: the token is sent, but never logged by the simulator.
    // GitLab's PUT resets namespace_per_environment to true unless told otherwise, so
    // every later PUT carries `false` along.
    tf.config(
        &sim,
        &block
            .replace(KUBE_TOKEN, "rotated-token-value")
            .replace("k8s.example.com", "k8s2.example.com"),
    );
    let r = tf.apply().ok();
    assert!(!r.all().contains("rotated-token-value"));
    let last = puts(&sim).pop().unwrap();
    assert_eq!(
        last,
        json!({
            "namespace_per_environment": false,
            "platform_kubernetes_attributes": {"api_url": "https://k8s2.example.com:6443", "token": "[REDACTED]"}
        })
    );
    // managed back to true needs the namespace gone first: both in one PUT.
    let block = block
        .replace("  managed = false\n", "")
        .replace("  kubernetes_namespace = \"apps\"\n", "");
    tf.config(
        &sim,
        &block
            .replace(KUBE_TOKEN, "rotated-token-value")
            .replace("k8s.example.com", "k8s2.example.com"),
    );
    tf.apply().ok();
    let last = puts(&sim).pop().unwrap();
    assert_eq!(
        last,
        json!({"managed": true, "namespace_per_environment": false, "platform_kubernetes_attributes": {"namespace": null}})
    );
    assert_eq!(tf.plan().code, 0);
}

fn changing_group_or_authorization_type_plans_a_replacement(tf_version: &str) {
    let (sim, tf) = setup(tf_version, &cluster_block("c", ""));
    tf.apply().ok();
    tf.config(
        &sim,
        &cluster_block("c", "  kubernetes_authorization_type = \"abac\"\n"),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{}",
        plan.stdout
    );

    tf.config(
        &sim,
        &cluster_block("c", "").replace("\"qa\"", "\"qa/platform\""),
    );
    let plan = tf.plan();
    assert!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    tf.apply().ok();
    let all = sim.clusters();
    assert_eq!(all.iter().filter(|c| c["group_id"] == 43).count(), 1);
    assert_eq!(qa_clusters(&sim).len(), 0);
    assert_eq!(tf.plan().code, 0);
}

fn drift_on_name_and_enabled_is_detected_and_corrected(tf_version: &str) {
    let (sim, tf) = setup(tf_version, &cluster_block("c", ""));
    tf.apply().ok();
    let id = qa_clusters(&sim)[0]["id"].as_i64().unwrap();
    sim.patch_cluster(id, json!({"name": "changed-by-hand", "enabled": false}));
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout.contains("\"changed-by-hand\" -> \"c\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("enabled") && plan.stdout.contains("false -> true"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
    tf.apply().ok();
    assert_eq!(
        puts(&sim).pop().unwrap(),
        json!({"enabled": true, "name": "c"})
    );
    assert_eq!(tf.plan().code, 0);
}

fn cluster_deleted_outside_terraform_is_planned_for_recreation(tf_version: &str) {
    let (sim, tf) = setup(tf_version, &cluster_block("c", ""));
    tf.apply().ok();
    let id = qa_clusters(&sim)[0]["id"].as_i64().unwrap();
    sim.delete_cluster(id);
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("will be created"), "{}", plan.stdout);
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0);
}

/// Creates a cluster through the API (as another tool would) and returns its id.
fn existing_cluster(sim: &Sim, group: &str, name: &str, ca: &str) -> i64 {
    let (status, body) = sim.api(
        reqwest::Method::POST,
        &format!("/groups/{}/clusters/user", group.replace('/', "%2F")),
        MAINTAINER_TOKEN,
        Some(json!({
            "name": name,
            "environment_scope": "*",
            "platform_kubernetes_attributes": {
                "api_url": "https://k8s.example.com:6443", "token": KUBE_TOKEN, "ca_cert": ca
            }
        })),
    );
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

fn import_then_plan(tf_version: &str, group_in_config: &str, import_group: &str, sim_group: &str) {
    let sim = Sim::start();
    let ca = ca_cert_pem();
    let id = existing_cluster(&sim, sim_group, "imported", ca.trim());
    let tf = TerraformCli::new(tf_version);
    let block = cluster_block(
        "c",
        &format!("  kubernetes_ca_cert = <<-EOT\n{}\n  EOT\n", ca.trim()),
    )
    .replace("\"qa\"", &format!("\"{group_in_config}\""))
    .replace(
        "name               = \"c\"",
        "name               = \"imported\"",
    );
    tf.config(&sim, &block);
    tf.init();
    let r = tf
        .run(&[
            "import",
            "-no-color",
            "-input=false",
            "gitlab_group_cluster.c",
            &format!("{import_group}:{id}"),
        ])
        .ok();
    assert!(r.stdout.contains("Import successful"), "{}", r.stdout);
    let state = tf.resource("gitlab_group_cluster.c");
    assert_eq!(state["id"], format!("{import_group}:{id}"));
    assert_eq!(
        state["kubernetes_token"],
        J::Null,
        "GitLab never returns the token"
    );
    // What GitLab holds, as it holds it (no newline added), as the official provider
    // imports it: its ImportStateVerify (configuration `trimspace(cert)`) then matches.
    assert_eq!(state["kubernetes_ca_cert"], ca.trim());
    // The only planned change is the token, which GitLab cannot return.
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    let actions = plan
        .stdout
        .split("Terraform will perform the following actions:")
        .nth(1)
        .unwrap_or_default();
    let changed: Vec<&str> = actions
        .lines()
        .filter(|l| l.trim_start().starts_with(['~', '+', '-']))
        .collect();
    assert_eq!(
        changed.len(),
        2,
        "expected the resource and its token only: {changed:#?}\n{}",
        plan.stdout
    );
    assert!(changed[0].contains("resource \"gitlab_group_cluster\" \"c\""));
    assert!(changed[1].contains("kubernetes_token") && changed[1].contains("(sensitive value)"));
    tf.apply().ok();
    assert_eq!(
        puts(&sim),
        vec![json!({"platform_kubernetes_attributes": {"token": "[REDACTED]"}})]
    );
    assert_eq!(tf.plan().code, 0);
}

fn import_by_numeric_group_id_round_trips(tf_version: &str) {
    import_then_plan(tf_version, "42", "42", "qa");
}

fn import_by_full_group_path_round_trips(tf_version: &str) {
    import_then_plan(tf_version, "qa/platform", "qa/platform", "qa/platform");
}

fn import_with_a_malformed_id_names_the_expected_format(tf_version: &str) {
    let (_sim, tf) = setup(tf_version, &cluster_block("c", ""));
    let r = tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        "gitlab_group_cluster.c",
        "qa-7",
    ]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("<group>:<cluster_id>"), "{}", r.stderr);
}

/// A `cluster_id` the group does not hold: the error is GitLab's "no such cluster", shown
/// at the `cluster_id` line (the group is there, so that is what to fix).
fn a_data_source_for_a_cluster_the_group_lacks_points_at_cluster_id(tf_version: &str) {
    let sim = Sim::start();
    let tf = TerraformCli::new(tf_version);
    tf.config(
        &sim,
        "data \"gitlab_group_cluster\" \"x\" {\n  group      = \"qa\"\n  cluster_id = 987654\n}\n",
    );
    tf.init();
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("no such cluster"), "{}", r.stderr);
    assert!(r.stderr.contains("cluster_id = 987654"), "{}", r.stderr);
}

fn data_sources_read_one_cluster_and_all_clusters(tf_version: &str) {
    let sim = Sim::start();
    let ca = ca_cert_pem();
    let a = existing_cluster(&sim, "qa", "alpha", ca.trim());
    let tf = TerraformCli::new(tf_version);
    tf.config(
        &sim,
        &format!(
            r#"
data "gitlab_group_cluster" "by_id" {{
  group      = "qa"
  cluster_id = {a}
}}
data "gitlab_group_cluster" "by_scope" {{
  group             = "42"
  environment_scope = "*"
}}
data "gitlab_group_clusters" "all" {{
  group = "qa"
}}
output "by_id" {{ value = data.gitlab_group_cluster.by_id }}
output "by_scope_name" {{ value = data.gitlab_group_cluster.by_scope.name }}
output "names" {{ value = [for c in data.gitlab_group_clusters.all.clusters : c.name] }}
"#
        ),
    );
    tf.init();
    tf.apply().ok();
    let out = tf.run(&["output", "-json"]).ok();
    let o: J = serde_json::from_str(&out.stdout).unwrap();
    let by_id = &o["by_id"]["value"];
    assert_eq!(by_id["name"], "alpha");
    assert_eq!(by_id["id"], format!("qa:{a}"));
    assert_eq!(by_id["kubernetes_api_url"], "https://k8s.example.com:6443");
    assert_eq!(by_id["kubernetes_ca_cert"], ca.trim());
    assert_eq!(by_id["provider_type"], "user");
    assert!(
        by_id.get("kubernetes_token").is_none(),
        "data sources never expose the token"
    );
    assert_eq!(o["by_scope_name"]["value"], "alpha");
    assert_eq!(o["names"]["value"], json!(["alpha"]));
}

fn validation_errors_name_the_attribute_before_any_api_call(tf_version: &str) {
    let (sim, tf) = setup(tf_version, &cluster_block(
        "c",
        "  kubernetes_authorization_type = \"root\"\n  kubernetes_ca_cert = \"not a certificate\"\n",
    ).replace("https://k8s.example.com:6443", "k8s.example.com"));
    sim.reset_stats();
    let r = tf.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    for (attr, text) in [
        ("kubernetes_api_url", "is not a valid URL"),
        ("kubernetes_authorization_type", "`rbac`"),
        ("kubernetes_ca_cert", "not a PEM certificate"),
    ] {
        assert!(
            r.stderr.contains(&format!("{attr} = ")),
            "diagnostic not attached to {attr}:\n{}",
            r.stderr
        );
        assert!(r.stderr.contains(text), "{text:?} missing:\n{}", r.stderr);
    }
    let plan = tf.plan();
    assert_eq!(plan.code, 1);
    assert_eq!(
        sim.stats()["requests"],
        0,
        "validation must fail before any API call"
    );
}

fn namespace_with_a_managed_cluster_is_rejected_at_plan(tf_version: &str) {
    let (_sim, tf) = setup(
        tf_version,
        &cluster_block("c", "  kubernetes_namespace = \"apps\"\n"),
    );
    let r = tf.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("managed = false") && r.stderr.contains("kubernetes_namespace = "),
        "{}",
        r.stderr
    );
}

fn bad_token_fails_clearly_and_records_nothing(tf_version: &str) {
    let sim = Sim::start();
    let tf = terraform_as(tf_version, &sim, "wrong-token", &cluster_block("c", ""));
    let r = tf.apply();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("GitLab rejected the token"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("token"), "{}", r.stderr);
    assert!(!tf.work().join("terraform.tfstate").exists() || tf.state()["values"].is_null());
    assert!(qa_clusters(&sim).is_empty());
}

fn missing_token_names_token_and_the_environment_variable(tf_version: &str) {
    let sim = Sim::start();
    let tf = TerraformCli::new(tf_version);
    let provider = provider_block(&sim, "x").replace("  token    = \"x\"\n", "");
    tf.write(
        "main.tf",
        &format!("{provider}\n{}", cluster_block("c", "")),
    );
    tf.init();
    let r = tf.plan();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("GITLAB_TOKEN") && r.stderr.contains("`token`"),
        "{}",
        r.stderr
    );
}

fn developer_token_gets_a_maintainer_role_hint(tf_version: &str) {
    let sim = Sim::start();
    let tf = terraform_as(tf_version, &sim, DEVELOPER_TOKEN, &cluster_block("c", ""));
    let r = tf.apply();
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Maintainer"), "{}", r.stderr);
    assert!(qa_clusters(&sim).is_empty());
}

fn rate_limits_and_bad_gateways_are_retried_to_exactly_one_cluster(tf_version: &str) {
    let (sim, tf) = setup(tf_version, &cluster_block("c", ""));
    sim.fault(
        json!({"method": "POST", "path": "/clusters/user", "count": 2,
        "action": {"kind": "status", "status": 429, "retry_after": 1}}),
    );
    sim.fault(
        json!({"method": "POST", "path": "/clusters/user", "count": 1,
        "action": {"kind": "status", "status": 502}}),
    );
    sim.fault(json!({"method": "GET", "path": "/clusters", "count": 1,
        "action": {"kind": "status", "status": 503}}));
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0);
}

fn lost_create_response_still_yields_exactly_one_cluster_in_state(tf_version: &str) {
    let (sim, tf) = setup(tf_version, &cluster_block("c", ""));
    sim.fault(json!({"method": "POST", "path": "/clusters/user", "count": 1, "action": {"kind": "drop_after_apply"}}));
    let r = tf.apply().ok();
    assert!(r.all().contains("Recovered a lost response"), "{}", r.all());
    let clusters = qa_clusters(&sim);
    assert_eq!(clusters.len(), 1);
    let state = tf.resource("gitlab_group_cluster.c");
    assert_eq!(state["cluster_id"], clusters[0]["id"]);
    assert_eq!(tf.plan().code, 0);
}

fn duplicated_environment_scope_names_the_clashing_cluster_and_import_command(tf_version: &str) {
    let sim = Sim::start();
    let id = existing_cluster(&sim, "qa", "hand-made", &ca_cert_pem());
    let tf = terraform_as(tf_version, &sim, MAINTAINER_TOKEN, &cluster_block("c", ""));
    let r = tf.apply();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("\"hand-made\"") && r.stderr.contains(&format!("id {id}")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("terraform import <resource address> qa:{id}")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("environment_scope"), "{}", r.stderr);
}

fn certificate_clusters_switched_off_is_said_plainly(tf_version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut seed: J =
        serde_json::from_str(&std::fs::read_to_string(sim_launcher::seed_file()).unwrap()).unwrap();
    seed["certificate_based_clusters"] = json!(false);
    let path = dir.path().join("seed.json");
    std::fs::write(&path, seed.to_string()).unwrap();
    let sim = Sim::start_seed(&path, &[]);
    let tf = terraform_as(tf_version, &sim, MAINTAINER_TOKEN, &cluster_block("c", ""));
    let r = tf.apply();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("certificate-based") && r.stderr.contains("switched off"),
        "{}",
        r.stderr
    );
}

fn destroy_leaves_no_cluster(tf_version: &str) {
    let (sim, tf) = setup(
        tf_version,
        &format!(
            "{}{}",
            cluster_block("a", ""),
            cluster_block("b", "  environment_scope = \"b\"\n")
        ),
    );
    tf.apply().ok();
    assert_eq!(qa_clusters(&sim).len(), 2);
    tf.destroy().ok();
    assert!(qa_clusters(&sim).is_empty());
}

fn token_never_appears_in_plan_output_or_trace_logs(tf_version: &str) {
    let (sim, mut tf) = setup(tf_version, &cluster_block("c", ""));
    tf.set_env("TF_LOG", "TRACE");
    let apply = tf.apply().ok();
    tf.config(
        &sim,
        &cluster_block("c", "").replace(KUBE_TOKEN, "second-secret-token-value"),
    );
    let plan = tf.plan();
    let update = tf.apply().ok();
    for run in [&apply, &plan, &update] {
        for secret in [KUBE_TOKEN, "second-secret-token-value", MAINTAINER_TOKEN] {
            assert!(
                !run.all().contains(secret),
                "{secret} leaked:\n{}",
                run.all()
            );
        }
    }
    assert!(
        apply.stderr.contains("GitLab request"),
        "provider logs should be in the TRACE output"
    );
}

fn spelling_the_group_by_path_instead_of_id_is_not_a_replacement(tf_version: &str) {
    let sim = Sim::start();
    let ca = ca_cert_pem();
    let id = existing_cluster(&sim, "qa/platform", "imported", ca.trim());
    let tf = TerraformCli::new(tf_version);
    let block = cluster_block("c", &format!("  kubernetes_ca_cert = <<-EOT\n{ca}  EOT\n"))
        .replace("\"qa\"", "\"qa/platform\"")
        .replace(
            "name               = \"c\"",
            "name               = \"imported\"",
        );
    tf.config(&sim, &block);
    tf.init();
    tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        "gitlab_group_cluster.c",
        &format!("43:{id}"),
    ])
    .ok();
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("\"43\" -> \"qa/platform\""),
        "{}",
        plan.stdout
    );
    tf.apply().ok();
    // Only the token was written; the group spelling needs no API call.
    assert_eq!(
        puts(&sim),
        vec![json!({"platform_kubernetes_attributes": {"token": "[REDACTED]"}})]
    );
    assert_eq!(
        tf.resource("gitlab_group_cluster.c")["id"],
        format!("qa/platform:{id}")
    );
    assert_eq!(tf.plan().code, 0);
    assert_eq!(sim.clusters().iter().filter(|c| c["id"] == id).count(), 1);
}

/// A work dir holding the state gitlabhq/gitlab wrote for cluster "legacy" of `qa` (created
/// in the simulator here), its configuration (`name` as given), and the migration recipe
/// done: `state replace-provider`, then `init`. Returns the cluster's id.
fn migrated_from_the_official_provider(
    sim: &Sim,
    tf_version: &str,
    name: &str,
) -> (TerraformCli, i64) {
    let ca = ca_cert_pem();
    let id = existing_cluster(sim, "qa", "legacy", ca.trim());
    let created_at = sim.clusters().iter().find(|c| c["id"] == id).unwrap()["created_at"].clone();
    let tf = TerraformCli::new(tf_version);
    let block = cluster_block("c", &format!("  kubernetes_ca_cert = <<-EOT\n{ca}  EOT\n")).replace(
        "name               = \"c\"",
        &format!("name               = \"{name}\""),
    );
    tf.config(sim, &block);
    // terraform.tfstate as gitlabhq/gitlab (SDKv2) writes it: "" for unset strings, no
    // cluster_id, the CA as GitLab returned it (stripped).
    let state = json!({
        "version": 4, "terraform_version": "1.0.3", "serial": 3, "lineage": "9b0c1c1e-5d0a-4c3e-9a53-3a2f0e7f1b11",
        "outputs": {},
        "resources": [{
            "mode": "managed", "type": "gitlab_group_cluster", "name": "c",
            "provider": "provider[\"registry.terraform.io/gitlabhq/gitlab\"]",
            "instances": [{
                "schema_version": 0,
                "sensitive_attributes": [],
                "private": "bnVsbA==",
                "attributes": {
                    "id": format!("qa:{id}"), "group": "qa", "name": "legacy", "domain": "",
                    "enabled": true, "managed": true, "created_at": created_at,
                    "provider_type": "user", "platform_type": "kubernetes", "environment_scope": "*",
                    "cluster_type": "group_type", "kubernetes_api_url": "https://k8s.example.com:6443",
                    "kubernetes_token": KUBE_TOKEN, "kubernetes_ca_cert": ca.trim(),
                    "kubernetes_authorization_type": "rbac", "management_project_id": ""
                }
            }]
        }]
    });
    tf.write("terraform.tfstate", &state.to_string());
    // The migration recipe: replace the provider in the state, then init (which would
    // otherwise try to install gitlabhq/gitlab for the state's sake).
    let r = tf
        .run(&[
            "state",
            "replace-provider",
            "-auto-approve",
            "-no-color",
            "registry.terraform.io/gitlabhq/gitlab",
            "registry.terraform.io/gitlab-rs/gitlab",
        ])
        .ok();
    assert!(
        r.stdout.contains("Successfully replaced provider"),
        "{}",
        r.all()
    );
    tf.init();
    (tf, id)
}

fn state_from_the_official_provider_migrates_with_replace_provider_and_plans_clean(
    tf_version: &str,
) {
    let sim = Sim::start();
    let (tf, id) = migrated_from_the_official_provider(&sim, tf_version, "legacy");
    let plan = tf.plan();
    assert_eq!(
        plan.code,
        0,
        "switching providers must not plan changes:\n{}",
        plan.all()
    );
    tf.run(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-no-color",
        "-input=false",
    ])
    .ok();
    let migrated = tf.resource("gitlab_group_cluster.c");
    assert_eq!(migrated["cluster_id"], id);
    assert_eq!(migrated["namespace_per_environment"], true);
    assert_eq!(migrated["domain"], J::Null);
}

/// Right after the migration, without a refresh, a rename is exactly a rename: the state
/// migrated fully (cluster_id from the id, GitLab's defaults for what the official provider
/// did not store), so the plan holds nothing else and the apply contradicts nothing.
fn a_migrated_state_applies_a_rename_exactly_without_a_refresh(tf_version: &str) {
    let sim = Sim::start();
    let (tf, id) = migrated_from_the_official_provider(&sim, tf_version, "renamed");
    let plan = tf.run(&["plan", "-refresh=false", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout.contains("1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("namespace_per_environment"),
        "{}",
        plan.stdout
    );
    tf.run(&[
        "apply",
        "-refresh=false",
        "-auto-approve",
        "-no-color",
        "-input=false",
    ])
    .ok();
    assert_eq!(puts(&sim), vec![json!({"name": "renamed"})]);
    let s = tf.resource("gitlab_group_cluster.c");
    assert_eq!(s["cluster_id"], id);
    assert_eq!(s["name"], "renamed");
    assert_eq!(tf.plan().code, 0);
}

on_every_terraform!(
    create_then_plan_has_no_changes_and_state_matches_gitlab,
    each_in_place_change_sends_a_put_with_only_that_field,
    changing_group_or_authorization_type_plans_a_replacement,
    drift_on_name_and_enabled_is_detected_and_corrected,
    cluster_deleted_outside_terraform_is_planned_for_recreation,
    import_by_numeric_group_id_round_trips,
    import_by_full_group_path_round_trips,
    import_with_a_malformed_id_names_the_expected_format,
    data_sources_read_one_cluster_and_all_clusters,
    a_data_source_for_a_cluster_the_group_lacks_points_at_cluster_id,
    validation_errors_name_the_attribute_before_any_api_call,
    namespace_with_a_managed_cluster_is_rejected_at_plan,
    bad_token_fails_clearly_and_records_nothing,
    missing_token_names_token_and_the_environment_variable,
    developer_token_gets_a_maintainer_role_hint,
    rate_limits_and_bad_gateways_are_retried_to_exactly_one_cluster,
    lost_create_response_still_yields_exactly_one_cluster_in_state,
    duplicated_environment_scope_names_the_clashing_cluster_and_import_command,
    certificate_clusters_switched_off_is_said_plainly,
    destroy_leaves_no_cluster,
    token_never_appears_in_plan_output_or_trace_logs,
    spelling_the_group_by_path_instead_of_id_is_not_a_replacement,
    state_from_the_official_provider_migrates_with_replace_provider_and_plans_clean,
    a_migrated_state_applies_a_rename_exactly_without_a_refresh,
);
