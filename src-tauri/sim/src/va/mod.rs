//! The Virtual Agent Bot Integration API (`POST /api/sn_va_as_service/bot/integration`), the
//! simulated live agent, and delivery of replies to the bot's webhook.
//!
//! Requests are validated and acknowledged with `{"status":"success"}`; the replies are then
//! POSTed to the configured webhook with the configured Bearer secret, in the shapes of the VA
//! API reference and the LiveChat handoff spec. Conversation state changes when the request
//! arrives; only delivery is deferred. Each conversation has one delivery queue, so its replies
//! leave in order unless the `out_of_order` knob says otherwise.
//!
//! Rooms: `endpoint` (authentication and the request handler), `script` (what the Virtual
//! Agent and the live agent answer), `delivery` (the per-conversation queue and the webhook
//! POSTs); here the knobs, the shared state and the control endpoints.

mod delivery;
mod endpoint;
mod script;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::control::error;
use crate::server::AppState;
use crate::SimError;

pub use endpoint::routes;

/// Scenario knobs, settable with `PUT /sim/va` (fields omitted keep their value).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VaConfig {
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    /// `async` (acknowledge, then POST to the webhook) or `sync` (answer in the response).
    pub mode: Mode,
    /// Off: an agent request fails with "No agents are available to chat".
    pub agents_available: bool,
    /// Off: the user waits behind the spinner forever.
    pub agent_joins: bool,
    /// The agent takes control of the conversation right after joining.
    pub agent_takes_control: bool,
    /// The agent closes the chat after this many answers (0: only when the user leaves).
    pub agent_replies_before_end: u32,
    pub agent_name: String,
    /// Shown in the StartSpinner `waitTime`.
    pub wait_time_secs: u32,
    /// Pause between deferred steps (agent joining, typing, answering).
    pub step_delay_ms: u64,
    /// Deliveries are retried this many times after a failed attempt (non-2xx or unreachable).
    pub max_retries: u32,
    pub retry_delay_ms: u64,
    /// Every payload is delivered twice.
    pub duplicate_deliveries: bool,
    /// The payloads produced by one request are delivered in reverse order.
    pub out_of_order: bool,
    /// Send the product documents' shapes: text in `message` only (the LiveChat handoff spec),
    /// picker options all `enabled: false` (bot-to-bot, the VA reference), `clientVariables`.
    pub documents_shapes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Async,
    Sync,
}

impl Default for VaConfig {
    fn default() -> Self {
        VaConfig {
            webhook_url: None,
            webhook_secret: None,
            mode: Mode::Async,
            agents_available: true,
            agent_joins: true,
            agent_takes_control: false,
            agent_replies_before_end: 3,
            agent_name: "Beth Anglin".into(),
            wait_time_secs: 8,
            step_delay_ms: 300,
            max_retries: 3,
            retry_delay_ms: 200,
            duplicate_deliveries: false,
            out_of_order: false,
            documents_shapes: false,
        }
    }
}

/// Where a conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    Bot,
    Waiting,
    Agent,
    Ended,
}

struct Conversation {
    phase: Phase,
    agent_replies: u32,
    /// The last `timestamp` given to a reply: replies are stamped strictly increasing, as an
    /// instance's message records are, so a client can restore their order.
    last_stamp: i64,
    queue: mpsc::UnboundedSender<Vec<Step>>,
}

/// One reply, sent after `delay`.
struct Step {
    delay: Duration,
    payload: Value,
}

/// One delivery attempt, as `GET /sim/va/deliveries` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub request_id: String,
    pub client_session_id: String,
    pub attempt: u32,
    pub outcome: String,
    pub delivered: bool,
    pub at: String,
}

/// One accepted request as `GET /sim/va/requests` lists it, so a client's tests can check what
/// went over the wire (the action, `typed`, the intent), which the replies do not all echo.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub request_id: String,
    pub client_session_id: String,
    /// `action`, empty for an utterance.
    pub action: String,
    /// `message.typed`, when given.
    pub typed: Option<bool>,
    /// `message.text`, when given.
    pub text: Option<String>,
    /// `intent.id`, when given.
    pub intent: Option<String>,
    /// `contextVariables`, when given (an AGENT request's context for the agent).
    pub context_variables: Option<Value>,
    pub at: String,
}

/// VA state shared by the handlers.
pub struct Va {
    config: Mutex<VaConfig>,
    conversations: Mutex<HashMap<String, Conversation>>,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    received: Mutex<Vec<Received>>,
    http: reqwest::Client,
}

impl Va {
    pub fn new(webhook_url: Option<String>, webhook_secret: Option<String>, _seed: u64) -> Va {
        let http = reqwest::Client::builder()
            // The real instance gives the webhook 5 s to accept the connection.
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Va {
            config: Mutex::new(VaConfig {
                webhook_url,
                webhook_secret,
                ..VaConfig::default()
            }),
            conversations: Mutex::new(HashMap::new()),
            deliveries: Arc::new(Mutex::new(Vec::new())),
            received: Mutex::new(Vec::new()),
            http,
        }
    }

    fn config(&self) -> VaConfig {
        self.config.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

pub fn validate_webhook(url: &str) -> Result<(), SimError> {
    let bad = |reason: &str| SimError::Webhook {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("scheme must be http or https"));
    }
    Ok(())
}

pub async fn get_config(State(state): State<Arc<AppState>>) -> Response {
    let mut config = serde_json::to_value(state.va.config()).unwrap_or_default();
    // Never echo the secret; say whether one is set.
    let set = config["webhook_secret"].is_string();
    config["webhook_secret"] = if set { json!("***") } else { Value::Null };
    Json(config).into_response()
}

/// `PUT /sim/va`: merge the given knobs into the configuration.
pub async fn put_config(State(state): State<Arc<AppState>>, Json(patch): Json<Value>) -> Response {
    let Some(patch) = patch.as_object().cloned() else {
        return error(StatusCode::BAD_REQUEST, "expected a JSON object");
    };
    let current = state.va.config();
    let mut merged = serde_json::to_value(&current).unwrap_or_default();
    if let Some(object) = merged.as_object_mut() {
        object.extend(patch);
    }
    let config: VaConfig = match serde_json::from_value(merged) {
        Ok(config) => config,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    if let Some(url) = &config.webhook_url {
        if let Err(e) = validate_webhook(url) {
            return error(StatusCode::BAD_REQUEST, e);
        }
    }
    if let Ok(mut slot) = state.va.config.lock() {
        *slot = config;
    }
    get_config(State(state)).await
}

pub async fn deliveries(State(state): State<Arc<AppState>>) -> Response {
    let log = state
        .va
        .deliveries
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    Json(json!({"result": log})).into_response()
}

pub async fn clear_deliveries(State(state): State<Arc<AppState>>) -> StatusCode {
    if let Ok(mut log) = state.va.deliveries.lock() {
        log.clear();
    }
    StatusCode::NO_CONTENT
}

pub async fn requests(State(state): State<Arc<AppState>>) -> Response {
    let list = state
        .va
        .received
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    Json(json!({"result": list})).into_response()
}

pub async fn conversations(State(state): State<Arc<AppState>>) -> Response {
    let list: Vec<Value> = state
        .va
        .conversations
        .lock()
        .map(|c| c.iter().map(|(key, c)| json!({"conversation": key, "phase": c.phase, "agent_replies": c.agent_replies})).collect())
        .unwrap_or_default();
    Json(json!({"result": list})).into_response()
}
