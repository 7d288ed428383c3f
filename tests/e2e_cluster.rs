//! End-to-end: the real Terraform CLI drives the provider against the GitLab simulator.
//! Every test body is written over the families of clusters (`tests/support/families.rs`)
//! and runs for group clusters on Terraform 1.0.3 (from PyPI) and on the newest Terraform
//! 1.11 or later found, and for project and instance clusters side by side in one
//! configuration on the newest Terraform (and on 1.0.3 too for import, drift, respellings,
//! replacements and the migration from the official provider): `on_every_family!`. Each
//! test has its own simulator and work directory.

mod support;

use serde_json::{Value as J, json};
use support::*;

/// One configuration holding `block(f)` for each family.
fn each(fams: &[&Family], block: impl Fn(&Family) -> String) -> String {
    fams.iter().map(|f| block(f)).collect()
}

/// "N added" for one change per family.
fn count(fams: &[&Family], what: &str) -> String {
    format!("{} {what}", fams.len())
}

fn setup(tf_version: &str, body: &str) -> (Sim, TerraformCli) {
    let sim = Sim::start();
    let tf = terraform_as(tf_version, &writers(&sim), body);
    (sim, tf)
}

/// Terraform `tf_version`, initialised in a fresh directory, with `providers` (the provider
/// blocks, see `support::providers`) and `body` after them.
fn terraform_as(tf_version: &str, providers: &str, body: &str) -> TerraformCli {
    let tf = TerraformCli::new(tf_version);
    tf.write("main.tf", &format!("{providers}\n{body}"));
    tf.init();
    tf
}

/// Rewrites main.tf: each family's writer, then `body`.
fn rewrite(tf: &TerraformCli, sim: &Sim, body: &str) {
    tf.write("main.tf", &format!("{}\n{body}", writers(sim)));
}

/// The cluster id of `f`'s only cluster in the simulator.
fn only_id(sim: &Sim, f: &Family) -> i64 {
    let clusters = f.clusters(sim);
    assert_eq!(clusters.len(), 1, "{}: {clusters:?}", f.name);
    clusters[0]["id"].as_i64().expect("id")
}

/// A CA certificate as a heredoc attribute line.
fn ca_line(ca: &str) -> String {
    format!("  kubernetes_ca_cert = <<-EOT\n{}\n  EOT\n", ca.trim())
}

fn create_then_plan_has_no_changes_and_state_matches_gitlab(tf_version: &str, fams: &[&Family]) {
    let ca = ca_cert_pem(); // ends with a newline, which GitLab strips
    let (sim, tf) = setup(
        tf_version,
        &each(fams, |f| {
            f.block(
                "c",
                &format!("  domain = \"example.com\"\n  kubernetes_ca_cert = <<-EOT\n{ca}  EOT\n"),
            )
        }),
    );
    let apply = tf.apply().ok();
    assert!(
        apply.stdout.contains(&count(fams, "added")),
        "{}",
        apply.stdout
    );
    assert!(
        !apply.all().contains(KUBE_TOKEN),
        "the token leaked into apply output"
    );
    let plan = tf.plan();
    assert_eq!(plan.code, 0, "perpetual diff after apply:\n{}", plan.all());

    for f in fams {
        let clusters = f.clusters(&sim);
        assert_eq!(clusters.len(), 1, "{}", f.name);
        let c = tf.resource(&f.address("c"));
        let id = clusters[0]["id"].as_i64().unwrap();
        assert_eq!(c["id"], f.import_id(f.owner, id));
        if let Some(attr) = f.owner_attr {
            assert_eq!(c[attr], f.owner);
        }
        assert_eq!(c["cluster_id"], id);
        assert_eq!(c["enabled"], true);
        assert_eq!(c["managed"], true);
        assert_eq!(c["environment_scope"], "*");
        assert_eq!(c["kubernetes_authorization_type"], "rbac");
        assert_eq!(c["namespace_per_environment"], true);
        assert_eq!(c["cluster_type"], f.cluster_type);
        assert_eq!(clusters[0]["cluster_type"], f.cluster_type);
        assert_eq!(c["provider_type"], "user");
        assert_eq!(c["platform_type"], "kubernetes");
        assert_eq!(c["created_at"], clusters[0]["created_at"]);
        assert_eq!(clusters[0]["platform_kubernetes"]["ca_cert"], ca.trim());
    }
}

