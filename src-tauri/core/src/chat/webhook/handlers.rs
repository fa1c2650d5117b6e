//! The webhook's two routes: `POST …/receiveMessage` (a VA payload) and `GET …/attachments/<token>`
//! (a file the user attached, for the VA to fetch).

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::checks::{bearer_ok, delivery_id, host_allowed, peer_allowed, via_tunnel};
use super::order::spawn_worker;
use super::serve::Conn;
use super::throttle::peer_key;
use super::{Accepted, Inbound, SessionState, Shared, REMEMBERED_IDS};
use crate::chat::va::model::payload_from_value;
use crate::error::CoreError;

fn answer(status: StatusCode, message: &str) -> Response {
    let body = if status.is_success() {
        json!({"status": "success"})
    } else {
        json!({"status": "failure", "error": {"message": message}})
    };
    (status, Json(body)).into_response()
}

pub(super) async fn receive(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(conn): Extension<Arc<Conn>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !peer_allowed(peer.ip()) {
        tracing::warn!(%peer, "chat webhook: refused a non-loopback peer");
        return answer(StatusCode::FORBIDDEN, "only local connections are accepted");
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !host_allowed(host, shared.port, &shared.tunnel_hosts) {
        tracing::warn!("chat webhook: refused a request for a foreign Host");
        return answer(StatusCode::FORBIDDEN, "this Host is not accepted");
    }
    let key = peer_key(peer.ip(), &headers, via_tunnel(host, shared.port));
    let now = Instant::now();
    if let Some(wait) = shared.throttle.retry_after(&key, now) {
        let mut response = answer(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests with a wrong bearer secret; wait before trying again",
        );
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if !bearer_ok(&headers, &shared.secret_digest) {
        if let Some(lock) = shared.throttle.failed(&key, now) {
            // One line per lock, not per request: a flood must not flood the log.
            tracing::warn!(peer = %key, lock_s = lock.as_secs(), "chat webhook: repeated wrong bearer secrets; throttling the peer");
        }
        let mut response = answer(StatusCode::UNAUTHORIZED, "missing or wrong bearer secret");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    // From here the connection serves an authorised request: not evicted, not idle.
    let _authorised = conn.authorised();
    let limits = &shared.limits;
    let body = match tokio::time::timeout(
        limits.body_timeout,
        axum::body::to_bytes(body, limits.max_body_bytes),
    )
    .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is too large or was cut off",
            )
        }
        Err(_) => {
            return answer(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            )
        }
    };
    let Ok(raw) = serde_json::from_slice::<Value>(&body) else {
        return answer(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    let Ok(payload) = payload_from_value(&raw) else {
        return answer(StatusCode::BAD_REQUEST, "the body is not a JSON object");
    };
    if let Some(expected) = &shared.bot_id {
        let named = payload
            .client_variables
            .get("botId")
            .and_then(Value::as_str);
        if named.is_some_and(|b| b.trim() != expected) {
            tracing::warn!("chat webhook: refused a payload for another botId");
            return answer(StatusCode::BAD_REQUEST, "unknown botId");
        }
    }
    // The sink does SQLite: on a blocking thread, never on the async workers that serve
    // every other connection.
    let sink = Arc::clone(&shared.sink);
    let lookup = payload.clone();
    let session = match tokio::task::spawn_blocking(move || sink.session_for(&lookup)).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            return answer(
                StatusCode::BAD_REQUEST,
                "unknown requestId or clientSessionId",
            )
        }
        Err(_) => {
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the message could not be processed",
            )
        }
    };
    let id = delivery_id(&raw, &payload);
    let arrival = {
        let mut n = shared.arrivals.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        *n
    };
    // Check-and-remember under one lock, so two concurrent copies cannot both pass.
    let (order_key, queue) = {
        let mut sessions = shared.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let state = sessions
            .entry(session.clone())
            .or_insert_with(|| SessionState {
                seen: HashSet::new(),
                seen_order: VecDeque::new(),
                max_key: i64::MIN,
                queue: spawn_worker(Arc::clone(&shared.sink), shared.reorder_window),
            });
        if !state.seen.insert(id.clone()) {
            return answer(StatusCode::OK, "");
        }
        state.seen_order.push_back(id.clone());
        if state.seen_order.len() > REMEMBERED_IDS {
            if let Some(old) = state.seen_order.pop_front() {
                state.seen.remove(&old);
            }
        }
        // Payloads without a timestamp (the documents' examples carry none) are ordered by
        // arrival: now, never before a payload of this session already seen, so they neither
        // jump ahead of the user's own earlier lines nor overtake each other.
        let key = payload
            .timestamp_ms
            .unwrap_or_else(|| crate::chat::store::now_ms().max(state.max_key));
        state.max_key = state.max_key.max(key);
        (key, state.queue.clone())
    };
    let inbound = Inbound {
        session: session.clone(),
        delivery_id: id.clone(),
        order_key,
        arrival,
        late: false,
        payload,
    };
    let (stored, outcome) = oneshot::channel();
    let _ = queue.send((inbound.clone(), outcome));
    let sink = Arc::clone(&shared.sink);
    let accepted = tokio::task::spawn_blocking(move || sink.accept(&inbound))
        .await
        .unwrap_or_else(|_| Err(CoreError::internal("the store task failed")));
    let _ = stored.send(matches!(accepted, Ok(Accepted::New)));
    match accepted {
        Ok(Accepted::New) | Ok(Accepted::Duplicate) => answer(StatusCode::OK, ""),
        Err(reason) => {
            // Forget the id so the VA's retry is not mistaken for a duplicate.
            if let Ok(mut sessions) = shared.sessions.lock() {
                if let Some(state) = sessions.get_mut(&session) {
                    state.seen.remove(&id);
                }
            }
            tracing::error!(session = %session, reason = %reason, "chat webhook: sink failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the message could not be processed",
            )
        }
    }
}

