//! Streamed response bodies for the fault explorer's kinds: a body cut short (`truncate`), a
//! JSON array that never ends (`endless_body`) and one page of N fabricated clusters
//! (`huge_page`), each bounded in bytes and time, and each logging its request when it ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};

use crate::app::App;
use crate::http::HttpBody;
use crate::stats::LogEntry;

/// The most a streamed answer sends before the simulator closes the connection.
pub const MAX_BYTES: u64 = 8 << 30;
/// The longest a streamed answer (or a hung request) lasts.
pub const MAX_TIME: Duration = Duration::from_secs(600);

/// Fabricated clusters get ids from here up (above anything a test creates).
pub const FABRICATED_BASE: u64 = 10_000_000;

/// A cluster entity, serialized in GitLab's field order, that fabricated clusters are made
/// from: its id, name and environment scope are filled in per copy.
#[derive(Clone)]
pub struct Template {
    /// The serialized entity split around the three holes (id, name, scope).
    parts: [Bytes; 4],
}

/// Placeholders an entity carries where a fabricated copy gets its own values.
pub const ID_HOLE: u64 = u64::MAX;
pub const NAME_HOLE: &str = "\u{1}name";
pub const SCOPE_HOLE: &str = "\u{1}scope";

impl Template {
    /// From an entity serialized with `ID_HOLE`, `NAME_HOLE` and `SCOPE_HOLE` in place of its
    /// id, name and environment scope (`None` if one of them is missing).
    pub fn from_entity_json(json: &[u8]) -> Option<Template> {
        let text = std::str::from_utf8(json).ok()?;
        let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
        // In the entity's field order: id, name, ..., environment_scope.
        let holes = [ID_HOLE.to_string(), quoted(NAME_HOLE), quoted(SCOPE_HOLE)];
        let mut parts: [Bytes; 4] = Default::default();
        let mut at = 0;
        for (i, hole) in holes.iter().enumerate() {
            let start = at + text[at..].find(hole.as_str())?;
            parts[i] = Bytes::copy_from_slice(&json[at..start]);
            at = start + hole.len();
        }
        parts[3] = Bytes::copy_from_slice(&json[at..]);
        Some(Template { parts })
    }

    /// A bare `{"id","name","environment_scope"}` (should an entity ever fail to serialize).
    pub fn minimal() -> Template {
        Template {
            parts: [
                Bytes::from_static(b"{\"id\":"),
                Bytes::from_static(b",\"name\":"),
                Bytes::from_static(b",\"environment_scope\":"),
                Bytes::from_static(b"}"),
            ],
        }
    }

    /// The copy with cluster id `id`, named `endless-<id>`, scope `endless/<id>`.
    pub fn write(&self, id: u64, out: &mut BytesMut) {
        out.extend_from_slice(&self.parts[0]);
        out.extend_from_slice(id.to_string().as_bytes());
        out.extend_from_slice(&self.parts[1]);
        out.extend_from_slice(format!("\"endless-{id}\"").as_bytes());
        out.extend_from_slice(&self.parts[2]);
        out.extend_from_slice(format!("\"endless/{id}\"").as_bytes());
        out.extend_from_slice(&self.parts[3]);
    }

    pub fn render(&self, id: u64) -> Bytes {
        let mut out = BytesMut::new();
        self.write(id, &mut out);
        out.freeze()
    }
}

enum Source {
    /// These bytes once, then (once hyper has flushed them) the end, short of the announced
    /// Content-Length.
    Prefix(Option<Bytes>, Pin<Box<tokio::time::Sleep>>),
    /// `head` once, then `chunk` until a bound is hit.
    Repeat { head: Option<Bytes>, chunk: Bytes },
    /// `[`, items `first..first+count` fabricated from `template`, `]`.
    Items {
        template: Template,
        first: u64,
        count: u64,
        next: u64,
        opened: bool,
    },
}

/// Records its log entry when dropped, which hyper does when the body ends or the client is
/// gone.
struct LogOnDrop {
    app: Arc<App>,
    entry: Option<LogEntry>,
}

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.app.stats.record(entry);
        }
    }
}

struct Generated {
    source: Source,
    sent: u64,
    deadline: Instant,
    _log: LogOnDrop,
}