fn each_in_place_change_sends_a_put_with_only_that_field(tf_version: &str, fams: &[&Family]) {
    let ca = ca_cert_pem();
    // FAMILY stands for the family's name: clusters of one management project need scopes
    // of their own (GitLab's `unique_management_project_environment_scope`).
    let base = |extra: &str| {
        each(fams, |f| {
            let block = f.block(
                "c",
                &format!("  managed = false\n{}", extra.replace("FAMILY", f.name)),
            );
            if extra.contains("name = \"renamed\"") {
                block.replacen("  name               = \"c\"\n", "", 1)
            } else {
                block
            }
        })
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
            "  environment_scope = \"review-FAMILY/*\"\n".into(),
            json!({"environment_scope": "review-FAMILY/*"}),
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
        rewrite(&tf, &sim, &block);
        let r = tf.apply().ok();
        assert!(
            r.stdout.contains(&count(fams, "changed")),
            "step {i}: {}",
            r.stdout
        );
        for f in fams {
            let all = f.puts(&sim);
            assert_eq!(all.len(), i + 1, "{}: one PUT per step", f.name);
            let want: J =
                serde_json::from_str(&want.to_string().replace("FAMILY", f.name)).expect("json");
            assert_eq!(all[i], want, "{}: step {i}: PUT body", f.name);
        }
        assert_eq!(tf.plan().code, 0, "step {i}: no changes after apply");
    }
    // The token and the API URL: the token is sent, but never logged by the simulator.
    // GitLab's PUT resets namespace_per_environment to true unless told otherwise, so
    // every later PUT carries `false` along.
    rewrite(
        &tf,
        &sim,
        &block
            .replace(KUBE_TOKEN, "rotated-token-value")
            .replace("k8s.example.com", "k8s2.example.com"),
    );
    let r = tf.apply().ok();
    assert!(!r.all().contains("rotated-token-value"));
    for f in fams {
        assert_eq!(
            f.puts(&sim).pop().unwrap(),
            json!({
                "namespace_per_environment": false,
                "platform_kubernetes_attributes": {"api_url": "https://k8s2.example.com:6443", "token": "[REDACTED]"}
            }),
            "{}",
            f.name
        );
    }
    // managed back to true needs the namespace gone first (on a group or instance cluster):
    // both in one PUT.
    let block = block
        .replace("  managed = false\n", "")
        .replace("  kubernetes_namespace = \"apps\"\n", "");
    rewrite(
        &tf,
        &sim,
        &block
            .replace(KUBE_TOKEN, "rotated-token-value")
            .replace("k8s.example.com", "k8s2.example.com"),
    );
    tf.apply().ok();
    for f in fams {
        assert_eq!(
            f.puts(&sim).pop().unwrap(),
            json!({"managed": true, "namespace_per_environment": false, "platform_kubernetes_attributes": {"namespace": null}}),
            "{}",
            f.name
        );
    }
    assert_eq!(tf.plan().code, 0);
}

