//! The fault explorer's fault kinds and controls: `after`, `hang`, `truncate`, `foreign`,
//! `endless_body`, `endless_list`, `huge_page`, and checkpoint / restore of the database.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn control(sim: &Sim, path: &str) -> String {
    format!("{}/-/sim/{path}", sim.url)
}

async fn stats(sim: &Sim, c: &Client) -> Value {
    send(c, Method::GET, &control(sim, "stats"), None, None)
        .await
        .json()
}

/// The log entry of the first request answered by `fault`, waiting (bounded) for it: streamed
/// and hung requests are logged when they end.
async fn logged(sim: &Sim, c: &Client, fault: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = stats(sim, c).await;
        if let Some(e) = s["log"]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["fault"] == fault))
        {
            return e.clone();
        }
        assert!(Instant::now() < deadline, "no {fault} entry in {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get(sim: &Sim, c: &Client, path: &str) -> Resp {
    send(c, Method::GET, &sim.api(path), Some(MAINTAINER), None).await
}

/// Sends `request` on a fresh connection and reads until the server closes it (bounded):
/// (status line and headers, body bytes).
async fn raw_exchange(sim: &Sim, request: String) -> (String, Vec<u8>) {
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", sim.port()))
            .await
            .expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let mut all = Vec::new();
        // A cut-short body may end in a reset instead of a clean close.
        let _ = s.read_to_end(&mut all).await;
        all
    };
    let all = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("server closed the connection within 30 s");
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    (
        String::from_utf8_lossy(&all[..split]).into_owned(),
        all[split + 4..].to_vec(),
    )
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .expect("content-length")
}

