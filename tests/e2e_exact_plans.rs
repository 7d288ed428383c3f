//! End-to-end proof that a plan is exact and safe to approve, with the real Terraform CLI
//! (the newest on PATH, >= 1.11, and the fetched 1.0.3) against the simulator:
//! - every spelling GitLab may store differently is refused at plan, at its attribute and
//!   before any cluster request, or applied so that the next plan is empty, on create and
//!   on update;
//! - a saved plan (or `-refresh=false`) applies exactly after the cluster changed in GitLab;
//! - a failed plan-time request is a plan error, never a replacement or a re-creation;
//! - import round-trips with CRLF certificates, the group spelled by id, and long names.

mod support;

use std::path::PathBuf;

use serde_json::{Value as J, json};
use support::families::{GROUP, GROUP_ONLY, PROJECT_AND_INSTANCE};
use support::*;

/// The Terraform >= 1.11 the suite runs on besides 1.0.3: `TF_ACC_TERRAFORM_PATH`, else
/// `terraform` on PATH. Missing, the test fails saying what to install.
fn modern_terraform() -> PathBuf {
    let candidate = std::env::var_os("TF_ACC_TERRAFORM_PATH")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join("terraform"))
                    .find(|p| p.is_file())
            })
        })
        .unwrap_or_else(|| {
            panic!(
                "no Terraform >= 1.11 found: install Terraform 1.11 or newer on PATH, or set \
                 TF_ACC_TERRAFORM_PATH to its binary"
            )
        });
    let out = std::process::Command::new(&candidate)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", candidate.display()));
    let v: J = serde_json::from_slice(&out.stdout).unwrap_or(J::Null);
    let version = v["terraform_version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    assert!(
        (major, minor) >= (1, 11),
        "{} is Terraform {version:?}; these tests need Terraform >= 1.11 (install it on PATH or set \
         TF_ACC_TERRAFORM_PATH)",
        candidate.display()
    );
    candidate
}

/// A work dir for `which` ("modern" or "1.0.3"), configured against `sim` with `body`.
fn terraform(which: &str, sim: &Sim, body: &str) -> TerraformCli {
    let mut tf = TerraformCli::new("1.0.3");
    if which == "modern" {
        tf.bin = modern_terraform();
    }
    tf.config(sim, body);
    tf.init();
    tf
}

/// [`terraform`] with each family's writer (`support::writers`): instance clusters too.
fn terraform_for(which: &str, sim: &Sim, body: &str) -> TerraformCli {
    let tf = terraform(which, sim, "");
    rewrite(&tf, sim, body);
    tf
}

fn rewrite(tf: &TerraformCli, sim: &Sim, body: &str) {
    tf.write("main.tf", &format!("{}\n{body}", writers(sim)));
}

/// A cluster block in group `qa` with its own name and scope, plus `attrs`.
fn cluster(resource: &str, attrs: &str) -> String {
    cluster_of(&GROUP, resource, attrs)
}

/// A cluster block of family `f` (its own owner) with its own name and scope, plus `attrs`.
fn cluster_of(f: &Family, resource: &str, attrs: &str) -> String {
    let has = |a: &str| attrs.lines().any(|l| l.trim_start().starts_with(a));
    let mut block = format!(
        "resource \"{}\" \"{resource}\" {{\n{}",
        f.resource, f.provider_line
    );
    if let Some(attr) = f.owner_attr.filter(|a| !has(&format!("{a} "))) {
        block.push_str(&format!("  {attr} = \"{}\"\n", f.owner));
    }
    if !has("name ") {
        block.push_str(&format!("  name = \"{resource}\"\n"));
    }
    if !has("environment_scope ") {
        block.push_str(&format!("  environment_scope = \"{resource}/*\"\n"));
    }
    if !has("kubernetes_api_url ") {
        block.push_str("  kubernetes_api_url = \"https://k8s.example.com:6443\"\n");
    }
    block.push_str(&format!(
        "  kubernetes_token = \"{KUBE_TOKEN}\"\n{attrs}}}\n"
    ));
    block
}

/// Terraform's output with its line wrapping undone (diagnostics wrap at 78 columns).
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hcl(s: &str) -> String {
    serde_json::to_string(s).expect("string literal")
}

/// Requests that touch clusters (anything but the token check).
fn cluster_requests(sim: &Sim) -> Vec<String> {
    sim.log()
        .into_iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.contains("/clusters")))
        .map(|e| format!("{} {}", e["method"], e["path"]))
        .collect()
}