/// A new `kubernetes_authorization_type` replaces every family's cluster; another owner (a
/// group's subgroup, the maintainer's own project in their user namespace) replaces it too.
fn changing_the_owner_or_authorization_type_plans_a_replacement(
    tf_version: &str,
    fams: &[&Family],
) {
    let (sim, tf) = setup(tf_version, &each(fams, |f| f.block("c", "")));
    tf.apply().ok();
    rewrite(
        &tf,
        &sim,
        &each(fams, |f| {
            f.block("c", "  kubernetes_authorization_type = \"abac\"\n")
        }),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    let n = fams.len();
    assert!(
        plan.stdout
            .contains(&format!("{n} to add, 0 to change, {n} to destroy")),
        "{}",
        plan.stdout
    );

    let owned: Vec<&Family> = fams
        .iter()
        .copied()
        .filter(|f| f.owner_attr.is_some())
        .collect();
    rewrite(
        &tf,
        &sim,
        &each(fams, |f| f.block_in(f.other_owner, "c", "")),
    );
    let plan = tf.plan();
    assert!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    let moved = owned.len();
    assert!(
        plan.stdout
            .contains(&format!("{moved} to add, 0 to change, {moved} to destroy")),
        "{}",
        plan.stdout
    );
    for f in &owned {
        assert!(
            plan.stdout.contains(&format!(
                "\"{}\" -> \"{}\" # forces replacement",
                f.owner, f.other_owner
            )),
            "{}",
            plan.stdout
        );
    }
    tf.apply().ok();
    for f in fams {
        if f.owner_attr.is_some() {
            assert_eq!(f.clusters_of(&sim, f.other_owner_id).len(), 1, "{}", f.name);
            assert_eq!(f.clusters(&sim).len(), 0, "{}", f.name);
        } else {
            assert_eq!(f.clusters(&sim).len(), 1, "{}", f.name);
        }
    }
    assert_eq!(tf.plan().code, 0);
}

fn drift_on_name_and_enabled_is_detected_and_corrected(tf_version: &str, fams: &[&Family]) {
    let (sim, tf) = setup(tf_version, &each(fams, |f| f.block("c", "")));
    tf.apply().ok();
    for f in fams {
        sim.patch_cluster(
            only_id(&sim, f),
            json!({"name": "changed-by-hand", "enabled": false}),
        );
    }
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
    for f in fams {
        assert!(
            plan.stdout
                .contains(&format!("# {} will be updated in-place", f.address("c"))),
            "{}",
            plan.stdout
        );
    }
    tf.apply().ok();
    for f in fams {
        assert_eq!(
            f.puts(&sim).pop().unwrap(),
            json!({"enabled": true, "name": "c"}),
            "{}",
            f.name
        );
        assert_eq!(f.clusters(&sim)[0]["name"], "c");
    }
    assert_eq!(tf.plan().code, 0);
}

fn cluster_deleted_outside_terraform_is_planned_for_recreation(tf_version: &str, fams: &[&Family]) {
    let (sim, tf) = setup(tf_version, &each(fams, |f| f.block("c", "")));
    tf.apply().ok();
    for f in fams {
        sim.delete_cluster(only_id(&sim, f));
    }
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    for f in fams {
        assert!(
            plan.stdout
                .contains(&format!("# {} will be created", f.address("c"))),
            "{}",
            plan.stdout
        );
    }
    tf.apply().ok();
    for f in fams {
        assert_eq!(f.clusters(&sim).len(), 1, "{}", f.name);
    }
    assert_eq!(tf.plan().code, 0);
}

/// Imports a cluster of each family made outside Terraform, its owner spelled by id
/// (`by_id`: the family's own owner; the instance has none) or by full path (another
/// owner: a subgroup, a project in a user namespace; families with an owner only); the
/// only planned change is then the token, which GitLab never returns.
fn import_then_plan(tf_version: &str, fams: &[&Family], by_id: bool) {
    let sim = Sim::start();
    let ca = ca_cert_pem();
    let mut body = String::new();
    let mut imported = Vec::new();
    for f in fams.iter().filter(|f| by_id || f.owner_attr.is_some()) {
        let (path, spelled) = if by_id {
            (f.owner, f.owner_id.to_string())
        } else {
            (f.other_owner, f.other_owner.to_string())
        };
        let id = f.existing_cluster(&sim, path, "imported", ca.trim());
        body.push_str(&f.block_in(&spelled, "c", &ca_line(&ca)).replace(
            "name               = \"c\"",
            "name               = \"imported\"",
        ));
        imported.push((*f, f.import_id(&spelled, id)));
    }
    let tf = terraform_as(tf_version, &writers(&sim), &body);
    for (f, import_id) in &imported {
        let r = tf
            .run(&[
                "import",
                "-no-color",
                "-input=false",
                &f.address("c"),
                import_id,
            ])
            .ok();
        assert!(r.stdout.contains("Import successful"), "{}", r.stdout);
        let state = tf.resource(&f.address("c"));
        assert_eq!(state["id"], *import_id);
        assert_eq!(
            state["kubernetes_token"],
            J::Null,
            "GitLab never returns the token"
        );
        // What GitLab holds, as it holds it (no newline added), as the official provider
        // imports it: its ImportStateVerify (configuration `trimspace(cert)`) then matches.
        assert_eq!(state["kubernetes_ca_cert"], ca.trim());
    }
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
        2 * imported.len(),
        "expected each resource and its token only: {changed:#?}\n{}",
        plan.stdout
    );
    for pair in changed.chunks(2) {
        assert!(pair[0].contains("resource \"gitlab_"), "{pair:?}");
        assert!(
            pair[1].contains("kubernetes_token") && pair[1].contains("(sensitive value)"),
            "{pair:?}"
        );
    }
    for (f, _) in &imported {
        assert!(
            changed
                .iter()
                .any(|l| l.contains(&format!("resource \"{}\" \"c\"", f.resource))),
            "{changed:#?}"
        );
    }
    tf.apply().ok();
    for (f, _) in &imported {
        assert_eq!(
            f.puts(&sim),
            vec![json!({"platform_kubernetes_attributes": {"token": "[REDACTED]"}})],
            "{}",
            f.name
        );
    }
    assert_eq!(tf.plan().code, 0);
}

