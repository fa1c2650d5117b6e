//! The webhook the Virtual Agent posts its replies to: `POST /api/v1/snowBot/receiveMessage`
//! (seed 001), an in-process axum server bound to 127.0.0.1.
//!
//! Checks, in order (each answered before the body is looked at):
//! 1. the peer is loopback (403 otherwise): the socket is bound to 127.0.0.1, so this is defence
//!    in depth; a tunnel agent (cloudflared, ngrok) also connects from loopback;
//! 2. `Host` is `127.0.0.1:<port>` or `localhost:<port>` (403 otherwise), against DNS rebinding:
//!    a web page in the user's browser must not be able to post chat messages. In tunnel mode the
//!    host names of the allow-list are accepted too;
//! 3. `Authorization: Bearer <secret>`, compared in constant time over SHA-256 digests so
//!    neither the content nor the length of the secret leaks through timing (401 otherwise);
//! 4. the body parses as a payload (400) and its requestId/clientSessionId names a session the
//!    sink knows (400, as seed 001 says for an unknown requestId);
//! 5. the sink accepts it durably (200) or fails (500, so the VA retries).
//!
//! **Duplicates.** A delivery's identity is the `messageId` the payload carries (top level, or a
//! body element's `feedback.messageId` on releases that send one); without one, the SHA-256 of
//! the payload's canonical JSON (object keys sorted), so a retransmission of the same payload is
//! recognised and a different payload never is. A duplicate is answered 200 and not delivered
//! again. The webhook remembers recent identities per session; the sink's own check (a unique
//! key in the store) makes it hold across restarts.
//!
//! **Order.** Each session has one delivery worker. A payload's order key is its `timestamp`
//! (seconds or milliseconds, normalised to ms); a payload without one takes the highest key seen
//! in its session, so it sorts after everything before it (arrival order breaks ties). The worker
//! is a sliding reorder buffer: each payload is held for `reorder_window` after it arrives, and
//! the lowest key is handed to the sink when its time is up. So a payload overtaken by at most
//! the window is still
//! delivered in order; one later than that is delivered anyway, marked `late`, and the store
//! orders the transcript by key. The 200 does not wait for the window: a VA that sends one
//! payload at a time (as the simulator does) would otherwise stall behind the window each time.
//! A payload joins the worker's queue when it arrives, before it is stored, and the worker
//! waits for the store's outcome before handing it over (skipping duplicates and failures):
//! so the window measures how far arrivals overtake each other, not how long each SQLite write
//! took under load (the load test showed store latency alone exceeding the window).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, oneshot};

use super::va::model::{payload_from_value, VaPayload};
use crate::error::{CoreError, CoreResult, ErrorCode};

/// The path seed 001 gives.
pub const WEBHOOK_PATH: &str = "/api/v1/snowBot/receiveMessage";
/// Where attachments are served: seed 002 sends files as URLs the VA fetches.
pub const ATTACHMENT_PATH: &str = "/api/v1/snowBot/attachments";
/// How many delivery identities each session remembers for duplicate detection.
const REMEMBERED_IDS: usize = 4096;

/// How to run the webhook.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The Bearer secret the VA sends (seed 001's `WEBHOOK_SECRET`).
    pub secret: SecretString,
    /// Tunnel mode: public host names (without port) accepted in `Host`, e.g. the name a
    /// tunnel gives the app. Empty: only loopback host names.
    pub tunnel_hosts: Vec<String>,
    /// How long a payload may wait for an earlier one that overtook it.
    pub reorder_window: Duration,
    /// Where files the user attached are kept; served at [`ATTACHMENT_PATH`]`/<token>` (see
    /// [`attachment`]). `None`: no attachments.
    pub attachments_dir: Option<PathBuf>,
    /// The configured bot id: a payload whose `clientVariables.botId` names another bot is
    /// refused with 400, as the LiveChat handoff spec says for an invalid botId. `None`
    /// accepts any.
    pub bot_id: Option<String>,
}

impl WebhookConfig {
    pub fn new(port: u16, secret: SecretString) -> WebhookConfig {
        WebhookConfig {
            port,
            secret,
            tunnel_hosts: Vec::new(),
            reorder_window: Duration::from_millis(250),
            attachments_dir: None,
            bot_id: None,
        }
    }
}

/// One payload on its way to a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The sink's key of the conversation.
    pub session: String,
    /// Duplicate-detection identity (see the module docs).
    pub delivery_id: String,
    /// Milliseconds: the payload's timestamp, or the session's highest key so far.
    pub order_key: i64,
    /// Arrival number across the server; breaks ties of `order_key`.
    pub arrival: u64,
    /// Delivered after a payload with a higher key had already been handed over.
    pub late: bool,
    pub payload: VaPayload,
}

/// The sink accepted a payload, or had it already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    New,
    Duplicate,
}

/// Where payloads go: the chat session store, connected by the app.
pub trait ConversationSink: Send + Sync + 'static {
    /// The conversation a payload belongs to, from its `requestId` and/or `clientSessionId`;
    /// `None` answers 400.
    fn session_for(&self, payload: &VaPayload) -> Option<String>;
    /// Records the payload durably before the webhook answers 200; an error answers 500 so the
    /// VA delivers again. Must be idempotent on `delivery_id`.
    fn accept(&self, inbound: &Inbound) -> Result<Accepted, String>;
    /// Called per session in order-key order after the reorder window (for live display).
    fn deliver(&self, inbound: Inbound);
}

