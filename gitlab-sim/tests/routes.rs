//! Requests outside the cluster endpoints: unknown routes, bad bodies and content types, and
//! paths outside `/api/v4`, answered as Grape and Rails answer them.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_bad_bodies_and_content_types_answer_like_grape() {
    let sim = Sim::start(&[]);
    let c = client();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/projects/1/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"error": "404 Not Found"}))
    );
    let r = send(
        &c,
        Method::PATCH,
        &sim.api("/groups/42/clusters/1"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .header("Content-Type", "text/plain")
        .body("name=x")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"error": "The provided content-type 'text/plain' is not supported."})
    );
    let r = c
        .post(sim.api("/groups/42/clusters/user"))
        .header("PRIVATE-TOKEN", MAINTAINER)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.expect("json");
    assert!(
        e["error"]
            .as_str()
            .is_some_and(|s| s.contains("message body does not match declared format")),
        "{e}"
    );
}

/// What a client with a wrong `base_url` meets: the v3 API's 410, and for paths outside
/// `/api/v4/` the Rails router, whose `route_not_found` redirects a client without a
/// session to the sign-in page (never the feature-flag 404 of a cluster endpoint).
#[tokio::test(flavor = "multi_thread")]
async fn paths_outside_the_v4_api_answer_like_grape_and_rails() {
    let sim = Sim::start(&[]);
    install_crypto_provider();
    let c = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = send(
        &c,
        Method::GET,
        &format!("{}/api/v3/user", sim.url),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            410,
            json!({"error": "API V3 is no longer supported. Use API V4 instead."})
        )
    );
    for path in ["/gitlab/api/v4/user", "/api/v5/user", "/user"] {
        let r = send(
            &c,
            Method::GET,
            &format!("{}{path}", sim.url),
            Some(MAINTAINER),
            None,
        )
        .await;
        assert_eq!(r.status.as_u16(), 302, "{path}");
        assert_eq!(
            r.headers["location"].to_str().unwrap(),
            format!("{}/users/sign_in", sim.url),
            "{path}"
        );
    }
    let r = send(
        &c,
        Method::GET,
        &sim.api("/api/v4/user"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"error": "404 Not Found"}))
    );
}
