//! The simulator's state and test controls: the state file across a restart, the control
//! endpoints only with `--control`, request statistics and drift behind the API.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf8").to_string();
    let c = client();
    let (id, created) = {
        let mut sim = Sim::start(&["--state", &state_arg]);
        let v = create(&sim, &c, "42", "durable", "durable").await;
        assert!(state.exists());
        sim.signal(libc::SIGTERM);
        assert_eq!(sim.wait_exit().code(), Some(0));
        (v["id"].as_u64().expect("id"), v)
    };
    let sim = Sim::start(&["--state", &state_arg]);
    let r = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let mut again = r.json();
    again["user"]["web_url"] = created["user"]["web_url"].clone();
    again["group"]["web_url"] = created["group"]["web_url"].clone();
    assert_eq!(again, created);
    // The id sequence continues; the stored token still authenticates nothing new but is kept.
    let next = create(&sim, &c, "42", "after", "after").await;
    assert_eq!(next["id"].as_u64(), Some(id + 1));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
    let stored = saved["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .expect("stored");
    assert_eq!(stored["platform_kubernetes"]["token"], "secret-token");
}

#[tokio::test(flavor = "multi_thread")]
async fn control_endpoints_answer_404_without_the_control_flag() {
    let sim = Sim::start(&[]);
    let c = client();
    for (m, p) in [
        (Method::GET, "/-/sim/stats"),
        (Method::POST, "/-/sim/faults"),
        (Method::GET, "/-/sim/clusters"),
    ] {
        let r = send(&c, m, &format!("{}{p}", sim.url), None, Some(json!({}))).await;
        assert_eq!(r.status, 404, "{p}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_api_requests_and_connections_and_redact_tokens() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let stats_url = format!("{}/-/sim/stats", sim.url);
    send(&c, Method::POST, &format!("{stats_url}/reset"), None, None).await;
    create(&sim, &c, "42", "s", "s").await;
    form(&c, Method::POST, &sim.api("/groups/42/clusters/user"), MAINTAINER, "name=t&platform_kubernetes_attributes[api_url]=https://a.example.com&platform_kubernetes_attributes[token]=form-secret").await;
    send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters?private_token={MAINTAINER}")),
        None,
        None,
    )
    .await;
    send(&c, Method::GET, &sim.api("/groups/42/clusters"), None, None).await;
    let s = send(&c, Method::GET, &stats_url, None, None).await.json();
    assert_eq!(s["requests"], 4, "{s}");
    assert!(s["connections"].as_u64().is_some());
    assert_eq!(s["by_method"], json!({"GET": 2, "POST": 2}));
    assert_eq!(s["by_status"], json!({"200": 1, "201": 2, "401": 1}));
    let log = s["log"].as_array().expect("log");
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/api/v4/groups/42/clusters/user");
    assert_eq!(log[0]["status"], 201);
    assert_eq!(
        log[0]["body"]["platform_kubernetes_attributes"],
        json!({"api_url": "https://kubernetes.example.com", "token": "[REDACTED]"})
    );
    assert_eq!(
        log[1]["body"]["platform_kubernetes_attributes"]["token"],
        "[REDACTED]"
    );
    assert_eq!(log[2]["query"], "private_token=[REDACTED]");
    assert!(
        !s.to_string().contains("secret-token")
            && !s.to_string().contains("form-secret")
            && !s.to_string().contains(MAINTAINER)
    );
    let r = send(&c, Method::POST, &format!("{stats_url}/reset"), None, None).await;
    assert_eq!(r.status, 204);
    let s = send(&c, Method::GET, &stats_url, None, None).await.json();
    assert_eq!(
        (s["requests"].clone(), s["log"].clone()),
        (json!(0), json!([]))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_edits_and_deletes_clusters_behind_the_api() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let v = create(&sim, &c, "42", "drift", "drift").await;
    let id = v["id"].as_u64().expect("id");
    let ctl = format!("{}/-/sim/clusters/{id}", sim.url);
    let r = send(&c, Method::PATCH, &ctl, None, Some(json!({"name": "drifted", "enabled": false, "api_url": "https://drifted.example.com", "namespace": "Not Valid", "environment_scope": "x", "domain": null}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["group_id"], 42);
    let g = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await
    .json();
    assert_eq!(g["name"], "drifted");
    assert_eq!(g["enabled"], false);
    assert_eq!(g["environment_scope"], "x");
    assert_eq!(
        g["platform_kubernetes"]["api_url"],
        "https://drifted.example.com"
    );
    assert_eq!(g["platform_kubernetes"]["namespace"], "Not Valid");
    let r = send(
        &c,
        Method::PATCH,
        &ctl,
        None,
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(r.status, 400);
    let all = send(
        &c,
        Method::GET,
        &format!("{}/-/sim/clusters", sim.url),
        None,
        None,
    )
    .await
    .json();
    assert!(
        all.as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == 1 && x["group_id"] == 50))
    );
    let r = send(&c, Method::DELETE, &ctl, None, None).await;
    assert_eq!(r.status, 204);
    let r = send(
        &c,
        Method::GET,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = send(&c, Method::DELETE, &ctl, None, None).await;
    assert_eq!(r.status, 404);
}
