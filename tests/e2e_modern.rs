//! End-to-end: the flows of Terraform >= 1.11 (the newest found: `TF_ACC_TERRAFORM_PATH`,
//! else `terraform` on PATH) against the simulator — `import` blocks with
//! `-generate-config-out`, `removed`, `moved`, `-replace`, `plan -refresh-only`, the
//! write-only `kubernetes_token_wo` (rotation, switching, never in state), adoption without
//! a token — and what Terraform 1.0.3 says to `kubernetes_token_wo`.

mod support;

use serde_json::{Value as J, json};
use support::families::{GROUP, GROUP_ONLY, PROJECT_AND_INSTANCE};
use support::*;

const WO_TOKEN: &str = "wo-kube-token-first-5ecr3t";
const WO_TOKEN_2: &str = "wo-kube-token-second-5ecr3t";

/// PUT and POST bodies the simulator received, oldest first (tokens shown as "[REDACTED]").
fn writes(sim: &Sim) -> Vec<(String, J)> {
    sim.log()
        .into_iter()
        .filter(|e| e["method"] == "PUT" || e["method"] == "POST" || e["method"] == "DELETE")
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().to_string(),
                e["body"].clone(),
            )
        })
        .collect()
}

fn qa_clusters(sim: &Sim) -> Vec<J> {
    sim.clusters()
        .into_iter()
        .filter(|c| c["group_id"] == 42)
        .collect()
}

/// Terraform `version`, initialised, with `body` after the provider block.
fn terraform_with(version: &str, sim: &Sim, body: &str) -> TerraformCli {
    let tf = TerraformCli::new(version);
    tf.config(sim, body);
    tf.init();
    tf
}

/// A cluster block without any token line; `attrs` added inside.
fn tokenless_block(name: &str, attrs: &str) -> String {
    tokenless_block_of(&GROUP, name, attrs)
}

fn tokenless_block_of(f: &Family, name: &str, attrs: &str) -> String {
    f.block(name, attrs)
        .replace(&format!("  kubernetes_token   = \"{KUBE_TOKEN}\"\n"), "")
}

/// A cluster block with the write-only token (value from `var.wo`) at `version`.
fn wo_block(name: &str, version: i64) -> String {
    wo_block_of(&GROUP, name, version)
}

fn wo_block_of(f: &Family, name: &str, version: i64) -> String {
    tokenless_block_of(
        f,
        name,
        &format!(
            "  kubernetes_token_wo         = var.wo\n  kubernetes_token_wo_version = {version}\n"
        ),
    )
}

/// One configuration holding `block(f)` for each family.
fn each(fams: &[&Family], block: impl Fn(&Family) -> String) -> String {
    fams.iter().map(|f| block(f)).collect()
}

/// Terraform `version`, initialised, with each family's writer (`support::writers`) and
/// `body`.
fn terraform_for(version: &str, sim: &Sim, body: &str) -> TerraformCli {
    let tf = TerraformCli::new(version);
    tf.write("main.tf", &format!("{}\n{body}", writers(sim)));
    tf.init();
    tf
}

fn rewrite(tf: &TerraformCli, sim: &Sim, body: &str) {
    tf.write("main.tf", &format!("{}\n{body}", writers(sim)));
}

const WO_VAR: &str = "variable \"wo\" {\n  type      = string\n  sensitive = true\n}\n";

