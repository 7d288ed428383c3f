//! The simulator's response value (status, headers, body) with GitLab's error body helpers:
//! `{"message": ...}` (render_api_error!) and `{"error": ...}` (Grape errors), turned into a
//! hyper response with a whole body or a streamed one.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::Response;
use hyper::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::json;

/// A response body: whole (`Full`) or streamed (see `streams`); a stream that fails makes
/// hyper close the connection.
pub type HttpBody = BoxBody<Bytes, std::io::Error>;

#[derive(Debug, Clone)]
pub struct SimResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl SimResponse {
    pub fn new(status: u16) -> Self {
        SimResponse {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A JSON body (serialization of the simulator's own types cannot fail; if it did, the
    /// client gets GitLab's generic 500).
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => SimResponse::new(status).with_json_body(body),
            Err(_) => SimResponse::message(500, "500 Internal Server Error"),
        }
    }

    fn with_json_body(mut self, body: Vec<u8>) -> Self {
        self.headers
            .push(("Content-Type".into(), "application/json".into()));
        self.body = Bytes::from(body);
        self
    }

    /// `render_api_error!(message, status)`: `{"message": "..."}`.
    pub fn message(status: u16, message: &str) -> Self {
        SimResponse::json(status, &json!({ "message": message }))
    }

    /// Grape's `error!(message)`: `{"error": "..."}`.
    pub fn error(status: u16, message: &str) -> Self {
        SimResponse::json(status, &json!({ "error": message }))
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        let mut r = SimResponse::new(status);
        r.headers.push(("Content-Type".into(), content_type.into()));
        r.body = body.into();
        r
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn into_hyper(self) -> Response<HttpBody> {
        let body = Full::new(self.body.clone())
            .map_err(|never| match never {})
            .boxed();
        self.into_streamed(body)
    }

    /// This status and these headers with `body` in place of `self.body`.
    pub fn into_streamed(self, body: HttpBody) -> Response<HttpBody> {
        let mut resp = Response::new(body);
        *resp.status_mut() = hyper::StatusCode::from_u16(self.status)
            .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        let headers = resp.headers_mut();
        for (k, v) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                headers.append(name, value);
            }
        }
        resp
    }
}