#[tokio::test(flavor = "multi_thread")]
async fn after_lets_n_requests_pass_then_fails_the_next() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(
        &sim,
        &c,
        json!({"after": 2, "action": {"kind": "status", "status": 500}}),
    )
    .await;
    let queue = send(&c, Method::GET, &control(&sim, "faults"), None, None).await;
    assert_eq!(queue.json()[0]["after"], 2);
    let first = get(&sim, &c, "/user").await.status.as_u16();
    let queue = send(&c, Method::GET, &control(&sim, "faults"), None, None).await;
    assert_eq!(
        queue.json()[0]["after"],
        1,
        "GET /-/sim/faults shows what is left"
    );
    let mut seen = vec![first];
    for _ in 0..3 {
        seen.push(get(&sim, &c, "/groups/42/clusters").await.status.as_u16());
    }
    assert_eq!(seen, [200, 200, 500, 200]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_waiting_its_turn_passes_the_request_to_the_next_fault() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(
        &sim,
        &c,
        json!({"after": 1, "action": {"kind": "status", "status": 500}}),
    )
    .await;
    fault(
        &sim,
        &c,
        json!({"action": {"kind": "status", "status": 503}}),
    )
    .await;
    fault(
        &sim,
        &c,
        json!({"path": "/nothing-matches", "after": 5, "action": {"kind": "reset"}}),
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(get(&sim, &c, "/user").await.status.as_u16());
    }
    assert_eq!(seen, [503, 500, 200]);
    let queue = send(&c, Method::GET, &control(&sim, "faults"), None, None).await;
    assert_eq!(
        queue.json()[0]["after"],
        5,
        "a fault not matching never counts"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn truncate_applies_then_cuts_the_body() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(
        &sim,
        &c,
        json!({"method": "POST", "action": {"kind": "truncate"}}),
    )
    .await;
    let r = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("t", "t"))
        .send()
        .await
        .expect("the head arrives");
    assert_eq!(r.status(), 201);
    assert!(r.text().await.is_err(), "the body ends early");
    assert_eq!(cluster_count(&sim, &c).await, before + 1, "applied");
    assert_eq!(logged(&sim, &c, "truncate").await["status"], 201);

    // Without applying: the answer it would have had, cut in half.
    fault(
        &sim,
        &c,
        json!({"method": "POST", "action": {"kind": "truncate", "apply": false}}),
    )
    .await;
    let body = cluster_body("u", "u").to_string();
    let (head, got) = raw_exchange(
        &sim,
        format!(
            "POST /api/v4/groups/42/clusters/user HTTP/1.1\r\nHost: 127.0.0.1\r\nPRIVATE-TOKEN: {MAINTAINER}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    let full = content_length(&head);
    assert!(full > 100, "{head}");
    assert_eq!(got.len(), full / 2, "half of the announced body");
    assert!(got.starts_with(b"{\"id\":"));
    assert_eq!(cluster_count(&sim, &c).await, before + 1, "not applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_answers_another_clusters_entity() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let mine = create(&sim, &c, "42", "mine", "mine").await;
    let id = mine["id"].as_u64().expect("id");
    // Cluster 1 (gke-production, group 50) is the lowest-id other cluster.
    fault(
        &sim,
        &c,
        json!({"method": "GET", "count": 2, "action": {"kind": "foreign"}}),
    )
    .await;
    let r = get(&sim, &c, &format!("/groups/42/clusters/{id}")).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["id"].clone(), v["group"]["id"].clone()),
        (json!(1), json!(50))
    );
    assert_eq!(v["name"], "gke-production");
    let r = get(&sim, &c, "/groups/42/clusters").await;
    let list = r.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], 1);
    assert!(list[0].get("group").is_none(), "rendered as a list item");
    assert_eq!(r.header("x-total"), "1", "the real headers stay");

    // A named cluster, on an update that is applied.
    let other = create(&sim, &c, "42", "other", "other").await;
    fault(
        &sim,
        &c,
        json!({"method": "PUT", "action": {"kind": "foreign", "cluster_id": other["id"]}}),
    )
    .await;
    let r = send(
        &c,
        Method::PUT,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        Some(json!({"name": "renamed"})),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()["id"].clone()),
        (200, other["id"].clone())
    );
    let real = get(&sim, &c, &format!("/groups/42/clusters/{id}"))
        .await
        .json();
    assert_eq!(real["name"], "renamed", "the update was applied");

    // No cluster in the answer: answered as normal.
    fault(
        &sim,
        &c,
        json!({"method": "DELETE", "action": {"kind": "foreign"}}),
    )
    .await;
    let r = send(
        &c,
        Method::DELETE,
        &sim.api(&format!("/groups/42/clusters/{id}")),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (204, ""));
    assert_eq!(logged(&sim, &c, "foreign").await["status"], 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_body_streams_until_the_client_hangs_up() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(&sim, &c, json!({"action": {"kind": "endless_body"}})).await;
    let mut r = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("e", "e"))
        .send()
        .await
        .expect("head");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert!(r.headers().get("content-length").is_none(), "chunked");
    let mut got = Vec::new();
    while got.len() < 4 << 20 {
        let chunk = r.chunk().await.expect("chunk").expect("never ends");
        got.extend_from_slice(&chunk);
    }
    assert!(got.starts_with(b"[{\"id\":"), "{:?}", &got[..20]);
    let text = String::from_utf8_lossy(&got[..200_000]);
    assert!(text.contains("},{\"id\":"), "repeated cluster objects");
    drop(r);
    let entry = logged(&sim, &c, "endless_body").await;
    assert_eq!(entry["status"], 200);
    assert_eq!(cluster_count(&sim, &c).await, before, "not applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_list_never_ends_and_never_repeats_ids() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(
        &sim,
        &c,
        json!({"method": "GET", "path": "/clusters", "count": 100000, "action": {"kind": "endless_list"}}),
    )
    .await;
    let mut ids = HashSet::new();
    let mut page = 1;
    for _ in 0..30 {
        let r = get(
            &sim,
            &c,
            &format!("/groups/42/clusters?per_page=7&page={page}"),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-page"), page.to_string());
        assert_eq!(r.header("x-per-page"), "7");
        let next: u64 = r.header("x-next-page").parse().expect("a next page");
        assert_eq!(next, page + 1);
        assert!(r.headers.get("x-total").is_none() && r.headers.get("x-total-pages").is_none());
        assert!(
            r.header("link")
                .contains(&format!("page={next}&per_page=7>; rel=\"next\""))
        );
        let items = r.json();
        let items = items.as_array().expect("list");
        assert_eq!(items.len(), 7);
        for it in items {
            let id = it["id"].as_u64().expect("id");
            assert!(ids.insert(id), "id {id} repeated");
            assert_eq!(it["name"], format!("endless-{id}"));
            assert_eq!(it["environment_scope"], format!("endless/{id}"));
        }
        page = next;
    }
    // A matching request that is no list answers as normal and uses nothing.
    let r = get(&sim, &c, "/groups/42/clusters/1").await;
    assert_eq!(r.status, 404);
    let queue = send(&c, Method::GET, &control(&sim, "faults"), None, None).await;
    assert_eq!(queue.json()[0]["remaining"], 100000 - 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_list_without_fabricate_repeats_the_first_page() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    for n in 0..3 {
        create(&sim, &c, "42", &format!("c{n}"), &format!("s{n}")).await;
    }
    let first = get(&sim, &c, "/groups/42/clusters?per_page=2").await.json();
    fault(
        &sim,
        &c,
        json!({"path": "/clusters", "count": 5, "action": {"kind": "endless_list", "fabricate": false}}),
    )
    .await;
    for page in [1, 2, 9] {
        let r = get(
            &sim,
            &c,
            &format!("/groups/42/clusters?per_page=2&page={page}"),
        )
        .await;
        assert_eq!(r.json(), first, "page {page}");
        assert_eq!(r.header("x-next-page"), (page + 1).to_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_page_streams_n_items() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    fault(
        &sim,
        &c,
        json!({"method": "GET", "action": {"kind": "huge_page", "items": 5000}}),
    )
    .await;
    let r = get(&sim, &c, "/groups/42/clusters").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-total"), "5000");
    assert_eq!(r.header("x-total-pages"), "1");
    assert_eq!(r.header("x-next-page"), "");
    assert!(!r.header("link").contains("rel=\"next\""));
    let items = r.json();
    let items = items.as_array().expect("one JSON array");
    assert_eq!(items.len(), 5000);
    let ids: HashSet<u64> = items.iter().filter_map(|i| i["id"].as_u64()).collect();
    assert_eq!(ids.len(), 5000, "distinct ids");
    assert_eq!(logged(&sim, &c, "huge_page").await["status"], 200);

    // Not applied.
    let before = cluster_count(&sim, &c).await;
    fault(
        &sim,
        &c,
        json!({"method": "POST", "action": {"kind": "huge_page", "items": 0}}),
    )
    .await;
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(MAINTAINER),
        Some(cluster_body("h", "h")),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "[]"));
    assert_eq!(cluster_count(&sim, &c).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn hang_holds_until_the_client_gives_up() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let before = cluster_count(&sim, &c).await;
    fault(
        &sim,
        &c,
        json!({"method": "POST", "action": {"kind": "hang"}}),
    )
    .await;
    let impatient = Client::builder()
        .no_proxy()
        .connect_timeout(gitlab_sim::HTTP_CONNECT_TIMEOUT)
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let t = Instant::now();
    let err = impatient
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .json(&cluster_body("h", "h"))
        .send()
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err}");
    assert!(t.elapsed() >= Duration::from_secs(2));
    let entry = logged(&sim, &c, "hang").await;
    assert_eq!(entry["status"], 0);
    assert_eq!(cluster_count(&sim, &c).await, before, "not applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_without_a_checkpoint_is_a_conflict() {
    let sim = Sim::start(&["--control"]);
    let c = client();
    let r = send(&c, Method::POST, &control(&sim, "restore"), None, None).await;
    assert_eq!(r.status, 409);
    assert!(r.json()["message"].is_string(), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_brings_back_the_checkpoint_with_its_id_counter() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf8").to_string();
    let sim = Sim::start(&["--control", "--state", &state_arg]);
    let c = client();
    let kept = create(&sim, &c, "42", "kept", "kept").await;
    let r = send(&c, Method::POST, &control(&sim, "checkpoint"), None, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let saved = send(&c, Method::GET, &control(&sim, "clusters"), None, None)
        .await
        .json();
    let later = create(&sim, &c, "42", "later", "later").await;
    let r = send(
        &c,
        Method::DELETE,
        &sim.api(&format!("/groups/42/clusters/{}", kept["id"])),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    fault(
        &sim,
        &c,
        json!({"count": 9, "action": {"kind": "status", "status": 500}}),
    )
    .await;

    let r = send(&c, Method::POST, &control(&sim, "restore"), None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let now = send(&c, Method::GET, &control(&sim, "clusters"), None, None)
        .await
        .json();
    assert_eq!(now, saved);
    let queue = send(&c, Method::GET, &control(&sim, "faults"), None, None).await;
    assert_eq!(queue.json(), json!([]), "the fault queue is cleared");
    let s = stats(&sim, &c).await;
    assert_eq!(
        (s["requests"].clone(), s["log"].clone()),
        (json!(0), json!([]))
    );
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
    assert_eq!(
        on_disk["clusters"].as_array().map(Vec::len),
        saved.as_array().map(Vec::len),
        "the restore is persisted"
    );
    let again = create(&sim, &c, "42", "later", "later").await;
    assert_eq!(again["id"], later["id"], "the id counter came back too");
    // The checkpoint stays for another restore.
    let r = send(&c, Method::POST, &control(&sim, "restore"), None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        send(&c, Method::GET, &control(&sim, "clusters"), None, None)
            .await
            .json(),
        saved
    );
}
