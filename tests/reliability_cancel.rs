//! Cancellation: Ctrl-C (SIGINT to terraform) during a large apply. Terraform sends
//! StopProvider; the provider stops waiting and starting work promptly, every cluster
//! GitLab created is in the state, and the next apply converges with no duplicate.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::sim_launcher::guard;
use support::*;

const N: usize = 60;

fn interrupting_an_apply_records_every_created_cluster_and_the_next_apply_converges(
    tf_version: &str,
) {
    let sim = Sim::start();
    let tf = TerraformCli::new(tf_version);
    tf.write(
        "main.tf",
        &format!(
            r#"{provider}
resource "gitlab_group_cluster" "c" {{
  count              = {N}
  group              = "qa"
  name               = "cancel-${{count.index}}"
  environment_scope  = "env-${{count.index}}"
  kubernetes_api_url = "https://k8s.example.com:6443"
  kubernetes_token   = "{KUBE_TOKEN}"
}}
"#,
            provider = provider_block(&sim, MAINTAINER_TOKEN)
        ),
    );
    tf.init();
    // Every create takes 400 ms on GitLab's side, so the apply is still running when
    // it is interrupted, with creates in flight.
    sim.fault(json!({"method": "POST", "path": "/clusters/user", "count": N, "action": {"kind": "delay", "ms": 400}}));

    // Like a terminal's Ctrl-C, the signal goes to the whole process group: Terraform
    // (its panicwrap parent and the real child) and the provider plugin. guard::spawn puts
    // Terraform in a process group of its own, like a shell job.
    let mut cmd = Command::new(&tf.bin);
    cmd.args([
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-parallelism=5",
    ])
    .current_dir(tf.work())
    .envs(tf.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    .env("TF_LOG", "INFO")
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(tf.dir.path().join("interrupted.out")).expect("out"))
    .stderr(std::fs::File::create(tf.dir.path().join("interrupted.err")).expect("err"));
    let mut child = guard::spawn(cmd, "terraform apply (to be interrupted)");
    // Wait until some clusters exist, then press Ctrl-C.
    let deadline = Instant::now() + Duration::from_secs(120);
    while sim
        .clusters()
        .iter()
        .filter(|c| c["group_id"] == 42)
        .count()
        < 10
    {
        assert!(Instant::now() < deadline, "the apply never got going");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.signal_group(libc::SIGINT);
    let status = loop {
        if let Some(s) = child.try_wait() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "terraform did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = format!(
        "{}\n{}",
        std::fs::read_to_string(tf.dir.path().join("interrupted.out")).unwrap_or_default(),
        std::fs::read_to_string(tf.dir.path().join("interrupted.err")).unwrap_or_default()
    );
    assert!(
        !status.success(),
        "an interrupted apply reports failure:\n{output}"
    );
    assert!(output.contains("Interrupt received"), "{output}");
    assert!(
        output.contains("StopProvider: cancelling in-flight operations"),
        "the provider was not stopped"
    );
    assert!(
        !output.contains("plugin process exited") || !output.contains("signal: interrupt"),
        "SIGINT killed the plugin"
    );

    let created = sim
        .clusters()
        .iter()
        .filter(|c| c["group_id"] == 42)
        .count();
    assert!(
        created < N,
        "the interrupt came too late to test anything ({created} created)"
    );
    let state = tf.state();
    let in_state = state["values"]["root_module"]["resources"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        in_state, created,
        "every cluster GitLab created is in the state"
    );

    let apply = tf
        .run(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-parallelism=5",
        ])
        .ok();
    assert!(
        apply.stdout.contains(&format!("{} added", N - created)),
        "{}",
        apply.stdout
    );
    assert_eq!(
        sim.clusters()
            .iter()
            .filter(|c| c["group_id"] == 42)
            .count(),
        N,
        "no duplicate, none missing"
    );
    assert_eq!(tf.plan().code, 0);
}

on_every_terraform!(
    interrupting_an_apply_records_every_created_cluster_and_the_next_apply_converges,
);
