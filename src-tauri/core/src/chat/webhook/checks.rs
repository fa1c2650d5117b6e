//! The webhook's request checks: loopback peer, own `Host` (against DNS rebinding), the bearer
//! secret in constant time, and a delivery's identity for duplicate detection.

use std::collections::HashSet;
use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::super::va::model::VaPayload;

/// True for loopback peers, including IPv4-mapped IPv6 loopback.
pub fn peer_allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// True when `Host` names this server on loopback, or (tunnel mode) an allowed public name.
pub fn host_allowed(host: Option<&str>, port: u16, tunnel_hosts: &HashSet<String>) -> bool {
    let Some(host) = host.map(|h| h.trim().to_ascii_lowercase()) else {
        return false;
    };
    if host == format!("127.0.0.1:{port}") || host == format!("localhost:{port}") {
        return true;
    }
    if tunnel_hosts.is_empty() {
        return false;
    }
    // A tunnel forwards the public name, with or without its port (":443").
    let name = match host.rsplit_once(':') {
        Some((name, p)) if !name.contains(']') && p.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host.as_str(),
    };
    tunnel_hosts.contains(name)
}

/// True when `Host` is not one of this server's loopback names, i.e. the request came through
/// a tunnel (`host_allowed` has accepted it already).
pub(super) fn via_tunnel(host: Option<&str>, port: u16) -> bool {
    let host = host
        .map(|h| h.trim().to_ascii_lowercase())
        .unwrap_or_default();
    host != format!("127.0.0.1:{port}") && host != format!("localhost:{port}")
}

/// The shortest webhook secret accepted. The secret is all that stands between anyone who can
/// reach the port (every local user; the world, through a tunnel) and the chat transcript;
/// 16 characters keep guessing out of reach even at the throttle's worst case.
pub const MIN_SECRET_CHARS: usize = 16;

/// Why a webhook secret is refused, for the start-up error and the settings field.
pub fn short_secret_message() -> String {
    format!(
        "The webhook secret needs at least {MIN_SECRET_CHARS} characters (a generated one is 32 or more random characters, e.g. `openssl rand -hex 24`). Set a longer one in Settings > Chat (or WEBHOOK_SECRET) and on the instance."
    )
}

/// Whether `secret` is long enough to be a webhook secret.
pub fn secret_long_enough(secret: &str) -> bool {
    secret.chars().count() >= MIN_SECRET_CHARS
}

/// Constant-time check of `Authorization: Bearer <secret>`. Public only to the webhook (this
/// module is private to it) and to the `webhook_checks` fuzz target.
pub fn bearer_ok(headers: &HeaderMap, digest: &[u8; 32]) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let given: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
    given[..].ct_eq(&digest[..]).into()
}

/// The payload's identity for duplicate detection (see the module docs).
pub fn delivery_id(raw: &Value, payload: &VaPayload) -> String {
    if let Some(id) = payload.message_id.as_deref().filter(|s| !s.is_empty()) {
        return format!("msg:{id}");
    }
    let mut hasher = Sha256::new();
    canonical(raw, &mut hasher);
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Feeds JSON to the hasher with object keys sorted, independent of serde_json's map order.
fn canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for key in keys {
                hasher.update(serde_json::to_string(key).unwrap_or_default().as_bytes());
                hasher.update(b":");
                canonical(&map[key], hasher);
                hasher.update(b",");
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        other => hasher.update(other.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::va::model::payload_from_value;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn only_loopback_peers() {
        let cases: [(IpAddr, bool); 6] = [
            (Ipv4Addr::LOCALHOST.into(), true),
            (Ipv4Addr::new(127, 0, 0, 2).into(), true),
            (Ipv6Addr::LOCALHOST.into(), true),
            (Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped().into(), true),
            (Ipv4Addr::new(192, 168, 1, 5).into(), false),
            (Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped().into(), false),
        ];
        for (ip, allowed) in cases {
            assert_eq!(peer_allowed(ip), allowed, "{ip}");
        }
    }

    #[test]
    fn host_header_rules() {
        let none = HashSet::new();
        let tunnel: HashSet<String> = ["bot.example.trycloudflare.com".to_owned()].into();
        let cases = [
            (Some("127.0.0.1:8080"), &none, true),
            (Some("LOCALHOST:8080"), &none, true),
            (Some("127.0.0.1:8081"), &none, false),
            (Some("127.0.0.1"), &none, false),
            (Some("evil.example:8080"), &none, false),
            (None, &none, false),
            (Some("bot.example.trycloudflare.com"), &none, false),
            (Some("bot.example.trycloudflare.com"), &tunnel, true),
            (Some("bot.example.trycloudflare.com:443"), &tunnel, true),
            (Some("other.trycloudflare.com"), &tunnel, false),
            (Some("localhost:8080"), &tunnel, true),
        ];
        for (host, hosts, allowed) in cases {
            assert_eq!(host_allowed(host, 8080, hosts), allowed, "{host:?}");
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(!secret_long_enough("twelve-chars"));
        assert!(!secret_long_enough("fifteen-chars.."));
        assert!(secret_long_enough("sixteen-chars..."));
        assert!(short_secret_message().contains("at least 16 characters"));
    }

    #[test]
    fn tunnel_requests_are_told_apart() {
        assert!(!via_tunnel(Some("127.0.0.1:8080"), 8080));
        assert!(!via_tunnel(Some("LOCALHOST:8080"), 8080));
        assert!(via_tunnel(Some("bot.example.trycloudflare.com"), 8080));
    }

    #[test]
    fn bearer_is_checked_exactly() {
        let digest: [u8; 32] = Sha256::digest(b"s3cret").into();
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            bearer_ok(&h, &digest)
        };
        assert!(with("Bearer s3cret"));
        assert!(with("bearer s3cret"));
        assert!(!with("Bearer s3cret2"));
        assert!(!with("Bearer "));
        assert!(!with("Basic s3cret"));
        assert!(!with("s3cret"));
        assert!(!bearer_ok(&HeaderMap::new(), &digest));
    }

    #[test]
    fn delivery_ids_ignore_key_order_but_not_content() {
        let a: Value = serde_json::from_str(
            r#"{"requestId":"r","body":[{"uiType":"OutputText","value":"x"}]}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            r#"{"body":[{"value":"x","uiType":"OutputText"}],"requestId":"r"}"#,
        )
        .unwrap();
        let c: Value = serde_json::from_str(
            r#"{"requestId":"r","body":[{"uiType":"OutputText","value":"y"}]}"#,
        )
        .unwrap();
        let id = |v: &Value| delivery_id(v, &payload_from_value(v).unwrap());
        assert_eq!(id(&a), id(&b));
        assert_ne!(id(&a), id(&c));
        let with_id: Value = serde_json::from_str(r#"{"messageId":"m1","body":[]}"#).unwrap();
        assert_eq!(id(&with_id), "msg:m1");
    }
}
