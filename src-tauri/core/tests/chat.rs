//! The chat protocol over real HTTP: the VA client against the simulator's Virtual Agent, whose
//! replies reach the app's webhook, are stored, and drive the handoff state machine. Every
//! scenario knob of `PUT /sim/va` is exercised, in async and sync mode, plus the webhook's own
//! refusals.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rusqlite::Connection;
use secrecy::SecretString;
use serde_json::{json, Value};
use supportbot_core::chat::handoff::{Effect, Event, Handoff, Notice, Signal, State};
use supportbot_core::chat::store::{self as chat_store, Mode, Session, StoreSink, UserMessage};
use supportbot_core::chat::va::model::{Action, Attachment, Element, OutMessage, VaRequest};
use supportbot_core::chat::va::{VaAuth, VaClient, VaClientConfig, VaReply};
use supportbot_core::chat::webhook::{
    Accepted, ConversationSink, Inbound, WebhookConfig, WebhookServer, WEBHOOK_PATH,
};
use supportbot_core::connectors::RetryPolicy;
use supportbot_core::store::{open_connection, Db};
use supportbot_core::ErrorCode;
use supportbot_sim::{RunningSim, SimConfig};
use tokio::sync::mpsc;

mod common;
use common::{dir_contains, sim_get, sim_post, sim_put, sim_request};

const SECRET: &str = "chat-test-webhook-secret";
const VA_TOKEN: &str = "demo-va-token";

/// A sink that fails the first `fail_first` accepts (500 to the VA), then stores.
struct FlakySink {
    inner: Arc<StoreSink>,
    fail_first: AtomicU32,
}

impl ConversationSink for FlakySink {
    fn session_for(&self, p: &supportbot_core::chat::va::VaPayload) -> Option<String> {
        self.inner.session_for(p)
    }
    fn accept(&self, inbound: &Inbound) -> supportbot_core::CoreResult<Accepted> {
        if self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(supportbot_core::CoreError::new(
                supportbot_core::ErrorCode::Storage,
                "disk full (injected)",
            ));
        }
        self.inner.accept(inbound)
    }
    fn deliver(&self, inbound: Inbound) {
        self.inner.deliver(inbound)
    }
}

/// The app side of one test: database, webhook, VA client, and a conversation driven the way
/// the chat console will drive it.
struct App {
    _dir: tempfile::TempDir,
    sim: RunningSim,
    webhook: WebhookServer,
    conn: Connection,
    client: VaClient,
    live: mpsc::UnboundedReceiver<Inbound>,
    session: Session,
    handoff: Handoff,
    /// Everything handed to the live view, in order.
    seen: Vec<Inbound>,
    notices: Vec<Notice>,
}

fn random_id(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::rng().random::<u64>())
}

impl App {
    async fn start(knobs: Value) -> App {
        App::start_with(
            knobs,
            VaAuth::Token(SecretString::from(VA_TOKEN.to_owned())),
            0,
        )
        .await
    }