fn import_by_numeric_owner_id_round_trips(tf_version: &str, fams: &[&Family]) {
    import_then_plan(tf_version, fams, true);
}

fn import_by_full_owner_path_round_trips(tf_version: &str, fams: &[&Family]) {
    import_then_plan(tf_version, fams, false);
}

fn import_with_a_malformed_id_names_the_expected_format(tf_version: &str, fams: &[&Family]) {
    let (_sim, tf) = setup(tf_version, &each(fams, |f| f.block("c", "")));
    for f in fams {
        let r = tf.run(&[
            "import",
            "-no-color",
            "-input=false",
            &f.address("c"),
            "qa-7",
        ]);
        assert_ne!(r.code, 0);
        assert!(
            r.stderr.contains(f.import_format),
            "{}: {}",
            f.name,
            r.stderr
        );
    }
}

/// A `cluster_id` the owner does not hold: the error is GitLab's "no such cluster", shown
/// at the `cluster_id` line (the owner is there, so that is what to fix).
fn a_data_source_for_a_cluster_the_owner_lacks_points_at_cluster_id(
    tf_version: &str,
    fams: &[&Family],
) {
    let sim = Sim::start();
    let missing = |f: &Family| 987654 + fams.iter().position(|g| g.name == f.name).unwrap_or(0);
    let tf = terraform_as(
        tf_version,
        &writers(&sim),
        &each(fams, |f| {
            format!(
                "{}  cluster_id = {}\n}}\n",
                f.data_open(false, "x", f.owner),
                missing(f)
            )
        }),
    );
    let r = tf.plan();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        r.stderr.matches("no such cluster").count(),
        fams.len(),
        "{}",
        r.stderr
    );
    for f in fams {
        assert!(
            r.stderr.contains(&format!("cluster_id = {}", missing(f))),
            "{}: {}",
            f.name,
            r.stderr
        );
    }
}

fn data_sources_read_one_cluster_and_all_clusters(tf_version: &str, fams: &[&Family]) {
    let sim = Sim::start();
    let ca = ca_cert_pem();
    let mut body = String::new();
    let mut ids = Vec::new();
    for f in fams {
        let a = f.existing_cluster(&sim, f.owner, "alpha", ca.trim());
        let (n, r, l) = (f.name, f.resource, f.list);
        body.push_str(&format!(
            "{}  cluster_id = {a}\n}}\n{}  environment_scope = \"*\"\n}}\n{}}}\n\
             output \"{n}_by_id\" {{ value = data.{r}.{n}_by_id }}\n\
             output \"{n}_by_scope_name\" {{ value = data.{r}.{n}_by_scope.name }}\n\
             output \"{n}_names\" {{ value = [for c in data.{l}.{n}_all.clusters : c.name] }}\n",
            f.data_open(false, &format!("{n}_by_id"), f.owner),
            f.data_open(false, &format!("{n}_by_scope"), &f.owner_id.to_string()),
            f.data_open(true, &format!("{n}_all"), f.owner),
        ));
        ids.push(a);
    }
    let tf = terraform_as(tf_version, &writers(&sim), &body);
    tf.apply().ok();
    let out = tf.run(&["output", "-json"]).ok();
    let o: J = serde_json::from_str(&out.stdout).unwrap();
    for (f, a) in fams.iter().zip(ids) {
        let n = f.name;
        let by_id = &o[format!("{n}_by_id")]["value"];
        assert_eq!(by_id["name"], "alpha", "{n}");
        assert_eq!(by_id["id"], f.import_id(f.owner, a));
        assert_eq!(by_id["cluster_type"], f.cluster_type);
        assert_eq!(by_id["kubernetes_api_url"], "https://k8s.example.com:6443");
        assert_eq!(by_id["kubernetes_ca_cert"], ca.trim());
        assert_eq!(by_id["provider_type"], "user");
        assert!(
            by_id.get("kubernetes_token").is_none(),
            "data sources never expose the token"
        );
        assert_eq!(o[format!("{n}_by_scope_name")]["value"], "alpha", "{n}");
        assert_eq!(o[format!("{n}_names")]["value"], json!(["alpha"]), "{n}");
    }
}

