//! Webhook load (issue 6): 10,000 VA payloads over 50 concurrent keep-alive connections to the
//! real webhook server (loopback, bearer, store-before-200), spread over 10 conversations whose
//! payloads travel over 5 connections each, so they race. Verifies that none is lost (each
//! stored once, each handed to the conversation once) and that every conversation receives its
//! payloads in timestamp order; prints throughput and per-request latency percentiles.
//!
//! Run: `cargo bench -p supportbot-core --bench webhook_load` (env `LOAD_MESSAGES`,
//! `LOAD_CONNECTIONS`, `LOAD_SESSIONS` change the sizes).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use supportbot_core::chat::store::{self as chat_store, Mode, StoreSink};
use supportbot_core::chat::webhook::{WebhookConfig, WebhookServer};
use supportbot_core::store::{open_connection, Db};

const SECRET: &str = "load-test-webhook-secret";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let messages = env_or("LOAD_MESSAGES", 10_000);
    let connections = env_or("LOAD_CONNECTIONS", 50);
    let sessions = env_or("LOAD_SESSIONS", 10);
    assert!(
        connections % sessions == 0,
        "connections must be a multiple of sessions"
    );
    let per_session_connections = connections / sessions;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let db_path = db.path().to_path_buf();
        drop(db);
        let conn = open_connection(&db_path).unwrap();
        let client_ids: Vec<String> = (0..sessions)
            .map(|s| {
                chat_store::create_session(&conn, Mode::Simulated, &format!("load-{s}"), "u", None)
                    .unwrap()
                    .client_session_id
            })
            .collect();
        let (sink, mut live) = StoreSink::new(db_path.clone());
        let server = WebhookServer::start(
            WebhookConfig::new(0, SecretString::from(SECRET.to_owned())),
            sink,
        )
        .await
        .unwrap();
        let url = Arc::new(server.url());
        // Message i belongs to session i % sessions; within a session its n-th message has
        // timestamp base + n and goes over connection n % per_session_connections.
        let base: i64 = 1_700_000_000_000;
        let mut plan: Vec<Vec<String>> = vec![Vec::new(); connections];
        for i in 0..messages {
            let s = i % sessions;
            let n = i / sessions;
            let c = s * per_session_connections + n % per_session_connections;
            plan[c].push(
                json!({
                    "clientSessionId": client_ids[s], "messageId": format!("m-{s}-{n}"),
                    "timestamp": base + n as i64, "agentChat": true, "status": "connected",
                    "body": [{"uiType": "OutputText", "value": format!("message {n} of session {s}"),
                              "agentInfo": {"agentName": "Load", "sentFromAgent": true}}]
                })
                .to_string(),
            );
        }
        let started = Instant::now();
        let mut tasks = Vec::new();
        for bodies in plan {
            let url = Arc::clone(&url);
            tasks.push(tokio::spawn(async move {
                // One client per task with one pooled connection: one keep-alive connection.
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .http1_only()
                    .build()
                    .unwrap();
                let mut latencies = Vec::with_capacity(bodies.len());
                let mut failures = 0usize;
                for body in bodies {
                    let t = Instant::now();
                    let r = client
                        .post(url.as_str())
                        .bearer_auth(SECRET)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    latencies.push(t.elapsed());
                    if !r.is_ok_and(|r| r.status().is_success()) {
                        failures += 1;
                    }
                }
                (latencies, failures)
            }));
        }
        let mut latencies = Vec::with_capacity(messages);
        let mut failures = 0;
        for t in tasks {
            let (l, f) = t.await.unwrap();
            latencies.extend(l);
            failures += f;
        }
        let sent_in = started.elapsed();
        // Everything accepted is handed to its conversation after the reorder window.
        let mut delivered: HashMap<String, Vec<(i64, bool)>> = HashMap::new();
        let mut count = 0;
        while count < messages {
            match tokio::time::timeout(Duration::from_secs(10), live.recv()).await {
                Ok(Some(inbound)) => {
                    delivered
                        .entry(inbound.session.clone())
                        .or_default()
                        .push((inbound.order_key, inbound.late));
                    count += 1;
                }
                _ => break,
            }
        }
        let all_in = started.elapsed();
        let stored: i64 = conn
            .query_row("SELECT COUNT(*) FROM chat_messages", [], |r| r.get(0))
            .unwrap();
        let distinct: i64 = conn
            .query_row("SELECT COUNT(DISTINCT delivery_id) FROM chat_messages", [], |r| r.get(0))
            .unwrap();
        let mut in_order = true;
        let mut late = 0;
        for (session, keys) in &delivered {
            late += keys.iter().filter(|(_, l)| *l).count();
            let expected: Vec<i64> = (0..keys.len() as i64).map(|n| base + n).collect();
            let got: Vec<i64> = keys.iter().map(|(k, _)| *k).collect();
            if got != expected {
                in_order = false;
                eprintln!("session {session}: out of order or missing");
            }
        }
        latencies.sort();
        println!("Webhook load: {messages} messages, {connections} connections, {sessions} sessions");
        println!("  HTTP failures: {failures}");
        println!(
            "  stored: {stored} rows ({distinct} distinct), delivered to conversations: {count}"
        );
        println!("  per-session order kept: {in_order} (late deliveries: {late})");
        println!(
            "  throughput: {:.0} msg/s (all 200s in {:.2} s; all delivered in {:.2} s)",
            messages as f64 / sent_in.as_secs_f64(),
            sent_in.as_secs_f64(),
            all_in.as_secs_f64()
        );
        println!(
            "  latency per request: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().unwrap().as_secs_f64() * 1000.0
        );
        assert_eq!(failures, 0, "every delivery answered 200");
        assert_eq!(stored as usize, messages, "none lost or doubled in the store");
        assert_eq!(count, messages, "none lost on the way to the conversation");
        assert!(in_order, "order kept per conversation");
        server.shutdown().await;
    });
}
