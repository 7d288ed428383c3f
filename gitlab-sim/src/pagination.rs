//! GitLab's offset pagination (Kaminari with default 20 / max 100 per page) and the headers
//! `Gitlab::Pagination::OffsetHeaderBuilder` adds: X-Per-Page, X-Page, X-Next-Page,
//! X-Prev-Page, Link (prev/next/first/last, with the request's params re-encoded by Rails'
//! `to_query`), X-Total and X-Total-Pages (omitted above 10 000 records).

use serde_json::{Map, Value};

const DEFAULT_PER_PAGE: i64 = 20;
const MAX_PER_PAGE: i64 = 100;
/// Kaminari::ActiveRecordRelationMethods::MAX_COUNT_LIMIT.
const MAX_COUNT_LIMIT: usize = 10_000;

pub struct Page {
    pub per_page: i64,
    pub page: i64,
    pub offset: usize,
    pub next: Option<i64>,
    pub prev: Option<i64>,
    pub total: usize,
    pub total_pages: i64,
    pub without_count: bool,
}

/// Kaminari's `page(page).per(per_page)` over `total` records.
pub fn paginate(total: usize, page: i64, per_page: i64) -> Page {
    let limit = if per_page < 0 {
        DEFAULT_PER_PAGE
    } else {
        per_page.clamp(1, MAX_PER_PAGE)
    };
    let page = page.max(1);
    let offset = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let total_i = i64::try_from(total).unwrap_or(i64::MAX);
    let k_total_pages = (total_i + limit - 1) / limit;
    let out_of_range = page > k_total_pages;
    let last_page = page == k_total_pages;
    let without_count = total > MAX_COUNT_LIMIT;
    let (next, prev) = if without_count {
        let has_next = offset.saturating_add(limit as usize) < total;
        (has_next.then_some(page + 1), (page > 1).then_some(page - 1))
    } else {
        (
            (!last_page && !out_of_range).then_some(page + 1),
            (page > 1 && !out_of_range).then_some(page - 1),
        )
    };
    Page {
        per_page: limit,
        page,
        offset,
        next,
        prev,
        total,
        total_pages: k_total_pages.max(1),
        without_count,
    }
}

/// Ruby's `CGI.escape`.
pub fn cgi_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn scalar_param(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn value_to_query(v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Object(m) => {
            if m.is_empty() {
                return None;
            }
            Some(hash_to_query(m, Some(key)))
        }
        Value::Array(a) => {
            let prefix = format!("{key}[]");
            if a.is_empty() {
                return Some(format!("{}=", cgi_escape(&prefix)));
            }
            Some(
                a.iter()
                    .filter_map(|x| value_to_query(x, &prefix))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
        }
        other => Some(format!(
            "{}={}",
            cgi_escape(key),
            cgi_escape(&scalar_param(other))
        )),
    }
}

/// Rails' `Hash#to_query`.
pub fn hash_to_query(m: &Map<String, Value>, namespace: Option<&str>) -> String {
    let mut parts: Vec<String> = m
        .iter()
        .filter_map(|(k, v)| {
            let key = match namespace {
                Some(ns) => format!("{ns}[{k}]"),
                None => k.clone(),
            };
            value_to_query(v, &key)
        })
        .collect();
    if !namespace.unwrap_or("").contains("[]") {
        parts.sort();
    }
    parts.join("&")
}

/// Response headers for a page. `params` are the request's Grape params (route params, query
/// string); `base` is scheme://host:port and `path` the request path as sent.
pub fn headers(
    p: &Page,
    base: &str,
    path: &str,
    params: &Map<String, Value>,
) -> Vec<(String, String)> {
    let href = |page: i64| {
        let mut q = params.clone();
        q.insert("page".into(), Value::from(page));
        q.insert("per_page".into(), Value::from(p.per_page));
        format!("{base}{path}?{}", hash_to_query(&q, None))
    };
    let mut links = Vec::new();
    if let Some(prev) = p.prev {
        links.push(format!("<{}>; rel=\"prev\"", href(prev)));
    }
    if let Some(next) = p.next {
        links.push(format!("<{}>; rel=\"next\"", href(next)));
    }
    links.push(format!("<{}>; rel=\"first\"", href(1)));
    if !p.without_count {
        links.push(format!("<{}>; rel=\"last\"", href(p.total_pages)));
    }
    let mut h = vec![
        ("X-Per-Page".to_string(), p.per_page.to_string()),
        ("X-Page".to_string(), p.page.to_string()),
        (
            "X-Next-Page".to_string(),
            p.next.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "X-Prev-Page".to_string(),
            p.prev.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("Link".to_string(), links.join(", ")),
    ];
    if !p.without_count {
        h.push(("X-Total".to_string(), p.total.to_string()));
        h.push(("X-Total-Pages".to_string(), p.total_pages.to_string()));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kaminari_pages() {
        let p = paginate(5, 2, 2);
        assert_eq!(
            (p.page, p.next, p.prev, p.total_pages, p.offset),
            (2, Some(3), Some(1), 3, 2)
        );
        let p = paginate(5, 9, 2);
        assert_eq!((p.next, p.prev), (None, None));
        let p = paginate(0, 1, 20);
        assert_eq!((p.next, p.prev, p.total_pages), (None, None, 1));
        assert_eq!(paginate(5, 1, 500).per_page, 100);
        assert_eq!(paginate(5, 1, -3).per_page, 20);
        assert_eq!(paginate(5, -3, 2).page, 1);
    }

    #[test]
    fn to_query_like_rails() {
        let m = json!({"id": "qa/platform", "per_page": 2, "page": 1, "a b": ["x", "y"]});
        let Value::Object(m) = m else { return };
        assert_eq!(
            hash_to_query(&m, None),
            "a+b%5B%5D=x&a+b%5B%5D=y&id=qa%2Fplatform&page=1&per_page=2"
        );
    }
}
