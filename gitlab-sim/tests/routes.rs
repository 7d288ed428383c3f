//! Requests outside the cluster endpoints: `GET /groups/:id`, unknown routes, bad bodies and
//! content types, and paths outside `/api/v4`, answered as Grape and Rails answer them.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_bad_bodies_and_content_types_answer_like_grape() {
    let sim = Sim::start(&[]);
    let c = client();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/kubernetes_clusters"),
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

#[tokio::test(flavor = "multi_thread")]
async fn group_is_found_by_numeric_id_or_encoded_full_path_by_a_member_of_it_or_an_ancestor() {
    let sim = Sim::start(&[]);
    let c = client();
    let by_id = send(
        &c,
        Method::GET,
        &sim.api("/groups/43"),
        Some(DEVELOPER),
        None,
    )
    .await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    let g = by_id.json();
    for (k, v) in [
        ("id", json!(43)),
        ("web_url", json!(format!("{}/groups/qa/platform", sim.url))),
        ("name", json!("Platform")),
        ("path", json!("platform")),
        ("description", json!("")),
        ("visibility", json!("private")),
        ("full_name", json!("QA / Platform")),
        ("full_path", json!("qa/platform")),
        ("parent_id", json!(42)),
    ] {
        assert_eq!(g[k], v, "{k} in {g}");
    }
    assert!(g["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(g["projects"], json!([]), "GroupDetail by default");
    assert!(
        g.get("runners_token").is_none(),
        "only for who may admin it"
    );
    for path in ["qa%2Fplatform", "QA%2FPlatform"] {
        let r = send(
            &c,
            Method::GET,
            &sim.api(&format!("/groups/{path}?with_projects=false")),
            Some(MAINTAINER),
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{path}");
        let v = r.json();
        assert_eq!(
            (v["id"].clone(), v["full_path"].clone()),
            (json!(43), json!("qa/platform"))
        );
        assert!(
            v.get("projects").is_none(),
            "Entities::Group without projects"
        );
    }
    let top = send(&c, Method::GET, &sim.api("/groups/qa"), Some(ADMIN), None)
        .await
        .json();
    assert_eq!(
        (top["parent_id"].clone(), top["description"].clone()),
        (Value::Null, json!("QA group"))
    );
    assert!(top["runners_token"].is_string(), "admins may admin it");
}

#[tokio::test(flavor = "multi_thread")]
async fn group_the_token_may_not_read_is_not_found_and_no_token_is_unauthorized() {
    let sim = Sim::start(&[]);
    let c = client();
    for path in [
        "/groups/50",
        "/groups/other",
        "/groups/999",
        "/groups/no%2Fsuch",
    ] {
        let r = send(&c, Method::GET, &sim.api(path), Some(MAINTAINER), None).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (404, json!({"message": "404 Group Not Found"})),
            "{path}"
        );
    }
    let r = send(&c, Method::GET, &sim.api("/groups/50"), Some(ADMIN), None).await;
    assert_eq!(r.status, 200, "the admin reads every group");
    let r = send(&c, Method::GET, &sim.api("/groups/42"), None, None).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (401, json!({"message": "401 Unauthorized"}))
    );
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42?with_projects=maybe"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"error": "with_projects is invalid"}))
    );
}
