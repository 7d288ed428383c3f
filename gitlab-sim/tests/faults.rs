//! Fault injection and rate limiting: scripted status/raw/delay/reset/drop-after-apply
//! faults, their matching and counting, Rack::Attack's 429 and the seeded random fault rate.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn status_and_raw_faults_answer_without_applying() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(&sim, &c, json!({"method": "POST", "path": "/clusters/user", "action": {"kind": "status", "status": 503, "retry_after": 7}})).await;
    fault(&sim, &c, json!({"method": "POST", "action": {"kind": "status", "status": 429, "body": "{\"message\":\"slow down\"}"}})).await;
    fault(&sim, &c, json!({"action": {"kind": "raw", "status": 200, "content_type": "application/json", "body": "{\"id\": \"not-a-number\""}})).await;
    let url = sim.api("/groups/42/clusters/user");
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), "7");
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.text.as_str()),
        (429, "{\"message\":\"slow down\"}")
    );
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.text.as_str()),
        (200, "{\"id\": \"not-a-number\"")
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        cluster_count(&sim, &c).await,
        before,
        "faulted requests were not applied"
    );
    let r = send(
        &c,
        Method::POST,
        &url,
        Some(MAINTAINER),
        Some(cluster_body("f", "f")),
    )
    .await;
    assert_eq!(r.status, 201, "queue exhausted");
}

#[tokio::test(flavor = "multi_thread")]
async fn delay_fault_waits_then_applies() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(&sim, &c, json!({"method": "GET", "path": "/groups/42/clusters", "action": {"kind": "delay", "ms": 400}})).await;
    let t = std::time::Instant::now();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(400));
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_fault_closes_the_connection_without_applying() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(
        &sim,
        &c,
        json!({"method": "POST", "action": {"kind": "reset"}}),
    )
    .await;
    let err = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("r", "r"))
        .send()
        .await;
    assert!(err.is_err(), "no response expected");
    assert_eq!(cluster_count(&sim, &c).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_after_apply_fault_applies_then_closes() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(
        &sim,
        &c,
        json!({"method": "POST", "path": "clusters/user", "action": {"kind": "drop_after_apply"}}),
    )
    .await;
    let err = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("d", "d"))
        .send()
        .await;
    assert!(err.is_err(), "no response expected");
    assert_eq!(
        cluster_count(&sim, &c).await,
        before + 1,
        "the create was applied"
    );
    let stats = send(
        &c,
        Method::GET,
        &format!("{}/-/sim/stats", sim.url),
        None,
        None,
    )
    .await
    .json();
    let last = stats["log"]
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .expect("log");
    assert_eq!(
        (last["status"].clone(), last["fault"].clone()),
        (json!(201), json!("drop_after_apply"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_match_method_and_path_count_down_and_can_be_cleared() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(&sim, &c, json!({"method": "GET", "path": "/groups/43/", "count": 2, "action": {"kind": "status", "status": 500}})).await;
    fault(
        &sim,
        &c,
        json!({"method": "GET", "count": 1, "action": {"kind": "status", "status": 502}}),
    )
    .await;
    let g42 = sim.api("/groups/42/clusters");
    let g43 = sim.api("/groups/43/clusters");
    let statuses = [
        send(&c, Method::GET, &g42, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
        send(&c, Method::GET, &g43, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
        send(&c, Method::GET, &g43, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
        send(&c, Method::GET, &g43, Some(MAINTAINER), None)
            .await
            .status
            .as_u16(),
    ];
    assert_eq!(statuses, [502, 500, 500, 200]);
    let r = send(&c, Method::GET, &g43, Some(MAINTAINER), None).await;
    assert_eq!(r.status, 200);
    fault(
        &sim,
        &c,
        json!({"count": 5, "action": {"kind": "status", "status": 500}}),
    )
    .await;
    let r = send(
        &c,
        Method::DELETE,
        &format!("{}/-/sim/faults", sim.url),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        send(&c, Method::GET, &g42, Some(MAINTAINER), None)
            .await
            .status,
        200
    );
    let r = send(
        &c,
        Method::POST,
        &format!("{}/-/sim/faults", sim.url),
        None,
        Some(json!({"action": {"kind": "explode"}})),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_answers_429_like_rack_attack() {
    let sim = Sim::start(&["--rate-limit", "5"]);
    let c = client();
    let mut throttled = None;
    for _ in 0..20 {
        let r = send(
            &c,
            Method::GET,
            &sim.api("/groups/42/clusters"),
            Some(MAINTAINER),
            None,
        )
        .await;
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("throttled within 20 requests");
    assert_eq!(r.text, "Retry later\n");
    assert_eq!(r.header("content-type"), "text/plain");
    assert_eq!(r.header("ratelimit-name"), "throttle_authenticated_api");
    assert_eq!(r.header("ratelimit-limit"), "300");
    assert_eq!(r.header("ratelimit-remaining"), "0");
    assert!(r.header("retry-after").parse::<u64>().is_ok_and(|s| s >= 1));
    assert!(r.header("ratelimit-reset").parse::<i64>().is_ok());
    assert!(r.header("ratelimit-resettime").ends_with(" GMT"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "budget refilled");
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_rate_is_deterministic_with_a_seed() {
    let c = client();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sim = Sim::start(&["--fault-rate", "0.3", "--fault-seed", "7", "--control"]);
        let mut seq = Vec::new();
        for _ in 0..60 {
            let r = send(
                &c,
                Method::GET,
                &sim.api("/groups/42/clusters"),
                Some(MAINTAINER),
                None,
            )
            .await;
            if r.status != 200 {
                assert!(r.text.contains("nginx"), "{}", r.text);
            }
            seq.push(r.status.as_u16());
        }
        runs.push(seq);
    }
    assert_eq!(runs[0], runs[1]);
    let faults = runs[0].iter().filter(|s| **s != 200).count();
    assert!((5..=35).contains(&faults), "{faults} faults of 60");
    assert!(runs[0].iter().all(|s| [200, 502, 503].contains(s)));
}
