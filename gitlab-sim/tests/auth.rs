//! Tokens and permissions: the token styles GitLab accepts, groups found by id or path and
//! hidden when not readable, and GitLab's roles with inherited membership.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_unknown_token_is_401_and_all_token_styles_work() {
    let sim = Sim::start(&[]);
    let c = client();
    for token in [None, Some("wrong-token")] {
        let r = send(
            &c,
            Method::GET,
            &sim.api("/groups/42/clusters"),
            token,
            None,
        )
        .await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json(), json!({"message": "401 Unauthorized"}));
    }
    let r = c
        .get(sim.api("/user"))
        .bearer_auth(MAINTAINER)
        .send()
        .await
        .expect("bearer");
    assert_eq!(r.status(), 200);
    let r = c
        .get(sim.api(&format!("/user?private_token={MAINTAINER}")))
        .send()
        .await
        .expect("param");
    assert_eq!(r.status(), 200);
    let user: Value = r.json().await.expect("json");
    assert_eq!(user["username"], "maintainer");
    assert_eq!(user["id"], 2);
    assert_eq!(user["web_url"], format!("{}/maintainer", sim.url));
    assert!(user.get("is_admin").is_none());
    let admin = send(&c, Method::GET, &sim.api("/user"), Some(ADMIN), None)
        .await
        .json();
    assert_eq!(admin["is_admin"], true);
}

/// GitLab's `auth_finders.rb`: `PRIVATE-TOKEN` finds personal (project, group) access
/// tokens only; an OAuth2 access token is found only as a bearer token.
#[tokio::test(flavor = "multi_thread")]
async fn an_oauth2_token_is_accepted_as_bearer_only_and_an_access_token_both_ways() {
    let sim = Sim::start(&[]);
    let c = client();
    let bearer = |t: &'static str| c.get(sim.api("/user")).bearer_auth(t).send();
    let r = bearer(MAINTAINER_OAUTH).await.expect("bearer");
    assert_eq!(r.status(), 200);
    let user: Value = r.json().await.expect("json");
    assert_eq!(user["username"], "maintainer");
    let r = c
        .get(sim.api(&format!("/user?access_token={MAINTAINER_OAUTH}")))
        .send()
        .await
        .expect("param");
    assert_eq!(r.status(), 200);
    // Never as a PRIVATE-TOKEN (header or param).
    let r = send(
        &c,
        Method::GET,
        &sim.api("/user"),
        Some(MAINTAINER_OAUTH),
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    let r = c
        .get(sim.api(&format!("/user?private_token={MAINTAINER_OAUTH}")))
        .send()
        .await
        .expect("param");
    assert_eq!(r.status(), 401);
    // A personal access token works as a bearer token too.
    assert_eq!(bearer(MAINTAINER).await.expect("bearer").status(), 200);
    let r = c
        .get(sim.api("/groups/qa/clusters"))
        .bearer_auth(MAINTAINER_OAUTH)
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_are_found_by_id_or_encoded_path_and_hidden_when_not_readable() {
    let sim = Sim::start(&[]);
    let c = client();
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/qa%2Fplatform/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/QA/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "full paths are case-insensitive");
    for missing in ["/groups/999/clusters", "/groups/nope%2Fnope/clusters"] {
        let r = send(&c, Method::GET, &sim.api(missing), Some(MAINTAINER), None).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json(), json!({"message": "404 Group Not Found"}));
    }
    // Private group without membership: GitLab hides it (404), the admin sees it.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/50/clusters"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"message": "404 Group Not Found"}))
    );
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/other/clusters"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn permissions_follow_gitlab_roles_with_inherited_membership() {
    let sim = Sim::start(&[]);
    let c = client();
    let body = cluster_body("perm", "perm");
    // Developer: may read (GroupPolicy read_cluster), not write.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(DEVELOPER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(DEVELOPER),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (403, json!({"message": "403 Forbidden"}))
    );
    // Reporter: no read either.
    let r = send(
        &c,
        Method::GET,
        &sim.api("/groups/42/clusters"),
        Some(REPORTER),
        None,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (403, json!({"message": "403 Forbidden"}))
    );
    // Maintainer of qa is maintainer of qa/platform too.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/43/clusters/user"),
        Some(MAINTAINER),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_u64().expect("id");
    let url = sim.api(&format!("/groups/43/clusters/{id}"));
    let r = send(&c, Method::GET, &url, Some(DEVELOPER), None).await;
    assert_eq!(r.status, 200);
    let r = send(&c, Method::GET, &url, Some(REPORTER), None).await;
    assert_eq!(r.status, 403);
    let r = send(
        &c,
        Method::PUT,
        &url,
        Some(DEVELOPER),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = send(&c, Method::DELETE, &url, Some(DEVELOPER), None).await;
    assert_eq!(r.status, 403);
    // Grape validation runs before authorization: invalid params are a 400 even for a developer.
    let r = send(
        &c,
        Method::POST,
        &sim.api("/groups/42/clusters/user"),
        Some(DEVELOPER),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 400);
}
