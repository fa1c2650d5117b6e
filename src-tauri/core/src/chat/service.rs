//! `ChatService`: the chat console's engine. It ties the store, the handoff state machine, the
//! VA client, the webhook server and the knowledge-base bot together behind the API the UI
//! contract (`plan/chat-service-contract.md`) and the CLI call, and publishes every change as a
//! [`ChatEvent`] on a broadcast channel.
//!
//! Design:
//! - **One lock per session** (`Live`, a tokio mutex): commands and inbound payloads of a
//!   session are applied one at a time, in order, so the state machine never sees a race. A
//!   command keeps it across its VA request; a synchronous VA answer is then applied before the
//!   next delivery.
//! - **Inbound path**: webhook → `StoreSink` (stored before the 200) → one ordered worker per
//!   session here → classify (`Signal::of`) → handoff → effects → events. A synchronous VA
//!   answer takes the same path with delivery id `sync:<requestId>`.
//! - **SQLite is the truth**: state, agent and transcript are in `chat_sessions`/
//!   `chat_messages`; state notices are `system` messages (kind `notice`) whose `kind` field
//!   also records when a wait started, was extended or timed out, so a restart rebuilds the
//!   wait timer (remaining time = timeout − time since the wait started or was extended) and
//!   the pending "keep waiting?" question.
//! - **Events** are a `tokio::sync::broadcast` of every stored message (user, bot, agent,
//!   system; the UI merges by id) and of state/typing/wait-timeout changes. A slow receiver
//!   that lags loses events, never blocks the chat; `ChatService::session` re-reads the truth.
//! - **Modes**: simulated talks to the built-in simulator's VA (base URL given at start, its
//!   webhook pointed at ours with `PUT /sim/va`); real uses Settings > Chat (env overrides), a
//!   client rebuilt when the settings revision changes.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::bot::{self, BotAnswer};
use super::handoff::{Effect, Event, Handoff, Notice, Signal, State};
use super::sanitize::{body_text, sanitize_body, typing_only};
use super::store::{self as chat_store, Direction, Mode, Session, StoreSink, UserMessage};
use super::va::model::{Action, ActionKind, Attachment, Intent, OutMessage, VaRequest};
use super::va::{VaAuth, VaClient, VaClientConfig, VaReply};
use super::webhook::{Inbound, WebhookConfig, WebhookServer, ATTACHMENT_PATH};
use crate::access::{Actor, Permission};
use crate::clock::now_rfc3339;
use crate::connectors::RetryPolicy;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::Core;

/// The simulator's VA token (`supportbot-sim`'s demo credentials).
const SIM_VA_TOKEN: &str = "demo-va-token";
/// Largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// Events buffered per receiver before a slow one starts losing the oldest.
const EVENT_BUFFER: usize = 4096;
/// Transcript lines handed to the agent on escalation, and their total size.
const TRANSCRIPT_LINES: usize = 12;
const TRANSCRIPT_CHARS: usize = 2000;
/// Longest topic (`intent.id`) accepted by "Switch topic".
const MAX_INTENT_CHARS: usize = 200;
/// Subdirectory of the data directory holding attachments.
const ATTACHMENTS_DIR: &str = "chat_attachments";

// ---- the UI contract's types ----------------------------------------------------------------

pub type ChatMode = Mode;
pub type HandoffState = State;
pub type ChatFrom = Direction;
pub use super::bot::Citation;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub name: Option<String>,
    pub avatar: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    Helpful,
    NotHelpful,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: i64,
    pub session_id: String,
    /// Conversation order (the transcript's order key, milliseconds); ties by `id`.
    pub seq: i64,
    pub at: String,
    pub from: ChatFrom,
    pub text: Option<String>,
    pub answer: Option<BotAnswer>,
    /// Seed-002 body elements as received, OutputHtml sanitised.
    pub body: Vec<Value>,
    pub agent: Option<AgentInfo>,
    /// For `from: agent`: written by the live agent (`agentChat`), not by the instance's
    /// Virtual Agent (its greeting, topic pickers, "please stand by").
    pub live_agent: bool,
    pub feedback: Option<Feedback>,
    pub attachment: Option<ChatAttachment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSession {
    pub id: String,
    pub mode: ChatMode,
    pub state: HandoffState,
    pub started_at: String,
    pub updated_at: String,
    pub agent: Option<AgentInfo>,
    pub waiting_since: Option<String>,
    pub notice: Option<String>,
    pub messages: Vec<ChatMessage>,
}

/// The user's answer to a control (picker option, boolean, date, input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatReply {
    pub value: String,
    pub label: String,
    pub typed: bool,
    /// The answer to a SECURE input: sent to the VA, stored and shown only as a placeholder.
    #[serde(default)]
    pub secure: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    Message {
        session_id: String,
        /// Boxed: the largest variant by far; serialises as the message itself.
        message: Box<ChatMessage>,
    },
    State {
        session_id: String,
        state: HandoffState,
        notice: Option<String>,
        agent: Option<AgentInfo>,
    },
    Typing {
        session_id: String,
        on: bool,
    },
    WaitTimeout {
        session_id: String,
        waited_s: u64,
    },
}

// ---- options and the service ----------------------------------------------------------------

/// How to start the service; `Default` takes everything from Settings > Chat.
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
pub struct ChatService {
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

/// A session's in-memory state, rebuilt from SQLite on first use.
struct Live {
    handoff: Handoff,
    agent: Option<AgentInfo>,
    notice: Option<String>,
    /// When the current wait began (RFC 3339) and its anchor for the timer (ms).
    waiting_since: Option<String>,
    wait_anchor_ms: Option<i64>,
    timer: Option<JoinHandle<()>>,
    timer_generation: u64,
    /// Requests up to this `chat_requests` rowid belong to a handoff that ended before the user
    /// started over; their late replies may show but never move the state. In memory only: a
    /// restart forgets it, and replies that late are rare.
    ended_requests_upto: Option<i64>,
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.timer.take() {
            t.abort();
        }
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
}

fn refused(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::ChatRefused, message)
}