    async fn start_with(knobs: Value, auth: VaAuth, fail_first: u32) -> App {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let db_path = db.path().to_path_buf();
        drop(db);
        let (store_sink, live) = StoreSink::new(db_path.clone());
        let sink: Arc<dyn ConversationSink> = if fail_first > 0 {
            Arc::new(FlakySink {
                inner: store_sink,
                fail_first: AtomicU32::new(fail_first),
            })
        } else {
            store_sink
        };
        let webhook = WebhookServer::start(
            WebhookConfig::new(0, SecretString::from(SECRET.to_owned())),
            sink,
        )
        .await
        .unwrap();
        let sim = supportbot_sim::start(SimConfig {
            incidents: 10,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let mut config = json!({
            "webhook_url": webhook.url(), "webhook_secret": SECRET,
            "step_delay_ms": 20, "retry_delay_ms": 20,
        });
        config
            .as_object_mut()
            .unwrap()
            .extend(knobs.as_object().unwrap().clone());
        sim_put(&sim, "/sim/va", config).await;
        let client = VaClient::new(VaClientConfig {
            instance_url: sim.base_url(),
            auth,
            retry: RetryPolicy::fast(),
        })
        .unwrap();
        let conn = open_connection(&db_path).unwrap();
        let session = chat_store::create_session(
            &conn,
            Mode::Simulated,
            &random_id("cs"),
            "beth.anglin",
            Some("beth.anglin@example.com"),
        )
        .unwrap();
        App {
            _dir: dir,
            sim,
            webhook,
            conn,
            client,
            live,
            session,
            handoff: Handoff::default(),
            seen: Vec::new(),
            notices: Vec::new(),
        }
    }

    fn request(&self, action: Option<Action>, text: &str) -> VaRequest {
        VaRequest {
            request_id: random_id("req"),
            action,
            client_session_id: self.session.client_session_id.clone(),
            message: OutMessage {
                text: Some(text.to_owned()),
                typed: true,
                client_message_id: Some(random_id("msg")),
                attachment: None,
            },
            user_id: self.session.user_id.clone(),
            email_id: self.session.email_id.clone(),
            timestamp: Some(1_588_824_102),
            timezone: Some("America/New_York".into()),
            ..VaRequest::default()
        }
    }

    /// Sends a request the way the console will: remember its id first (a fast webhook reply
    /// must find the session), then POST. A synchronous answer is handled like a delivery.
    async fn send(&mut self, request: VaRequest) -> Result<VaReply, supportbot_core::CoreError> {
        chat_store::record_request(
            &self.conn,
            self.session.id,
            &request.request_id,
            request.action.map(Action::as_str),
        )
        .unwrap();
        chat_store::add_user_message(
            &self.conn,
            self.session.id,
            &UserMessage {
                text: request.message.text.clone(),
                secure: false,
                attachment: request.message.attachment.clone(),
                request_id: Some(request.request_id.clone()),
            },
        )
        .unwrap();
        let reply = self.client.send(&request).await;
        match &reply {
            Ok(VaReply::Messages(payload)) => {
                let inbound = Inbound {
                    session: self.session.client_session_id.clone(),
                    delivery_id: format!("sync:{}", request.request_id),
                    order_key: payload.timestamp_ms.unwrap_or_else(chat_store::now_ms),
                    arrival: 0,
                    late: false,
                    payload: (**payload).clone(),
                };
                chat_store::add_inbound(&self.conn, self.session.id, &inbound).unwrap();
                self.apply_inbound(inbound);
            }
            Ok(VaReply::Accepted) => {}
            Err(e) => self.apply(Event::SendFailed(e.code.as_str().to_owned())),
        }
        reply
    }

    /// A user command through the state machine; sends what its effects ask for.
    async fn command(&mut self, event: Event) -> Vec<Effect> {
        let effects = self.handoff.apply(event).expect("allowed");
        self.persist();
        for effect in &effects {
            match effect {
                Effect::SendAgentRequest => {
                    let mut request = self.request(Some(Action::Agent), "Live Agent Support.");
                    request
                        .context_variables
                        .insert("request_topic".into(), json!("VPN"));
                    self.send(request).await.expect("AGENT accepted");
                }
                Effect::SendEndConversation => {
                    let request = self.request(Some(Action::EndConversation), "");
                    self.send(request).await.expect("END accepted");
                }
                Effect::Show(n) => self.notices.push(n.clone()),
                _ => {}
            }
        }
        effects
    }

    fn apply(&mut self, event: Event) {
        if let Ok(effects) = self.handoff.apply(event) {
            for effect in effects {
                if let Effect::Show(n) = effect {
                    self.notices.push(n);
                }
            }
        }
        self.persist();
    }

    fn apply_inbound(&mut self, inbound: Inbound) {
        self.apply(Event::Inbound(Signal::of(&inbound.payload)));
        self.seen.push(inbound);
    }

    fn persist(&self) {
        let agent = self
            .seen
            .iter()
            .rev()
            .find_map(|i| i.payload.agent_name().map(str::to_owned));
        chat_store::set_state(
            &self.conn,
            self.session.id,
            self.handoff.state,
            agent.as_deref(),
            self.handoff.agent_in_control,
        )
        .unwrap();
    }

    /// Pumps live deliveries until `done` holds (generous deadline; not a timing assertion).
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.live.recv()).await {
                Ok(Some(inbound)) => self.apply_inbound(inbound),
                _ => panic!(
                    "timed out waiting for {what}; state {:?}, seen {:#?}",
                    self.handoff.state,
                    self.seen
                        .iter()
                        .map(|i| &i.payload.body)
                        .collect::<Vec<_>>()
                ),
            }
        }
    }

    /// Keeps pumping for a short quiet period, for assertions that nothing more arrives.
    async fn drain(&mut self, quiet: Duration) {
        while let Ok(Some(inbound)) = tokio::time::timeout(quiet, self.live.recv()).await {
            self.apply_inbound(inbound);
        }
    }

    fn texts(&self) -> Vec<String> {
        self.seen
            .iter()
            .flat_map(|i| i.payload.body.iter())
            .filter_map(|b| match &b.element {
                Element::OutputText { text } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn stored(&self) -> Vec<chat_store::Message> {
        chat_store::messages(&self.conn, self.session.id).unwrap()
    }

    fn stored_state(&self) -> State {
        chat_store::session(&self.conn, self.session.id)
            .unwrap()
            .unwrap()
            .state
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_handoff_async_then_user_ends() {
    let mut app = App::start(json!({"agent_replies_before_end": 0})).await;
    let start = app.request(Some(Action::StartConversation), "");
    assert_eq!(app.send(start).await.unwrap(), VaReply::Accepted);
    app.until("the greeting", |a| {
        a.texts().iter().any(|t| t.contains("Virtual Agent"))
    })
    .await;
    assert!(app
        .seen
        .iter()
        .flat_map(|i| &i.payload.body)
        .any(|b| matches!(
            &b.element,
            Element::Picker(p) if p.options.iter().any(|o| o.label == "Live Agent Support.")
        )));
    assert_eq!(app.handoff.state, State::Active);

    app.command(Event::RequestAgent).await;
    assert_eq!(app.handoff.state, State::Waiting);
    app.until("the agent", |a| a.handoff.state == State::Connected)
        .await;
    assert_eq!(app.notices, vec![Notice::AgentJoined]);
    app.until("the greeting of the agent", |a| {
        a.texts().iter().any(|t| t.contains("VPN"))
    })
    .await;
    assert_eq!(app.stored_state(), State::Connected);

    let message = app.request(None, "My VPN drops every few minutes");
    assert_eq!(
        app.command(Event::UserMessage).await,
        vec![Effect::ForwardToVa]
    );
    app.send(message).await.unwrap();
    app.until("the agent's answer", |a| {
        a.texts().iter().any(|t| t.contains("You wrote"))
    })
    .await;

    app.command(Event::UserEnd).await;
    assert_eq!(app.handoff.state, State::Completed);
    app.until("the end confirmation", |a| {
        a.texts()
            .iter()
            .any(|t| t.contains("conversation has ended"))
    })
    .await;
    assert_eq!(app.handoff.state, State::Completed);
    assert_eq!(app.stored_state(), State::Completed);
    let session = chat_store::session(&app.conn, app.session.id)
        .unwrap()
        .unwrap();
    assert_eq!(session.agent_name.as_deref(), Some("Beth Anglin"));
    assert!(session.ended_at.is_some());

    // The transcript is stored in order, the echoed user text is not repeated in payloads, and
    // every live delivery was stored exactly once.
    let stored = app.stored();
    let payloads: Vec<_> = stored.iter().filter(|m| m.kind == "va_payload").collect();
    assert_eq!(payloads.len(), app.seen.len());
    assert!(stored.windows(2).all(|w| w[0].order_key <= w[1].order_key));
    assert!(payloads.iter().all(|m| m.body.get("message").is_none()));
    assert!(app.seen.iter().all(|i| !i.late));
    assert!(stored
        .iter()
        .any(|m| m.direction == chat_store::Direction::Agent));
    let conversations = sim_get(&app.sim, "/sim/va/conversations").await;
    assert_eq!(conversations["result"][0]["phase"], "ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_agents_falls_back_to_the_bot() {
    let mut app = App::start(json!({"agents_available": false})).await;
    app.command(Event::RequestAgent).await;
    app.until("the failure", |a| a.handoff.state == State::Fail)
        .await;
    assert_eq!(
        app.notices,
        vec![Notice::FellBackToBot {
            reason: Some("No agents are available to chat".into())
        }]
    );
    assert!(app
        .texts()
        .iter()
        .any(|t| t.contains("all agents are currently busy")));
    assert_eq!(app.stored_state(), State::Fail);
    // The bot answers again.
    assert_eq!(
        app.command(Event::UserMessage).await,
        vec![Effect::AnswerLocally]
    );
    assert_eq!(app.handoff.state, State::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_never_joins_keep_waiting_then_cancel() {
    let mut app = App::start(json!({"agent_joins": false})).await;
    app.command(Event::RequestAgent).await;
    app.until("the spinner", |a| {
        a.seen
            .iter()
            .any(|i| i.payload.actions().any(|x| x.wait_secs == Some(8)))
    })
    .await;
    assert_eq!(app.handoff.state, State::Waiting);
    app.drain(Duration::from_millis(300)).await;
    assert_eq!(app.handoff.state, State::Waiting, "nobody joined");
    // The console's wait timer expires: the user is asked, keeps waiting, then gives up.
    assert_eq!(
        app.command(Event::WaitTimedOut).await,
        vec![Effect::AskKeepWaiting, Effect::Show(Notice::StillWaiting)]
    );
    assert_eq!(
        app.command(Event::KeepWaiting).await,
        vec![Effect::StartWaitTimer]
    );
    // Typing while queued reaches the VA, which says the user is still queued.
    let text = app.request(None, "hello?");
    app.command(Event::UserMessage).await;
    app.send(text).await.unwrap();
    app.until("the queue notice", |a| {
        a.seen.iter().any(|i| {
            i.payload.actions().any(|x| {
                x.message
                    .as_deref()
                    .is_some_and(|m| m.contains("still in the queue"))
            })
        })
    })
    .await;
    app.command(Event::WaitTimedOut).await;
    app.command(Event::UserCancel).await;
    assert_eq!(app.handoff.state, State::Cancelled);
    app.drain(Duration::from_millis(300)).await;
    assert_eq!(
        app.handoff.state,
        State::Cancelled,
        "late payloads do not reopen"
    );
    assert_eq!(app.stored_state(), State::Cancelled);
    let conversations = sim_get(&app.sim, "/sim/va/conversations").await;
    assert_eq!(conversations["result"][0]["phase"], "ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_takes_control() {
    let mut app = App::start(json!({"agent_takes_control": true})).await;
    app.command(Event::RequestAgent).await;
    app.until("take control", |a| a.handoff.agent_in_control)
        .await;
    assert_eq!(app.handoff.state, State::Connected);
    assert_eq!(
        app.notices,
        vec![Notice::AgentJoined, Notice::AgentTookControl]
    );
    let session = chat_store::session(&app.conn, app.session.id)
        .unwrap()
        .unwrap();
    assert!(session.agent_in_control);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_ends_the_chat() {
    let mut app = App::start(json!({"agent_replies_before_end": 1})).await;
    app.command(Event::RequestAgent).await;
    app.until("the agent", |a| a.handoff.state == State::Connected)
        .await;
    let message = app.request(None, "printer jams");
    app.command(Event::UserMessage).await;
    app.send(message).await.unwrap();
    app.until("the agent closing", |a| a.handoff.state == State::Completed)
        .await;
    assert_eq!(app.notices, vec![Notice::AgentJoined, Notice::ChatEnded]);
    assert_eq!(app.stored_state(), State::Completed);
    // Ending again is refused: the chat is over.
    assert!(app.handoff.apply(Event::UserEnd).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_deliveries_are_stored_and_shown_once() {
    let mut app =
        App::start(json!({"duplicate_deliveries": true, "agent_replies_before_end": 0})).await;
    app.command(Event::RequestAgent).await;
    app.until("the agent's greeting", |a| {
        a.texts().iter().any(|t| t.contains("Hi, this is Beth"))
    })
    .await;
    app.drain(Duration::from_millis(400)).await;
    let deliveries = sim_get(&app.sim, "/sim/va/deliveries").await;
    let delivered = deliveries["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["delivered"] == true)
        .count();
    // Waiting payload + joined + typing + greeting, each twice.
    assert_eq!(delivered, 8, "{deliveries}");
    assert_eq!(app.seen.len(), 4);
    let ids: std::collections::HashSet<_> = app.seen.iter().map(|i| &i.delivery_id).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(
        app.stored()
            .iter()
            .filter(|m| m.kind == "va_payload")
            .count(),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_deliveries_are_handed_over_in_order() {
    let mut app = App::start(json!({"out_of_order": true})).await;
    app.command(Event::RequestAgent).await;
    app.until("all four payloads", |a| a.seen.len() >= 4).await;
    // The sim sent them newest first; the sink saw them by timestamp.
    let keys: Vec<i64> = app.seen.iter().map(|i| i.order_key).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    assert!(app.seen.iter().all(|i| !i.late));
    let arrivals: Vec<u64> = app.seen.iter().map(|i| i.arrival).collect();
    assert!(
        arrivals.windows(2).all(|w| w[0] > w[1]),
        "arrived reversed: {arrivals:?}"
    );
    assert_eq!(app.handoff.state, State::Connected);
    let stored: Vec<i64> = app
        .stored()
        .iter()
        .filter(|m| m.kind == "va_payload")
        .map(|m| m.order_key)
        .collect();
    assert_eq!(stored, keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_by_the_va_and_stored_once() {
    let mut app = App::start_with(
        json!({"max_retries": 3}),
        VaAuth::Token(SecretString::from(VA_TOKEN.to_owned())),
        2,
    )
    .await;
    let start = app.request(Some(Action::StartConversation), "");
    app.send(start).await.unwrap();
    app.until("the greeting", |a| !a.seen.is_empty()).await;
    let deliveries = sim_get(&app.sim, "/sim/va/deliveries").await;
    let outcomes: Vec<String> = deliveries["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        outcomes,
        ["HTTP 500", "HTTP 500", "HTTP 200"],
        "{deliveries}"
    );
    app.drain(Duration::from_millis(200)).await;
    assert_eq!(app.seen.len(), 1);
    assert_eq!(
        app.stored()
            .iter()
            .filter(|m| m.kind == "va_payload")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_token_expiry_during_a_chat() {
    let auth = VaAuth::OAuth {
        client_id: "demo-client".into(),
        client_secret: SecretString::from("demo-secret".to_owned()),
        username: "admin".into(),
        password: SecretString::from("admin".to_owned()),
    };
    let mut app = App::start_with(json!({"agent_replies_before_end": 0}), auth, 0).await;
    app.command(Event::RequestAgent).await;
    app.until("the agent", |a| a.handoff.state == State::Connected)
        .await;
    // Every token the instance issued expires mid-chat: the next message refreshes and goes
    // through.
    assert_eq!(
        sim_post(&app.sim, "/sim/oauth/expire", json!({})).await,
        204
    );
    let message = app.request(None, "outlook will not start");
    app.command(Event::UserMessage).await;
    app.send(message).await.unwrap();
    app.until("the answer", |a| {
        a.texts()
            .iter()
            .any(|t| t.contains("outlook will not start"))
    })
    .await;
    // Short-lived tokens are refreshed before they expire, not after a refusal.
    sim_put(&app.sim, "/sim/oauth", json!({"access_token_ttl": 2})).await;
    assert_eq!(
        sim_post(
            &app.sim,
            "/sim/oauth/expire",
            json!({"refresh_tokens": true})
        )
        .await,
        204
    );
    for text in ["vpn again", "mail again"] {
        let message = app.request(None, text);
        app.command(Event::UserMessage).await;
        app.send(message).await.unwrap();
    }
    app.until("both answers", |a| {
        a.texts().iter().any(|t| t.contains("mail again"))
    })
    .await;
    assert_eq!(app.handoff.state, State::Connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_mode_answers_in_the_response_and_the_agent_follows_on_the_webhook() {
    let mut app = App::start(json!({"mode": "sync", "agent_replies_before_end": 0})).await;
    let start = app.request(Some(Action::StartConversation), "");
    let VaReply::Messages(greeting) = app.send(start).await.unwrap() else {
        panic!("sync mode answers with messages")
    };
    assert!(greeting.body.len() >= 2);
    let mut switch = app.request(Some(Action::Switch), "");
    switch.intent = Some(supportbot_core::chat::va::model::Intent {
        id: "Saloon Vehicle".into(),
    });
    let VaReply::Messages(input) = app.send(switch).await.unwrap() else {
        panic!("sync")
    };
    assert!(matches!(&input.body[0].element,
        Element::InputText { label: Some(l), secure: false, .. } if l == "Saloon Vehicle input:"));
    app.command(Event::RequestAgent).await;
    // The waiting payload came in the response, the agent on the webhook.
    assert_eq!(app.handoff.state, State::Waiting);
    app.until("the agent", |a| a.handoff.state == State::Connected)
        .await;
    // An attachment while the agent is connected: acknowledged in the response.
    let mut file = app.request(None, "");
    file.message.attachment = Some(Attachment {
        client_attachment_id: Some("a1".into()),
        content_type: "application/pdf".into(),
        file_name: "log.pdf".into(),
        url: "http://127.0.0.1/log.pdf".into(),
    });
    let VaReply::Messages(ack) = app.send(file).await.unwrap() else {
        panic!("sync")
    };
    assert!(format!("{:?}", ack.body).contains("log.pdf"));
}

#[test]
fn secure_answers_are_never_stored_and_feedback_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let conn = db.conn();
    let session = chat_store::create_session(&conn, Mode::Real, "cs-1", "u", None).unwrap();
    chat_store::add_user_message(
        &conn,
        session.id,
        &UserMessage {
            text: Some("Tr0ub4dor&3-secret".into()),
            secure: true,
            ..UserMessage::default()
        },
    )
    .unwrap();
    let answer = chat_store::add_local(
        &conn,
        session.id,
        chat_store::Direction::Bot,
        "bot_answer",
        &json!({"text": "Restart the VPN client", "citations": ["INC0010001"]}),
    )
    .unwrap();
    chat_store::set_feedback(&conn, answer, true, None).unwrap();
    chat_store::set_feedback(&conn, answer, false, Some("did not help")).unwrap();
    let messages = chat_store::messages(&conn, session.id).unwrap();
    assert_eq!(messages[0].kind, "secure");
    assert_eq!(messages[1].helpful, Some(false));
    // Feedback only on bot answers.
    let err = chat_store::set_feedback(&conn, messages[0].id, true, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::ChatRefused);
    drop(conn);
    drop(db);
    let hits = dir_contains(dir.path(), b"Tr0ub4dor&3-secret");
    assert!(hits.is_empty(), "secure answer found in {hits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_have_stable_codes_and_5xx_is_retried() {
    let app = App::start(json!({})).await;
    // 503 twice, then success: retried with backoff.
    assert_eq!(
        sim_post(
            &app.sim,
            "/sim/faults",
            json!({"path_prefix": "/api/sn_va_as_service", "status": 503, "count": 2})
        )
        .await,
        201
    );
    let request = app.request(Some(Action::StartConversation), "");
    assert_eq!(app.client.send(&request).await.unwrap(), VaReply::Accepted);
    // 500 forever: server_error after the bounded retries.
    sim_post(
        &app.sim,
        "/sim/faults",
        json!({"path_prefix": "/api/sn_va_as_service", "status": 500}),
    )
    .await;
    let err = app.client.send(&request).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ServerError);
    let cleared = sim_request(&app.sim, reqwest::Method::DELETE, "/sim/faults")
        .send()
        .await
        .unwrap();
    assert!(cleared.status().is_success(), "{}", cleared.status());
    // 400: userId missing.
    let mut bad = request.clone();
    bad.user_id.clear();
    let err = app.client.send(&bad).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::VaRejected, "{err:?}");
    // 401: wrong Basic password.
    let basic = VaClient::new(VaClientConfig {
        instance_url: app.sim.base_url(),
        auth: VaAuth::Basic {
            username: "admin".into(),
            password: SecretString::from("wrong-password-xyz".to_owned()),
        },
        retry: RetryPolicy::fast(),
    })
    .unwrap();
    let err = basic.send(&request).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthInvalid);
    assert!(!err.to_string().contains("wrong-password-xyz"));
    // Unreachable: connection refused, retried, then unreachable.
    let nowhere = VaClient::new(VaClientConfig {
        instance_url: "http://127.0.0.1:9".into(),
        auth: VaAuth::Token(SecretString::from(VA_TOKEN.to_owned())),
        retry: RetryPolicy::fast(),
    })
    .unwrap();
    assert_eq!(
        nowhere.send(&request).await.unwrap_err().code,
        ErrorCode::Unreachable
    );
}

/// Posts to the webhook with the given Host, Authorization and body.
async fn post_hook(app: &App, host: Option<&str>, auth: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(app.webhook.url())
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(host) = host {
        request = request.header("host", host);
    }
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_refusals() {
    let app = App::start(json!({})).await;
    let bearer = format!("Bearer {SECRET}");
    let known = json!({"requestId": "nope", "clientSessionId": app.session.client_session_id,
                       "body": [{"uiType": "OutputText", "value": "hi"}]})
    .to_string();
    let unknown = json!({"requestId": "nope", "clientSessionId": "other", "body": []}).to_string();
    let port = app.webhook.addr().port();
    let cases: Vec<(Option<String>, Option<&str>, &str, u16)> = vec![
        (None, None, &known, 401),
        (None, Some("Bearer wrong"), &known, 401),
        (None, Some(SECRET), &known, 401),
        (None, Some(&bearer), "{not json", 400),
        (None, Some(&bearer), "[1,2]", 400),
        (None, Some(&bearer), &unknown, 400),
        (Some("evil.example.com".into()), Some(&bearer), &known, 403),
        (
            Some(format!("127.0.0.1:{}", port + 1)),
            Some(&bearer),
            &known,
            403,
        ),
        (
            Some(format!("localhost:{port}")),
            Some(&bearer),
            &known,
            200,
        ),
        (None, Some(&bearer), &known, 200),
    ];
    for (host, auth, body, expected) in cases {
        let (status, answer) = post_hook(&app, host.as_deref(), auth, body).await;
        assert_eq!(status, expected, "{host:?} {auth:?} {body}: {answer}");
        if status == 200 {
            assert_eq!(answer["status"], "success");
        } else {
            assert_eq!(answer["status"], "failure");
        }
    }
    // The same payload twice was stored once.
    assert_eq!(
        app.stored()
            .iter()
            .filter(|m| m.kind == "va_payload")
            .count(),
        1
    );
    // Only the documented path and method.
    let other = reqwest::Client::new()
        .post(format!("http://{}/other", app.webhook.addr()))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
    let get = reqwest::Client::new()
        .get(format!("http://{}{WEBHOOK_PATH}", app.webhook.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processing_error_is_a_500() {
    let app = App::start_with(
        json!({"max_retries": 0}),
        VaAuth::Token(SecretString::from(VA_TOKEN.to_owned())),
        1,
    )
    .await;
    let body = json!({"clientSessionId": app.session.client_session_id, "body": []}).to_string();
    let bearer = format!("Bearer {SECRET}");
    assert_eq!(post_hook(&app, None, Some(&bearer), &body).await.0, 500);
    // The retry is not mistaken for a duplicate.
    assert_eq!(post_hook(&app, None, Some(&bearer), &body).await.0, 200);
    assert_eq!(
        app.stored()
            .iter()
            .filter(|m| m.kind == "va_payload")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_survives_a_restart() {
    let mut app = App::start(json!({"agent_replies_before_end": 0})).await;
    app.command(Event::RequestAgent).await;
    app.until("the agent", |a| a.handoff.state == State::Connected)
        .await;
    app.drain(Duration::from_millis(200)).await;
    // "Restart": a new connection reads the latest session and its transcript back.
    let path = app._dir.path().join(supportbot_core::store::DB_FILE);
    let conn = open_connection(&path).unwrap();
    let resumed = chat_store::latest_session(&conn).unwrap().unwrap();
    assert_eq!(resumed.id, app.session.id);
    assert_eq!(resumed.state, State::Connected);
    let handoff = Handoff::new(resumed.state);
    assert_eq!(handoff.state, State::Connected);
    let transcript = chat_store::messages(&conn, resumed.id).unwrap();
    assert_eq!(transcript.len(), app.stored().len());
}

/// The fuzz target's seeds (and whatever a fuzz run left in the corpus) go through the parser
/// on stable Rust in every test run.
#[test]
fn the_fuzz_corpus_parses_without_panicking() {
    use supportbot_core::chat::va::model::parse_payload;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/va_payload");
    let mut parsed = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        if parse_payload(&bytes).is_ok() {
            parsed += 1;
        }
    }
    assert!(files >= 13, "seeds missing in {}", dir.display());
    assert!(parsed >= 10);
    let rich = parse_payload(&std::fs::read(dir.join("seed_002_rich.json")).unwrap()).unwrap();
    assert_eq!(rich.body.len(), 14);
    assert!(matches!(
        rich.body.last().unwrap().element,
        Element::Unknown { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_without_a_timestamp_follow_the_users_lines_in_arrival_order() {
    // The documents' payloads carry no timestamp: they must not sort before what the user
    // said, nor overtake each other.
    let mut app = App::start(json!({})).await;
    let said = chat_store::add_user_message(
        &app.conn,
        app.session.id,
        &UserMessage {
            text: Some("hello".into()),
            ..UserMessage::default()
        },
    )
    .unwrap();
    let user_key = app
        .stored()
        .iter()
        .find(|m| m.id == said)
        .unwrap()
        .order_key;
    let request = app.request(None, "hello");
    chat_store::record_request(&app.conn, app.session.id, &request.request_id, None).unwrap();
    for text in ["first", "second", "third"] {
        let status = reqwest::Client::new()
            .post(app.webhook.url())
            .bearer_auth(SECRET)
            .json(&json!({"requestId": request.request_id, "clientSessionId": app.session.client_session_id,
                          "body": [{"uiType": "OutputText", "message": text}]}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    app.until("three payloads", |a| a.seen.len() >= 3).await;
    let keys: Vec<i64> = app.seen.iter().map(|i| i.order_key).collect();
    assert!(
        keys.iter().all(|k| *k >= user_key),
        "{keys:?} vs {user_key}"
    );
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
    let texts: Vec<String> = app
        .seen
        .iter()
        .map(|i| {
            i.payload.raw_body[0]["message"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(texts, ["first", "second", "third"]);
}
