//! The retry decision, as a pure function of the request's method, what the attempt came
//! to, and how many attempts were made: whether to send again, and within which bounds to
//! wait. It keeps the official provider's meaning of `retries` (client-go's
//! `retryHTTPCheck`: 429 and every 5xx answer are retried), except where that could apply a
//! request twice, and adds one case GitLab's answers cannot cover:
//! - idempotent requests (GET, PUT, DELETE) are retried on 429 (waiting out `Retry-After`),
//!   every 5xx, and an answer cut off after the request was sent (timeout, reset);
//! - a POST is retried only when GitLab certainly did not apply it (429); a 502/503/504 or a
//!   lost answer to it is an unknown outcome, for the caller to resolve (see `create.rs`),
//!   and another 5xx is final;
//! - a connection that never came about (refused, unknown host, no route, connect timeout)
//!   and a failed TLS handshake are final at once, as with the official provider: waiting
//!   does not change them, and the error says what is wrong;
//! - other answers (4xx but 429) are final.
//!
//! No clock, no randomness: the transport draws the actual wait from the bounds.
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;

/// Upper bound on a single wait between attempts, whatever Retry-After says.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Upper bound on one backoff step, before jitter.
const MAX_STEP: Duration = Duration::from_secs(16);

/// How often, and how patiently, a request is retried.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff step; doubled per attempt.
    pub backoff_base: Duration,
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// GitLab (or a proxy) answered with this non-success status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The request never reached GitLab (connection refused, DNS, no route, connect
    /// timeout): nothing was applied, and sending again soon meets the same wall.
    NotSent,
    /// Sent, but no complete answer (timeout, reset): applied or not, nobody knows.
    Interrupted,
    /// TLS verification failed, ours of GitLab's certificate or GitLab's of ours.
    Tls,
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send again after a wait between `min` and `max` (inclusive).
    Retry { min: Duration, max: Duration },
    /// Stop: the failure is the answer.
    GiveUp,
    /// Stop: the request may have been applied, and sending it again could apply it twice.
    OutcomeUnknown,
}

/// Whether sending `method` twice has the effect of sending it once.
pub fn idempotent(method: &Method) -> bool {
    !matches!(*method, Method::POST | Method::PATCH)
}

/// The decision after attempt number `attempt` (1 for the first) of `method` failed so.
pub fn decide(policy: &Policy, method: &Method, outcome: Outcome, attempt: u32) -> Decision {
    let last = attempt > policy.retries;
    let again = |(min, max): (Duration, Duration)| {
        if last {
            Decision::GiveUp
        } else {
            Decision::Retry {
                min: min.min(MAX_WAIT),
                max: max.min(MAX_WAIT),
            }
        }
    };
    match outcome {
        Outcome::Tls | Outcome::NotSent => Decision::GiveUp,
        // Throttled requests were not applied: any method may wait and go again.
        Outcome::Status {
            status: 429,
            retry_after,
        } => again(match retry_after {
            Some(d) => (d, d + policy.backoff_base),
            None => backoff(policy, attempt),
        }),
        // A proxy's error after the request left: GitLab may have applied it.
        Outcome::Status {
            status: 502..=504, ..
        }
        | Outcome::Interrupted
            if !idempotent(method) =>
        {
            Decision::OutcomeUnknown
        }
        // GitLab's own failure of a POST: it answered, so the answer stands.
        Outcome::Status { status: 500.., .. } if !idempotent(method) => Decision::GiveUp,
        Outcome::Status { status: 500.., .. } | Outcome::Interrupted => {
            again(backoff(policy, attempt))
        }
        Outcome::Status { .. } => Decision::GiveUp,
    }
}

/// The bounds of the wait after attempt `attempt`: the step doubles per attempt from
/// `backoff_base` (capped at 16 s), and the wait is "equal jitter", half the step fixed and
/// half random, so retries spread but still back off.
pub fn backoff(policy: &Policy, attempt: u32) -> (Duration, Duration) {
    let step = policy
        .backoff_base
        .saturating_mul(1 << attempt.saturating_sub(1).min(6))
        .min(MAX_STEP);
    (step / 2, step)
}