/// "agent", "/agent", "human", "talk to a human" (and a few variants), whole message, any case.
pub fn wants_agent(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches(['.', '!', '?'])
        .trim()
        .to_lowercase();
    matches!(
        t.as_str(),
        "agent"
            | "/agent"
            | "human"
            | "/human"
            | "talk to a human"
            | "talk to an agent"
            | "live agent"
            | "a human"
            | "live agent support"
    )
}

fn parse_session_id(id: &str) -> CoreResult<i64> {
    id.trim()
        .parse::<i64>()
        .map_err(|_| CoreError::not_found("chat session", id))
}

impl ChatService {
    /// Starts the webhook (127.0.0.1, the configured or given port), points the simulator's VA
    /// at it when `sim_url` is given, and resumes pending waits. Call inside a tokio runtime.
    pub async fn start(core: Arc<Core>, options: ChatOptions) -> CoreResult<ChatService> {
        let settings = core.resolved_chat()?;
        let configured_secret = settings.webhook_secret.is_some();
        // Without a configured secret (simulated mode), a fresh random one per run: only our
        // own simulator needs to know it.
        let secret = settings
            .webhook_secret
            .clone()
            .unwrap_or_else(|| SecretString::from(random_hex(32)));
        let attachments_dir = core.data_dir().join(ATTACHMENTS_DIR);
        crate::paths::ensure_dir(&attachments_dir)?;
        let mut config = WebhookConfig::new(
            options.webhook_port.unwrap_or(settings.values.webhook_port),
            secret.clone(),
        );
        config.tunnel_hosts = settings.values.tunnel_hosts().to_vec();
        config.attachments_dir = Some(attachments_dir.clone());
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
        Ok(ChatService {
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

    /// A typed message: answered by the bot (state active or finished), sent to the agent
    /// (waiting, connected), or an escalation ("agent", "/agent", "human", "talk to a human").
    /// Returns the messages stored at once; agent replies follow as events.
    pub async fn send(
        &self,
        actor: &Actor,
        session_id: &str,
        text: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(
                CoreError::new(ErrorCode::Validation, "Type a message first.")
                    .with_field("text", "Type a message first."),
            );
        }
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        let with_agent = matches!(live.handoff.state, State::Waiting | State::Connected);
        if wants_agent(text) && !with_agent {
            let mut out = vec![inner.store_user(&session, text, None)?];
            out.extend(inner.escalate_locked(actor, &session, &mut live).await?);
            return Ok(out);
        }
        let before = live.handoff.state;
        let effects = live
            .handoff
            .apply(Event::UserMessage)
            .map_err(|r| refused(r.reason))?;
        inner.left_terminal(&session, &mut live, before)?;
        let mut out = Vec::new();
        if effects.contains(&Effect::AnswerLocally) {
            if before != live.handoff.state {
                inner.persist(&session, &live)?;
                inner.emit_state(&session, &live);
            }
            out.push(inner.store_user(&session, text, None)?);
            out.push(inner.answer(actor, &session, text).await?);
        } else if effects.contains(&Effect::ForwardToVa) {
            let request = inner.request(&session, None, text, true);
            out.push(inner.store_user(&session, text, Some(&request.request_id))?);
            out.extend(inner.post(&session, &mut live, request).await?);
        }
        Ok(out)
    }

    /// Answers a control: the value goes to the VA with `typed` as given (false for options);
    /// a SECURE answer is stored and shown only as a placeholder.
    pub async fn reply(
        &self,
        actor: &Actor,
        session_id: &str,
        reply: ChatReply,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        let with_agent = matches!(live.handoff.state, State::Waiting | State::Connected);
        if !reply.secure && !with_agent && (wants_agent(&reply.value) || wants_agent(&reply.label))
        {
            let mut out = vec![inner.store_user(&session, &reply.label, None)?];
            out.extend(inner.escalate_locked(actor, &session, &mut live).await?);
            return Ok(out);
        }
        let mut request = inner.request(&session, None, &reply.value, reply.typed);
        request.message.typed = reply.typed;
        let stored = {
            let conn = inner.core.db().conn();
            let shown = if reply.label.trim().is_empty() {
                &reply.value
            } else {
                &reply.label
            };
            let id = chat_store::add_user_message(
                &conn,
                session.id,
                &UserMessage {
                    text: Some(shown.clone()),
                    secure: reply.secure,
                    attachment: None,
                    request_id: Some(request.request_id.clone()),
                },
            )?;
            inner.message_by_id(&conn, id)?
        };
        inner.emit_message(&session, &stored);
        let mut out = vec![stored];
        out.extend(inner.post(&session, &mut live, request).await?);
        Ok(out)
    }

    /// "Start conversation": `action: START_CONVERSATION` (seed 002), so the instance's Virtual
    /// Agent answers with its greeting topic (a greeting and a topic picker, as events; picking
    /// an option goes through [`ChatService::reply`] with `typed: false`). Typed text keeps
    /// going to the local knowledge-base bot. Allowed while the bot has the conversation
    /// (active, or a finished handoff, which becomes active again); refused with `chat_refused`
    /// while waiting for or chatting with an agent. The user's action is stored as a visible
    /// line ("Started a Virtual Agent conversation") before the request goes out; returns the
    /// messages stored at once.
    pub async fn start_conversation(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        self.va_action(session_id, None).await
    }

    /// "Switch topic": `action: SWITCH` with `intent: {id}` (seed 002), so the Virtual Agent
    /// moves the conversation to that topic (its first control follows as an event). Same
    /// states as [`ChatService::start_conversation`]; an empty intent is a validation error on
    /// the field `intent`.
    pub async fn switch_topic(
        &self,
        actor: &Actor,
        session_id: &str,
        intent_id: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let intent = intent_id.trim();
        let invalid = |m: &str| CoreError::new(ErrorCode::Validation, m).with_field("intent", m);
        if intent.is_empty() {
            return Err(invalid("Enter the topic to switch to."));
        }
        if intent.chars().count() > MAX_INTENT_CHARS || intent.chars().any(char::is_control) {
            return Err(invalid(&format!(
                "A topic is one line of at most {MAX_INTENT_CHARS} characters."
            )));
        }
        self.va_action(session_id, Some(intent)).await
    }

    /// START_CONVERSATION (`intent` None) or SWITCH to `intent`, under the session's lock.
    async fn va_action(
        &self,
        session_id: &str,
        intent: Option<&str>,
    ) -> CoreResult<Vec<ChatMessage>> {
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        // Configuration problems surface before anything changes.
        let _ = inner.client(session.mode)?;
        let (event, action, line) = match intent {
            None => (
                Event::StartVaConversation,
                Action::StartConversation,
                "Started a Virtual Agent conversation".to_owned(),
            ),
            Some(topic) => (
                Event::SwitchTopic,
                Action::Switch,
                format!("Switched topic to {topic}"),
            ),
        };
        let before = live.handoff.state;
        live.handoff
            .apply(event)
            .map_err(|r| refused(capitalise(r.reason)))?;
        inner.left_terminal(&session, &mut live, before)?;
        if before != live.handoff.state {
            inner.persist(&session, &live)?;
            inner.emit_state(&session, &live);
        }
        // Seed 002's examples: START_CONVERSATION sends an empty text, SWITCH none at all.
        let mut request = inner.request(&session, Some(action), "", true);
        if let Some(topic) = intent {
            request.message.text = None;
            request.intent = Some(Intent {
                id: topic.to_owned(),
            });
        }
        let stored = inner.store_local(
            &session,
            Direction::User,
            "va_action",
            &json!({"text": line, "action": action.as_str(), "intent": intent}),
        )?;
        let mut out = vec![stored];
        out.extend(inner.post(&session, &mut live, request).await?);
        Ok(out)
    }

    /// Sends a file: stored under an unguessable URL the webhook server serves, and posted to
    /// the VA as `message.attachment` (seed 002 attachments are URLs).
    pub async fn attach(
        &self,
        actor: &Actor,
        session_id: &str,
        file_name: &str,
        content_type: &str,
        data_base64: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let invalid = |m: &str| CoreError::new(ErrorCode::Validation, m).with_field("file", m);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64.trim())
            .map_err(|_| invalid("The file could not be read (bad base64)."))?;
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(invalid(&format!(
                "The file is larger than {} MB; attach a smaller one.",
                MAX_ATTACHMENT_BYTES / (1024 * 1024)
            )));
        }
        let content_type = content_type.trim();
        if content_type.is_empty()
            || !content_type.contains('/')
            || content_type.chars().any(|c| c.is_control())
        {
            return Err(invalid(
                "The file's type is not a MIME type (like application/pdf).",
            ));
        }
        let file_name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
            .collect();
        let file_name = if file_name.trim().is_empty() {
            "attachment".to_owned()
        } else {
            file_name
        };
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        let token = random_hex(32);
        let meta = json!({"file_name": file_name, "content_type": content_type});
        tokio::fs::write(inner.attachments_dir.join(format!("{token}.bin")), &bytes)
            .await
            .map_err(|e| {
                CoreError::new(
                    ErrorCode::Storage,
                    format!("Cannot keep the attachment: {e}"),
                )
            })?;
        tokio::fs::write(
            inner.attachments_dir.join(format!("{token}.json")),
            meta.to_string(),
        )
        .await
        .map_err(|e| {
            CoreError::new(
                ErrorCode::Storage,
                format!("Cannot keep the attachment: {e}"),
            )
        })?;
        let attachment = Attachment {
            client_attachment_id: Some(token.clone()),
            content_type: content_type.to_owned(),
            file_name: file_name.clone(),
            url: format!("{}/{token}", inner.attachment_base),
        };
        let mut request = inner.request(&session, None, "", true);
        request.message.text = None;
        request.message.attachment = Some(attachment.clone());
        // `post` records the request before sending, so its replies find the session.
        let stored = inner.store_local(
            &session,
            Direction::User,
            "attachment",
            &json!({"text": null, "attachment": {
                "file_name": file_name, "content_type": content_type,
                "size": bytes.len(), "url": attachment.url}}),
        )?;
        let mut out = vec![stored];
        out.extend(inner.post(&session, &mut live, request).await?);
        Ok(out)
    }