struct Variant {
    attr: &'static str,
    /// HCL attribute lines (the respelled value, plus anything it needs).
    lines: String,
    /// The lines of the update test's starting point (another value of the attribute).
    before: String,
}

fn variant(attr: &'static str, value: &str, before: &str, extra: &str) -> Variant {
    let line = |v: &str| {
        if v == "null" {
            extra.to_string()
        } else {
            format!("  {attr} = {v}\n{extra}")
        }
    };
    Variant {
        attr,
        lines: line(value),
        before: line(before),
    }
}

/// Every configurable attribute, in the spellings GitLab may store differently: case,
/// surrounding whitespace, empty strings, leading zeros and signs, CRLF and trailing
/// newlines. `before` is another, plain value, for the update test.
fn variants() -> Vec<Variant> {
    let pem = ca_cert_pem();
    let pem_body = pem.trim();
    let unmanaged = "  managed = false\n";
    let heredoc = |text: &str| hcl(text);
    let mut v = vec![
        variant("name", &hcl("Mixed Case Name"), &hcl("plain"), ""),
        variant("name", &hcl(" padded "), &hcl("plain"), ""),
        variant("name", &hcl("trailing newline\n"), &hcl("plain"), ""),
        variant("name", &hcl(""), &hcl("plain"), ""),
        variant("name", &hcl(&"n".repeat(300)), &hcl("plain"), ""),
        variant("domain", &hcl("Apps.EXAMPLE.com"), &hcl("example.com"), ""),
        variant("domain", &hcl(""), &hcl("example.com"), ""),
        variant("domain", &hcl(" example.com"), &hcl("example.com"), ""),
        variant("domain", &hcl("example.com."), &hcl("example.com"), ""),
        variant(
            "kubernetes_api_url",
            &hcl(" https://k8s.example.com:6443 "),
            &hcl("https://other.example.com"),
            "",
        ),
        variant(
            "kubernetes_api_url",
            &hcl("https://K8S.Example.com:6443"),
            &hcl("https://other.example.com"),
            "",
        ),
        variant(
            "kubernetes_api_url",
            &hcl("HTTPS://k8s.example.com:6443"),
            &hcl("https://other.example.com"),
            "",
        ),
        variant(
            "kubernetes_ca_cert",
            &heredoc(&pem.replace('\n', "\r\n")),
            "null",
            "",
        ),
        variant("kubernetes_ca_cert", &heredoc(pem_body), "null", ""),
        variant(
            "kubernetes_ca_cert",
            &heredoc(&format!("\n\n{pem_body}\n\n\n")),
            "null",
            "",
        ),
        variant("kubernetes_ca_cert", &hcl(""), "null", ""),
        variant("kubernetes_ca_cert", &hcl("not a certificate"), "null", ""),
        variant(
            "kubernetes_namespace",
            &hcl("MyNamespace"),
            &hcl("plain-ns"),
            unmanaged,
        ),
        variant(
            "kubernetes_namespace",
            &hcl(""),
            &hcl("plain-ns"),
            unmanaged,
        ),
        variant(
            "kubernetes_namespace",
            &hcl(" ns"),
            &hcl("plain-ns"),
            unmanaged,
        ),
        variant(
            "kubernetes_namespace",
            &hcl("Team_NS"),
            &hcl("plain-ns"),
            unmanaged,
        ),
        variant("kubernetes_authorization_type", &hcl("RBAC"), "null", ""),
        variant("kubernetes_authorization_type", &hcl(" rbac"), "null", ""),
        variant("kubernetes_authorization_type", &hcl(""), "null", ""),
        variant("management_project_id", &hcl("007"), "null", ""),
        variant("management_project_id", &hcl(" 7"), "null", ""),
        variant("management_project_id", &hcl("+7"), "null", ""),
        variant("management_project_id", &hcl("7 "), "null", ""),
        variant("management_project_id", &hcl(""), &hcl("7"), ""),
        variant("management_project_id", &hcl("-7"), "null", ""),
        variant("management_project_id", &hcl("0x7"), "null", ""),
        variant("group", &hcl("QA"), "null", ""),
        variant("group", &hcl(" qa"), "null", ""),
        variant("group", &hcl(""), "null", ""),
    ];
    // Environment scopes must be unique, so each variant carries its own.
    for (i, scope) in [" spaced", "Staging/Upper", "trailing ", "", "bad!scope"]
        .into_iter()
        .enumerate()
    {
        let unique = if scope.trim().is_empty() || scope.contains('!') {
            scope.to_string()
        } else {
            format!("{scope}{i}")
        };
        v.push(variant(
            "environment_scope",
            &hcl(&unique),
            &hcl(&format!("plain-{i}")),
            "",
        ));
    }
    v
}