/// Creates a cluster through the API (as another tool would) and returns its id.
fn existing_cluster(sim: &Sim, name: &str) -> i64 {
    let (status, body) = sim.api(
        reqwest::Method::POST,
        "/groups/qa/clusters/user",
        MAINTAINER_TOKEN,
        Some(json!({
            "name": name,
            "environment_scope": "*",
            "platform_kubernetes_attributes": {
                "api_url": "https://k8s.example.com:6443", "token": KUBE_TOKEN
            }
        })),
    );
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

/// Neither the state file nor any output holds `secrets`.
#[track_caller]
fn assert_secrets_absent(tf: &TerraformCli, runs: &[&Run], secrets: &[&str]) {
    let state = std::fs::read_to_string(tf.work().join("terraform.tfstate")).unwrap_or_default();
    for s in secrets {
        assert!(!state.contains(s), "{s} is in terraform.tfstate:\n{state}");
        for r in runs {
            assert!(!r.all().contains(s), "{s} leaked:\n{}", r.all());
        }
    }
}

fn apply_with(tf: &TerraformCli, args: &[&str]) -> Run {
    let mut all = vec!["apply", "-auto-approve", "-no-color", "-input=false"];
    all.extend_from_slice(args);
    tf.run(&all)
}

fn plan_with(tf: &TerraformCli, args: &[&str]) -> Run {
    let mut all = vec!["plan", "-detailed-exitcode", "-no-color", "-input=false"];
    all.extend_from_slice(args);
    tf.run(&all)
}

#[test]
fn import_block_with_generate_config_out_applies_with_no_change_and_no_token() {
    let sim = Sim::start();
    let id = existing_cluster(&sim, "adopted");
    let tf = terraform_with(
        MODERN,
        &sim,
        &format!("import {{\n  to = gitlab_group_cluster.c\n  id = \"qa:{id}\"\n}}\n"),
    );
    let r = plan_with(&tf, &["-generate-config-out=generated.tf"]);
    assert_eq!(r.code, 2, "{}", r.all());
    r.assert_consistent();
    let generated = std::fs::read_to_string(tf.work().join("generated.tf")).expect("generated.tf");
    assert!(
        generated.contains("kubernetes_token") && generated.contains("= null # sensitive"),
        "{generated}"
    );
    sim.reset_stats();
    let r = tf.apply().ok();
    assert!(
        r.stdout
            .contains("1 imported, 0 added, 0 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert!(
        writes(&sim).is_empty(),
        "adoption wrote to GitLab: {:?}",
        writes(&sim)
    );
    let state = tf.resource("gitlab_group_cluster.c");
    assert_eq!(state["cluster_id"], id);
    assert_eq!(state["kubernetes_token"], J::Null);
    assert_eq!(tf.plan().code, 0, "perpetual diff after adoption");
}

fn import_block_with_a_write_only_token_sends_it_once_and_never_stores_it(fams: &[&Family]) {
    let sim = Sim::start();
    let body = each(fams, |f| {
        let id = f.existing_cluster(&sim, f.owner, "c", "");
        format!(
            "import {{\n  to = {}\n  id = \"{}\"\n}}\n{}",
            f.address("c"),
            f.import_id(f.owner, id),
            wo_block_of(f, "c", 1)
        )
    });
    let mut tf = terraform_for(MODERN, &sim, &format!("{WO_VAR}{body}"));
    tf.set_env("TF_VAR_wo", WO_TOKEN);
    sim.reset_stats();
    let r = tf.apply().ok();
    let n = fams.len();
    assert!(
        r.stdout
            .contains(&format!("{n} imported, 0 added, {n} changed, 0 destroyed")),
        "{}",
        r.stdout
    );
    assert_eq!(writes(&sim).len(), n, "{:?}", writes(&sim));
    for f in fams {
        assert_eq!(
            f.puts(&sim),
            [json!({"platform_kubernetes_attributes": {"token": "[REDACTED]"}})],
            "{}",
            f.name
        );
    }
    let plan = tf.plan();
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_secrets_absent(&tf, &[&r, &plan], &[WO_TOKEN]);
}

#[test]
fn import_block_with_a_write_only_token_sends_it_once_and_never_stores_it_for_group_clusters() {
    import_block_with_a_write_only_token_sends_it_once_and_never_stores_it(&GROUP_ONLY);
}

#[test]
fn import_block_with_a_write_only_token_sends_it_once_and_never_stores_it_for_project_and_instance_clusters()
 {
    import_block_with_a_write_only_token_sends_it_once_and_never_stores_it(&PROJECT_AND_INSTANCE);
}

fn write_only_token_rotates_with_its_version_and_switching_from_kubernetes_token_drops_it_from_state(
    fams: &[&Family],
) {
    let sim = Sim::start();
    let mut tf = terraform_for(
        MODERN,
        &sim,
        &format!("{WO_VAR}{}", each(fams, |f| f.block("c", ""))),
    );
    tf.set_env("TF_VAR_wo", WO_TOKEN);
    let created = tf.apply().ok();
    let state = std::fs::read_to_string(tf.work().join("terraform.tfstate")).expect("state");
    assert!(
        state.contains(KUBE_TOKEN),
        "kubernetes_token is kept in state"
    );
    let n = fams.len();
    let token_put = json!({"platform_kubernetes_attributes": {"token": "[REDACTED]"}});

    // Switch: one PUT with the token only; the old token leaves the state.
    rewrite(
        &tf,
        &sim,
        &format!("{WO_VAR}{}", each(fams, |f| wo_block_of(f, "c", 1))),
    );
    sim.reset_stats();
    let switched = tf.apply().ok();
    assert!(
        switched.stdout.contains(&format!("0 added, {n} changed")),
        "{}",
        switched.stdout
    );
    assert_eq!(writes(&sim).len(), n, "{:?}", writes(&sim));
    for f in fams {
        assert_eq!(f.puts(&sim), std::slice::from_ref(&token_put), "{}", f.name);
    }
    assert_eq!(tf.plan().code, 0);

    // A new value under the same version is invisible to Terraform: nothing planned.
    tf.set_env("TF_VAR_wo", WO_TOKEN_2);
    let same = tf.plan();
    assert_eq!(same.code, 0, "{}", same.all());
    // Bumping the version sends it.
    rewrite(
        &tf,
        &sim,
        &format!("{WO_VAR}{}", each(fams, |f| wo_block_of(f, "c", 2))),
    );
    sim.reset_stats();
    let rotated = tf.apply().ok();
    assert!(
        rotated.stdout.contains(&format!("0 added, {n} changed")),
        "{}",
        rotated.stdout
    );
    assert_eq!(writes(&sim).len(), n, "{:?}", writes(&sim));
    for f in fams {
        assert_eq!(f.puts(&sim), std::slice::from_ref(&token_put), "{}", f.name);
    }
    let after = tf.plan();
    assert_eq!(after.code, 0, "{}", after.all());
    for f in fams {
        let state = tf.resource(&f.address("c"));
        assert_eq!(state["kubernetes_token"], J::Null);
        assert_eq!(state["kubernetes_token_wo"], J::Null);
        assert_eq!(state["kubernetes_token_wo_version"], 2);
    }
    assert_secrets_absent(
        &tf,
        &[&created, &switched, &same, &rotated, &after],
        &[KUBE_TOKEN, WO_TOKEN, WO_TOKEN_2],
    );
}

#[test]
fn write_only_token_rotates_with_its_version_and_switching_from_kubernetes_token_drops_it_from_state_for_group_clusters()
 {
    write_only_token_rotates_with_its_version_and_switching_from_kubernetes_token_drops_it_from_state(
        &GROUP_ONLY,
    );
}

#[test]
fn write_only_token_rotates_with_its_version_and_switching_from_kubernetes_token_drops_it_from_state_for_project_and_instance_clusters()
 {
    write_only_token_rotates_with_its_version_and_switching_from_kubernetes_token_drops_it_from_state(
        &PROJECT_AND_INSTANCE,
    );
}

#[test]
fn removing_the_token_from_an_existing_clusters_configuration_sends_nothing() {
    let sim = Sim::start();
    let tf = terraform_with(MODERN, &sim, &cluster_block("c", ""));
    tf.apply().ok();
    tf.config(&sim, &tokenless_block("c", ""));
    sim.reset_stats();
    tf.apply().ok();
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert_eq!(
        tf.resource("gitlab_group_cluster.c")["kubernetes_token"],
        J::Null
    );
    assert_eq!(tf.plan().code, 0);
}

#[test]
fn adopting_with_terraform_import_needs_no_token() {
    let sim = Sim::start();
    let id = existing_cluster(&sim, "c");
    let tf = terraform_with(MODERN, &sim, &tokenless_block("c", ""));
    tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        "gitlab_group_cluster.c",
        &format!("qa:{id}"),
    ])
    .ok();
    let plan = tf.plan();
    assert_eq!(
        plan.code,
        0,
        "an adopted cluster needs no token:\n{}",
        plan.all()
    );
}

