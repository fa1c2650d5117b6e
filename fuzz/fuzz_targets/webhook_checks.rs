//! Fuzz target: the webhook's request checks never panic whatever a peer sends: the `Host`
//! check, the constant-time bearer check, the payload parser and the delivery identity. The
//! input is split into a Host header, an Authorization header and a body.
//!
//! The modules are compiled in directly (`fuzz_targets/chat/`), with axum only for its `http`
//! types, so the server itself is not part of the target.
#![no_main]

#[allow(dead_code)]
mod chat;

use std::collections::HashSet;

use axum::http::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use chat::va::model::payload_from_value;
use chat::webhook::checks::{bearer_ok, delivery_id, host_allowed};
use sha2::{Digest, Sha256};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    // A Host header as the HTTP layer hands it over: visible characters, spaces and tabs only
    // (it refuses anything else before the checks run).
    let host = parts
        .next()
        .map(String::from_utf8_lossy)
        .filter(|h| h.chars().all(|c| c == '\t' || !c.is_control()));
    let auth = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let tunnel: HashSet<String> = ["bot-hook.example.com".to_owned()].into();
    let allowed = host_allowed(host.as_deref(), 8765, &tunnel);
    if allowed {
        let h = host
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        assert!(
            h.starts_with("127.0.0.1")
                || h.starts_with("localhost")
                || h.starts_with("[::1]")
                || h.starts_with("bot-hook.example.com"),
            "a foreign Host passed: {h:?}"
        );
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(auth) {
        headers.insert(AUTHORIZATION, v);
    }
    let digest: [u8; 32] = Sha256::digest(b"fuzzing-webhook-secret-0123").into();
    let ok = bearer_ok(&headers, &digest);
    // Only this secret passes: the scheme in any case (RFC 7235), surrounding spaces ignored.
    let given = String::from_utf8_lossy(auth);
    let right = given.trim().split_once(' ').is_some_and(|(scheme, token)| {
        scheme.eq_ignore_ascii_case("bearer") && token.trim() == "fuzzing-webhook-secret-0123"
    });
    assert!(!ok || right, "a wrong secret passed: {given:?}");
    if let Ok(raw) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Ok(payload) = payload_from_value(&raw) {
            let a = delivery_id(&raw, &payload);
            assert_eq!(a, delivery_id(&raw, &payload), "the identity is stable");
        }
    }
});