/// The resource addresses Terraform's errors name, with the attribute each error points at.
fn errors_by_resource(stderr: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in stderr.split("Error: ").skip(1) {
        let resource = block
            .lines()
            .find_map(|l| l.split("in resource \"gitlab_group_cluster\" \"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_string();
        // Terraform quotes the source line of the attribute: "  12:   name = ...".
        let attr = block
            .lines()
            .find_map(|l| {
                let (_, code) = l.split_once(':').filter(|(n, _)| {
                    let n = n.trim_start_matches(['│', ' ']);
                    !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                })?;
                let code = code.trim();
                let name = code.split([' ', '=']).next()?;
                (!name.is_empty() && code.contains('=')).then(|| name.to_string())
            })
            .unwrap_or_default();
        out.push((resource, attr));
    }
    out
}

fn respellings_are_refused_at_plan_or_applied_with_no_later_diff(which: &str) {
    let variants = variants();
    // Which variants does the plan refuse? Each on its own, so every refusal is its own.
    let sim = Sim::start();
    let mut accepted = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let name = format!("r{i}");
        let tf = terraform(which, &sim, &cluster(&name, &v.lines));
        sim.reset_stats();
        let plan = tf.plan();
        plan.assert_consistent();
        match plan.code {
            2 => accepted.push(i),
            1 => {
                let errs = errors_by_resource(&plan.stderr);
                assert!(
                    !errs.is_empty() && errs.iter().all(|(r, a)| r == &name && a == v.attr),
                    "{which}: {name} ({}) must be refused at {}, got {errs:?}:\n{}",
                    v.lines.trim(),
                    v.attr,
                    plan.stderr
                );
                assert_eq!(
                    cluster_requests(&sim),
                    Vec::<String>::new(),
                    "{which}: {name}: refused before any request"
                );
            }
            other => panic!("{which}: {name}: plan exited {other}:\n{}", plan.all()),
        }
    }
    assert!(
        accepted.len() >= 20,
        "{which}: most respellings are accepted: {accepted:?}"
    );

    // Accepted ones: created together; the next plan is empty.
    let body: String = accepted
        .iter()
        .map(|i| cluster(&format!("c{i}"), &variants[*i].lines))
        .collect();
    let tf = terraform(which, &sim, &body);
    tf.apply().ok();
    let plan = tf.plan().ok_with_code(0);
    assert!(
        plan.stdout.contains("No changes"),
        "{which}: {}",
        plan.stdout
    );

    // And reached by an update from another value: applied, then no diff.
    let before: String = accepted
        .iter()
        .map(|i| cluster(&format!("u{i}"), &variants[*i].before))
        .collect();
    let after: String = accepted
        .iter()
        .map(|i| cluster(&format!("u{i}"), &variants[*i].lines))
        .collect();
    // (A simulator of its own: environment scopes are unique per group.)
    let sim = Sim::start();
    let tf = terraform(which, &sim, &before);
    tf.apply().ok();
    tf.config(&sim, &after);
    tf.apply().ok();
    let plan = tf.plan().ok_with_code(0);
    assert!(
        plan.stdout.contains("No changes"),
        "{which}: {}",
        plan.stdout
    );
}

#[test]
fn respellings_are_refused_at_plan_or_applied_with_no_later_diff_on_terraform_1_11() {
    respellings_are_refused_at_plan_or_applied_with_no_later_diff("modern");
}

#[test]
fn respellings_are_refused_at_plan_or_applied_with_no_later_diff_on_terraform_1_0() {
    respellings_are_refused_at_plan_or_applied_with_no_later_diff("1.0.3");
}

/// The cluster id of `address` in the state.
fn cluster_id(tf: &TerraformCli, address: &str) -> i64 {
    tf.resource(address)["cluster_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{address} has a cluster_id"))
}

