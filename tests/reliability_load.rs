//! Load: 500 clusters across three groups applied with -parallelism=50 against a simulator
//! that rate-limits (429 + Retry-After past a requests-per-second budget) and fails 2% of
//! requests with 502/503; then re-planned (no changes) and destroyed. The simulator's
//! count equals the configuration's at every stage, with no duplicates.

mod support;

use std::collections::BTreeSet;

use support::*;

const N: usize = 500;

fn ours(sim: &Sim) -> Vec<serde_json::Value> {
    sim.clusters()
        .into_iter()
        .filter(|c| c["name"].as_str().is_some_and(|n| n.starts_with("load-")))
        .collect()
}

fn five_hundred_clusters_survive_rate_limits_and_bad_gateways_at_parallelism_50(tf_version: &str) {
    let sim = Sim::start_with(&[
        "--rate-limit",
        "40",
        "--fault-rate",
        "0.02",
        "--fault-seed",
        "7",
    ]);
    let tf = TerraformCli::new(tf_version);
    tf.write(
        "main.tf",
        &format!(
            r#"{provider}
locals {{
  groups = ["qa", "qa/platform", "other"]
}}

resource "gitlab_group_cluster" "c" {{
  count              = {N}
  group              = local.groups[count.index % 3]
  name               = "load-${{count.index}}"
  environment_scope  = "env-${{count.index}}"
  kubernetes_api_url = "https://k8s.example.com:6443"
  kubernetes_token   = "{KUBE_TOKEN}"
}}
"#,
            provider = provider_block(&sim, "sim-admin-token")
        ),
    );
    tf.init();

    let apply = tf
        .run(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-parallelism=50",
        ])
        .ok();
    assert!(
        apply.stdout.contains(&format!("{N} added")),
        "{}",
        apply.stdout
    );
    let clusters = ours(&sim);
    assert_eq!(clusters.len(), N);
    let names: BTreeSet<&str> = clusters.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names.len(), N, "duplicate clusters");
    let stats = sim.stats();
    assert!(
        stats["by_status"]["429"].as_u64().unwrap_or(0) > 0,
        "the rate limit was never hit: {}",
        stats["by_status"]
    );
    assert!(
        stats["by_status"]["502"].as_u64().unwrap_or(0)
            + stats["by_status"]["503"].as_u64().unwrap_or(0)
            > 0,
        "no injected 5xx: {}",
        stats["by_status"]
    );
    let state = tf.state();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(resources, N, "every cluster is in the state");

    let plan = tf.run(&[
        "plan",
        "-detailed-exitcode",
        "-no-color",
        "-input=false",
        "-parallelism=50",
    ]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    plan.assert_consistent();
    assert_eq!(ours(&sim).len(), N);

    tf.run(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-parallelism=50",
    ])
    .ok();
    assert!(ours(&sim).is_empty());
}

on_every_terraform!(five_hundred_clusters_survive_rate_limits_and_bad_gateways_at_parallelism_50,);
