//! The VA endpoint: how a request authenticates (token header, `x-b2b-signature`, Basic or
//! OAuth), what it must contain, and the immediate `{"status": …}` answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

use super::delivery::{log, spawn_queue};
use super::script::{documents_shape, respond};
use super::{Conversation, Mode, Phase, Received, Step};
use crate::auth::{credentials, secret_eq, Credentials, VA_TOKEN};
use crate::oauth::authenticate;
use crate::server::AppState;
use crate::tz::{format_sn, now_utc};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/sn_va_as_service/bot/integration", post(integration))
}

fn failure(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"status": "failure", "error": {"message": message}})),
    )
        .into_response()
}

/// How the request authenticated, if at all.
enum Inbound {
    Accepted,
    /// Credentials were present but wrong: the real instance still says success and never calls
    /// back, which is why "200 but no reply" usually means a token problem.
    SilentlyDropped,
    Refused(Response),
}

fn inbound(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Inbound {
    if let Some(token) = headers.get("token").and_then(|v| v.to_str().ok()) {
        return if secret_eq(VA_TOKEN, token) {
            Inbound::Accepted
        } else {
            Inbound::SilentlyDropped
        };
    }
    if let Some(signature) = headers.get("x-b2b-signature").and_then(|v| v.to_str().ok()) {
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(VA_TOKEN.as_bytes()) else {
            return Inbound::SilentlyDropped;
        };
        mac.update(body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        return if secret_eq(&expected, &signature.to_ascii_lowercase()) {
            Inbound::Accepted
        } else {
            Inbound::SilentlyDropped
        };
    }
    match credentials(headers) {
        Credentials::None => Inbound::Refused(crate::errors::servicenow_unauthenticated()),
        _ => match authenticate(state, headers) {
            Ok(_) => Inbound::Accepted,
            Err(response) => Inbound::Refused(response),
        },
    }
}

async fn integration(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let accepted = match inbound(&state, &headers, &body) {
        Inbound::Accepted => true,
        Inbound::SilentlyDropped => false,
        Inbound::Refused(response) => return response,
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return failure(StatusCode::BAD_REQUEST, "Invalid JSON payload");
    };
    let text = |path: &str| {
        request
            .pointer(path)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let user_id = text("/userId");
    if user_id.is_empty() {
        return failure(StatusCode::BAD_REQUEST, "userId is mandatory");
    }
    if request.get("message").is_none_or(|m| !m.is_object()) {
        return failure(StatusCode::BAD_REQUEST, "message is mandatory");
    }
    if !accepted {
        log(
            &state.va.deliveries,
            &text("/requestId"),
            &text("/clientSessionId"),
            0,
            "not delivered: inbound token or signature did not validate",
            false,
        );
        return Json(json!({"status": "success"})).into_response();
    }
    if let Ok(mut received) = state.va.received.lock() {
        received.push(Received {
            request_id: text("/requestId"),
            client_session_id: text("/clientSessionId"),
            action: text("/action"),
            typed: request.pointer("/message/typed").and_then(Value::as_bool),
            text: request
                .pointer("/message/text")
                .and_then(Value::as_str)
                .map(str::to_owned),
            intent: request
                .pointer("/intent/id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            context_variables: request.get("contextVariables").cloned(),
            at: format_sn(now_utc()),
        });
    }
    let config = state.va.config();
    let key = if text("/clientSessionId").is_empty() {
        user_id.clone()
    } else {
        text("/clientSessionId")
    };
    let mut steps = match state.va.conversations.lock() {
        Ok(mut conversations) => {
            let conversation = conversations
                .entry(key.clone())
                .or_insert_with(|| Conversation {
                    phase: Phase::Bot,
                    agent_replies: 0,
                    last_stamp: 0,
                    queue: spawn_queue(&state, key.clone()),
                });
            let mut steps = respond(&config, conversation, &request);
            if config.documents_shapes {
                for step in &mut steps {
                    documents_shape(&mut step.payload, &request);
                }
            }
            for step in &mut steps {
                conversation.last_stamp =
                    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
                        .max(i128::from(conversation.last_stamp) + 1) as i64;
                step.payload["timestamp"] = json!(conversation.last_stamp);
            }
            if config.mode == Mode::Sync {
                steps
            } else {
                let _ = conversation.queue.send(steps);
                Vec::new()
            }
        }
        Err(_) => {
            return failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "conversation state poisoned",
            )
        }
    };
    if config.mode == Mode::Async {
        return Json(json!({"status": "success"})).into_response();
    }
    // Synchronous: what is ready now is the answer; later steps (the agent) go to the webhook.
    let later: Vec<Step> = steps.split_off(
        steps
            .iter()
            .position(|s| !s.delay.is_zero())
            .unwrap_or(steps.len()),
    );
    if !later.is_empty() {
        if let Ok(conversations) = state.va.conversations.lock() {
            if let Some(conversation) = conversations.get(&key) {
                let _ = conversation.queue.send(later);
            }
        }
    }
    let mut answer = steps
        .first()
        .map(|s| s.payload.clone())
        .unwrap_or_else(|| json!({}));
    let body: Vec<Value> = steps
        .iter()
        .flat_map(|s| s.payload["body"].as_array().cloned().unwrap_or_default())
        .collect();
    answer["body"] = Value::Array(body);
    Json(answer).into_response()
}
