//! List pagination: GitLab's `X-*` headers and `Link` header.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn list_pagination_headers_match_gitlab() {
    let sim = Sim::start(&[]);
    let c = client();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(
                &sim,
                &c,
                "qa%2Fplatform",
                &format!("p{i}"),
                &format!("p{i}"),
            )
            .await["id"]
                .as_u64()
                .expect("id"),
        );
    }
    let base = format!("{}/api/v4/groups/qa%2Fplatform/clusters", sim.url);
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=2&page=2"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let page: Vec<u64> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|x| x["id"].as_u64())
        .collect();
    assert_eq!(page, ids[2..4]);
    assert_eq!(r.header("x-total"), "5");
    assert_eq!(r.header("x-total-pages"), "3");
    assert_eq!(r.header("x-page"), "2");
    assert_eq!(r.header("x-per-page"), "2");
    assert_eq!(r.header("x-next-page"), "3");
    assert_eq!(r.header("x-prev-page"), "1");
    let q = |p: u32| format!("<{base}?id=qa%2Fplatform&page={p}&per_page=2>");
    assert_eq!(
        r.header("link"),
        format!(
            "{}; rel=\"prev\", {}; rel=\"next\", {}; rel=\"first\", {}; rel=\"last\"",
            q(1),
            q(3),
            q(1),
            q(3)
        )
    );
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=2&page=3"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    assert_eq!(
        (r.header("x-next-page"), r.header("x-prev-page")),
        ("", "2")
    );
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=2&page=9"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(r.json(), json!([]));
    assert_eq!(
        (
            r.header("x-next-page"),
            r.header("x-prev-page"),
            r.header("x-page")
        ),
        ("", "", "9")
    );
    let r = send(
        &c,
        Method::GET,
        &format!("{base}?per_page=500"),
        Some(MAINTAINER),
        None,
    )
    .await;
    assert_eq!(
        (r.header("x-per-page"), r.header("x-total-pages")),
        ("100", "1")
    );
    let r = send(&c, Method::GET, &base, Some(MAINTAINER), None).await;
    assert_eq!((r.header("x-per-page"), r.header("x-page")), ("20", "1"));
    // Following rel="next" visits every cluster once.
    let mut next = Some(format!("{base}?per_page=2"));
    let mut seen = Vec::new();
    while let Some(u) = next.take() {
        let r = send(&c, Method::GET, &u, Some(MAINTAINER), None).await;
        seen.extend(
            r.json()
                .as_array()
                .expect("array")
                .iter()
                .filter_map(|x| x["id"].as_u64()),
        );
        next = r
            .header("link")
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap_or(1)].to_string());
    }
    assert_eq!(seen, ids);
}
