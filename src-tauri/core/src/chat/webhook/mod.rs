//! The webhook the Virtual Agent posts its replies to: `POST /api/v1/snowBot/receiveMessage`
//! (the LiveChat handoff spec), an in-process axum server bound to 127.0.0.1.
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
//!    sink knows (400, as the LiveChat handoff spec says for an unknown requestId);
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
//!
//! **Abuse.** The secret must have at least 16 characters (refused at start otherwise).
//! Connections are limited and timed out (`serve`: header read, idle, body; the oldest idle
//! connection makes room for a new one), repeated 401s from one peer are throttled
//! (`throttle`), and the sink's SQLite work runs on blocking threads, so neither a flood of
//! half-open connections nor a long transaction stalls a delivery. SECURITY.md has the tests.
//!
//! Files: `checks` (peer, Host, bearer, delivery identity, secret length), `handlers` (the two
//! routes), `order` (the per-session reorder worker), `serve` (connections: limit, timeouts),
//! `throttle` (401s per peer).

mod checks;
mod handlers;
mod order;
mod serve;
mod throttle;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use checks::{
    delivery_id, host_allowed, peer_allowed, secret_long_enough, short_secret_message,
    MIN_SECRET_CHARS,
};
pub use serve::WebhookLimits;

use super::va::model::VaPayload;
use crate::error::{CoreError, CoreResult, ErrorCode};
use handlers::{attachment, receive};

/// The path the LiveChat handoff spec gives.
pub const WEBHOOK_PATH: &str = "/api/v1/snowBot/receiveMessage";
/// Where attachments are served: the VA Bot Integration API reference sends files as URLs the VA fetches.
pub const ATTACHMENT_PATH: &str = "/api/v1/snowBot/attachments";
/// How many delivery identities each session remembers for duplicate detection.
const REMEMBERED_IDS: usize = 4096;

/// How to run the webhook.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The Bearer secret the VA sends (the LiveChat handoff spec's `WEBHOOK_SECRET`).
    pub secret: SecretString,
    /// Tunnel mode: public host names (without port) accepted in `Host`, e.g. the name a
    /// tunnel gives the app. Empty: only loopback host names.
    pub tunnel_hosts: Vec<String>,
    /// How long a payload may wait for an earlier one that overtook it.
    pub reorder_window: Duration,
    /// Where files the user attached are kept; served at [`ATTACHMENT_PATH`]`/<token>` (see
    /// `handlers::attachment`). `None`: no attachments.
    pub attachments_dir: Option<PathBuf>,
    /// Connection limit and timeouts.
    pub limits: WebhookLimits,
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
            limits: WebhookLimits::default(),
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
    fn accept(&self, inbound: &Inbound) -> CoreResult<Accepted>;
    /// Called per session in order-key order after the reorder window (for live display).
    fn deliver(&self, inbound: Inbound);
}

/// The running webhook.
pub struct WebhookServer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookServer {
    /// Binds 127.0.0.1:`port` and serves in the current tokio runtime. Refuses a secret
    /// shorter than [`MIN_SECRET_CHARS`].
    pub async fn start(
        config: WebhookConfig,
        sink: Arc<dyn ConversationSink>,
    ) -> CoreResult<WebhookServer> {
        if !secret_long_enough(config.secret.expose_secret()) {
            let message = short_secret_message();
            return Err(CoreError::new(ErrorCode::Validation, message.clone())
                .with_field("webhook_secret", message));
        }
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
            limits: config.limits.clone(),
            throttle: throttle::AuthThrottle::default(),
            bot_id: config
                .bot_id
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty()),
        });
        let app = Router::new()
            .route(WEBHOOK_PATH, post(receive))
            .route(&format!("{ATTACHMENT_PATH}/{{token}}"), get(attachment))
            .with_state(state);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve::serve(listener, app, config.limits, shutdown.clone()));
        tracing::info!(%addr, "chat webhook listening");
        Ok(WebhookServer {
            addr,
            shutdown,
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
        self.shutdown.cancel();
        let _ = (&mut self.task).await;
    }
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
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
    limits: WebhookLimits,
    throttle: throttle::AuthThrottle,
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