fn validation_errors_name_the_attribute_before_any_api_call(tf_version: &str, fams: &[&Family]) {
    let (sim, tf) = setup(
        tf_version,
        &each(fams, |f| {
            f.block(
                "c",
                "  kubernetes_authorization_type = \"root\"\n  kubernetes_ca_cert = \"not a certificate\"\n",
            )
            .replace("https://k8s.example.com:6443", "k8s.example.com")
        }),
    );
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
    for f in fams {
        assert_eq!(
            r.stderr
                .matches(&format!("with {},", f.address("c")))
                .count(),
            3,
            "three errors for {}:\n{}",
            f.name,
            r.stderr
        );
    }
    let plan = tf.plan();
    assert_eq!(plan.code, 1);
    assert_eq!(
        sim.stats()["requests"],
        0,
        "validation must fail before any API call"
    );
}

/// A fixed namespace on a managed group or instance cluster is refused at plan (GitLab
/// would refuse it: "only allowed for project cluster"); a project cluster takes it.
fn namespace_with_a_managed_cluster_is_rejected_at_plan_unless_the_cluster_is_a_projects(
    tf_version: &str,
    fams: &[&Family],
) {
    let block = |f: &Family| f.block("c", "  kubernetes_namespace = \"apps\"\n");
    let (sim, tf) = setup(tf_version, &each(fams, block));
    let r = tf.run(&["validate", "-no-color"]);
    let refused: Vec<&Family> = fams
        .iter()
        .copied()
        .filter(|f| f.namespace_needs_unmanaged)
        .collect();
    assert_eq!(r.code, i32::from(!refused.is_empty()), "{}", r.all());
    if !refused.is_empty() {
        assert!(
            r.stderr.contains("managed = false") && r.stderr.contains("kubernetes_namespace = "),
            "{}",
            r.stderr
        );
    }
    for f in fams {
        assert_eq!(
            r.stderr.contains(&format!("with {},", f.address("c"))),
            f.namespace_needs_unmanaged,
            "{}: {}",
            f.name,
            r.stderr
        );
    }
    // What a project cluster takes is applied, and stays.
    let taken: Vec<&Family> = fams
        .iter()
        .copied()
        .filter(|f| !f.namespace_needs_unmanaged)
        .collect();
    if !taken.is_empty() {
        rewrite(&tf, &sim, &each(&taken, block));
        tf.apply().ok();
        for f in &taken {
            let c = &f.clusters(&sim)[0];
            assert_eq!(c["managed"], true, "{}", f.name);
            assert_eq!(c["platform_kubernetes"]["namespace"], "apps", "{}", f.name);
        }
        assert_eq!(tf.plan().code, 0);
    }
}

fn bad_token_fails_clearly_and_records_nothing(tf_version: &str, fams: &[&Family]) {
    let sim = Sim::start();
    let tf = terraform_as(
        tf_version,
        &providers(&sim, "wrong-token", "wrong-token"),
        &each(fams, |f| f.block("c", "")),
    );
    let r = tf.apply();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("GitLab rejected the token"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("token"), "{}", r.stderr);
    assert!(!tf.work().join("terraform.tfstate").exists() || tf.state()["values"].is_null());
    for f in fams {
        assert!(f.clusters(&sim).is_empty(), "{}", f.name);
    }
}

fn missing_token_names_token_and_the_environment_variable(tf_version: &str, fams: &[&Family]) {
    let sim = Sim::start();
    let providers = providers(&sim, "x", "x").replace("  token    = \"x\"\n", "");
    let tf = terraform_as(tf_version, &providers, &each(fams, |f| f.block("c", "")));
    let r = tf.plan();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("GITLAB_TOKEN") && r.stderr.contains("`token`"),
        "{}",
        r.stderr
    );
}

/// A Developer's token on a group or project cluster, a non-administrator's on an instance
/// cluster: the error names the role that may write (at the owner attribute, the thing to
/// check), and nothing is created.
fn a_token_that_may_not_write_gets_the_role_it_needs_named(tf_version: &str, fams: &[&Family]) {
    let sim = Sim::start();
    let tf = terraform_as(
        tf_version,
        &providers(&sim, support::families::DEVELOPER, MAINTAINER_TOKEN),
        &each(fams, |f| f.block("c", "")),
    );
    let r = tf.apply();
    assert_eq!(r.code, 1);
    for f in fams {
        assert!(r.stderr.contains(f.denied_hint), "{}: {}", f.name, r.stderr);
        if f.owner_attr.is_some() {
            assert!(
                r.stderr.contains(f.owner_line(f.owner).trim_end()),
                "{}: the error points at the owner:\n{}",
                f.name,
                r.stderr
            );
        }
        assert!(f.clusters(&sim).is_empty(), "{}", f.name);
    }
    if fams.iter().any(|f| f.owner_attr.is_none()) {
        assert!(
            r.stderr.contains("administrator token")
                || r.stderr.contains("must belong to an administrator"),
            "{}",
            r.stderr
        );
    }
}

