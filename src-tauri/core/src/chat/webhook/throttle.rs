//! Repeated 401s from one peer are throttled: after [`FREE_FAILURES`] wrong or missing bearer
//! secrets, the peer is locked for 1 s, doubling with each further failure up to 60 s, and
//! while locked its requests are answered 429 (with `Retry-After`) *without* looking at the
//! secret, so a lock really slows guessing. A peer's failures are forgotten 10 minutes after
//! its last one; a success does not reset them, so a guesser cannot hide behind the VA's good
//! deliveries when both come from the same address.
//!
//! A peer is its IP address; a request that came through a tunnel (its `Host` is a tunnel name)
//! is keyed on the client address the tunnel reports (`CF-Connecting-IP`, else the last
//! `X-Forwarded-For` hop), because every tunnelled request arrives from loopback and one
//! remote guesser must not lock the instance's deliveries out. A local process can forge those
//! headers to dodge its own lock; what stands against it is the secret's length (at least 16
//! characters, see `checks`), not the throttle. The state is in memory: the webhook lives in
//! one process, and a restart forgetting it costs a guesser nothing it could use.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

/// Failures before the first lock.
pub(super) const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(1);
const MAX_LOCK: Duration = Duration::from_secs(60);
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Peers remembered at most, so forged keys cannot grow the map without bound.
const MAX_PEERS: usize = 4096;

struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Default)]
pub(super) struct AuthThrottle {
    peers: Mutex<HashMap<String, Failures>>,
}

impl AuthThrottle {
    /// How long `key` must still wait, when it is locked.
    pub(super) fn retry_after(&self, key: &str, now: Instant) -> Option<Duration> {
        let peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        let until = peers.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts a 401 for `key`; returns the lock it starts, if any (for one log line per lock).
    pub(super) fn failed(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        if !peers.contains_key(key) && peers.len() >= MAX_PEERS {
            peers.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            if peers.len() >= MAX_PEERS {
                // Still full of recent peers: forget the one quiet for longest.
                if let Some(oldest) = peers
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
                {
                    peers.remove(&oldest);
                }
            }
        }
        let entry = peers.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        let lock = lock_for(entry.count);
        entry.locked_until = lock.map(|d| now + d);
        lock
    }
}

/// The lock after the `count`-th failure in a row.
fn lock_for(count: u32) -> Option<Duration> {
    let beyond = count.checked_sub(FREE_FAILURES)?;
    Some(FIRST_LOCK.saturating_mul(1 << beyond.min(16)).min(MAX_LOCK))
}

/// The throttle's key for a request (see the module docs).
pub(super) fn peer_key(peer: IpAddr, headers: &HeaderMap, via_tunnel: bool) -> String {
    let peer = peer.to_string();
    if !via_tunnel {
        return peer;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let client = header("cf-connecting-ip")
        .or_else(|| header("x-forwarded-for").and_then(|v| v.rsplit(',').next().map(str::trim)));
    match client {
        // Bounded: a forged header must not make keys of any size.
        Some(c) => format!("{peer} via {}", c.chars().take(64).collect::<String>()),
        None => peer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_free_failures_then_a_doubling_lock() {
        let t = AuthThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            assert_eq!(t.failed("a", t0), None);
        }
        assert!(t.retry_after("a", t0).is_none());
        assert_eq!(t.failed("a", t0), Some(Duration::from_secs(1)));
        assert!(t.retry_after("a", t0).is_some());
        assert!(t.retry_after("b", t0).is_none(), "per peer");
        assert!(t.retry_after("a", t0 + Duration::from_secs(1)).is_none());
        assert_eq!(t.failed("a", t0), Some(Duration::from_secs(2)));
        for _ in 0..20 {
            t.failed("a", t0);
        }
        assert_eq!(t.retry_after("a", t0), Some(MAX_LOCK));
        // Forgotten after a quiet while.
        let later = t0 + FORGET_AFTER;
        assert_eq!(t.failed("a", later), None);
    }

    #[test]
    fn tunnelled_requests_are_keyed_on_the_reported_client() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "10.0.0.1, 203.0.113.7".parse().unwrap());
        assert_eq!(peer_key(peer, &h, false), "127.0.0.1");
        assert_eq!(peer_key(peer, &h, true), "127.0.0.1 via 203.0.113.7");
        h.insert("cf-connecting-ip", "198.51.100.2".parse().unwrap());
        assert_eq!(peer_key(peer, &h, true), "127.0.0.1 via 198.51.100.2");
        assert_eq!(peer_key(peer, &HeaderMap::new(), true), "127.0.0.1");
    }
}