const ITEMS_PER_CHUNK: u64 = 64;

impl Generated {
    /// The next chunk; `Ok(None)` at a natural end, `Err` past a bound (connection closed).
    fn next_chunk(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        if self.sent >= MAX_BYTES || Instant::now() >= self.deadline {
            return Err(std::io::Error::other("streamed answer reached its bound"));
        }
        Ok(match &mut self.source {
            Source::Prefix(data, _) => data.take(),
            Source::Repeat { head, chunk } => Some(head.take().unwrap_or_else(|| chunk.clone())),
            Source::Items {
                template,
                first,
                count,
                next,
                opened,
            } => {
                let end = *first + *count;
                if *next > end {
                    return Ok(None);
                }
                let mut buf = BytesMut::new();
                if !*opened {
                    *opened = true;
                    buf.extend_from_slice(b"[");
                }
                let stop = (*next + ITEMS_PER_CHUNK).min(end);
                while *next < stop {
                    if *next > *first {
                        buf.extend_from_slice(b",");
                    }
                    template.write(*next, &mut buf);
                    *next += 1;
                }
                if *next == end {
                    buf.extend_from_slice(b"]");
                    *next = end + 1;
                }
                Some(buf.freeze())
            }
        })
    }
}

impl Body for Generated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Source::Prefix(None, flushed) = &mut this.source {
            // Pending first, so hyper writes out what it holds before the body ends early.
            std::task::ready!(flushed.as_mut().poll(cx));
        }
        Poll::Ready(match this.next_chunk() {
            Ok(Some(b)) => {
                this.sent += b.len() as u64;
                Some(Ok(Frame::data(b)))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        })
    }
}

fn body(app: &Arc<App>, entry: LogEntry, source: Source) -> HttpBody {
    Generated {
        source,
        sent: 0,
        deadline: Instant::now() + MAX_TIME,
        _log: LogOnDrop {
            app: app.clone(),
            entry: Some(entry),
        },
    }
    .boxed()
}

/// The first half of `full`; sent under a Content-Length of all of it, hyper closes the
/// connection after it.
pub fn truncated(app: &Arc<App>, entry: LogEntry, full: &Bytes) -> HttpBody {
    let flushed = Box::pin(tokio::time::sleep(Duration::from_millis(100)));
    body(
        app,
        entry,
        Source::Prefix(Some(full.slice(..full.len() / 2)), flushed),
    )
}

/// `[` then `item,` repeated until the client goes away or a bound is hit.
pub fn endless(app: &Arc<App>, entry: LogEntry, item: &[u8]) -> HttpBody {
    let mut one = item.to_vec();
    one.push(b',');
    let mut chunk = Vec::with_capacity(64 * 1024 + one.len());
    while chunk.len() < 64 * 1024 {
        chunk.extend_from_slice(&one);
    }
    body(
        app,
        entry,
        Source::Repeat {
            head: Some(Bytes::from_static(b"[")),
            chunk: Bytes::from(chunk),
        },
    )
}

/// A JSON array of `count` clusters fabricated from `template`, ids `first..`, built as it
/// is sent.
pub fn items(
    app: &Arc<App>,
    entry: LogEntry,
    template: Template,
    first: u64,
    count: u64,
) -> HttpBody {
    body(
        app,
        entry,
        Source::Items {
            template,
            first,
            count,
            next: first,
            opened: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_fills_in_id_name_and_scope_and_keeps_the_field_order() {
        let entity = format!(
            "{{\"id\":{ID_HOLE},\"name\":{},\"enabled\":true,\"environment_scope\":{},\"user\":null}}",
            serde_json::to_string(NAME_HOLE).unwrap_or_default(),
            serde_json::to_string(SCOPE_HOLE).unwrap_or_default(),
        );
        let t = Template::from_entity_json(entity.as_bytes()).expect("three holes");
        assert_eq!(
            &t.render(10_000_007)[..],
            b"{\"id\":10000007,\"name\":\"endless-10000007\",\"enabled\":true,\"environment_scope\":\"endless/10000007\",\"user\":null}"
        );
        assert!(Template::from_entity_json(b"{\"id\":1}").is_none());
    }
}