/// Each kind of outside change the simulator can make: a cluster's attributes, the in-place
/// change the saved plan makes to it, and what GitLab is changed to after the plan.
fn outside_changes() -> Vec<(&'static str, &'static str, &'static str, J)> {
    const DOMAIN: &str = "  domain = \"planned.example.com\"\n";
    const DISABLE: &str = "  enabled = false\n";
    vec![
        ("name", "", DOMAIN, json!({"name": "renamed-in-the-ui"})),
        (
            "domain",
            "  domain = \"example.com\"\n",
            DISABLE,
            json!({"domain": "changed.example.com"}),
        ),
        (
            "domain_unset",
            "",
            DISABLE,
            json!({"domain": "added.example.com"}),
        ),
        ("enabled", "", DOMAIN, json!({"enabled": false})),
        ("scope", "", DOMAIN, json!({"environment_scope": "moved/*"})),
        (
            "api_url",
            "",
            DOMAIN,
            json!({"api_url": "https://elsewhere.example.com"}),
        ),
        (
            "ns",
            "  managed = false\n  kubernetes_namespace = \"team\"\n",
            DOMAIN,
            json!({"namespace": "other"}),
        ),
        (
            "npe",
            "  namespace_per_environment = false\n",
            DOMAIN,
            json!({"namespace_per_environment": true}),
        ),
    ]
}

fn saved_plan_applies_exactly_after_outside_changes(which: &str, fams: &[&Family]) {
    let sim = Sim::start();
    let changes = outside_changes();
    let every = |attrs: &dyn Fn(&str, &str, &str) -> String| -> String {
        fams.iter()
            .flat_map(|f| {
                changes
                    .iter()
                    .map(move |(n, a, change, _)| cluster_of(f, n, &attrs(n, a, change)))
            })
            .collect()
    };
    let base = every(&|_, a, _| a.to_string());
    let planned = every(&|_, a, change| format!("{a}{change}"));
    let tf = terraform_for(which, &sim, &base);
    tf.apply().ok();
    let outside = |tf: &TerraformCli| {
        for f in fams {
            for (n, _, _, patch) in &changes {
                sim.patch_cluster(cluster_id(tf, &f.address(n)), patch.clone());
            }
        }
    };

    // plan -out; GitLab changes; apply the saved plan.
    rewrite(&tf, &sim, &planned);
    let plan = tf
        .run(&["plan", "-out=tfplan", "-no-color", "-input=false"])
        .ok();
    assert!(
        plan.stdout
            .contains(&format!("{} to change", changes.len() * fams.len())),
        "{which}: {}",
        plan.stdout
    );
    outside(&tf);
    sim.reset_stats();
    tf.run(&["apply", "-no-color", "-input=false", "tfplan"])
        .ok();
    for f in fams {
        // Each cluster written (twice where the outside change must be put right too).
        let puts = f.puts(&sim).len();
        assert!(puts >= changes.len(), "{which}: {}: {puts} PUTs", f.name);
    }
    // GitLab now matches the approved plan, and so does the state.
    let plan = tf.plan().ok_with_code(0);
    assert!(
        plan.stdout.contains("No changes"),
        "{which}: {}",
        plan.stdout
    );
    for f in fams {
        for c in f.clusters(&sim) {
            assert_ne!(c["name"], "renamed-in-the-ui", "{which}: {}", f.name);
        }
    }

    // The same with -refresh=false after an outside change.
    outside(&tf);
    rewrite(
        &tf,
        &sim,
        &planned
            .replace("planned.example.com", "planned2.example.com")
            .replace("enabled = false", "enabled = true"),
    );
    tf.run(&[
        "apply",
        "-refresh=false",
        "-auto-approve",
        "-no-color",
        "-input=false",
    ])
    .ok();
    let plan = tf.plan().ok_with_code(0);
    assert!(
        plan.stdout.contains("No changes"),
        "{which}: {}",
        plan.stdout
    );
}

#[test]
fn saved_plan_applies_exactly_after_outside_changes_on_terraform_1_11() {
    saved_plan_applies_exactly_after_outside_changes("modern", &GROUP_ONLY);
}

#[test]
fn saved_plan_applies_exactly_after_outside_changes_on_terraform_1_0() {
    saved_plan_applies_exactly_after_outside_changes("1.0.3", &GROUP_ONLY);
}

#[test]
fn saved_plan_applies_exactly_after_outside_changes_for_project_and_instance_clusters_on_terraform_1_11()
 {
    saved_plan_applies_exactly_after_outside_changes("modern", &PROJECT_AND_INSTANCE);
}

#[test]
fn saved_plan_applies_exactly_after_outside_changes_for_project_and_instance_clusters_on_terraform_1_0()
 {
    saved_plan_applies_exactly_after_outside_changes("1.0.3", &PROJECT_AND_INSTANCE);
}