/// `Retry-After` in seconds (GitLab's rack-attack sends seconds).
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        retries: 2,
        backoff_base: Duration::from_millis(100),
    };

    fn status(status: u16) -> Outcome {
        Outcome::Status {
            status,
            retry_after: None,
        }
    }

    fn retried(d: Decision) -> bool {
        matches!(d, Decision::Retry { .. })
    }

    #[test]
    fn idempotent_requests_are_retried_on_429_every_5xx_and_a_cut_off_answer_until_the_retries_run_out()
     {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            for outcome in [
                status(429),
                status(500),
                status(501),
                status(502),
                status(503),
                status(504),
                status(507),
                status(599),
                Outcome::Interrupted,
            ] {
                for attempt in 1..=POLICY.retries {
                    assert!(
                        retried(decide(&POLICY, &method, outcome, attempt)),
                        "{method} {outcome:?} attempt {attempt}"
                    );
                }
                assert_eq!(
                    decide(&POLICY, &method, outcome, POLICY.retries + 1),
                    Decision::GiveUp,
                    "{method} {outcome:?}"
                );
            }
        }
    }

    #[test]
    fn a_post_is_sent_again_only_when_gitlab_certainly_did_not_apply_it() {
        assert!(retried(decide(&POLICY, &Method::POST, status(429), 1)));
        assert!(retried(decide(&POLICY, &Method::PATCH, status(429), 1)));
        assert_eq!(
            decide(&POLICY, &Method::POST, status(429), POLICY.retries + 1),
            Decision::GiveUp
        );
        for outcome in [status(502), status(503), status(504), Outcome::Interrupted] {
            for attempt in [1, POLICY.retries + 1] {
                assert_eq!(
                    decide(&POLICY, &Method::POST, outcome, attempt),
                    Decision::OutcomeUnknown,
                    "{outcome:?} attempt {attempt}"
                );
            }
        }
        // GitLab's own 5xx answer to a POST stands: neither resent nor looked up.
        for outcome in [status(500), status(501), status(505), status(599)] {
            assert_eq!(
                decide(&POLICY, &Method::POST, outcome, 1),
                Decision::GiveUp,
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn connection_failures_tls_failures_and_other_answers_are_never_retried() {
        for method in [Method::GET, Method::PUT, Method::DELETE, Method::POST] {
            for outcome in [
                Outcome::NotSent,
                Outcome::Tls,
                status(300),
                status(302),
                status(400),
                status(401),
                status(403),
                status(404),
                status(409),
                status(422),
                status(428),
                status(430),
                status(499),
            ] {
                assert_eq!(
                    decide(&POLICY, &method, outcome, 1),
                    Decision::GiveUp,
                    "{method} {outcome:?}"
                );
            }
        }
    }

    #[test]
    fn retry_after_is_waited_out_with_at_most_one_backoff_step_of_jitter() {
        let outcome = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            decide(&POLICY, &Method::GET, outcome, 1),
            Decision::Retry {
                min: Duration::from_secs(3),
                max: Duration::from_millis(3100)
            }
        );
        let huge = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(
            decide(&POLICY, &Method::GET, huge, 1),
            Decision::Retry {
                min: MAX_WAIT,
                max: MAX_WAIT
            }
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_bounded() {
        let policy = Policy {
            retries: 100,
            backoff_base: Duration::from_millis(100),
        };
        for attempt in 1..20 {
            let step = Duration::from_millis(100)
                .saturating_mul(1 << (attempt - 1).min(6))
                .min(Duration::from_secs(16));
            assert_eq!(backoff(&policy, attempt), (step / 2, step), "{attempt}");
            assert_eq!(
                decide(&policy, &Method::GET, Outcome::Interrupted, attempt),
                Decision::Retry {
                    min: step / 2,
                    max: step
                },
                "{attempt}"
            );
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, " 7 ".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