#[test]
fn removed_block_with_destroy_false_forgets_the_cluster_and_leaves_it_in_gitlab() {
    let sim = Sim::start();
    let tf = terraform_with(MODERN, &sim, &cluster_block("c", ""));
    tf.apply().ok();
    tf.config(
        &sim,
        "removed {\n  from = gitlab_group_cluster.c\n  lifecycle {\n    destroy = false\n  }\n}\n",
    );
    sim.reset_stats();
    let r = tf.apply().ok();
    assert!(r.stdout.contains("0 destroyed"), "{}", r.stdout);
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert_eq!(qa_clusters(&sim).len(), 1, "the cluster stays in GitLab");
    let state = tf.state();
    assert!(
        state["values"]["root_module"]["resources"].is_null(),
        "{state}"
    );
}

#[test]
fn moved_block_renames_the_address_without_any_write() {
    let sim = Sim::start();
    let tf = terraform_with(MODERN, &sim, &cluster_block("c", ""));
    tf.apply().ok();
    let before = tf.resource("gitlab_group_cluster.c");
    tf.config(
        &sim,
        &format!(
            "moved {{\n  from = gitlab_group_cluster.c\n  to   = gitlab_group_cluster.renamed\n}}\n{}",
            cluster_block("renamed", "").replace("name               = \"renamed\"", "name               = \"c\"")
        ),
    );
    let plan = tf.plan();
    assert_eq!(
        plan.code,
        2,
        "a move is a change to the state:\n{}",
        plan.all()
    );
    plan.assert_consistent();
    assert!(plan.stdout.contains("has moved to"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("0 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    sim.reset_stats();
    tf.apply().ok();
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert_eq!(
        tf.resource("gitlab_group_cluster.renamed")["id"],
        before["id"]
    );
}

#[test]
fn replace_flag_recreates_the_cluster_with_the_write_only_token() {
    let sim = Sim::start();
    let mut tf = terraform_with(MODERN, &sim, &format!("{WO_VAR}{}", wo_block("c", 1)));
    tf.set_env("TF_VAR_wo", WO_TOKEN);
    let created = tf.apply().ok();
    let old = tf.resource("gitlab_group_cluster.c")["cluster_id"].clone();
    sim.reset_stats();
    let r = apply_with(&tf, &["-replace=gitlab_group_cluster.c"]).ok();
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    let w = writes(&sim);
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0].0, "DELETE");
    assert_eq!(w[1].0, "POST");
    assert_eq!(
        w[1].1["platform_kubernetes_attributes"]["token"],
        "[REDACTED]"
    );
    let new = tf.resource("gitlab_group_cluster.c")["cluster_id"].clone();
    assert_ne!(old, new);
    assert_eq!(qa_clusters(&sim).len(), 1);
    assert_eq!(tf.plan().code, 0);
    assert_secrets_absent(&tf, &[&created, &r], &[WO_TOKEN]);
}

#[test]
fn plan_refresh_only_shows_drift_and_changes_nothing_in_gitlab() {
    let sim = Sim::start();
    let tf = terraform_with(MODERN, &sim, &cluster_block("c", ""));
    tf.apply().ok();
    let id = qa_clusters(&sim)[0]["id"].as_i64().expect("id");
    sim.patch_cluster(id, json!({"name": "renamed-by-hand"}));
    sim.reset_stats();
    let r = plan_with(&tf, &["-refresh-only"]);
    assert_eq!(r.code, 2, "{}", r.all());
    r.assert_consistent();
    assert!(
        r.stdout.contains("changed outside of Terraform"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\"c\" -> \"renamed-by-hand\""),
        "{}",
        r.stdout
    );
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
    assert_eq!(qa_clusters(&sim)[0]["name"], "renamed-by-hand");
}

fn creating_without_a_token_fails_at_plan_naming_both_before_any_request(version: &str) {
    let sim = Sim::start();
    for block in [
        tokenless_block("c", ""),
        tokenless_block("c", "  kubernetes_token = null\n"),
    ] {
        let tf = terraform_with(version, &sim, &block);
        sim.reset_stats();
        let r = tf.plan();
        assert_eq!(r.code, 1, "{}", r.all());
        r.assert_consistent();
        assert!(
            r.stderr.contains("`kubernetes_token`") && r.stderr.contains("`kubernetes_token_wo`"),
            "{}",
            r.stderr
        );
        assert!(
            !sim.log().iter().any(|e| e["method"] != "GET"),
            "{:?}",
            sim.log()
        );
    }
    assert!(qa_clusters(&sim).is_empty());
}

fn both_tokens_are_refused_naming_both_attributes_at_no_line(version: &str) {
    let sim = Sim::start();
    let tf = terraform_with(
        version,
        &sim,
        &cluster_block("c", &format!("  kubernetes_token_wo = \"{WO_TOKEN}\"\n")),
    );
    let r = tf.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    r.assert_consistent();
    assert!(
        r.stderr.contains("Conflicting Kubernetes tokens"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("(`kubernetes_token`)") && r.stderr.contains("(`kubernetes_token_wo`)"),
        "each token named:\n{}",
        r.stderr
    );
    // Terraform would quote the line a diagnostic points at, literal token and all: these
    // point at no line.
    assert!(!r.all().contains(WO_TOKEN), "{}", r.all());
    assert!(!r.all().contains(KUBE_TOKEN), "{}", r.all());
}

#[test]
fn both_tokens_from_variables_are_refused_at_plan() {
    let sim = Sim::start();
    let mut tf = terraform_with(
        MODERN,
        &sim,
        &format!(
            "{WO_VAR}{}",
            cluster_block("c", "  kubernetes_token_wo = var.wo\n")
        ),
    );
    tf.set_env("TF_VAR_wo", WO_TOKEN);
    // `validate` sees the variable as unknown; the plan sees its value.
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    r.assert_consistent();
    assert!(
        r.stderr.contains("Conflicting Kubernetes tokens"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("(`kubernetes_token_wo`)"), "{}", r.stderr);
    assert!(!r.all().contains(WO_TOKEN));
    assert!(qa_clusters(&sim).is_empty());
}

/// A terraform.tfstate as 0.1.0 of this provider wrote it (schema version 0, no write-only
/// attributes) is read by 0.2.0 and plans no change.
fn state_written_by_0_1_0_plans_no_change(version: &str) {
    let sim = Sim::start();
    let id = existing_cluster(&sim, "c");
    let created_at = sim
        .clusters()
        .iter()
        .find(|c| c["id"] == id)
        .expect("cluster")["created_at"]
        .clone();
    let tf = TerraformCli::new(version);
    tf.config(&sim, &cluster_block("c", ""));
    let state = json!({
        "version": 4, "terraform_version": "1.0.3", "serial": 1,
        "lineage": "0b6f0d7e-2d7c-4c1e-8d59-6f2a4e0d0a10", "outputs": {},
        "resources": [{
            "mode": "managed", "type": "gitlab_group_cluster", "name": "c",
            "provider": format!("provider[\"{PROVIDER_SOURCE}\"]"),
            "instances": [{
                "schema_version": 0,
                "sensitive_attributes": [],
                "attributes": {
                    "id": format!("qa:{id}"), "group": "qa", "name": "c", "domain": null,
                    "enabled": true, "managed": true,
                    "kubernetes_api_url": "https://k8s.example.com:6443",
                    "kubernetes_token": KUBE_TOKEN, "kubernetes_ca_cert": null,
                    "kubernetes_authorization_type": "rbac", "kubernetes_namespace": null,
                    "environment_scope": "*", "namespace_per_environment": true,
                    "management_project_id": null, "cluster_id": id,
                    "cluster_type": "group_type", "created_at": created_at,
                    "provider_type": "user", "platform_type": "kubernetes"
                }
            }]
        }]
    });
    tf.write("terraform.tfstate", &state.to_string());
    tf.init();
    sim.reset_stats();
    let plan = tf.plan();
    assert_eq!(
        plan.code,
        0,
        "0.1.0's state must plan no change:\n{}",
        plan.all()
    );
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
}

on_every_terraform!(
    state_written_by_0_1_0_plans_no_change,
    creating_without_a_token_fails_at_plan_naming_both_before_any_request,
    both_tokens_are_refused_naming_both_attributes_at_no_line,
);

fn terraform_1_0_3_refuses_kubernetes_token_wo_naming_it_and_pointing_to_kubernetes_token(
    fams: &[&Family],
) {
    let sim = Sim::start();
    let mut tf = terraform_for(
        "1.0.3",
        &sim,
        &format!("{WO_VAR}{}", each(fams, |f| wo_block_of(f, "c", 1))),
    );
    tf.set_env("TF_VAR_wo", WO_TOKEN);
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    r.assert_consistent();
    for w in [
        "Terraform 1.11",
        "OpenTofu 1.11",
        "`kubernetes_token`",
        "`kubernetes_token_wo` needs",
    ] {
        assert!(r.stderr.contains(w), "{w:?} missing:\n{}", r.stderr);
    }
    for f in fams {
        assert!(
            r.stderr.contains(&format!("with {},", f.address("c"))),
            "{}: {}",
            f.name,
            r.stderr
        );
        assert!(f.clusters(&sim).is_empty(), "{}", f.name);
    }
    // Named in the summary, at no line: the line would show whatever the token is set to.
    assert!(
        !r.stderr.contains(":   kubernetes_token_wo "),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(WO_TOKEN));
    assert!(!tf.work().join("terraform.tfstate").exists() || tf.state()["values"].is_null());
}

#[test]
fn terraform_1_0_3_refuses_kubernetes_token_wo_naming_it_and_pointing_to_kubernetes_token_for_group_clusters()
 {
    terraform_1_0_3_refuses_kubernetes_token_wo_naming_it_and_pointing_to_kubernetes_token(
        &GROUP_ONLY,
    );
}

#[test]
fn terraform_1_0_3_refuses_kubernetes_token_wo_naming_it_and_pointing_to_kubernetes_token_for_project_and_instance_clusters()
 {
    terraform_1_0_3_refuses_kubernetes_token_wo_naming_it_and_pointing_to_kubernetes_token(
        &PROJECT_AND_INSTANCE,
    );
}

/// A value unknown at plan (here another cluster's `created_at`) gets the same clear error
/// on 1.0.3, not Terraform's "Provider produced invalid plan".
#[test]
fn terraform_1_0_3_refuses_an_unknown_kubernetes_token_wo_the_same_way() {
    let sim = Sim::start();
    let other = cluster_block("a", "  environment_scope  = \"a/*\"\n");
    let wo = tokenless_block(
        "c",
        "  kubernetes_token_wo         = gitlab_group_cluster.a.created_at\n  kubernetes_token_wo_version = 1\n",
    );
    let tf = terraform_with("1.0.3", &sim, &format!("{other}{wo}"));
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Terraform 1.11") && r.stderr.contains("`kubernetes_token`"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("invalid plan"), "{}", r.all());
    assert!(qa_clusters(&sim).is_empty());
}

#[test]
fn the_modern_terraform_found_is_1_11_or_later() {
    let v = terraform_modern_version();
    let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    assert!((major, minor) >= MODERN_MIN, "found {v:?}");
}

#[test]
fn the_write_only_token_never_appears_in_trace_logs() {
    let sim = Sim::start();
    let mut tf = terraform_with(MODERN, &sim, &format!("{WO_VAR}{}", wo_block("c", 1)));
    tf.set_env("TF_VAR_wo", WO_TOKEN);
    tf.set_env("TF_LOG", "TRACE");
    let created = tf.apply().ok();
    tf.config(&sim, &format!("{WO_VAR}{}", wo_block("c", 2)));
    tf.set_env("TF_VAR_wo", WO_TOKEN_2);
    let rotated = tf.apply().ok();
    assert!(
        created.stderr.contains("GitLab request"),
        "provider logs should be in the TRACE output"
    );
    assert_secrets_absent(&tf, &[&created, &rotated], &[WO_TOKEN, WO_TOKEN_2]);
}
