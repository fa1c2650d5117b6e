//! Delivery of replies: one queue per conversation, POSTs to the webhook with the Bearer
//! secret and retries, and the log `GET /sim/va/deliveries` lists.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::{Delivery, Step, Va, VaConfig};
use crate::server::AppState;
use crate::tz::{format_sn, now_utc};

/// The delivery worker of one conversation.
pub(super) fn spawn_queue(state: &Arc<AppState>, key: String) -> mpsc::UnboundedSender<Vec<Step>> {
    let (sender, mut receiver) = mpsc::unbounded_channel::<Vec<Step>>();
    let state = Arc::clone(state);
    tokio::spawn(async move {
        while let Some(steps) = receiver.recv().await {
            let config = state.va.config();
            let steps: Vec<Step> = if config.out_of_order {
                steps.into_iter().rev().collect()
            } else {
                steps
            };
            for step in steps {
                if !config.out_of_order {
                    tokio::time::sleep(step.delay).await;
                }
                let copies = if config.duplicate_deliveries { 2 } else { 1 };
                for _ in 0..copies {
                    deliver(&state.va, &config, &step.payload).await;
                }
            }
        }
        tracing::debug!(conversation = %key, "VA delivery queue closed");
    });
    sender
}

async fn deliver(va: &Va, config: &VaConfig, payload: &Value) {
    let request_id = payload["requestId"].as_str().unwrap_or_default().to_owned();
    let session = payload["clientSessionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some(url) = config.webhook_url.clone() else {
        log(
            &va.deliveries,
            &request_id,
            &session,
            0,
            "not delivered: no webhook configured",
            false,
        );
        return;
    };
    for attempt in 1..=config.max_retries + 1 {
        let mut request = va.http.post(&url).json(payload);
        if let Some(secret) = &config.webhook_secret {
            request = request.bearer_auth(secret);
        }
        let outcome = match request.send().await {
            Ok(response) if response.status().is_success() => {
                log(
                    &va.deliveries,
                    &request_id,
                    &session,
                    attempt,
                    &format!("HTTP {}", response.status().as_u16()),
                    true,
                );
                return;
            }
            Ok(response) => format!("HTTP {}", response.status().as_u16()),
            Err(e) => format!("error: {e}"),
        };
        log(
            &va.deliveries,
            &request_id,
            &session,
            attempt,
            &outcome,
            false,
        );
        tokio::time::sleep(Duration::from_millis(
            config.retry_delay_ms * u64::from(attempt),
        ))
        .await;
    }
}

pub(super) fn log(
    deliveries: &Mutex<Vec<Delivery>>,
    request_id: &str,
    session: &str,
    attempt: u32,
    outcome: &str,
    delivered: bool,
) {
    if let Ok(mut log) = deliveries.lock() {
        log.push(Delivery {
            request_id: request_id.to_owned(),
            client_session_id: session.to_owned(),
            attempt,
            outcome: outcome.to_owned(),
            delivered,
            at: format_sn(now_utc()),
        });
    }
}