fn rate_limits_and_bad_gateways_are_retried_to_exactly_one_cluster(
    tf_version: &str,
    fams: &[&Family],
) {
    let (sim, tf) = setup(tf_version, &each(fams, |f| f.block("c", "")));
    for f in fams {
        f.fault(
            &sim,
            "POST",
            2,
            json!({"kind": "status", "status": 429, "retry_after": 1}),
        );
        f.fault(&sim, "POST", 1, json!({"kind": "status", "status": 502}));
        f.fault(&sim, "GET", 1, json!({"kind": "status", "status": 503}));
    }
    tf.apply().ok();
    for f in fams {
        assert_eq!(f.clusters(&sim).len(), 1, "{}", f.name);
        assert!(f.bodies(&sim, "POST").len() >= 4, "{}: retried", f.name);
    }
    assert_eq!(tf.plan().code, 0);
}

fn lost_create_response_still_yields_exactly_one_cluster_in_state(
    tf_version: &str,
    fams: &[&Family],
) {
    let (sim, tf) = setup(tf_version, &each(fams, |f| f.block("c", "")));
    for f in fams {
        f.fault(&sim, "POST", 1, json!({"kind": "drop_after_apply"}));
    }
    let r = tf.apply().ok();
    // Terraform folds like warnings into one ("and one more similar warning elsewhere").
    assert!(r.all().contains("Recovered a lost response"), "{}", r.all());
    assert_eq!(
        r.all().matches("Recovered a lost response").count()
            + r.all().matches("one more similar warning").count(),
        fams.len(),
        "{}",
        r.all()
    );
    for f in fams {
        assert_eq!(f.bodies(&sim, "POST").len(), 1, "{}: one create", f.name);
        let clusters = f.clusters(&sim);
        assert_eq!(clusters.len(), 1, "{}", f.name);
        let state = tf.resource(&f.address("c"));
        assert_eq!(state["cluster_id"], clusters[0]["id"]);
    }
    assert_eq!(tf.plan().code, 0);
}

fn duplicated_environment_scope_names_the_clashing_cluster_and_import_command(
    tf_version: &str,
    fams: &[&Family],
) {
    let sim = Sim::start();
    let ids: Vec<i64> = fams
        .iter()
        .map(|f| f.existing_cluster(&sim, f.owner, "hand-made", &ca_cert_pem()))
        .collect();
    let tf = terraform_as(
        tf_version,
        &writers(&sim),
        &each(fams, |f| f.block("c", "")),
    );
    let r = tf.apply();
    assert_eq!(r.code, 1);
    for (f, id) in fams.iter().zip(ids) {
        assert!(
            r.stderr.contains("\"hand-made\"") && r.stderr.contains(&format!("id {id}")),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&format!(
                "terraform import <resource address> {}",
                f.import_id(f.owner, id)
            )),
            "{}: {}",
            f.name,
            r.stderr
        );
        assert_eq!(f.clusters(&sim).len(), 1, "{}: no duplicate", f.name);
    }
    assert!(r.stderr.contains("environment_scope"), "{}", r.stderr);
}

fn certificate_clusters_switched_off_is_said_plainly(tf_version: &str, fams: &[&Family]) {
    let dir = tempfile::tempdir().unwrap();
    let mut seed: J =
        serde_json::from_str(&std::fs::read_to_string(sim_launcher::seed_file()).unwrap()).unwrap();
    seed["certificate_based_clusters"] = json!(false);
    let path = dir.path().join("seed.json");
    std::fs::write(&path, seed.to_string()).unwrap();
    let sim = Sim::start_seed(&path, &[]);
    let tf = terraform_as(
        tf_version,
        &writers(&sim),
        &each(fams, |f| f.block("c", "")),
    );
    let r = tf.apply();
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.matches("switched off").count(),
        fams.len(),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("certificate-based"), "{}", r.stderr);
}

fn destroy_leaves_no_cluster(tf_version: &str, fams: &[&Family]) {
    let (sim, tf) = setup(
        tf_version,
        &each(fams, |f| {
            format!(
                "{}{}",
                f.block("a", ""),
                f.block("b", "  environment_scope = \"b\"\n")
            )
        }),
    );
    tf.apply().ok();
    for f in fams {
        assert_eq!(f.clusters(&sim).len(), 2, "{}", f.name);
    }
    tf.destroy().ok();
    for f in fams {
        assert!(f.clusters(&sim).is_empty(), "{}", f.name);
        assert_eq!(f.bodies(&sim, "DELETE").len(), 2, "{}", f.name);
    }
}

