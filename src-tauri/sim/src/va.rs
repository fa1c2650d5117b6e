//! The Virtual Agent Bot Integration API (`POST /api/sn_va_as_service/bot/integration`), the
//! simulated live agent, and delivery of replies to the bot's webhook.
//!
//! Requests are validated and acknowledged with `{"status":"success"}`; the replies are then
//! POSTed to the configured webhook with the configured Bearer secret, in the shapes of the VA
//! API reference and the LiveChat handoff spec. Conversation state changes when the request
//! arrives; only delivery is deferred. Each conversation has one delivery queue, so its replies
//! leave in order unless the `out_of_order` knob says otherwise.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha1::Sha1;
use tokio::sync::mpsc;

use crate::auth::{credentials, secret_eq, Credentials, VA_TOKEN};
use crate::control::error;
use crate::oauth::authenticate;
use crate::server::AppState;
use crate::tz::{format_sn, now_utc};
use crate::SimError;

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

/// The delivery worker of one conversation.
fn spawn_queue(state: &Arc<AppState>, key: String) -> mpsc::UnboundedSender<Vec<Step>> {
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

fn log(
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

const GREETING: &str = "Hi, I'm your Virtual Agent. Let me know how I can help you today.";
const ENDED: &str = "The conversation has ended. If you need help again, type hi.";

fn output(text: &str) -> Value {
    json!({"uiType": "OutputText", "group": "DefaultText", "value": text, "maskType": "NONE"})
}

fn action(action_type: &str, message: &str) -> Value {
    json!({"uiType": "ActionMsg", "actionType": action_type, "message": message})
}

fn topic_picker() -> Value {
    json!({
        "uiType": "TopicPickerControl", "group": "DefaultPicker", "nluTextEnabled": false,
        "promptMsg": "Hi guest, please enter your request or make a selection of what I can help with. You can type help any time when you need help.",
        "label": "Show me everything",
        "options": [
            {"label": "Report an IT issue", "value": "2bb7bd7670de6010f877c7f188266fc7", "enabled": true},
            {"label": "Reset my password", "value": "3cc8ce8781ef7121a988d8f299377ad8", "enabled": true},
            {"label": "Live Agent Support.", "value": "ce2ee85053130010cf8cddeeff7b12bf", "enabled": true}
        ]
    })
}

fn agent_text(config: &VaConfig, text: &str) -> Value {
    json!({
        "uiType": "OutputText", "group": "DefaultText", "value": text, "maskType": "NONE",
        "agentInfo": {"agentName": config.agent_name, "agentAvatar": "", "sentFromAgent": true}
    })
}

/// What the live agent answers, referring to what the user wrote.
fn agent_answer(user_text: &str) -> String {
    let lower = user_text.to_lowercase();
    let advice = if lower.contains("vpn") {
        "Please disconnect the VPN client, clear its saved credentials and sign in again; if it still drops, I will push a fresh profile to your laptop."
    } else if lower.contains("outlook") || lower.contains("mail") {
        "Please close Outlook, start it with a new profile, and let it resync; your mail is safe on the server."
    } else if lower.contains("print") {
        "I have cleared the print queue on the server; please resend the job and tell me if it comes out."
    } else if lower.contains("password") || lower.contains("locked") {
        "I have unlocked your account; please set a new password at the self-service portal now."
    } else {
        "Let me check our knowledge base and your recent incidents; one moment please."
    };
    format!("You wrote: \"{}\". {advice}", user_text.trim())
}

/// Produces the replies to one request and moves the conversation on.
fn respond(config: &VaConfig, conversation: &mut Conversation, request: &Value) -> Vec<Step> {
    let echo = |body: Vec<Value>| -> Value {
        let mut payload = json!({
            "requestId": request["requestId"].clone(),
            "clientSessionId": request.get("clientSessionId").cloned().unwrap_or(json!("")),
            "nowSessionId": request.get("nowSessionId").cloned().unwrap_or(json!("")),
            "message": request["message"].clone(),
            "userId": request["userId"].clone(),
            "body": body,
            "score": 1,
        });
        if let Some(variables) = request.get("clientVariables") {
            payload["clientVariables"] = variables.clone();
        }
        payload
    };
    let now = |payload: Value| Step {
        delay: Duration::ZERO,
        payload,
    };
    let later = |payload: Value| Step {
        delay: Duration::from_millis(config.step_delay_ms),
        payload,
    };
    let with = |mut payload: Value, fields: Value| {
        if let (Some(p), Some(f)) = (payload.as_object_mut(), fields.as_object()) {
            p.extend(f.clone());
        }
        payload
    };

    let action_name = request["action"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let text = request
        .pointer("/message/text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let utterance = text.trim().to_lowercase();
    let attachment = request
        .pointer("/message/attachment")
        .filter(|a| a.is_object());

    if action_name == "END_CONVERSATION" {
        let was_agent = conversation.phase == Phase::Agent;
        conversation.phase = Phase::Ended;
        let mut payload = with(echo(vec![output(ENDED)]), json!({"status": "completed"}));
        if was_agent {
            payload["completed"] = json!(true);
        }
        return vec![now(payload)];
    }
    if matches!(
        action_name.as_str(),
        "TYPING" | "SET_USER_TIMEZONE" | "FAULT_CONVERSATION"
    ) {
        return Vec::new();
    }

    if conversation.phase == Phase::Agent {
        if let Some(file) = attachment {
            let name = file["fileName"].as_str().unwrap_or("your file");
            return vec![now(with(
                echo(vec![agent_text(
                    config,
                    &format!("Thanks, I received {name}."),
                )]),
                json!({"agentChat": true, "status": "connected"}),
            ))];
        }
        if matches!(
            utterance.as_str(),
            "bye" | "goodbye" | "thanks, bye" | "chao" | "choa"
        ) {
            conversation.phase = Phase::Ended;
            return vec![now(completed(echo(vec![])))];
        }
        conversation.agent_replies += 1;
        let mut steps = vec![
            later(with(
                echo(vec![action("StartTypingIndicator", "")]),
                json!({"agentChat": true, "status": "connected"}),
            )),
            later(with(
                echo(vec![
                    action("EndTypingIndicator", ""),
                    agent_text(config, &agent_answer(&text)),
                ]),
                json!({"agentChat": true, "status": "connected"}),
            )),
        ];
        if config.agent_replies_before_end > 0
            && conversation.agent_replies >= config.agent_replies_before_end
        {
            conversation.phase = Phase::Ended;
            steps.push(later(completed(echo(vec![agent_text(config, "I hope that solved it. I am closing this chat now; type hi if you need anything else.")]))));
        }
        return steps;
    }
    if conversation.phase == Phase::Waiting && action_name.is_empty() && attachment.is_none() {
        // The user types while waiting: the queue position is all the bot can say.
        return vec![now(with(
            echo(vec![action(
                "StartSpinner",
                "You are still in the queue for a live agent.",
            )]),
            json!({"status": "waiting"}),
        ))];
    }

    if let Some(file) = attachment {
        let name = file["fileName"].as_str().unwrap_or("file");
        conversation.phase = Phase::Ended;
        let label = |text: &str| json!({"uiType": "OutputText", "group": "DefaultText", "required": false, "nluTextEnabled": false, "label": text, "maskType": "NONE", "itemType": "outputtext"});
        let mut payload = echo(vec![label(&format!("File got: {name}")), label(ENDED)]);
        payload["completed"] = json!(true);
        return vec![now(payload)];
    }
    if action_name == "SWITCH" {
        let topic = request
            .pointer("/intent/id")
            .and_then(Value::as_str)
            .unwrap_or("unknown topic");
        conversation.phase = Phase::Bot;
        return vec![now(echo(vec![
            json!({"uiType": "InputText", "group": "DefaultText", "required": true, "nluTextEnabled": false, "label": format!("{topic} input:"), "maskType": "NONE"}),
        ]))];
    }
    let wants_agent = action_name == "AGENT"
        || matches!(
            utterance.as_str(),
            "agent"
                | "live agent"
                | "talk to an agent"
                | "live agent support."
                | "live agent support"
        );
    if wants_agent {
        if !config.agents_available {
            conversation.phase = Phase::Bot;
            let body = vec![
                json!({"uiType": "OutputText", "group": "DefaultText", "value": "We're sorry, but all agents are currently busy. Please try again later.", "message": "We're sorry, but all agents are currently busy. Please try again later.", "maskType": "NONE"}),
            ];
            return vec![now(with(
                echo(body),
                json!({"status": "fail", "error_message": "No agents are available to chat"}),
            ))];
        }
        conversation.phase = Phase::Waiting;
        let spinner = json!({"uiType": "ActionMsg", "actionType": "StartSpinner", "spinnerType": "wait_time", "message": "Routing you to a live agent...", "waitTime": format!("{} Seconds", config.wait_time_secs)});
        let mut steps = vec![now(with(
            echo(vec![
                output("Please stand by while I connect you to a live agent."),
                spinner,
            ]),
            json!({"status": "waiting"}),
        ))];
        if config.agent_joins {
            conversation.phase = Phase::Agent;
            let first_name = config
                .agent_name
                .split(' ')
                .next()
                .unwrap_or("your agent")
                .to_owned();
            let topic = request
                .pointer("/contextVariables/request_topic")
                .and_then(Value::as_str);
            let greeting = match (topic, text.trim()) {
                (Some(topic), _) => format!(
                    "Hi, this is {first_name}. I see you need help with {topic}. How can I help?"
                ),
                (None, t) if !t.is_empty() && !wants_agent_text(t) => {
                    format!("Hi, this is {first_name}. You wrote \"{t}\"; let me take a look.")
                }
                _ => format!("Hi, this is {first_name}. How can I help you today?"),
            };
            let joined = json!({"agentChat": true, "status": "connected"});
            steps.push(later(with(
                echo(vec![
                    action(
                        "SwitchToLiveAgent",
                        &format!("{} has joined the chat.", config.agent_name),
                    ),
                    action(
                        "System",
                        &format!("{} has entered the conversation.", config.agent_name),
                    ),
                ]),
                joined.clone(),
            )));
            steps.push(later(with(
                echo(vec![action("StartTypingIndicator", "")]),
                joined.clone(),
            )));
            steps.push(later(with(
                echo(vec![
                    action("EndTypingIndicator", ""),
                    agent_text(config, &greeting),
                ]),
                joined,
            )));
            if config.agent_takes_control {
                steps.push(later(with(
                    echo(vec![action(
                        "AgentControl",
                        "Agent has taken control of the conversation",
                    )]),
                    json!({"agentChat": true, "takeControl": true, "status": "connected"}),
                )));
            }
        }
        return steps;
    }
    if action_name == "START_CONVERSATION"
        || matches!(
            utterance.as_str(),
            "hi" | "hello" | "hola" | "hallo" | "bonjour"
        )
    {
        conversation.phase = Phase::Bot;
        return vec![now(echo(vec![output(GREETING), topic_picker()]))];
    }
    if matches!(utterance.as_str(), "bye" | "goodbye" | "chao" | "choa") {
        let options = json!([
            {"label": "End conversation", "value": "1", "renderStyle": "data", "enabled": false},
            {"label": "Cancel", "value": "0", "renderStyle": "data", "enabled": false}
        ]);
        return vec![now(echo(vec![
            json!({"uiType": "Picker", "group": "DefaultPicker", "required": true, "nluTextEnabled": false, "label": "Please make a selection.", "itemType": "List", "style": "list", "multiSelect": false, "options": options, "scriptedData": null}),
        ]))];
    }
    if utterance == "1" || utterance == "end conversation" {
        conversation.phase = Phase::Ended;
        return vec![now(echo(vec![output(ENDED)]))];
    }
    let mut payload = echo(vec![
        output("I am sorry but I didn't understand your request."),
        output("Please try giving me your request in a different way. I'm currently better at understanding short sentences."),
        topic_picker(),
    ]);
    payload["score"] = json!(0);
    vec![now(payload)]
}

fn wants_agent_text(text: &str) -> bool {
    matches!(
        text.to_lowercase().as_str(),
        "agent" | "live agent" | "talk to an agent" | "live agent support." | "live agent support"
    )
}

fn completed(mut payload: Value) -> Value {
    let body = payload["body"]
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut all = body;
    all.push(action("EndConversation", "The conversation has ended"));
    all.push(action("SwitchToVirtualAgent", ""));
    all.push(output(ENDED));
    payload["body"] = Value::Array(all);
    payload["completed"] = json!(true);
    payload["agentChat"] = json!(false);
    payload["status"] = json!("completed");
    payload
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