#[test]
fn a_value_gitlab_will_not_take_is_an_error_at_the_attribute_not_an_inconsistent_result() {
    let sim = Sim::start();
    let tf = terraform("modern", &sim, &cluster("c", ""));
    tf.apply().ok();
    let id = cluster_id(&tf, "gitlab_group_cluster.c");
    // GitLab answers every update with the cluster as it was (say, a hook reverts names).
    let (_, stale) = sim.api(
        reqwest::Method::GET,
        &format!("/groups/qa/clusters/{id}"),
        MAINTAINER_TOKEN,
        None,
    );
    sim.fault(json!({
        "method": "PUT",
        "path": format!("/clusters/{id}"),
        "count": 2,
        "action": {"kind": "raw", "status": 200, "body": stale.to_string()}
    }));
    tf.config(&sim, &cluster("c", "  name = \"renamed\"\n"));
    let r = tf.apply();
    r.assert_consistent();
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        flat(&r.stderr).contains("name is not as planned"),
        "{}",
        r.stderr
    );
    assert!(flat(&r.stderr).contains("\"renamed\""), "{}", r.stderr);
    // The state says what GitLab holds, so the next plan shows the difference.
    assert_eq!(tf.resource("gitlab_group_cluster.c")["name"], "c");
    assert_eq!(tf.plan().code, 2);
}

#[test]
fn failed_plan_time_lookups_are_plan_errors_never_replacements() {
    let sim = Sim::start();
    let tf = terraform(
        "modern",
        &sim,
        &cluster("c", "  group = \"platform\"\n")
            .replace("group = \"platform\"", "group = \"qa/platform\""),
    );
    tf.apply().ok();
    let id = cluster_id(&tf, "gitlab_group_cluster.c");
    let respelled = cluster("c", "  group = \"43\"\n");
    tf.config(&sim, &respelled);

    // One 503 on the lookup: retried (the client's rules), and the plan is the cosmetic
    // in-place update.
    sim.fault(json!({"method": "GET", "path": "/groups/43", "count": 1,
                     "action": {"kind": "status", "status": 503}}));
    let plan = tf.plan().ok_with_code(2);
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("forces replacement"),
        "{}",
        plan.stdout
    );

    // The lookup fails every time: a plan error at group, and nothing to destroy.
    sim.fault(json!({"method": "GET", "path": "/groups/43", "count": 50,
                     "action": {"kind": "status", "status": 500}}));
    let plan = tf.plan();
    plan.assert_consistent();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        flat(&plan.stderr).contains("Could not look up group \"43\""),
        "{}",
        plan.stderr
    );
    assert!(
        flat(&plan.stderr).contains("group = \"43\""),
        "error at group: {}",
        plan.stderr
    );
    assert!(
        !plan.all().contains("forces replacement") && !plan.all().contains("to destroy"),
        "{}",
        plan.all()
    );
    sim.clear_faults();

    // Refresh fails every time: an error, and the cluster is not planned for re-creation.
    tf.config(&sim, &cluster("c", "  group = \"qa/platform\"\n"));
    sim.fault(
        json!({"method": "GET", "path": format!("/clusters/{id}"), "count": 50,
                     "action": {"kind": "status", "status": 503}}),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(!plan.all().contains("will be created"), "{}", plan.all());
    sim.clear_faults();

    // A 404 on the cluster whose group list then fails: not "gone", an error.
    sim.fault(json!({"method": "GET", "path": format!("/clusters/{id}"), "count": 1,
                     "action": {"kind": "status", "status": 404, "body": "{\"message\":\"404 Not found\"}"}}));
    sim.fault(
        json!({"method": "GET", "path": "/groups/qa%2Fplatform/clusters", "count": 50,
                     "action": {"kind": "status", "status": 502}}),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(!plan.all().contains("will be created"), "{}", plan.all());
    sim.clear_faults();
    assert_eq!(tf.plan().code, 0);
    assert_eq!(
        sim.clusters().len(),
        2,
        "the seed's cluster and ours, nothing re-created"
    );
}

/// Creates a cluster through the API, as someone did before Terraform managed it.
fn existing(sim: &Sim, name: &str, ca: &str) -> i64 {
    let (status, body) = sim.api(
        reqwest::Method::POST,
        "/groups/qa/clusters/user",
        MAINTAINER_TOKEN,
        Some(json!({
            "name": name,
            "environment_scope": "imported/*",
            "platform_kubernetes_attributes": {
                "api_url": "https://k8s.example.com:6443", "token": KUBE_TOKEN, "ca_cert": ca
            }
        })),
    );
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("cluster id")
}

/// The lines of a plan's actions that change something.
fn changed_lines(plan: &str) -> Vec<String> {
    plan.split("Terraform will perform the following actions:")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .map(str::trim_start)
        .filter(|l| ["~ ", "+ ", "- ", "-/+ "].iter().any(|m| l.starts_with(m)))
        .map(str::to_string)
        .collect()
}

#[test]
fn import_with_a_crlf_certificate_and_a_long_name_plans_only_the_token() {
    let sim = Sim::start();
    let pem = ca_cert_pem();
    let long_name = "l".repeat(300);
    let id = existing(&sim, &long_name, pem.trim());
    let tf = terraform("modern", &sim, "");
    std::fs::write(tf.work().join("ca.pem"), pem.replace('\n', "\r\n")).expect("ca.pem");
    tf.config(
        &sim,
        &format!(
            "import {{\n  to = gitlab_group_cluster.c\n  id = \"qa:{id}\"\n}}\n{}",
            cluster(
                "c",
                &format!(
                    "  name = \"{long_name}\"\n  environment_scope = \"imported/*\"\n  kubernetes_ca_cert = file(\"ca.pem\")\n"
                )
            )
        ),
    );
    let plan = tf.plan().ok_with_code(2);
    let changed = changed_lines(&plan.stdout);
    assert!(
        changed
            .iter()
            .all(|l| l.contains("gitlab_group_cluster") || l.contains("kubernetes_token")),
        "only the token may change after an import: {changed:#?}\n{}",
        plan.stdout
    );
    tf.apply().ok();
    let plan = tf.plan().ok_with_code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    // A name GitLab would not take is refused at plan.
    tf.config(&sim, &cluster("c", &format!("  name = \"{}\"\n  environment_scope = \"imported/*\"\n  kubernetes_ca_cert = file(\"ca.pem\")\n", "x".repeat(2049))));
    let plan = tf.plan();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        flat(&plan.stderr).contains("at most 2048"),
        "{}",
        plan.stderr
    );
}

