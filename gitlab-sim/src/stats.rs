//! Request accounting for `GET /-/sim/stats`: API request and TCP connection counters, counts
//! per method and status, and a capped log of recent API requests with tokens redacted.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::{Value, json};

const LOG_CAP: usize = 20_000;

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// 0 when the connection was reset without an answer.
    pub status: u16,
    pub body: Value,
    /// The scripted fault applied to this request, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
}

#[derive(Default)]
struct Inner {
    requests: u64,
    by_method: BTreeMap<String, u64>,
    by_status: BTreeMap<String, u64>,
    log: VecDeque<LogEntry>,
}

#[derive(Default)]
pub struct Stats {
    connections: AtomicU64,
    inner: Mutex<Inner>,
}

/// Replaces `private_token` / `access_token` values in a query string.
pub fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            if key == "private_token" || key == "access_token" {
                format!("{key}=[REDACTED]")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Stats {
    pub fn connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record(&self, entry: LogEntry) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.requests += 1;
        *s.by_method.entry(entry.method.clone()).or_default() += 1;
        *s.by_status.entry(entry.status.to_string()).or_default() += 1;
        if s.log.len() >= LOG_CAP {
            s.log.pop_front();
        }
        s.log.push_back(entry);
    }

    pub fn reset(&self) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *s = Inner::default();
        self.connections.store(0, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Value {
        let s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        json!({
            "requests": s.requests,
            "connections": self.connections.load(Ordering::Relaxed),
            "by_method": s.by_method,
            "by_status": s.by_status,
            "log": s.log,
        })
    }
}
