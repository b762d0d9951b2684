//! A token bucket per client key (API token name or peer address): one noisy script must not
//! starve the desk. Buckets live in memory; each node limits on its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Token buckets keyed by client.
#[derive(Debug)]
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_sec` sustained requests with bursts of `burst`; `per_sec == 0` disables limiting.
    pub fn new(per_sec: u32, burst: u32) -> Self {
        Self { per_sec: f64::from(per_sec), burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key`; false when the client is over its rate.
    pub fn allow(&self, key: &str) -> bool {
        if self.per_sec <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let Ok(mut map) = self.buckets.lock() else { return true };
        if map.len() > 100_000 {
            // Bound memory under a flood of distinct keys: forget full buckets.
            map.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * self.per_sec < self.burst);
        }
        let (tokens, at) = map.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse() {
        let r = RateLimiter::new(1, 3);
        assert!(r.allow("a") && r.allow("a") && r.allow("a"));
        assert!(!r.allow("a"));
        assert!(r.allow("b"));
        assert!(RateLimiter::new(0, 0).allow("x"));
    }
}