    /// "Talk to a human": `action: AGENT` with the context of the bot conversation.
    pub async fn escalate(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let (session, live) = self.inner.open(session_id)?;
        {
            let mut live = live.lock().await;
            self.inner
                .escalate_locked(actor, &session, &mut live)
                .await?;
        }
        self.inner.view(session.id).await
    }

    /// Cancels a wait for an agent (waiting → cancelled; END_CONVERSATION to the VA).
    pub async fn cancel(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        self.user_command(actor, session_id, Event::UserCancel)
            .await
    }

    /// Ends the chat with the agent (connected → completed; END_CONVERSATION to the VA).
    pub async fn end(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        self.user_command(actor, session_id, Event::UserEnd).await
    }

    /// After a wait timeout: keep waiting (the timer starts again).
    pub async fn keep_waiting(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        self.user_command(actor, session_id, Event::KeepWaiting)
            .await
    }

    /// "Did this help?" on a bot answer; changeable.
    pub fn feedback(&self, actor: &Actor, message_id: i64, helpful: bool) -> CoreResult<()> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_message_owner(&self.inner.core.db().conn(), actor, message_id)?;
        let conn = self.inner.core.db().conn();
        chat_store::set_feedback(&conn, message_id, helpful, None)
    }

    async fn user_command(
        &self,
        actor: &Actor,
        session_id: &str,
        event: Event,
    ) -> CoreResult<ChatSession> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        {
            let mut live = live.lock().await;
            let keep = event == Event::KeepWaiting;
            let effects = live
                .handoff
                .apply(event)
                .map_err(|r| refused(capitalise(r.reason)))?;
            if keep {
                live.wait_anchor_ms = Some(chat_store::now_ms());
                inner.store_notice(
                    &session,
                    State::Waiting,
                    "keep_waiting",
                    "You chose to keep waiting for an agent.",
                )?;
            }
            inner.effects(&session, &mut live, &effects)?;
            if effects.contains(&Effect::SendEndConversation) {
                let request = inner.request(&session, Some(Action::EndConversation), "", true);
                // The chat is over for the user whatever the VA answers; a failure is logged.
                if let Err(e) = inner.post(&session, &mut live, request).await {
                    tracing::warn!(code = e.code.as_str(), "END_CONVERSATION failed");
                }
            }
        }
        inner.view(session.id).await
    }
}