#[test]
fn import_by_group_id_then_writing_the_path_plans_the_new_id_as_known() {
    let sim = Sim::start();
    let pem = ca_cert_pem();
    let id = existing(&sim, "imported", pem.trim());
    let tf = terraform("modern", &sim, "");
    tf.config(
        &sim,
        &format!(
            "import {{\n  to = gitlab_group_cluster.c\n  id = \"42:{id}\"\n}}\n{}",
            cluster(
                "c",
                "  name = \"imported\"\n  environment_scope = \"imported/*\"\n"
            )
        ),
    );
    let plan = tf.plan().ok_with_code(2);
    assert!(
        plan.stdout.contains(&format!("\"42:{id}\" -> \"qa:{id}\"")),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("forces replacement"),
        "{}",
        plan.stdout
    );
    tf.apply().ok();
    assert_eq!(
        tf.resource("gitlab_group_cluster.c")["id"],
        format!("qa:{id}")
    );
    assert_eq!(tf.plan().code, 0);
}

#[test]
fn platform_and_provider_types_are_known_at_plan() {
    let sim = Sim::start();
    let tf = terraform("modern", &sim, &cluster("c", ""));
    let plan = tf.plan().ok_with_code(2);
    for known in [
        "platform_type                 = \"kubernetes\"",
        "provider_type                 = \"user\"",
    ] {
        assert!(plan.stdout.contains(known), "{known}: {}", plan.stdout);
    }
}

#[test]
fn create_before_destroy_with_the_same_scope_explains_why_it_cannot_work() {
    let sim = Sim::start();
    let body = |auth: &str| {
        cluster(
            "c",
            &format!(
                "  kubernetes_authorization_type = \"{auth}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n"
            ),
        )
    };
    let tf = terraform("modern", &sim, &body("rbac"));
    tf.apply().ok();
    tf.config(&sim, &body("abac"));
    let r = tf.apply();
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        flat(&r.stderr).contains("environment scopes are unique within a group"),
        "{}",
        r.stderr
    );
    assert!(flat(&r.stderr).contains("create-before-destroy cannot work for this resource unless environment_scope changes too"), "{}", r.stderr);
    assert_eq!(
        sim.clusters().len(),
        2,
        "the old cluster stays, no duplicate"
    );
}
