//! Client-side pacing from GitLab's rate-limit headers. When GitLab reports its budget
//! (`RateLimit-Limit`, requests per minute, sent with throttled answers), every request of
//! this client waits for its turn so the whole provider stays just under that budget:
//! a large apply then queues in order instead of retrying in a thundering herd, where the
//! unlucky request would exhaust its retries.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// Fraction of GitLab's budget the provider allows itself (room for other clients).
const SHARE: f64 = 0.9;

#[derive(Default)]
pub struct Pacer {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Time between two requests; `None` until GitLab has told its budget.
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl Pacer {
    /// Waits for this request's turn (immediately when no budget is known).
    pub async fn wait(&self) {
        let slot = {
            let Ok(mut s) = self.state.lock() else { return };
            let Some(interval) = s.interval else { return };
            let now = Instant::now();
            let slot = s.next.map_or(now, |n| n.max(now));
            s.next = Some(slot + interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Learns the budget from a response's `RateLimit-Limit` header (per minute).
    pub fn learn(&self, headers: &HeaderMap) {
        let Some(per_minute) = headers
            .get("ratelimit-limit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| *v >= 1.0)
        else {
            return;
        };
        let interval = Duration::from_secs_f64(60.0 / (per_minute * SHARE));
        if let Ok(mut s) = self.state.lock()
            && s.interval != Some(interval)
        {
            tracing::info!(per_minute, "GitLab rate limit learned; pacing requests");
            s.interval = Some(interval);
        }
    }

    pub fn interval(&self) -> Option<Duration> {
        self.state.lock().ok().and_then(|s| s.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_to_the_learned_budget_in_arrival_order() {
        let p = Pacer::default();
        let start = Instant::now();
        p.wait().await;
        assert_eq!(start.elapsed(), Duration::ZERO, "no budget known: no wait");
        let mut h = HeaderMap::new();
        h.insert("RateLimit-Limit", "540".parse().unwrap()); // 9 per second; the provider takes 90%
        p.learn(&h);
        let iv = p.interval().unwrap();
        assert_eq!(iv, Duration::from_secs_f64(60.0 / (540.0 * SHARE)));
        let t0 = Instant::now();
        for i in 0..5u32 {
            p.wait().await;
            // Virtual time: the timer wheel rounds up to the next millisecond.
            let waited = Instant::now() - t0;
            assert!(
                waited >= iv * i && waited < iv * i + Duration::from_millis(2),
                "{i}: {waited:?}"
            );
        }
    }

    #[test]
    fn garbage_headers_teach_nothing() {
        let p = Pacer::default();
        let mut h = HeaderMap::new();
        h.insert("RateLimit-Limit", "lots".parse().unwrap());
        p.learn(&h);
        h.insert("RateLimit-Limit", "0".parse().unwrap());
        p.learn(&h);
        assert!(p.interval().is_none());
    }
}
