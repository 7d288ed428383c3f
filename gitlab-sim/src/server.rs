//! Connections and request dispatch: accepts TCP (optionally TLS) connections, serves HTTP/1.1
//! with keep-alive through hyper, routes `/-/sim/` to the controls and everything else through
//! scripted faults, the rate limiter and the random fault rate to the API, and records stats.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio_rustls::TlsAcceptor;

use crate::api::{self, ApiRequest};
use crate::app::App;
use crate::control;
use crate::fault_kinds;
use crate::faults::{self, Action};
use crate::http::{HttpBody, SimResponse};
use crate::params;
use crate::stats::{LogEntry, redact_query};
use crate::streams;

const MAX_BODY: usize = 16 * 1024 * 1024;

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
pub struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by simulated fault")
    }
}

impl std::error::Error for Abort {}

/// Serves until `shutdown` flips to true, then lets open connections finish (bounded wait).
pub async fn run(
    app: Arc<App>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                app.stats.connection();
                let app = app.clone();
                let tls = tls.clone();
                let rx = shutdown.clone();
                let active = active.clone();
                active.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            let hs = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await;
                            if let Ok(Ok(tls_stream)) = hs {
                                serve_connection(app, tls_stream, rx).await;
                            }
                        }
                        None => serve_connection(app, stream, rx).await,
                    }
                    active.fetch_sub(1, Ordering::SeqCst);
                });
            }
        }
    }
    drop(listener);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while active.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn serve_connection<S>(app: Arc<App>, stream: S, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        // Like GitLab's application server, a request is finished even when the client has
        // gone (timed out): hyper drops this future then, but not the spawned task, which
        // learns it through `gone` (a hung request ends then).
        async move {
            let (here, gone) = oneshot::channel::<()>();
            let answer = tokio::spawn(handle(app, req, gone))
                .await
                .unwrap_or(Err(Abort));
            drop(here);
            answer
        }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
}

async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
    gone: oneshot::Receiver<()>,
) -> Result<Response<HttpBody>, Abort> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Ok(SimResponse::message(413, "413 Request Entity Too Large").into_hyper());
            }
            return Err(Abort);
        }
    };
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| app.listen.to_string());
    let base_url = format!("{}://{host}", app.scheme);
    let path = parts.uri.path();

    if path == "/-/sim" || path.starts_with("/-/sim/") {
        return Ok(control::handle(&app, &parts.method, path, &body, &base_url)
            .await
            .into_hyper());
    }

    let method = parts.method.as_str();
    let query = parts.uri.query();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let entry = |status: u16, fault: Option<&'static str>| {
        let mut logged = params::body_for_log(content_type, &body);
        params::redact(&mut logged);
        LogEntry {
            method: method.to_string(),
            path: path.to_string(),
            query: query.map(redact_query),
            status,
            body: logged,
            fault,
        }
    };
    let record = |status: u16, fault: Option<&'static str>| app.stats.record(entry(status, fault));
    let req = ApiRequest {
        method: &parts.method,
        path,
        query,
        headers: &parts.headers,
        body: &body,
        base_url: &base_url,
    };

    let fault = app
        .faults()
        .take(method, path, api::is_list(&parts.method, path));
    // A fault acting on the real answer, after the request went through the API.
    let mut after_api = None;
    match fault {
        Some(Action::Status {
            status,
            retry_after,
            body: fbody,
        }) => {
            record(status, Some("status"));
            return Ok(faults::status_response(status, retry_after, fbody.as_deref()).into_hyper());
        }
        Some(Action::Raw {
            status,
            content_type,
            body: raw,
        }) => {
            record(status, Some("raw"));
            return Ok(SimResponse::text(status, &content_type, raw).into_hyper());
        }
        Some(Action::Reset) => {
            record(0, Some("reset"));
            return Err(Abort);
        }
        Some(Action::Hang) => {
            fault_kinds::hang(gone).await;
            record(0, Some("hang"));
            return Err(Abort);
        }
        Some(Action::EndlessBody) => {
            let family = fault_kinds::family_for(&req);
            let item =
                fault_kinds::template(&app, &base_url, family).render(streams::FABRICATED_BASE);
            let stream = streams::endless(&app, entry(200, Some("endless_body")), &item);
            return Ok(SimResponse::new(200)
                .header("Content-Type", "application/json")
                .into_streamed(stream));
        }
        Some(Action::HugePage { items }) => {
            let template = fault_kinds::template(&app, &base_url, fault_kinds::family_for(&req));
            let stream = streams::items(
                &app,
                entry(200, Some("huge_page")),
                template,
                streams::FABRICATED_BASE + 1,
                items,
            );
            return Ok(fault_kinds::huge_page_head(&req, items).into_streamed(stream));
        }
        Some(Action::Truncate { apply: false }) => {
            let real = api::preview(&app, &req);
            return Ok(truncated(&app, entry(real.status, Some("truncate")), real));
        }
        Some(Action::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Some(
            a @ (Action::DropAfterApply
            | Action::Truncate { apply: true }
            | Action::Foreign { .. }
            | Action::EndlessList { .. }),
        ) => after_api = Some(a),
        None => {}
    }

    if let Some(limiter) = &app.limiter
        && let Err(t) = limiter.check()
    {
        let authed = api::authenticated(&app, &parts.headers, query);
        record(429, None);
        return Ok(faults::throttled_response(&t, authed).into_hyper());
    }
    if let Some(rf) = &app.random_faults
        && let Some(code) = rf.pick()
    {
        record(code, None);
        return Ok(faults::gateway_error(code).into_hyper());
    }

    let outcome = api::handle(&app, &req);
    app.persist(outcome.snapshot).await;
    let mut response = outcome.response;
    let fault_name = after_api.as_ref().map(Action::name);
    match after_api {
        Some(Action::DropAfterApply) => {
            record(response.status, fault_name);
            return Err(Abort);
        }
        Some(Action::Truncate { .. }) => {
            return Ok(truncated(
                &app,
                entry(response.status, fault_name),
                response,
            ));
        }
        Some(Action::Foreign { cluster_id }) => {
            response = fault_kinds::foreign(&app, &req, response, cluster_id);
        }
        Some(Action::EndlessList { fabricate }) => {
            response = fault_kinds::endless_list(&app, &req, response, fabricate);
        }
        _ => {}
    }
    record(response.status, fault_name);
    Ok(with_api_headers(response).into_hyper())
}

/// `truncate`: the answer's status and headers, a Content-Length of its whole body, and only
/// the first half of the body before the connection closes.
fn truncated(app: &Arc<App>, entry: LogEntry, real: SimResponse) -> Response<HttpBody> {
    let stream = streams::truncated(app, entry, &real.body);
    let len = real.body.len().to_string();
    with_api_headers(real)
        .header("Content-Length", len)
        .into_streamed(stream)
}

/// The headers GitLab adds to every API answer.
fn with_api_headers(r: SimResponse) -> SimResponse {
    r.header("X-Frame-Options", "SAMEORIGIN")
        .header("X-Content-Type-Options", "nosniff")
}