impl Drop for ChatService {
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

/// Points the simulator's VA at our webhook with our secret (other knobs unchanged).
async fn configure_sim(sim: &str, webhook_url: &str, secret: &str) -> CoreResult<()> {
    let response = crate::connectors::client()?
        .put(format!("{}/sim/va", sim.trim_end_matches('/')))
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

impl Notice {
    fn text(&self, agent: Option<&str>) -> String {
        match self {
            Notice::AgentJoined => match agent {
                Some(name) => format!("{name} joined the chat."),
                None => "An agent joined the chat.".into(),
            },
            Notice::AgentTookControl => "The agent has taken control of the conversation.".into(),
            Notice::ControlReturned => {
                "The agent handed the conversation back to the bot; it answers again.".into()
            }
            Notice::ChatEnded => {
                "The conversation with the agent has ended. The bot answers again.".into()
            }
            Notice::Cancelled => "You stopped waiting for an agent. The bot answers again.".into(),
            Notice::FellBackToBot { reason } => format!(
                "{}. The bot answers again; you can ask for an agent later.",
                reason
                    .as_deref()
                    .map(|r| r.trim_end_matches('.').to_owned())
                    .unwrap_or_else(|| "The handoff to an agent failed".into())
            ),
            Notice::StillWaiting => {
                "No agent has joined yet. Keep waiting, or cancel and continue with the bot?".into()
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Notice::AgentJoined => "agent_joined",
            Notice::AgentTookControl => "agent_took_control",
            Notice::ControlReturned => "control_returned",
            Notice::ChatEnded => "chat_ended",
            Notice::Cancelled => "cancelled",
            Notice::FellBackToBot { .. } => "fell_back_to_bot",
            Notice::StillWaiting => "still_waiting",
        }
    }
}

impl Inner {
    /// A session's row and its live state (loaded from SQLite on first use).
    fn open(
        self: &Arc<Self>,
        session_id: &str,
    ) -> CoreResult<(Session, Arc<tokio::sync::Mutex<Live>>)> {
        let id = parse_session_id(session_id)?;
        let session = {
            let conn = self.core.db().conn();
            chat_store::session(&conn, id)?
                .ok_or_else(|| CoreError::not_found("chat session", session_id))?
        };
        Ok((session.clone(), self.live(&session)?))
    }

    fn live(self: &Arc<Self>, session: &Session) -> CoreResult<Arc<tokio::sync::Mutex<Live>>> {
        let mut map = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = map.get(&session.id) {
            return Ok(Arc::clone(l));
        }
        let loaded = self.load_live(session)?;
        let l = Arc::new(tokio::sync::Mutex::new(loaded));
        map.insert(session.id, Arc::clone(&l));
        Ok(l)
    }

    /// Rebuilds a session's live state from its row and transcript (after a restart).
    fn load_live(&self, session: &Session) -> CoreResult<Live> {
        let messages = {
            let conn = self.core.db().conn();
            chat_store::messages(&conn, session.id)?
        };
        let mut handoff = Handoff::new(session.state);
        handoff.agent_in_control = session.agent_in_control;
        let mut live = Live {
            handoff,
            agent: None,
            notice: None,
            waiting_since: None,
            wait_anchor_ms: None,
            timer: None,
            timer_generation: 0,
            ended_requests_upto: None,
        };
        let mut avatar = None;
        for m in &messages {
            match (m.direction, m.kind.as_str()) {
                (Direction::System, "notice") => {
                    let kind = m.body["kind"].as_str().unwrap_or_default();
                    live.notice = m.body["text"].as_str().map(str::to_owned);
                    match kind {
                        "waiting" => {
                            live.waiting_since = Some(m.created_at.clone());
                            live.wait_anchor_ms = Some(m.order_key);
                            live.handoff.awaiting_keep_waiting = false;
                        }
                        "keep_waiting" => {
                            live.wait_anchor_ms = Some(m.order_key);
                            live.handoff.awaiting_keep_waiting = false;
                        }
                        "still_waiting" => live.handoff.awaiting_keep_waiting = true,
                        _ => live.handoff.awaiting_keep_waiting = false,
                    }
                }
                (_, "va_payload") => {
                    if let Some(a) = m.body["body"].as_array().and_then(|b| {
                        b.iter().find_map(|e| {
                            e["agentInfo"]["agentAvatar"]
                                .as_str()
                                .filter(|s| !s.is_empty())
                        })
                    }) {
                        avatar = Some(a.to_owned());
                    }
                }
                _ => {}
            }
        }
        if session.state != State::Waiting {
            live.waiting_since = None;
            live.handoff.awaiting_keep_waiting = false;
        }
        if session.agent_name.is_some() || avatar.is_some() {
            live.agent = Some(AgentInfo {
                name: session.agent_name.clone(),
                avatar,
            });
        }
        Ok(live)
    }

    /// After a restart: every waiting session gets its timer back with the time it had left
    /// (or its pending "keep waiting?" question, which needs no timer).
    async fn resume_waits(self: &Arc<Self>) -> CoreResult<()> {
        let waiting: Vec<Session> = {
            let conn = self.core.db().conn();
            let mut st = conn.prepare("SELECT id FROM chat_sessions WHERE state = 'waiting'")?;
            let ids: Vec<i64> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            ids.into_iter()
                .filter_map(|id| chat_store::session(&conn, id).ok().flatten())
                .collect()
        };
        for session in waiting {
            let live = self.live(&session)?;
            let mut live = live.lock().await;
            if live.handoff.awaiting_keep_waiting {
                continue;
            }
            let timeout = self.wait_timeout()?;
            let elapsed = live
                .wait_anchor_ms
                .map(|a| Duration::from_millis((chat_store::now_ms() - a).max(0) as u64))
                .unwrap_or_default();
            let remaining = timeout.saturating_sub(elapsed);
            tracing::info!(
                session = session.id,
                remaining_s = remaining.as_secs(),
                "resuming a wait for an agent"
            );
            self.start_timer(&session, &mut live, remaining);
        }
        Ok(())
    }

    fn wait_timeout(&self) -> CoreResult<Duration> {
        Ok(match self.options.wait_timeout {
            Some(d) => d,
            None => Duration::from_secs(u64::from(self.core.chat_values()?.wait_timeout_s)),
        })
    }

    /// The VA client of a mode, rebuilt when Settings > Chat changed.
    fn client(&self, mode: Mode) -> CoreResult<Arc<VaClient>> {
        let revision = self.core.chat_settings_revision()?;
        if let Some((rev, client)) = self
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&mode)
        {
            if *rev == revision || mode == Mode::Simulated {
                return Ok(Arc::clone(client));
            }
        }
        let retry = self.options.retry.clone().unwrap_or_default();
        let config = match mode {
            Mode::Simulated => VaClientConfig {
                instance_url: self.options.sim_url.clone().ok_or_else(|| {
                    refused("Simulated chat needs the built-in simulator, which is not running. Restart the app, or switch Settings > Chat to real mode.")
                })?,
                auth: VaAuth::Token(SecretString::from(SIM_VA_TOKEN.to_owned())),
                retry,
            },
            Mode::Real => {
                let s = self.core.resolved_chat()?;
                if !self.configured_secret {
                    return Err(CoreError::new(
                        ErrorCode::Validation,
                        "Real chat mode needs a webhook secret, the same one the instance sends as its Bearer token: set it in Settings > Chat (or WEBHOOK_SECRET) and restart the chat.",
                    )
                    .with_field("webhook_secret", "Enter the webhook secret configured on the instance."));
                }
                VaClientConfig {
                    instance_url: s.values.instance_url.clone().ok_or_else(|| {
                        CoreError::new(ErrorCode::Validation, "Real chat mode needs the ServiceNow instance URL.")
                            .with_field("instance_url", "Enter the instance URL.")
                    })?,
                    auth: s.va_auth()?,
                    retry,
                }
            }
        };
        let client = Arc::new(VaClient::new(config)?);
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(mode, (revision, Arc::clone(&client)));
        Ok(client)
    }

    fn request(
        &self,
        session: &Session,
        action: Option<Action>,
        text: &str,
        typed: bool,
    ) -> VaRequest {
        // Per request, so a changed bot id applies at once; the values need no vault read.
        let bot_id = self.core.chat_values().ok().and_then(|s| s.bot_id);
        VaRequest {
            request_id: format!("req-{}", random_hex(12)),
            action,
            now_bot_id: bot_id,
            client_session_id: session.client_session_id.clone(),
            message: OutMessage {
                text: Some(text.to_owned()),
                typed,
                client_message_id: Some(format!("msg-{}", random_hex(8))),
                attachment: None,
            },
            user_id: session.user_id.clone(),
            email_id: session.email_id.clone(),
            timestamp: Some(chat_store::now_ms() / 1000),
            ..VaRequest::default()
        }
    }

    /// Records and sends a request. A synchronous answer is applied at once; a failure after
    /// the client's retries moves the handoff (waiting/connected → fail, with a notice).
    /// Returns the notices it stored.
    async fn post(
        self: &Arc<Self>,
        session: &Session,
        live: &mut Live,
        request: VaRequest,
    ) -> CoreResult<Vec<ChatMessage>> {
        let client = self.client(session.mode)?;
        {
            let conn = self.core.db().conn();
            chat_store::record_request(
                &conn,
                session.id,
                &request.request_id,
                request.action.map(Action::as_str),
            )?;
        }
        match client.send(&request).await {
            Ok(VaReply::Accepted) => Ok(Vec::new()),
            Ok(VaReply::Messages(payload)) => {
                let inbound = Inbound {
                    session: session.client_session_id.clone(),
                    delivery_id: format!("sync:{}", request.request_id),
                    order_key: payload.timestamp_ms.unwrap_or_else(chat_store::now_ms),
                    arrival: 0,
                    late: false,
                    payload: *payload,
                };
                {
                    let conn = self.core.db().conn();
                    chat_store::add_inbound(&conn, session.id, &inbound)?;
                }
                self.apply_inbound(session, live, &inbound)
            }
            Err(e) => {
                tracing::warn!(code = e.code.as_str(), "a VA request failed after retries");
                let effects = live
                    .handoff
                    .apply(Event::SendFailed(e.message.clone()))
                    .unwrap_or_default();
                if effects.is_empty() {
                    // Nothing to fall back from (the bot has the chat): tell the caller.
                    return Err(e);
                }
                self.effects(session, live, &effects)
            }
        }
    }

    async fn escalate_locked(
        self: &Arc<Self>,
        _actor: &Actor,
        session: &Session,
        live: &mut Live,
    ) -> CoreResult<Vec<ChatMessage>> {
        // Configuration problems surface before anything changes.
        let _ = self.client(session.mode)?;
        let before = live.handoff.state;
        let effects = live
            .handoff
            .apply(Event::RequestAgent)
            .map_err(|r| refused(capitalise(r.reason)))?;
        self.left_terminal(session, live, before)?;
        live.agent = None;
        live.waiting_since = Some(now_rfc3339());
        live.wait_anchor_ms = Some(chat_store::now_ms());
        let mut out = vec![self.store_notice(
            session,
            State::Waiting,
            "waiting",
            "Connecting you to a live agent… You can keep typing; your messages go to the agent.",
        )?];
        live.notice = out[0].text.clone();
        let mut request = self.request(session, Some(Action::Agent), "Live Agent Support.", true);
        request.context_variables = self.context(session)?;
        out.extend(self.effects(session, live, &effects)?);
        out.extend(self.post(session, live, request).await?);
        Ok(out)
    }

    /// contextVariables of an escalation: the topic (the user's last question), on whose
    /// behalf, and a short transcript so the agent need not ask again.
    fn context(&self, session: &Session) -> CoreResult<BTreeMap<String, Value>> {
        let messages = {
            let conn = self.core.db().conn();
            chat_store::messages(&conn, session.id)?
        };
        let mut lines = Vec::new();
        let mut topic = None;
        for m in &messages {
            let line = match (m.direction, m.kind.as_str()) {
                (Direction::User, "text") => {
                    let t = m.body["text"].as_str().unwrap_or_default();
                    if !wants_agent(t) {
                        topic = Some(t.to_owned());
                    }
                    format!("User: {t}")
                }
                (Direction::User, "secure") => format!("User: {}", chat_store::SECURE_PLACEHOLDER),
                (Direction::User, "va_action") => {
                    format!("User: ({})", m.body["text"].as_str().unwrap_or_default())
                }
                (Direction::Bot, "bot_answer") => {
                    format!("Bot: {}", m.body["text"].as_str().unwrap_or_default())
                }
                (_, "va_payload") => {
                    let text = body_text(
                        m.body["body"]
                            .as_array()
                            .map(Vec::as_slice)
                            .unwrap_or_default(),
                    )
                    .join(" ");
                    if text.is_empty() {
                        continue;
                    }
                    format!("VA: {text}")
                }
                _ => continue,
            };
            lines.push(line);
        }
        let start = lines.len().saturating_sub(TRANSCRIPT_LINES);
        let mut transcript = lines[start..].join("\n");
        if transcript.chars().count() > TRANSCRIPT_CHARS {
            let skip = transcript.chars().count() - TRANSCRIPT_CHARS;
            transcript = format!("…{}", transcript.chars().skip(skip).collect::<String>());
        }
        let topic: String = topic
            .unwrap_or_else(|| "General support".into())
            .chars()
            .take(100)
            .collect();
        let on_behalf = session
            .email_id
            .clone()
            .unwrap_or_else(|| session.user_id.clone());
        Ok(BTreeMap::from([
            ("request_topic".to_owned(), json!(topic)),
            ("request_on_behalf_of".to_owned(), json!(on_behalf)),
            ("request_transcript".to_owned(), json!(transcript)),
        ]))
    }

    /// Carries out the bookkeeping effects (timers, notices, the keep-waiting question),
    /// persists the state and publishes it. The caller sends what must be sent.
    fn effects(
        self: &Arc<Self>,
        session: &Session,
        live: &mut Live,
        effects: &[Effect],
    ) -> CoreResult<Vec<ChatMessage>> {
        let mut out = Vec::new();
        for effect in effects {
            match effect {
                Effect::StartWaitTimer => {
                    if live.wait_anchor_ms.is_none()
                        || live.handoff.state == State::Waiting && live.waiting_since.is_none()
                    {
                        live.waiting_since = Some(now_rfc3339());
                        live.wait_anchor_ms = Some(chat_store::now_ms());
                    }
                    let timeout = self.wait_timeout()?;
                    self.start_timer(session, live, timeout);
                }
                Effect::StopWaitTimer => {
                    live.timer_generation += 1;
                    if let Some(t) = live.timer.take() {
                        t.abort();
                    }
                }
                Effect::AskKeepWaiting => {
                    let waited = live
                        .wait_anchor_ms
                        .map(|a| ((chat_store::now_ms() - a).max(0) / 1000) as u64)
                        .unwrap_or_default();
                    self.emit(ChatEvent::WaitTimeout {
                        session_id: session.id.to_string(),
                        waited_s: waited,
                    });
                }
                Effect::Show(notice) => {
                    if let Notice::AgentJoined = notice {
                        live.waiting_since = None;
                    }
                    let text = notice.text(live.agent.as_ref().and_then(|a| a.name.as_deref()));
                    let m = self.store_notice(session, live.handoff.state, notice.kind(), &text)?;
                    live.notice = Some(text);
                    out.push(m);
                }
                _ => {}
            }
        }
        if live.handoff.state != State::Waiting {
            live.waiting_since = None;
            live.wait_anchor_ms = None;
        }
        self.persist(session, live)?;
        self.emit_state(session, live);
        Ok(out)
    }

    fn start_timer(self: &Arc<Self>, session: &Session, live: &mut Live, after: Duration) {
        live.timer_generation += 1;
        if let Some(t) = live.timer.take() {
            t.abort();
        }
        let generation = live.timer_generation;
        let inner = Arc::clone(self);
        let session = session.clone();
        live.timer = Some(tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let Ok(handle) = inner.live(&session) else {
                return;
            };
            let mut live = handle.lock().await;
            if live.timer_generation != generation {
                return;
            }
            live.timer = None;
            if let Ok(effects) = live.handoff.apply(Event::WaitTimedOut) {
                if let Err(e) = inner.effects(&session, &mut live, &effects) {
                    tracing::warn!(code = e.code.as_str(), "wait timeout bookkeeping failed");
                }
            }
        }));
    }