/// `GET /api/v1/snowBot/attachments/<token>`: a file the user attached, for the VA to fetch.
/// Same peer and Host rules as the webhook; no bearer (the VA fetches attachment URLs without
/// one), so the token is the capability: 256 random bits, hex, checked for shape before it
/// touches the file system (no path traversal). Files live in `attachments_dir` as
/// `<token>.bin` with `<token>.json` holding the file name and content type.
pub(super) async fn attachment(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(conn): Extension<Arc<Conn>>,
    headers: HeaderMap,
    UrlPath(token): UrlPath<String>,
) -> Response {
    if !peer_allowed(peer.ip()) {
        return answer(StatusCode::FORBIDDEN, "only local connections are accepted");
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !host_allowed(host, shared.port, &shared.tunnel_hosts) {
        return answer(StatusCode::FORBIDDEN, "this Host is not accepted");
    }
    let not_found = || answer(StatusCode::NOT_FOUND, "no such attachment");
    let Some(dir) = &shared.attachments_dir else {
        return not_found();
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return not_found();
    }
    let (Ok(bytes), Ok(meta)) = (
        tokio::fs::read(dir.join(format!("{token}.bin"))).await,
        tokio::fs::read(dir.join(format!("{token}.json"))).await,
    ) else {
        return not_found();
    };
    // A real attachment is being sent: the connection is not evicted while it goes out.
    let _authorised = conn.authorised();
    let meta: Value = serde_json::from_slice(&meta).unwrap_or(Value::Null);
    let content_type = meta["content_type"]
        .as_str()
        .and_then(|c| header::HeaderValue::from_str(c).ok())
        .unwrap_or(header::HeaderValue::from_static("application/octet-stream"));
    let mut response = (StatusCode::OK, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    // A download, never rendered inline by whoever fetches it; the name is reduced to safe
    // characters so it cannot break out of the header.
    let name: String = meta["file_name"]
        .as_str()
        .unwrap_or("attachment")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(disposition) =
        header::HeaderValue::from_str(&format!("attachment; filename=\"{}\"", name.trim()))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}
