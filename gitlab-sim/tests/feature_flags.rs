//! The `certificate_based_clusters` feature flag across the three cluster families: off in the
//! seed or switched at run time (`PUT /-/sim/feature_flags/certificate_based_clusters`), every
//! cluster endpoint answers 404 after its owner lookup or admin check; the switch is part of
//! checkpoints and of the state file.

mod common;

use common::*;

async fn switch(sim: &Sim, c: &Client, enabled: bool) -> Resp {
    send(
        c,
        Method::PUT,
        &format!("{}/-/sim/feature_flags/certificate_based_clusters", sim.url),
        None,
        Some(json!({"enabled": enabled})),
    )
    .await
}

/// Every cluster route of the three families, as one who may use it.
fn routes() -> Vec<(Method, &'static str, &'static str)> {
    vec![
        (Method::GET, "/groups/42/clusters", MAINTAINER),
        (Method::GET, "/groups/50/clusters/1", ADMIN),
        (Method::POST, "/groups/42/clusters/user", MAINTAINER),
        (Method::PUT, "/groups/50/clusters/1", ADMIN),
        (Method::DELETE, "/groups/50/clusters/1", ADMIN),
        (Method::GET, "/projects/7/clusters", MAINTAINER),
        (
            Method::GET,
            "/projects/qa%2Fcluster-management/clusters/2",
            MAINTAINER,
        ),
        (Method::POST, "/projects/7/clusters/user", MAINTAINER),
        (Method::PUT, "/projects/7/clusters/2", MAINTAINER),
        (Method::DELETE, "/projects/9/clusters/4", MAINTAINER),
        (Method::GET, "/admin/clusters", ADMIN),
        (Method::GET, "/admin/clusters/3", ADMIN),
        (Method::POST, "/admin/clusters/add", ADMIN),
        (Method::PUT, "/admin/clusters/3", ADMIN),
        (Method::DELETE, "/admin/clusters/5", OPS_ADMIN),
    ]
}

async fn assert_all_off(sim: &Sim, c: &Client) {
    for (method, path, token) in routes() {
        let r = send(c, method, &sim.api(path), Some(token), Some(json!({}))).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (404, json!({"message": "404 Not Found"})),
            "{path}"
        );
    }
}

/// The owner lookup and the admin check come before the flag, as in GitLab.
async fn assert_lookups_first(sim: &Sim, c: &Client) {
    for (path, token, status, body) in [
        (
            "/groups/999/clusters",
            MAINTAINER,
            404,
            json!({"message": "404 Group Not Found"}),
        ),
        (
            "/projects/8/clusters",
            MAINTAINER,
            404,
            json!({"message": "404 Project Not Found"}),
        ),
        (
            "/admin/clusters",
            MAINTAINER,
            403,
            json!({"message": "403 Forbidden"}),
        ),
        (
            "/admin/clusters",
            "no-such-token",
            401,
            json!({"message": "401 Unauthorized"}),
        ),
    ] {
        let r = send(c, Method::GET, &sim.api(path), Some(token), None).await;
        assert_eq!((r.status.as_u16(), r.json()), (status, body), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flag_switched_off_at_run_time_closes_all_three_families_until_switched_on() {
    let sim = families_sim();
    let c = client();
    let flags = format!("{}/-/sim/feature_flags", sim.url);
    let r = send(&c, Method::GET, &flags, None, None).await;
    assert_eq!(r.json(), json!({"certificate_based_clusters": true}));
    let r = switch(&sim, &c, false).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            200,
            json!({"name": "certificate_based_clusters", "enabled": false})
        )
    );
    let r = send(&c, Method::GET, &flags, None, None).await;
    assert_eq!(r.json(), json!({"certificate_based_clusters": false}));
    assert_all_off(&sim, &c).await;
    assert_lookups_first(&sim, &c).await;
    // Nothing was applied while it was off.
    assert_eq!(sim_clusters(&sim, &c).await.len(), 5);
    assert_eq!(switch(&sim, &c, true).await.status, 200);
    for (path, token) in [
        ("/groups/50/clusters/1", ADMIN),
        ("/projects/7/clusters/2", MAINTAINER),
        ("/admin/clusters/3", ADMIN),
    ] {
        let r = send(&c, Method::GET, &sim.api(path), Some(token), None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flag_off_in_the_seed_closes_project_and_instance_clusters_too() {
    let (sim, _dir) = sim_with_seed(|seed| {
        seed["certificate_based_clusters"] = json!(false);
    });
    let c = client();
    for (path, token) in [
        ("/projects/7/clusters", MAINTAINER),
        ("/projects/maintainer%2Fsandbox/clusters", MAINTAINER),
        ("/admin/clusters", ADMIN),
    ] {
        let r = send(&c, Method::GET, &sim.api(path), Some(token), None).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (404, json!({"message": "404 Not Found"})),
            "{path}"
        );
    }
    assert_lookups_first(&sim, &c).await;
    // ... and the control switches it on.
    assert_eq!(switch(&sim, &c, true).await.status, 200);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/admin/clusters"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flag_is_restored_with_a_checkpoint_and_kept_in_the_state_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf8").to_string();
    let c = client();
    {
        let mut sim = Sim::start(&["--control", "--state", &state_arg]);
        let r = send(
            &c,
            Method::POST,
            &format!("{}/-/sim/checkpoint", sim.url),
            None,
            None,
        )
        .await;
        assert_eq!(r.status, 201);
        assert_eq!(switch(&sim, &c, false).await.status, 200);
        let r = send(
            &c,
            Method::POST,
            &format!("{}/-/sim/restore", sim.url),
            None,
            None,
        )
        .await;
        assert_eq!(r.status, 200);
        let r = send(
            &c,
            Method::GET,
            &sim.api("/projects/7/clusters"),
            Some(MAINTAINER),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "the checkpoint had the flag on: {}", r.text);
        assert_eq!(switch(&sim, &c, false).await.status, 200);
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
        assert_eq!(saved["certificate_based_clusters"], false);
        sim.signal(libc::SIGTERM);
        assert_eq!(sim.wait_exit().code(), Some(0));
    }
    let sim = Sim::start(&["--control", "--state", &state_arg]);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/7/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Not Found"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_flags_and_bad_bodies_are_refused() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let r = send(
        &c,
        Method::PUT,
        &format!("{}/-/sim/feature_flags/no_such_flag", sim.url),
        None,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    for body in [
        json!({}),
        json!({"enabled": "yes"}),
        json!({"enabled": true, "x": 1}),
        json!([true]),
    ] {
        let r = send(
            &c,
            Method::PUT,
            &format!("{}/-/sim/feature_flags/certificate_based_clusters", sim.url),
            None,
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    // Without --control the controls do not exist.
    let plain = Sim::start(&[]);
    let r = switch(&plain, &c, false).await;
    assert_eq!(r.status, 404);
}
