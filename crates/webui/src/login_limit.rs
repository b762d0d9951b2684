//! Login attempt limiting: after [`LoginLimits::max_failures`] failed logins within
//! [`LoginLimits::window`], further attempts from the same client address, or with a token
//! starting with the same [`PREFIX_CHARS`] characters, are answered `429 Too Many Requests`
//! until the window has passed.
//!
//! Two keys because they stop different attacks: per address stops one machine guessing
//! tokens; per token prefix stops a botnet spread over many addresses from hammering one
//! guessed-at token family (the prefix is kept, never the whole token, so the table holds no
//! secret). Tokens are long random strings, so this is defence in depth against guessing and a
//! brake on log noise, not the only protection. Counters live in memory, like sessions, and the
//! table is bounded ([`MAX_KEYS`]): when it is full of live entries, logins are refused rather
//! than forgetting who was limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Characters of the submitted token that key the per-token counter.
pub const PREFIX_CHARS: usize = 8;
/// Most keys tracked at once.
pub const MAX_KEYS: usize = 100_000;

/// The policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failed attempts allowed per key within `window`.
    pub max_failures: u32,
    /// How long failures count.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    failures: u32,
    since: Instant,
}

/// The counters.
#[derive(Debug, Clone)]
pub struct LoginLimiter {
    limits: LoginLimits,
    inner: Arc<Mutex<HashMap<String, Counter>>>,
}

/// The keys one attempt counts against.
fn keys(client: Option<IpAddr>, token: &str) -> [String; 2] {
    let addr = match client {
        // One IPv6 user holds a whole /64: count per /64, not per address.
        Some(IpAddr::V6(a)) if a.to_ipv4_mapped().is_none() => {
            let s = a.segments();
            format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V6(a)) => format!(
            "addr:{}",
            a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4)
        ),
        Some(a) => format!("addr:{a}"),
        None => "addr:unknown".into(),
    };
    let prefix: String = token.trim().chars().take(PREFIX_CHARS).collect();
    [addr, format!("token:{prefix}")]
}

impl LoginLimiter {
    /// Empty counters under `limits`.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            inner: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// `Some(wait)` when an attempt from `client` with `token` must be refused now.
    pub async fn check(&self, client: Option<IpAddr>, token: &str) -> Option<Duration> {
        let now = Instant::now();
        let map = self.inner.lock().await;
        if map.len() >= MAX_KEYS {
            return Some(self.limits.window);
        }
        keys(client, token)
            .iter()
            .filter_map(|k| map.get(k))
            .filter(|c| c.failures >= self.limits.max_failures)
            .filter_map(|c| (c.since + self.limits.window).checked_duration_since(now))
            .filter(|d| !d.is_zero())
            .max()
    }

    /// Counts a failed attempt against both keys.
    pub async fn failed(&self, client: Option<IpAddr>, token: &str) {
        let now = Instant::now();
        let window = self.limits.window;
        let mut map = self.inner.lock().await;
        if map.len() >= MAX_KEYS {
            map.retain(|_, c| c.since + window > now);
        }
        for k in keys(client, token) {
            if map.len() >= MAX_KEYS && !map.contains_key(&k) {
                continue;
            }
            let c = map.entry(k).or_insert(Counter {
                failures: 0,
                since: now,
            });
            if c.since + window <= now {
                *c = Counter {
                    failures: 0,
                    since: now,
                };
            }
            c.failures = c.failures.saturating_add(1);
        }
    }

    /// A successful login clears its token-prefix counter (the address keeps its count: one
    /// good token must not unlock guessing others from the same machine).
    pub async fn succeeded(&self, token: &str) {
        let [_, k] = keys(None, token);
        self.inner.lock().await.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[tokio::test]
    async fn limits_per_address_and_per_prefix() {
        let l = LoginLimiter::new(LoginLimits {
            max_failures: 3,
            window: Duration::from_secs(60),
        });
        for i in 0..3 {
            assert!(
                l.check(ip("192.0.2.1"), &format!("guess{i}-xxxxx"))
                    .await
                    .is_none()
            );
            l.failed(ip("192.0.2.1"), &format!("guess{i}-xxxxx")).await;
        }
        // The address is limited whatever token it tries.
        let wait = l.check(ip("192.0.2.1"), "other-token").await.unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        // Another address with a fresh token is not.
        assert!(l.check(ip("192.0.2.2"), "zzzzzzzz-1").await.is_none());
        // Many addresses trying one token prefix are limited by the prefix.
        for i in 0..3 {
            l.failed(ip(&format!("198.51.100.{i}")), "samepref-a").await;
        }
        assert!(l.check(ip("203.0.113.9"), "samepref-b").await.is_some());
        l.succeeded("samepref-c").await;
        assert!(l.check(ip("203.0.113.9"), "samepref-b").await.is_none());
    }

    #[tokio::test]
    async fn failures_expire_with_the_window() {
        let l = LoginLimiter::new(LoginLimits {
            max_failures: 1,
            window: Duration::from_millis(30),
        });
        l.failed(ip("2001:db8::1"), "t").await;
        // Same /64, other address: same key.
        assert!(l.check(ip("2001:db8::2"), "u").await.is_some());
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(l.check(ip("2001:db8::2"), "u").await.is_none());
    }
}
