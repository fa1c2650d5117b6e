//! The chat console: the engine the window and the CLI drive. It ties the store, the handoff
//! state machine, the VA client, the webhook server and the knowledge-base bot together behind
//! one API, and publishes every change as a [`ChatEvent`] on a broadcast channel.
//!
//! Rooms: `dto` (the UI contract's types), `live` (a session's in-memory state, timers,
//! effects), `record` (storing transcript lines and publishing them), `outbound` (user
//! commands and VA requests), `inbound` (webhook deliveries), `escalation` (AGENT and its
//! context), `answer` (the knowledge-base bot's replies).
//!
//! Design:
//! - **One lock per session** (`Live`, a tokio mutex): commands and inbound payloads of a
//!   session are applied one at a time, in order, so the state machine never sees a race. A
//!   command keeps it across its VA request; a synchronous VA answer is then applied before the
//!   next delivery.
//! - **Inbound path**: webhook → `StoreSink` (stored before the 200) → one ordered worker per
//!   session → classify (`Signal::of`) → handoff → effects → events. A synchronous VA answer
//!   takes the same path with delivery id `sync:<requestId>`.
//! - **SQLite is the truth**: state, agent and transcript are in `chat_sessions`/
//!   `chat_messages`; state notices are `system` messages (kind `notice`) whose `kind` field
//!   also records when a wait started, was extended or timed out, so a restart rebuilds the
//!   wait timer (remaining time = timeout − time since the wait started or was extended) and
//!   the pending "keep waiting?" question.
//! - **Events** are a `tokio::sync::broadcast` of every stored message (user, bot, agent,
//!   system; the UI merges by id) and of state/typing/wait-timeout changes. A slow receiver
//!   that lags loses events, never blocks the chat; `ChatConsole::session` re-reads the truth.
//! - **Modes**: simulated talks to the built-in simulator's VA (base URL given at start, its
//!   webhook pointed at ours with `PUT /sim/va` as its `admin / admin` account); real uses
//!   Settings > Chat (env overrides), a client rebuilt when the settings revision changes.

mod answer;
mod context;
mod dto;
mod escalation;
mod inbound;
mod live;
mod outbound;
mod record;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::attachments;
use super::store::{self as chat_store, Mode, StoreSink};
use super::va::VaClient;
use super::webhook::{Inbound, WebhookConfig, WebhookServer, ATTACHMENT_PATH};
use crate::access::{Actor, Permission};
use crate::connectors::RetryPolicy;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::Core;

pub use dto::{
    to_chat_message, AgentInfo, ChatAttachment, ChatEvent, ChatFrom, ChatMessage, ChatMode,
    ChatReply, ChatSession, ChatSessionDetails, Citation, Feedback, HandoffState,
};
pub use escalation::wants_agent;
use live::Live;

/// The simulator's VA token (`supportbot-sim`'s demo credentials).
const SIM_VA_TOKEN: &str = "demo-va-token";
/// Events buffered per receiver before a slow one starts losing the oldest.
const EVENT_BUFFER: usize = 4096;

/// How to start the console; `Default` takes everything from Settings > Chat.
#[derive(Debug, Clone, Default)]
pub struct ChatOptions {
    /// Base URL of the simulator whose VA serves simulated mode (`None`: simulated mode is
    /// unavailable until one is given).
    pub sim_url: Option<String>,
    /// Mode of new sessions instead of the configured one (CLI `--mode`).
    pub mode: Option<Mode>,
    /// Webhook port instead of the configured one (CLI `--webhook-port`).
    pub webhook_port: Option<u16>,
    /// Wait for an agent before asking "keep waiting?", instead of the configured one.
    pub wait_timeout: Option<Duration>,
    /// The webhook's reorder window (default 250 ms).
    pub reorder_window: Option<Duration>,
    /// Retry policy of VA requests (tests use `RetryPolicy::fast()`).
    pub retry: Option<RetryPolicy>,
}

/// The running chat console. Dropping it stops the webhook, the workers and the timers.
pub struct ChatConsole {
    inner: Arc<Inner>,
    webhook: Option<WebhookServer>,
    pump: JoinHandle<()>,
}

struct Inner {
    core: Arc<Core>,
    options: ChatOptions,
    events: broadcast::Sender<ChatEvent>,
    webhook_url: String,
    attachment_base: String,
    attachments_dir: PathBuf,
    /// Whether the webhook secret is the user's (real mode needs the instance to know it).
    configured_secret: bool,
    clients: Mutex<HashMap<Mode, (u64, Arc<VaClient>)>>,
    live: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Live>>>>,
    workers: Mutex<HashMap<i64, mpsc::UnboundedSender<Inbound>>>,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
}

fn refused(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::ChatRefused, message)
}

fn parse_session_id(id: &str) -> CoreResult<i64> {
    id.trim()
        .parse::<i64>()
        .map_err(|_| CoreError::not_found("chat session", id))
}