fn token_never_appears_in_plan_output_or_trace_logs(tf_version: &str, fams: &[&Family]) {
    let (sim, mut tf) = setup(tf_version, &each(fams, |f| f.block("c", "")));
    tf.set_env("TF_LOG", "TRACE");
    let apply = tf.apply().ok();
    rewrite(
        &tf,
        &sim,
        &each(fams, |f| {
            f.block("c", "")
                .replace(KUBE_TOKEN, "second-secret-token-value")
        }),
    );
    let plan = tf.plan();
    let update = tf.apply().ok();
    for run in [&apply, &plan, &update] {
        for secret in [
            KUBE_TOKEN,
            "second-secret-token-value",
            MAINTAINER_TOKEN,
            ADMIN_TOKEN,
        ] {
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

/// A cluster imported with its owner spelled by id, then configured with the owner's full
/// path (a subgroup; a project in a user namespace): an in-place change of the spelling,
/// no replacement, no write but the token's. (The instance has no owner to spell.)
fn spelling_the_owner_by_path_instead_of_id_is_not_a_replacement(
    tf_version: &str,
    fams: &[&Family],
) {
    let sim = Sim::start();
    let ca = ca_cert_pem();
    let owned: Vec<&Family> = fams
        .iter()
        .copied()
        .filter(|f| f.owner_attr.is_some())
        .collect();
    let ids: Vec<i64> = owned
        .iter()
        .map(|f| f.existing_cluster(&sim, f.other_owner, "imported", ca.trim()))
        .collect();
    let tf = terraform_as(
        tf_version,
        &writers(&sim),
        &each(&owned, |f| {
            f.block_in(
                f.other_owner,
                "c",
                &format!("  kubernetes_ca_cert = <<-EOT\n{ca}  EOT\n"),
            )
            .replace(
                "name               = \"c\"",
                "name               = \"imported\"",
            )
        }),
    );
    for (f, id) in owned.iter().zip(&ids) {
        tf.run(&[
            "import",
            "-no-color",
            "-input=false",
            &f.address("c"),
            &f.import_id(&f.other_owner_id.to_string(), *id),
        ])
        .ok();
    }
    let plan = tf.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    for f in &owned {
        assert!(
            plan.stdout.contains(&format!(
                "\"{}\" -> \"{}\"",
                f.other_owner_id, f.other_owner
            )),
            "{}: {}",
            f.name,
            plan.stdout
        );
    }
    tf.apply().ok();
    for (f, id) in owned.iter().zip(&ids) {
        // Only the token was written; the owner's spelling needs no API call.
        assert_eq!(
            f.puts(&sim),
            vec![json!({"platform_kubernetes_attributes": {"token": "[REDACTED]"}})],
            "{}",
            f.name
        );
        assert_eq!(
            tf.resource(&f.address("c"))["id"],
            f.import_id(f.other_owner, *id)
        );
        assert_eq!(sim.clusters().iter().filter(|c| c["id"] == *id).count(), 1);
    }
    assert_eq!(tf.plan().code, 0);
}

/// A work dir holding the state gitlabhq/gitlab wrote for a cluster "legacy" of each
/// family's owner (created in the simulator here), its configuration (`name` as given),
/// and the migration recipe done: `state replace-provider`, then `init`. Returns the
/// clusters' ids, in the order of `fams`.
fn migrated_from_the_official_provider(
    sim: &Sim,
    tf_version: &str,
    fams: &[&Family],
    name: &str,
) -> (TerraformCli, Vec<i64>) {
    let ca = ca_cert_pem();
    let mut resources = Vec::new();
    let mut ids = Vec::new();
    for f in fams {
        let id = f.existing_cluster(sim, f.owner, "legacy", ca.trim());
        let created_at =
            sim.clusters().iter().find(|c| c["id"] == id).unwrap()["created_at"].clone();
        // terraform.tfstate as gitlabhq/gitlab (SDKv2) writes it: "" for unset strings, no
        // cluster_id, the CA as GitLab returned it (stripped).
        let alias = if f.provider_line.is_empty() {
            ""
        } else {
            ".admin"
        };
        resources.push(json!({
            "mode": "managed", "type": f.resource, "name": "c",
            "provider": format!("provider[\"registry.terraform.io/gitlabhq/gitlab\"]{alias}"),
            "instances": [{
                "schema_version": 0,
                "sensitive_attributes": [],
                "private": "bnVsbA==",
                "attributes": f.official_attributes(id, "legacy", &created_at, ca.trim())
            }]
        }));
        ids.push(id);
    }
    let tf = TerraformCli::new(tf_version);
    rewrite(
        &tf,
        sim,
        &each(fams, |f| {
            f.block("c", &format!("  kubernetes_ca_cert = <<-EOT\n{ca}  EOT\n"))
                .replace(
                    "name               = \"c\"",
                    &format!("name               = \"{name}\""),
                )
        }),
    );
    let state = json!({
        "version": 4, "terraform_version": "1.0.3", "serial": 3, "lineage": "9b0c1c1e-5d0a-4c3e-9a53-3a2f0e7f1b11",
        "outputs": {},
        "resources": resources
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
    (tf, ids)
}

fn state_from_the_official_provider_migrates_with_replace_provider_and_plans_clean(
    tf_version: &str,
    fams: &[&Family],
) {
    let sim = Sim::start();
    let (tf, ids) = migrated_from_the_official_provider(&sim, tf_version, fams, "legacy");
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
    for (f, id) in fams.iter().zip(ids) {
        let migrated = tf.resource(&f.address("c"));
        assert_eq!(migrated["cluster_id"], id, "{}", f.name);
        assert_eq!(migrated["id"], f.import_id(f.owner, id));
        assert_eq!(migrated["namespace_per_environment"], true);
        assert_eq!(migrated["domain"], J::Null);
        assert_eq!(migrated["kubernetes_namespace"], J::Null);
        assert_eq!(migrated["management_project_id"], J::Null);
    }
    for f in fams {
        // The one POST made the cluster, before Terraform: the migration wrote nothing.
        assert_eq!(f.bodies(&sim, "POST").len(), 1, "{}", f.name);
        assert!(f.puts(&sim).is_empty(), "{}", f.name);
        assert!(f.bodies(&sim, "DELETE").is_empty(), "{}", f.name);
    }
}

/// Right after the migration, without a refresh, a rename is exactly a rename: the state
/// migrated fully (cluster_id from the id, GitLab's defaults for what the official provider
/// did not store), so the plan holds nothing else and the apply contradicts nothing.
fn a_migrated_state_applies_a_rename_exactly_without_a_refresh(tf_version: &str, fams: &[&Family]) {
    let sim = Sim::start();
    let (tf, ids) = migrated_from_the_official_provider(&sim, tf_version, fams, "renamed");
    let plan = tf.run(&["plan", "-refresh=false", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .contains(&format!("{} to change, 0 to destroy", fams.len())),
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
    for (f, id) in fams.iter().zip(ids) {
        assert_eq!(f.puts(&sim), vec![json!({"name": "renamed"})], "{}", f.name);
        let s = tf.resource(&f.address("c"));
        assert_eq!(s["cluster_id"], id);
        assert_eq!(s["name"], "renamed");
    }
    assert_eq!(tf.plan().code, 0);
}

on_every_family! {
    modern: [
        create_then_plan_has_no_changes_and_state_matches_gitlab,
        each_in_place_change_sends_a_put_with_only_that_field,
        cluster_deleted_outside_terraform_is_planned_for_recreation,
        import_with_a_malformed_id_names_the_expected_format,
        data_sources_read_one_cluster_and_all_clusters,
        a_data_source_for_a_cluster_the_owner_lacks_points_at_cluster_id,
        validation_errors_name_the_attribute_before_any_api_call,
        namespace_with_a_managed_cluster_is_rejected_at_plan_unless_the_cluster_is_a_projects,
        bad_token_fails_clearly_and_records_nothing,
        missing_token_names_token_and_the_environment_variable,
        a_token_that_may_not_write_gets_the_role_it_needs_named,
        rate_limits_and_bad_gateways_are_retried_to_exactly_one_cluster,
        lost_create_response_still_yields_exactly_one_cluster_in_state,
        duplicated_environment_scope_names_the_clashing_cluster_and_import_command,
        certificate_clusters_switched_off_is_said_plainly,
        destroy_leaves_no_cluster,
        token_never_appears_in_plan_output_or_trace_logs,
    ],
    every_terraform: [
        changing_the_owner_or_authorization_type_plans_a_replacement,
        drift_on_name_and_enabled_is_detected_and_corrected,
        import_by_numeric_owner_id_round_trips,
        import_by_full_owner_path_round_trips,
        spelling_the_owner_by_path_instead_of_id_is_not_a_replacement,
        state_from_the_official_provider_migrates_with_replace_provider_and_plans_clean,
        a_migrated_state_applies_a_rename_exactly_without_a_refresh,
    ],
}