    /// Hands a delivery to its session's ordered worker.
    fn dispatch(self: &Arc<Self>, inbound: Inbound) {
        let session = {
            let conn = self.core.db().conn();
            chat_store::session_by_client_id(&conn, &inbound.session)
                .ok()
                .flatten()
        };
        let Some(session) = session else { return };
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        let sender = workers.entry(session.id).or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<Inbound>();
            let inner = Arc::clone(self);
            let session = session.clone();
            tokio::spawn(async move {
                while let Some(inbound) = rx.recv().await {
                    let Ok(handle) = inner.live(&session) else {
                        continue;
                    };
                    let mut live = handle.lock().await;
                    // The row may have changed (state, agent) since the worker started.
                    let current = {
                        let conn = inner.core.db().conn();
                        chat_store::session(&conn, session.id).ok().flatten()
                    };
                    let current = current.unwrap_or_else(|| session.clone());
                    if let Err(e) = inner.apply_inbound(&current, &mut live, &inbound) {
                        tracing::warn!(code = e.code.as_str(), "applying a VA payload failed");
                    }
                }
            });
            tx
        });
        let _ = sender.send(inbound);
    }

    /// A stored payload: publish it (and typing), then move the handoff.
    fn apply_inbound(
        self: &Arc<Self>,
        session: &Session,
        live: &mut Live,
        inbound: &Inbound,
    ) -> CoreResult<Vec<ChatMessage>> {
        let payload = &inbound.payload;
        let before = (live.handoff.state, live.agent.clone());
        for item in &payload.body {
            if let Some(info) = &item.agent_info {
                if info.agent_name.as_deref().is_some_and(|n| !n.is_empty()) {
                    live.agent = Some(AgentInfo {
                        name: info.agent_name.clone(),
                        avatar: info.agent_avatar.clone().filter(|a| !a.is_empty()),
                    });
                }
            }
        }
        for a in payload.actions() {
            let on = match a.action {
                ActionKind::StartTypingIndicator => true,
                ActionKind::EndTypingIndicator => false,
                _ => continue,
            };
            self.emit(ChatEvent::Typing {
                session_id: session.id.to_string(),
                on,
            });
        }
        let stored = {
            let conn = self.core.db().conn();
            let id: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
                "SELECT id FROM chat_messages WHERE session_id = ?1 AND delivery_id = ?2",
                rusqlite::params![session.id, inbound.delivery_id],
                |r| r.get(0),
            ))?;
            match id {
                Some(id) => Some(self.message_by_id(&conn, id)?),
                None => None,
            }
        };
        if let Some(m) =
            stored.filter(|m| !(typing_only(&m.body) || m.body.is_empty() && m.text.is_none()))
        {
            self.emit_message(session, &m);
        }
        let mut signal = Signal::of(payload);
        if signal != Signal::Message
            && !live.handoff.state.is_terminal()
            && self.answers_an_ended_handoff(live, payload)?
        {
            // A late reply of a handoff that ended before the user moved on (the agent's
            // greeting still on its way, the VA's "completed" answer to END_CONVERSATION): it
            // is shown, but must not end or reconnect the conversation that started since.
            signal = Signal::Message;
        }
        let effects = live
            .handoff
            .apply(Event::Inbound(signal))
            .unwrap_or_default();
        if effects.is_empty() && before == (live.handoff.state, live.agent.clone()) {
            return Ok(Vec::new());
        }
        self.effects(session, live, &effects)
    }

    /// Whether a payload answers a request sent before the current conversation left a
    /// finished handoff (`Live::ended_requests_upto`).
    fn answers_an_ended_handoff(
        &self,
        live: &Live,
        payload: &super::va::model::VaPayload,
    ) -> CoreResult<bool> {
        let (Some(upto), Some(request_id)) =
            (live.ended_requests_upto, payload.request_id.as_deref())
        else {
            return Ok(false);
        };
        let conn = self.core.db().conn();
        let rowid: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT rowid FROM chat_requests WHERE request_id = ?1",
            [request_id],
            |r| r.get(0),
        ))?;
        Ok(rowid.is_some_and(|r| r <= upto))
    }

    /// After a user's event: leaving a finished handoff (completed, fail, cancelled) starts a
    /// new conversation, and every request sent so far belongs to the old one.
    fn left_terminal(&self, session: &Session, live: &mut Live, before: State) -> CoreResult<()> {
        if before.is_terminal() && !live.handoff.state.is_terminal() {
            let conn = self.core.db().conn();
            live.ended_requests_upto = Some(conn.query_row(
                "SELECT COALESCE(MAX(rowid), 0) FROM chat_requests WHERE session_id = ?1",
                [session.id],
                |r| r.get(0),
            )?);
        }
        Ok(())
    }

    /// Answers with the knowledge-base bot on a blocking thread; a failure becomes a notice.
    async fn answer(
        &self,
        actor: &Actor,
        session: &Session,
        text: &str,
    ) -> CoreResult<ChatMessage> {
        let core = Arc::clone(&self.core);
        let actor = actor.clone();
        let question = text.to_owned();
        let answered = tokio::task::spawn_blocking(move || bot::answer(&core, &actor, &question))
            .await
            .map_err(|e| CoreError::internal(format!("the bot stopped: {e}")))?;
        let conn = self.core.db().conn();
        let id = match answered {
            Ok(answer) => {
                let body = serde_json::to_value(&answer)
                    .map_err(|e| CoreError::internal(e.to_string()))?;
                chat_store::add_local(&conn, session.id, Direction::Bot, "bot_answer", &body)?
            }
            Err(e) => {
                tracing::warn!(
                    code = e.code.as_str(),
                    "the knowledge-base bot could not answer"
                );
                chat_store::add_local(
                    &conn,
                    session.id,
                    Direction::System,
                    "notice",
                    &json!({"kind": "bot_error", "state": State::Active, "text": format!("The knowledge base could not answer: {} Type \"agent\" to talk to a human.", e.message)}),
                )?
            }
        };
        let m = self.message_by_id(&conn, id)?;
        drop(conn);
        self.emit_message(session, &m);
        Ok(m)
    }

    fn store_user(
        &self,
        session: &Session,
        text: &str,
        request_id: Option<&str>,
    ) -> CoreResult<ChatMessage> {
        let m = {
            let conn = self.core.db().conn();
            let id = chat_store::add_user_message(
                &conn,
                session.id,
                &UserMessage {
                    text: Some(text.to_owned()),
                    secure: false,
                    attachment: None,
                    request_id: request_id.map(str::to_owned),
                },
            )?;
            self.message_by_id(&conn, id)?
        };
        self.emit_message(session, &m);
        Ok(m)
    }

    fn store_notice(
        &self,
        session: &Session,
        state: State,
        kind: &str,
        text: &str,
    ) -> CoreResult<ChatMessage> {
        self.store_local(
            session,
            Direction::System,
            "notice",
            &json!({"kind": kind, "state": state, "text": text}),
        )
    }

    /// Stores an app-made transcript line (a notice, the user's attachment or Virtual Agent
    /// action) and publishes it.
    fn store_local(
        &self,
        session: &Session,
        direction: Direction,
        kind: &str,
        body: &Value,
    ) -> CoreResult<ChatMessage> {
        let m = {
            let conn = self.core.db().conn();
            let id = chat_store::add_local(&conn, session.id, direction, kind, body)?;
            self.message_by_id(&conn, id)?
        };
        self.emit_message(session, &m);
        Ok(m)
    }

    fn persist(&self, session: &Session, live: &Live) -> CoreResult<()> {
        let conn = self.core.db().conn();
        chat_store::set_state(
            &conn,
            session.id,
            live.handoff.state,
            live.agent.as_ref().and_then(|a| a.name.as_deref()),
            live.handoff.agent_in_control,
        )
    }

    fn emit(&self, event: ChatEvent) {
        // No receiver is not an error: nobody is looking.
        let _ = self.events.send(event);
    }

    fn emit_message(&self, session: &Session, m: &ChatMessage) {
        self.emit(ChatEvent::Message {
            session_id: session.id.to_string(),
            message: Box::new(m.clone()),
        });
    }

    fn emit_state(&self, session: &Session, live: &Live) {
        self.emit(ChatEvent::State {
            session_id: session.id.to_string(),
            state: live.handoff.state,
            notice: live.notice.clone(),
            agent: live.agent.clone(),
        });
    }

    fn message_by_id(&self, conn: &rusqlite::Connection, id: i64) -> CoreResult<ChatMessage> {
        let session_id: i64 = conn.query_row(
            "SELECT session_id FROM chat_messages WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        chat_store::messages(conn, session_id)?
            .iter()
            .rev()
            .find(|m| m.id == id)
            .and_then(to_chat_message)
            .ok_or_else(|| CoreError::internal("a stored chat message vanished"))
    }

    /// The session as the UI shows it.
    async fn view(self: &Arc<Self>, id: i64) -> CoreResult<ChatSession> {
        let (session, messages) = {
            let conn = self.core.db().conn();
            let session = chat_store::session(&conn, id)?
                .ok_or_else(|| CoreError::not_found("chat session", &id.to_string()))?;
            let messages = chat_store::messages(&conn, id)?;
            (session, messages)
        };
        let handle = self.live(&session)?;
        let live = handle.lock().await;
        Ok(ChatSession {
            id: session.id.to_string(),
            mode: session.mode,
            state: live.handoff.state,
            started_at: session.created_at.clone(),
            updated_at: session.updated_at.clone(),
            agent: live.agent.clone(),
            waiting_since: if live.handoff.state == State::Waiting {
                live.waiting_since.clone()
            } else {
                None
            },
            notice: live.notice.clone(),
            messages: messages.iter().filter_map(to_chat_message).collect(),
        })
    }
}