/// The running webhook.
pub struct WebhookServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookServer {
    /// Binds 127.0.0.1:`port` and serves in the current tokio runtime.
    pub async fn start(
        config: WebhookConfig,
        sink: Arc<dyn ConversationSink>,
    ) -> CoreResult<WebhookServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|e| {
                CoreError::new(
                    ErrorCode::Validation,
                    format!(
                        "The chat webhook cannot listen on 127.0.0.1:{}: {e}. Choose another port \
                         (0 picks a free one).",
                        config.port
                    ),
                )
                .with_field("webhook_port", "This port is not available.")
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| CoreError::internal(format!("webhook socket: {e}")))?;
        let state = Arc::new(Shared {
            port: addr.port(),
            secret_digest: Sha256::digest(config.secret.expose_secret().as_bytes()).into(),
            tunnel_hosts: config
                .tunnel_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            reorder_window: config.reorder_window,
            sink,
            sessions: Mutex::new(HashMap::new()),
            arrivals: Mutex::new(0),
            attachments_dir: config.attachments_dir,
            bot_id: config
                .bot_id
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty()),
        });
        let app = Router::new()
            .route(WEBHOOK_PATH, post(receive))
            .route(&format!("{ATTACHMENT_PATH}/{{token}}"), get(attachment))
            .with_state(state);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "chat webhook server stopped");
            }
        });
        tracing::info!(%addr, "chat webhook listening");
        Ok(WebhookServer {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to configure as the VA's response endpoint (locally).
    pub fn url(&self) -> String {
        format!("http://{}{WEBHOOK_PATH}", self.addr)
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

struct Shared {
    port: u16,
    secret_digest: [u8; 32],
    tunnel_hosts: HashSet<String>,
    reorder_window: Duration,
    sink: Arc<dyn ConversationSink>,
    sessions: Mutex<HashMap<String, SessionState>>,
    arrivals: Mutex<u64>,
    attachments_dir: Option<PathBuf>,
    bot_id: Option<String>,
}

/// Per conversation: recent delivery ids, the highest order key, and the worker's queue.
struct SessionState {
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    max_key: i64,
    /// Each payload is queued when it arrives, with the outcome of storing it to follow, so
    /// the reorder window measures arrival order, not how long each store took.
    queue: mpsc::UnboundedSender<(Inbound, oneshot::Receiver<bool>)>,
}

fn answer(status: StatusCode, message: &str) -> Response {
    let body = if status.is_success() {
        json!({"status": "success"})
    } else {
        json!({"status": "failure", "error": {"message": message}})
    };
    (status, Json(body)).into_response()
}

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

/// Constant-time check of `Authorization: Bearer <secret>`.
fn bearer_ok(headers: &HeaderMap, digest: &[u8; 32]) -> bool {
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

async fn receive(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
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
    if !bearer_ok(&headers, &shared.secret_digest) {
        let mut response = answer(StatusCode::UNAUTHORIZED, "missing or wrong bearer secret");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
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
    let Some(session) = shared.sink.session_for(&payload) else {
        return answer(
            StatusCode::BAD_REQUEST,
            "unknown requestId or clientSessionId",
        );
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
            .unwrap_or_else(|| super::store::now_ms().max(state.max_key));
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
    let accepted = shared.sink.accept(&inbound);
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
async fn attachment(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    response
}

/// A payload waiting in a session's reorder buffer, ordered by (order key, arrival).
struct Held {
    key: (i64, u64),
    due: tokio::time::Instant,
    inbound: Inbound,
    stored: oneshot::Receiver<bool>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// The ordered delivery worker of one session: a sliding reorder buffer. Each payload is held
/// for `window` after it arrived; the lowest key is released once its own time is up (higher
/// keys wait behind it). So a payload that overtook another by at most `window` is released
/// after it, whatever the batch boundaries; a fixed batch window would let an inversion that
/// straddles two batches through.
fn spawn_worker(
    sink: Arc<dyn ConversationSink>,
    window: Duration,
) -> mpsc::UnboundedSender<(Inbound, oneshot::Receiver<bool>)> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let (tx, mut rx) = mpsc::unbounded_channel::<(Inbound, oneshot::Receiver<bool>)>();
    tokio::spawn(async move {
        let mut released: Option<(i64, u64)> = None;
        let mut held: BinaryHeap<Reverse<Held>> = BinaryHeap::new();
        let mut open = true;
        while open || !held.is_empty() {
            let due = held.peek().map(|Reverse(h)| h.due);
            tokio::select! {
                next = rx.recv(), if open => match next {
                    Some((inbound, stored)) => held.push(Reverse(Held {
                        key: (inbound.order_key, inbound.arrival),
                        due: tokio::time::Instant::now() + window,
                        inbound,
                        stored,
                    })),
                    None => open = false,
                },
                _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() || !open => {
                    let Some(Reverse(h)) = held.pop() else { continue };
                    // Only what was stored (not a duplicate, not a failure) is handed over.
                    if h.stored.await != Ok(true) {
                        continue;
                    }
                    let mut inbound = h.inbound;
                    if released.is_some_and(|r| h.key < r) {
                        inbound.late = true;
                    } else {
                        released = Some(h.key);
                    }
                    sink.deliver(inbound);
                }
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::*;
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