impl ChatConsole {
    /// Starts the webhook (127.0.0.1, the configured or given port), points the simulator's VA
    /// at it when `sim_url` is given, and resumes pending waits. Call inside a tokio runtime.
    pub async fn start(core: Arc<Core>, options: ChatOptions) -> CoreResult<ChatConsole> {
        let settings = core.resolved_chat()?;
        let configured_secret = settings.webhook_secret.is_some();
        // Without a configured secret (simulated mode), a fresh random one per run: only our
        // own simulator needs to know it.
        let secret = settings
            .webhook_secret
            .clone()
            .unwrap_or_else(|| SecretString::from(random_hex(32)));
        let attachments_dir = core.data_dir().join(attachments::DIR);
        crate::paths::ensure_dir(&attachments_dir)?;
        let keep_days = settings.values.attachment_days;
        let purge_dir = attachments_dir.clone();
        // Expired attachments go at each start; the file system work stays off the runtime.
        let purged = tokio::task::spawn_blocking(move || {
            super::attachments::purge_older_than(&purge_dir, keep_days)
        })
        .await
        .unwrap_or(0);
        if purged > 0 {
            tracing::info!(purged, keep_days, "deleted expired chat attachments");
        }
        let mut config = WebhookConfig::new(
            options.webhook_port.unwrap_or(settings.values.webhook_port),
            secret.clone(),
        );
        config.tunnel_hosts = settings.values.tunnel_hosts().to_vec();
        config.attachments_dir = Some(attachments_dir.clone());
        config.bot_id = settings.values.bot_id.clone();
        if let Some(w) = options.reorder_window {
            config.reorder_window = w;
        }
        let (sink, mut deliveries) = StoreSink::new(core.db_path().to_path_buf());
        let webhook = WebhookServer::start(config, sink).await?;
        let attachment_base = match settings.values.tunnel_hosts().first() {
            // A cloud instance fetches through the tunnel's public name.
            Some(host) => format!("https://{host}{ATTACHMENT_PATH}"),
            None => format!("http://{}{ATTACHMENT_PATH}", webhook.addr()),
        };
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let inner = Arc::new(Inner {
            core,
            options,
            events,
            webhook_url: webhook.url(),
            attachment_base,
            attachments_dir,
            configured_secret,
            clients: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            workers: Mutex::new(HashMap::new()),
        });
        if let Some(sim) = &inner.options.sim_url {
            configure_sim(sim, &inner.webhook_url, secret.expose_secret()).await?;
        }
        let pump_inner = Arc::clone(&inner);
        let pump = tokio::spawn(async move {
            while let Some(inbound) = deliveries.recv().await {
                pump_inner.dispatch(inbound);
            }
        });
        inner.resume_waits().await?;
        Ok(ChatConsole {
            inner,
            webhook: Some(webhook),
            pump,
        })
    }

    /// Every chat event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ChatEvent> {
        self.inner.events.subscribe()
    }

    /// The URL the VA must post its replies to (`…/api/v1/snowBot/receiveMessage`).
    pub fn webhook_url(&self) -> &str {
        &self.inner.webhook_url
    }

    /// Stops the webhook and waits for open requests; timers and workers end with `self`.
    pub async fn shutdown(mut self) {
        if let Some(w) = self.webhook.take() {
            w.shutdown().await;
        }
    }

    /// The most recent unfinished session (state active, waiting or connected) with its
    /// transcript, or a new one in the configured mode.
    pub async fn session(&self, actor: &Actor) -> CoreResult<ChatSession> {
        actor.require(Permission::IntegrationView)?;
        // Only the actor's own sessions: another profile's chat is not resumed here.
        let latest = chat_store::latest_open_session(&self.inner.core.db().conn(), &actor.name)?;
        match latest {
            Some(id) => self.inner.view(id).await,
            None => self.new_session(actor, None).await,
        }
    }

    /// Starts a fresh session (older ones stay in history).
    pub async fn new_session(
        &self,
        actor: &Actor,
        mode: Option<ChatMode>,
    ) -> CoreResult<ChatSession> {
        actor.require(Permission::IntegrationView)?;
        let settings = self.inner.core.chat_values()?;
        let mode = mode.or(self.inner.options.mode).unwrap_or(settings.mode);
        let id = {
            let conn = self.inner.core.db().conn();
            chat_store::create_session(
                &conn,
                mode,
                &format!("sb-{}", random_hex(12)),
                &actor.name,
                settings.email.as_deref(),
            )?
            .id
        };
        self.inner.view(id).await
    }

    /// "Did this help?" on a bot answer; changeable.
    pub fn feedback(&self, actor: &Actor, message_id: i64, helpful: bool) -> CoreResult<()> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_message_owner(&self.inner.core.db().conn(), actor, message_id)?;
        let conn = self.inner.core.db().conn();
        chat_store::set_feedback(&conn, message_id, helpful, None)
    }
}

impl Drop for ChatConsole {
    /// Breaks the cycles (workers and timers hold the service's state): the pump stops,
    /// workers end when their queues close, and dropping the live states aborts the timers.
    fn drop(&mut self) {
        self.pump.abort();
        self.inner
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let live: Vec<_> = self
            .inner
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for (_, l) in live {
            if let Ok(mut l) = l.try_lock() {
                l.timer_generation += 1;
                if let Some(t) = l.timer.take() {
                    t.abort();
                }
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// The built-in simulator's well-known demo admin account, which its `/sim` control API
/// requires (HTTP Basic, `admin` role).
const SIM_CONTROL_USER: &str = "admin";
const SIM_CONTROL_PASSWORD: &str = "admin";

/// Points the simulator's VA at our webhook with our secret (other knobs unchanged).
async fn configure_sim(sim: &str, webhook_url: &str, secret: &str) -> CoreResult<()> {
    let response = crate::connectors::client()?
        .put(format!("{}/sim/va", sim.trim_end_matches('/')))
        .basic_auth(SIM_CONTROL_USER, Some(SIM_CONTROL_PASSWORD))
        .json(&json!({"webhook_url": webhook_url, "webhook_secret": secret}))
        .send()
        .await
        .map_err(|e| {
            CoreError::new(
                ErrorCode::Unreachable,
                format!("The chat simulator at {sim} is not reachable: {e}"),
            )
        })?;
    if !response.status().is_success() {
        return Err(CoreError::new(
            ErrorCode::ServerError,
            format!(
                "The chat simulator refused the webhook configuration (HTTP {}).",
                response.status().as_u16()
            ),
        ));
    }
    Ok(())
}