/// A stored row as the UI contract's message; `None` for rows that are not shown (payloads of
/// typing indicators only, which are events).
pub fn to_chat_message(m: &chat_store::Message) -> Option<ChatMessage> {
    let mut out = ChatMessage {
        id: m.id,
        session_id: m.session_id.to_string(),
        seq: m.order_key,
        at: m.created_at.clone(),
        from: m.direction,
        text: None,
        answer: None,
        body: Vec::new(),
        agent: None,
        live_agent: false,
        feedback: m.helpful.map(|h| {
            if h {
                Feedback::Helpful
            } else {
                Feedback::NotHelpful
            }
        }),
        attachment: None,
    };
    match m.kind.as_str() {
        "bot_answer" => {
            let answer: Option<BotAnswer> = serde_json::from_value(m.body.clone()).ok();
            out.text = answer
                .as_ref()
                .map(|a| a.text.clone())
                .or_else(|| m.body["text"].as_str().map(str::to_owned));
            out.answer = answer;
        }
        "va_payload" => {
            let raw = m.body["body"].as_array().cloned().unwrap_or_default();
            if typing_only(&raw) {
                return None;
            }
            out.body = sanitize_body(&raw);
            // Contract: VA bot and live agent both show as "agent"; `live_agent` tells them apart.
            out.live_agent = m.direction == Direction::Agent;
            out.from = Direction::Agent;
            let name = m.body["agentName"].as_str().map(str::to_owned);
            let avatar = raw
                .iter()
                .find_map(|e| {
                    e["agentInfo"]["agentAvatar"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                })
                .map(str::to_owned);
            if name.is_some() || avatar.is_some() {
                out.agent = Some(AgentInfo { name, avatar });
            }
            if let Some(error) = m.body["errorMessage"].as_str() {
                out.text = Some(error.to_owned());
            }
        }
        "attachment" => {
            out.text = m.body["text"].as_str().map(str::to_owned);
            let a = &m.body["attachment"];
            out.attachment = Some(ChatAttachment {
                file_name: a["file_name"]
                    .as_str()
                    .or(a["fileName"].as_str())
                    .unwrap_or("attachment")
                    .to_owned(),
                content_type: a["content_type"]
                    .as_str()
                    .or(a["contentType"].as_str())
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                size: a["size"].as_u64().unwrap_or(0),
            });
        }
        _ => {
            out.text = m.body["text"].as_str().map(str::to_owned);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalation_words() {
        for yes in [
            "agent",
            "/agent",
            "Human",
            " talk to a human ",
            "TALK TO A HUMAN!",
            "Agent.",
        ] {
            assert!(wants_agent(yes), "{yes}");
        }
        for no in [
            "agents are slow",
            "my agent crashed",
            "humane",
            "",
            "talk to a human please",
        ] {
            assert!(!wants_agent(no), "{no}");
        }
    }

    #[test]
    fn events_serialize_as_the_ui_contract_says() {
        let e = ChatEvent::State {
            session_id: "1".into(),
            state: State::Waiting,
            notice: None,
            agent: None,
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"type": "state", "session_id": "1", "state": "waiting", "notice": null, "agent": null})
        );
        let e = ChatEvent::WaitTimeout {
            session_id: "1".into(),
            waited_s: 3,
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["type"], "wait_timeout");
        let reply: ChatReply =
            serde_json::from_value(json!({"value": "1", "label": "Yes", "typed": false})).unwrap();
        assert!(!reply.secure);
    }

    #[test]
    fn rows_become_contract_messages() {
        let row = chat_store::Message {
            id: 7,
            session_id: 2,
            direction: Direction::Bot,
            kind: "va_payload".into(),
            body: json!({"body": [{"uiType": "OutputHtml", "value": "<b>x</b><script>1</script>", "agentInfo": {"agentName": "Beth", "agentAvatar": "https://a/b.png"}}], "agentName": "Beth"}),
            order_key: 1000,
            request_id: None,
            delivery_id: Some("d".into()),
            created_at: "2024-01-01T00:00:00Z".into(),
            helpful: None,
        };
        let m = to_chat_message(&row).unwrap();
        assert_eq!(m.from, Direction::Agent);
        assert_eq!(m.body[0]["value"], "<b>x</b>");
        assert_eq!(m.agent.unwrap().avatar.as_deref(), Some("https://a/b.png"));
        assert_eq!(m.session_id, "2");
        assert_eq!(m.seq, 1000);
        let typing = chat_store::Message {
            body: json!({"body": [{"uiType": "ActionMsg", "actionType": "StartTypingIndicator"}]}),
            ..row
        };
        assert!(to_chat_message(&typing).is_none());
    }
}
