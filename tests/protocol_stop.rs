//! StopProvider (tfplugin6) / Stop (tfplugin5): Terraform's Ctrl-C. Operations after it are
//! not started, and an operation waiting on GitLab is abandoned; either way the prior state
//! is what Terraform gets back. In-process, over both protocol versions (see
//! `protocol_rpcs.rs` for why in-process).

mod grpc_support;

use grpc_support::{
    CLUSTER, ProtocolClient, cluster_config, cluster_state, configure_for, configured_offline,
    guard, on_both_protocols,
};
use terraform_provider_gitlab::protocol::value::Value;

fn renamed(v: &Value) -> Value {
    let mut v = v.clone();
    *v.get_mut("name").unwrap() = "renamed".into();
    v
}

#[track_caller]
fn assert_cancelled(tf: &ProtocolClient, diags: &[grpc_support::Diag]) {
    assert_eq!(diags.len(), 1, "{}: {diags:?}", tf.name());
    assert!(diags[0].error, "{}: {diags:?}", tf.name());
    assert!(
        diags[0].text().contains("cancelled"),
        "{}: {:?}",
        tf.name(),
        diags[0].text()
    );
}

#[tokio::test]
async fn after_stop_provider_apply_is_cancelled_and_returns_the_prior_state() {
    on_both_protocols(|mut tf| async move {
        let s = configured_offline(&mut tf).await;
        let r = &s.resources[CLUSTER];
        let prior = cluster_state(r);
        let config = renamed(&cluster_config(r));
        assert_eq!(
            guard("StopProvider", tf.stop())
                .await
                .expect("StopProvider"),
            ""
        );

        let applied = guard(
            "ApplyResourceChange",
            tf.apply(
                CLUSTER,
                Some(r.msgpack(&prior)),
                Some(r.msgpack(&renamed(&prior))),
                Some(r.msgpack(&config)),
            ),
        )
        .await
        .expect("no gRPC error");
        assert_cancelled(&tf, &applied.diags);
        assert!(
            applied.diags[0].text().contains("StopProvider"),
            "{}: {:?}",
            tf.name(),
            applied.diags
        );
        assert_eq!(
            r.decode(&applied.new_state.expect("state")),
            prior,
            "{}: prior state unchanged",
            tf.name()
        );

        // A create is not started either, and records nothing.
        let planned = renamed(&prior);
        let applied = guard(
            "ApplyResourceChange",
            tf.apply(
                CLUSTER,
                Some(r.msgpack(&Value::Null)),
                Some(r.msgpack(&planned)),
                Some(r.msgpack(&config)),
            ),
        )
        .await
        .expect("no gRPC error");
        assert_cancelled(&tf, &applied.diags);
        assert_eq!(
            r.decode(&applied.new_state.expect("state")),
            Value::Null,
            "{}",
            tf.name()
        );

        // Nor is a refresh: the state stays as it was.
        let (state, _, d) = guard(
            "ReadResource",
            tf.read(CLUSTER, Some(r.msgpack(&prior)), b""),
        )
        .await
        .expect("no gRPC error");
        assert_cancelled(&tf, &d);
        assert_eq!(r.decode(&state.expect("state")), prior, "{}", tf.name());
    })
    .await;
}

#[tokio::test]
async fn stop_provider_abandons_an_update_waiting_on_gitlab_and_returns_the_prior_state() {
    on_both_protocols(|mut tf| async move {
        // A "GitLab" that accepts connections and never answers.
        let gitlab = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v4/", gitlab.local_addr().unwrap());
        let s = guard("GetProviderSchema", tf.schemas())
            .await
            .expect("schema");
        configure_for(&mut tf, &s, &url).await;
        let r = s.resources[CLUSTER].clone();
        let prior = cluster_state(&r);

        let apply = {
            let (mut tf, r, prior) = (tf.clone(), r.clone(), prior.clone());
            let config = renamed(&cluster_config(&r));
            tokio::spawn(async move {
                tf.apply(
                    CLUSTER,
                    Some(r.msgpack(&prior)),
                    Some(r.msgpack(&renamed(&prior))),
                    Some(r.msgpack(&config)),
                )
                .await
            })
        };
        // The update is in flight once the provider has connected to GitLab.
        let (_held, _) = guard("the provider connects to GitLab", gitlab.accept())
            .await
            .unwrap();
        assert!(
            !apply.is_finished(),
            "{}: the apply finished without an answer from GitLab",
            tf.name()
        );
        assert_eq!(
            guard("StopProvider", tf.stop())
                .await
                .expect("StopProvider"),
            ""
        );

        let applied = guard("the cancelled apply", apply)
            .await
            .unwrap()
            .expect("no gRPC error");
        assert_cancelled(&tf, &applied.diags);
        assert_eq!(
            r.decode(&applied.new_state.expect("state")),
            prior,
            "{}: prior state unchanged",
            tf.name()
        );
    })
    .await;
}
