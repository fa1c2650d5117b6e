//! `ChatConsole` end to end over real HTTP: the simulator's VA posts to the service's webhook,
//! the service drives the handoff and publishes events. Every `PUT /sim/va` knob, restarts,
//! secure answers, feedback, settings, sanitising, attachments, the Virtual Agent's own
//! conversation (START_CONVERSATION, SWITCH), failed webhook deliveries (the app down during
//! retries, a 500 then a retry, retries exhausted) and (with the model) a cited bot answer
//! over a synced knowledge base.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use secrecy::SecretString;
use serde_json::{json, Value};
use supportbot_core::chat::handoff::State;
use supportbot_core::chat::store::{Direction, Mode};
use supportbot_core::chat::{
    ChatAuth, ChatConsole, ChatEvent, ChatOptions, ChatReply, ChatSession, ChatSettingsPatch,
    Feedback,
};
use supportbot_core::connectors::RetryPolicy;
use supportbot_core::secrets::StorePreference;
use supportbot_core::sync::SyncOptions;
use supportbot_core::{Actor, Core, ErrorCode, Role};

mod common;
use common::{dir_contains, sim_get, sim_post, sim_put};
use supportbot_sim::{RunningSim, SimConfig};
use tokio::sync::broadcast;

struct Harness {
    dir: tempfile::TempDir,
    core: Arc<Core>,
    actor: Actor,
    sim: RunningSim,
    service: Option<ChatConsole>,
    events: broadcast::Receiver<ChatEvent>,
    seen: Vec<ChatEvent>,
}

fn options(sim: &RunningSim, wait: Duration) -> ChatOptions {
    ChatOptions {
        sim_url: Some(sim.base_url()),
        wait_timeout: Some(wait),
        retry: Some(RetryPolicy::fast()),
        ..ChatOptions::default()
    }
}

impl Harness {
    async fn start(knobs: Value) -> Harness {
        Harness::start_with(knobs, Duration::from_secs(60)).await
    }

    async fn start_with(knobs: Value, wait: Duration) -> Harness {
        Harness::launch(knobs, wait, None).await
    }

    /// A core in a fresh directory (with `webhook_secret` configured when given), a simulator
    /// whose VA has `knobs`, and the service between them.
    async fn launch(knobs: Value, wait: Duration, webhook_secret: Option<&str>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
        let actor = core.actor(None, None).unwrap();
        if let Some(secret) = webhook_secret {
            core.save_chat_settings(
                &actor,
                ChatSettingsPatch {
                    webhook_secret: Some(SecretString::from(secret.to_owned())),
                    ..ChatSettingsPatch::default()
                },
            )
            .unwrap();
        }
        let sim = supportbot_sim::start(SimConfig {
            incidents: 10,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let service = ChatConsole::start(Arc::clone(&core), options(&sim, wait))
            .await
            .unwrap();
        let mut config = json!({"step_delay_ms": 20, "retry_delay_ms": 20});
        config
            .as_object_mut()
            .unwrap()
            .extend(knobs.as_object().unwrap().clone());
        sim_put(&sim, "/sim/va", config).await;
        let events = service.subscribe();
        Harness {
            dir,
            core,
            actor,
            sim,
            service: Some(service),
            events,
            seen: Vec::new(),
        }
    }

    fn svc(&self) -> &ChatConsole {
        self.service.as_ref().unwrap()
    }

    async fn new_session(&self) -> ChatSession {
        self.svc().new_session(&self.actor, None).await.unwrap()
    }

    /// Collects events until `done` holds for one of them (generous deadline).
    async fn until(&mut self, what: &str, done: impl Fn(&ChatEvent) -> bool) -> ChatEvent {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(e)) => {
                    self.seen.push(e.clone());
                    if done(&e) {
                        return e;
                    }
                }
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                _ => panic!("timed out waiting for {what}; seen {:#?}", self.seen),
            }
        }
    }

    async fn until_state(&mut self, state: State) -> ChatEvent {
        self.until(
            &format!("state {state:?}"),
            |e| matches!(e, ChatEvent::State { state: s, .. } if *s == state),
        )
        .await
    }

    /// The queue payload (StartSpinner) of an escalation.
    async fn until_spinner(&mut self) {
        self.until("the spinner", |e| match e {
            ChatEvent::Message { message, .. } => message
                .body
                .iter()
                .any(|b| b["actionType"] == "StartSpinner"),
            _ => false,
        })
        .await;
    }

    async fn until_agent_text(&mut self, needle: &str) {
        let needle = needle.to_owned();
        let has = |e: &ChatEvent| match e {
            ChatEvent::Message { message, .. } => {
                message.body.iter().any(|b| b.to_string().contains(&needle))
            }
            _ => false,
        };
        if self.seen.iter().any(has) {
            return;
        }
        self.until(&format!("agent text {needle:?}"), move |e| match e {
            ChatEvent::Message { message, .. } => {
                message.body.iter().any(|b| b.to_string().contains(&needle))
            }
            _ => false,
        })
        .await;
    }

    async fn drain(&mut self, quiet: Duration) {
        while let Ok(Ok(e)) = tokio::time::timeout(quiet, self.events.recv()).await {
            self.seen.push(e);
        }
    }

    async fn view(&self, id: &str) -> ChatSession {
        // `session()` resumes the latest unfinished one; finished ones are read by id through
        // a fresh session list — here simply: new_session is not wanted, so use send-free read.
        let s = self.svc().session(&self.actor).await.unwrap();
        assert_eq!(s.id, id, "the resumed session");
        s
    }

    fn state_in_db(&self, id: &str) -> String {
        let conn = supportbot_core::store::open_connection(
            &self.dir.path().join(supportbot_core::store::DB_FILE),
        )
        .unwrap();
        conn.query_row(
            "SELECT state FROM chat_sessions WHERE id = ?1",
            [id.parse::<i64>().unwrap()],
            |r| r.get(0),
        )
        .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_handoff_then_the_user_ends() {
    let mut h = Harness::start(json!({"agent_replies_before_end": 0})).await;
    let s = h.new_session().await;
    assert_eq!(s.state, State::Active);
    assert_eq!(s.mode, Mode::Simulated);
    // The bot answers first (the knowledge base is empty, and it says so).
    let answered = h
        .svc()
        .send(&h.actor, &s.id, "My VPN keeps dropping")
        .await
        .unwrap();
    assert_eq!(answered.len(), 2);
    let answer = answered[1].answer.as_ref().unwrap();
    assert!(answer.text.contains("empty") && answer.low_confidence);
    // Typing "agent" escalates.
    let out = h.svc().send(&h.actor, &s.id, "agent").await.unwrap();
    assert_eq!(out[0].text.as_deref(), Some("agent"));
    h.until_state(State::Connected).await;
    h.until_agent_text("I see you need help with My VPN keeps dropping")
        .await;
    let view = h.view(&s.id).await;
    assert_eq!(view.state, State::Connected);
    assert_eq!(
        view.agent.as_ref().unwrap().name.as_deref(),
        Some("Beth Anglin")
    );
    assert!(view.waiting_since.is_none());
    // The transcript went along as context.
    let out = h
        .svc()
        .send(&h.actor, &s.id, "It drops every 5 minutes")
        .await
        .unwrap();
    assert_eq!(
        out.len(),
        1,
        "only the user's message; the agent answers later"
    );
    h.until_agent_text("You wrote").await;
    assert!(h
        .seen
        .iter()
        .any(|e| matches!(e, ChatEvent::Typing { on: true, .. })));
    let ended = h.svc().end(&h.actor, &s.id).await.unwrap();
    assert_eq!(ended.state, State::Completed);
    assert_eq!(h.state_in_db(&s.id), "completed");
    assert!(ended.notice.unwrap().contains("ended"));
    // Messages are in conversation order with unique ids, typing-only payloads hidden.
    let seqs: Vec<i64> = ended.messages.iter().map(|m| m.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]));
    let ids: std::collections::HashSet<i64> = ended.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), ended.messages.len());
    let conversations = sim_get(&h.sim, "/sim/va/conversations").await;
    assert_eq!(conversations["result"][0]["phase"], "ended");
    // A finished session is not resumed: chat_session starts a new one.
    let next = h.svc().session(&h.actor).await.unwrap();
    assert_ne!(next.id, s.id);
}

/// The body of the first message event whose body has an element of `ui_type`.
fn message_with(seen: &[ChatEvent], ui_type: &str) -> Option<supportbot_core::chat::ChatMessage> {
    seen.iter().find_map(|e| match e {
        ChatEvent::Message { message, .. }
            if message.body.iter().any(|b| b["uiType"] == ui_type) =>
        {
            Some((**message).clone())
        }
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_conversation_and_switch_topic_reach_the_virtual_agent() {
    let mut h = Harness::start(json!({"agent_replies_before_end": 0})).await;
    let s = h.new_session().await;
    // START_CONVERSATION: the user's action is a visible line, the greeting and the topic
    // picker arrive from the VA through the webhook.
    let out = h.svc().start_conversation(&h.actor, &s.id).await.unwrap();
    assert_eq!(out.len(), 1, "only the user's line; the VA answers later");
    assert_eq!(out[0].from, Direction::User);
    assert_eq!(
        out[0].text.as_deref(),
        Some("Started a Virtual Agent conversation")
    );
    h.until_agent_text("Hi, I'm your Virtual Agent").await;
    let greeting = message_with(&h.seen, "TopicPickerControl").expect("a topic picker");
    assert_eq!(greeting.body[0]["uiType"], "OutputText");
    let option = greeting.body[1]["options"][0].clone();
    assert_eq!(option["label"], "Report an IT issue");
    // Picking an option is a reply with typed: false.
    h.svc()
        .reply(
            &h.actor,
            &s.id,
            ChatReply {
                value: option["value"].as_str().unwrap().into(),
                label: option["label"].as_str().unwrap().into(),
                typed: false,
                secure: false,
            },
        )
        .await
        .unwrap();
    h.until_agent_text("didn't understand").await;
    // SWITCH: intent.id goes out, the topic's InputText comes back.
    let out = h
        .svc()
        .switch_topic(&h.actor, &s.id, "  Reset my password ")
        .await
        .unwrap();
    assert_eq!(
        out[0].text.as_deref(),
        Some("Switched topic to Reset my password")
    );
    h.until_agent_text("Reset my password input:").await;
    let input = message_with(&h.seen, "InputText").unwrap();
    assert_eq!(input.body[0]["label"], "Reset my password input:");
    // What went over the wire, in order.
    let requests = sim_get(&h.sim, "/sim/va/requests").await["result"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert_eq!(requests[0]["action"], "START_CONVERSATION");
    assert_eq!(requests[0]["typed"], true);
    assert_eq!(requests[0]["text"], "");
    assert_eq!(requests[1]["action"], "");
    assert_eq!(requests[1]["typed"], false);
    assert_eq!(requests[1]["text"], option["value"]);
    assert_eq!(requests[2]["action"], "SWITCH");
    assert_eq!(requests[2]["intent"], "Reset my password");
    assert_eq!(requests[2]["text"], Value::Null);
    // Typed text still goes to the local knowledge-base bot.
    let out = h.svc().send(&h.actor, &s.id, "printer jam").await.unwrap();
    assert!(out[1].answer.is_some());
    assert_eq!(
        sim_get(&h.sim, "/sim/va/requests").await["result"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // An empty topic is a validation error on its field.
    let err = h
        .svc()
        .switch_topic(&h.actor, &s.id, "  ")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.fields.contains_key("intent"), "{err:?}");
    // With an agent, both are refused with a reason, and nothing is stored or sent.
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    h.until_state(State::Connected).await;
    let before = h.view(&s.id).await.messages.len();
    for err in [
        h.svc()
            .start_conversation(&h.actor, &s.id)
            .await
            .unwrap_err(),
        h.svc()
            .switch_topic(&h.actor, &s.id, "Reset my password")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code, ErrorCode::ChatRefused);
        assert!(err.message.contains("end that chat"), "{err:?}");
    }
    assert_eq!(h.view(&s.id).await.messages.len(), before);
    // After the agent chat, the bot has the conversation again and may start one at once:
    // the VA's late "completed" answer to END_CONVERSATION does not end the new conversation.
    h.svc().end(&h.actor, &s.id).await.unwrap();
    assert_eq!(h.state_in_db(&s.id), "completed");
    h.seen.clear();
    h.svc().start_conversation(&h.actor, &s.id).await.unwrap();
    assert_eq!(h.state_in_db(&s.id), "active");
    h.until_agent_text("The conversation has ended").await;
    h.until_agent_text("Hi, I'm your Virtual Agent").await;
    h.drain(Duration::from_millis(400)).await;
    assert_eq!(h.state_in_db(&s.id), "active", "{:#?}", h.seen);
    let conversations = sim_get(&h.sim, "/sim/va/conversations").await;
    assert_eq!(conversations["result"][0]["phase"], "bot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_agents_falls_back_to_the_bot_with_a_notice() {
    let mut h = Harness::start(json!({"agents_available": false})).await;
    let s = h.new_session().await;
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    let e = h.until_state(State::Fail).await;
    let ChatEvent::State { notice, .. } = e else {
        unreachable!()
    };
    assert!(notice.unwrap().contains("No agents are available"));
    h.until_agent_text("all agents are currently busy").await;
    // The bot answers again.
    let out = h.svc().send(&h.actor, &s.id, "printer jam").await.unwrap();
    assert!(out[1].answer.is_some());
    assert_eq!(h.state_in_db(&s.id), "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_never_joins_timeout_keep_waiting_then_cancel() {
    let mut h =
        Harness::start_with(json!({"agent_joins": false}), Duration::from_millis(400)).await;
    let s = h.new_session().await;
    let waiting = h.svc().escalate(&h.actor, &s.id).await.unwrap();
    assert_eq!(waiting.state, State::Waiting);
    assert!(waiting.waiting_since.is_some());
    h.until_spinner().await;
    h.until("the timeout", |e| {
        matches!(e, ChatEvent::WaitTimeout { .. })
    })
    .await;
    let kept = h.svc().keep_waiting(&h.actor, &s.id).await.unwrap();
    assert_eq!(kept.state, State::Waiting);
    // Keeping waiting twice without a new timeout is refused.
    let err = h.svc().keep_waiting(&h.actor, &s.id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ChatRefused);
    h.until("the second timeout", |e| {
        matches!(e, ChatEvent::WaitTimeout { .. })
    })
    .await;
    let cancelled = h.svc().cancel(&h.actor, &s.id).await.unwrap();
    assert_eq!(cancelled.state, State::Cancelled);
    h.drain(Duration::from_millis(300)).await;
    assert_eq!(h.state_in_db(&s.id), "cancelled");
    let conversations = sim_get(&h.sim, "/sim/va/conversations").await;
    assert_eq!(conversations["result"][0]["phase"], "ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_takes_control() {
    let mut h = Harness::start(json!({"agent_takes_control": true})).await;
    let s = h.new_session().await;
    h.svc()
        .send(&h.actor, &s.id, "talk to a human")
        .await
        .unwrap();
    h.until(
        "take control",
        |e| matches!(e, ChatEvent::State { notice: Some(n), .. } if n.contains("taken control")),
    )
    .await;
    let conn = supportbot_core::store::open_connection(
        &h.dir.path().join(supportbot_core::store::DB_FILE),
    )
    .unwrap();
    let in_control: bool = conn
        .query_row(
            "SELECT agent_in_control FROM chat_sessions WHERE id = ?1",
            [s.id.parse::<i64>().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(in_control);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_ends_the_chat() {
    let mut h = Harness::start(json!({"agent_replies_before_end": 1})).await;
    let s = h.new_session().await;
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    h.until_state(State::Connected).await;
    h.svc()
        .send(&h.actor, &s.id, "outlook crashes")
        .await
        .unwrap();
    h.until_state(State::Completed).await;
    // Ending again is refused with a readable reason.
    let err = h.svc().end(&h.actor, &s.id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ChatRefused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_cancels_while_waiting() {
    let mut h = Harness::start(json!({"agent_joins": false})).await;
    let s = h.new_session().await;
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    // Typing while queued goes to the VA, which answers with the queue notice.
    let out = h.svc().send(&h.actor, &s.id, "hello?").await.unwrap();
    assert_eq!(out.len(), 1);
    h.until_agent_text("still in the queue").await;
    assert_eq!(
        h.svc().cancel(&h.actor, &s.id).await.unwrap().state,
        State::Cancelled
    );
    // Cancel is only for a wait.
    assert_eq!(
        h.svc().cancel(&h.actor, &s.id).await.unwrap_err().code,
        ErrorCode::ChatRefused
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_deliveries_show_once_and_in_order() {
    for knob in ["duplicate_deliveries", "out_of_order"] {
        let mut h = Harness::start(json!({knob: true, "agent_replies_before_end": 0})).await;
        let s = h.new_session().await;
        h.svc().escalate(&h.actor, &s.id).await.unwrap();
        h.until_agent_text("Hi, this is Beth").await;
        h.drain(Duration::from_millis(500)).await;
        let view = h.view(&s.id).await;
        assert_eq!(view.state, State::Connected, "{knob}");
        let agent: Vec<_> = view
            .messages
            .iter()
            .filter(|m| m.from == supportbot_core::chat::store::Direction::Agent)
            .collect();
        // Waiting payload, joined, greeting (the typing payload is an event, not a message).
        assert_eq!(agent.len(), 3, "{knob}: {agent:#?}");
        let seqs: Vec<i64> = agent.iter().map(|m| m.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{knob}: {seqs:?}");
        assert!(agent[2].body[1].to_string().contains("Hi, this is Beth"));
        let message_ids: Vec<i64> = h
            .seen
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Message { message, .. } => Some(message.id),
                _ => None,
            })
            .collect();
        let unique: std::collections::HashSet<_> = message_ids.iter().collect();
        assert_eq!(unique.len(), message_ids.len(), "{knob}: an event twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_va_requests_are_retried_then_fall_back_to_the_bot() {
    let mut h = Harness::start(json!({"agent_replies_before_end": 0})).await;
    let s = h.new_session().await;
    // 503 twice: retried, the escalation goes through.
    assert_eq!(
        sim_post(
            &h.sim,
            "/sim/faults",
            json!({"path_prefix": "/api/sn_va_as_service", "status": 503, "count": 2})
        )
        .await,
        201
    );
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    h.until_state(State::Connected).await;
    // The instance fails for good: the chat falls back to the bot with a notice.
    sim_post(
        &h.sim,
        "/sim/faults",
        json!({"path_prefix": "/api/sn_va_as_service", "status": 500}),
    )
    .await;
    let out = h.svc().send(&h.actor, &s.id, "still there?").await.unwrap();
    assert_eq!(out.len(), 2, "the user's message and the fallback notice");
    assert!(out[1].text.as_ref().unwrap().contains("bot answers again"));
    assert_eq!(h.state_in_db(&s.id), "fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_token_expiry_during_a_real_mode_chat() {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    let actor = core.actor(None, None).unwrap();
    let sim = supportbot_sim::start(SimConfig {
        incidents: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    core.save_chat_settings(
        &actor,
        ChatSettingsPatch {
            mode: Some(Mode::Real),
            instance_url: Some(sim.base_url()),
            auth: Some(ChatAuth::Oauth2),
            client_id: Some("demo-client".into()),
            username: Some("admin".into()),
            client_secret: Some(SecretString::from("demo-secret".to_owned())),
            password: Some(SecretString::from("admin".to_owned())),
            webhook_secret: Some(SecretString::from("real-webhook-secret".to_owned())),
            ..ChatSettingsPatch::default()
        },
    )
    .unwrap();
    // `sim_url` here only points the simulator's webhook at us; the session is in real mode.
    let service = ChatConsole::start(Arc::clone(&core), options(&sim, Duration::from_secs(60)))
        .await
        .unwrap();
    sim_put(
        &sim,
        "/sim/va",
        json!({"step_delay_ms": 20, "agent_replies_before_end": 0}),
    )
    .await;
    let mut h = Harness {
        dir,
        core,
        actor,
        events: service.subscribe(),
        sim,
        service: Some(service),
        seen: Vec::new(),
    };
    let s = h.new_session().await;
    assert_eq!(s.mode, Mode::Real);
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    h.until_state(State::Connected).await;
    assert_eq!(sim_post(&h.sim, "/sim/oauth/expire", json!({})).await, 204);
    h.svc()
        .send(&h.actor, &s.id, "outlook will not start")
        .await
        .unwrap();
    h.until_agent_text("outlook will not start").await;
    // The settings never show secrets, only that they are set.
    let settings = h.core.chat_settings(&h.actor).unwrap();
    assert!(settings.secrets.client_secret && settings.secrets.webhook_secret);
    assert!(!settings.secrets.va_token);
    let shown = serde_json::to_string(&settings).unwrap();
    assert!(!shown.contains("demo-secret") && !shown.contains("real-webhook-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_chat_resumes_the_conversation_and_the_wait_timer() {
    // Connected: the transcript and agent come back, and the chat goes on.
    let mut h = Harness::start(json!({"agent_replies_before_end": 0})).await;
    let s = h.new_session().await;
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    h.until_agent_text("Hi, this is Beth").await;
    h.drain(Duration::from_millis(200)).await;
    let before = h.view(&s.id).await;
    h.service.take().unwrap().shutdown().await;
    drop(std::mem::replace(
        &mut h.core,
        Arc::new(Core::open_with(h.dir.path(), StorePreference::File).unwrap()),
    ));
    let service = ChatConsole::start(
        Arc::clone(&h.core),
        options(&h.sim, Duration::from_secs(60)),
    )
    .await
    .unwrap();
    h.events = service.subscribe();
    h.service = Some(service);
    let after = h.view(&s.id).await;
    assert_eq!(after.state, State::Connected);
    assert_eq!(after.messages, before.messages);
    assert_eq!(after.agent, before.agent);
    h.svc()
        .send(&h.actor, &s.id, "vpn after restart")
        .await
        .unwrap();
    h.until_agent_text("vpn after restart").await;

    // Waiting: the timer resumes with the time it had left.
    let mut h =
        Harness::start_with(json!({"agent_joins": false}), Duration::from_millis(1500)).await;
    let s = h.new_session().await;
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    // 0.9 s of the 1.5 s wait pass before the "restart".
    tokio::time::sleep(Duration::from_millis(900)).await;
    h.service.take().unwrap().shutdown().await;
    let started = tokio::time::Instant::now();
    let service = ChatConsole::start(
        Arc::clone(&h.core),
        options(&h.sim, Duration::from_millis(1500)),
    )
    .await
    .unwrap();
    h.events = service.subscribe();
    h.service = Some(service);
    assert_eq!(h.view(&s.id).await.state, State::Waiting);
    h.until("the resumed timeout", |e| {
        matches!(e, ChatEvent::WaitTimeout { .. })
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "resumed, not restarted"
    );
    // After a restart the pending question is still there: keep waiting is allowed.
    h.service.take().unwrap().shutdown().await;
    let service = ChatConsole::start(
        Arc::clone(&h.core),
        options(&h.sim, Duration::from_secs(60)),
    )
    .await
    .unwrap();
    h.service = Some(service);
    assert_eq!(
        h.svc().keep_waiting(&h.actor, &s.id).await.unwrap().state,
        State::Waiting
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_answers_never_reach_the_database_and_feedback_is_stored() {
    let mut h = Harness::start(json!({"agent_joins": false})).await;
    let s = h.new_session().await;
    let out = h
        .svc()
        .send(&h.actor, &s.id, "reset my password")
        .await
        .unwrap();
    let answer_id = out[1].id;
    h.svc().feedback(&h.actor, answer_id, false).unwrap();
    h.svc().feedback(&h.actor, answer_id, true).unwrap();
    assert_eq!(
        h.svc()
            .feedback(&h.actor, out[0].id, true)
            .unwrap_err()
            .code,
        ErrorCode::ChatRefused
    );
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    let secret = "Tr0ub4dor&3-secure-answer";
    let sent = h
        .svc()
        .reply(
            &h.actor,
            &s.id,
            ChatReply {
                value: secret.into(),
                label: secret.into(),
                typed: true,
                secure: true,
            },
        )
        .await
        .unwrap();
    assert!(!sent[0].text.as_ref().unwrap().contains("Tr0ub4dor"));
    h.until_agent_text("still in the queue").await;
    let view = h.view(&s.id).await;
    let answer = view.messages.iter().find(|m| m.id == answer_id).unwrap();
    assert_eq!(answer.feedback, Some(Feedback::Helpful));
    h.svc().cancel(&h.actor, &s.id).await.unwrap();
    h.service.take().unwrap().shutdown().await;
    let hits = dir_contains(h.dir.path(), secret.as_bytes());
    assert!(hits.is_empty(), "secure answer found in {hits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_html_is_sanitized_and_attachments_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    let actor = core.actor(None, None).unwrap();
    core.save_chat_settings(
        &actor,
        ChatSettingsPatch {
            webhook_secret: Some(SecretString::from("known-webhook-secret-0042".to_owned())),
            ..ChatSettingsPatch::default()
        },
    )
    .unwrap();
    let sim = supportbot_sim::start(SimConfig {
        incidents: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let service = ChatConsole::start(Arc::clone(&core), options(&sim, Duration::from_secs(60)))
        .await
        .unwrap();
    sim_put(
        &sim,
        "/sim/va",
        json!({"step_delay_ms": 20, "agent_replies_before_end": 0}),
    )
    .await;
    let mut events = service.subscribe();
    let s = service.new_session(&actor, None).await.unwrap();
    service.escalate(&actor, &s.id).await.unwrap();
    let conn =
        supportbot_core::store::open_connection(&dir.path().join(supportbot_core::store::DB_FILE))
            .unwrap();
    let client_session: String = conn
        .query_row(
            "SELECT client_session_id FROM chat_sessions WHERE id = ?1",
            [s.id.parse::<i64>().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    let status = reqwest::Client::new()
        .post(service.webhook_url())
        .bearer_auth("known-webhook-secret-0042")
        .json(&json!({"clientSessionId": client_session, "agentChat": true, "body": [
            {"uiType": "OutputHtml", "value": "<p onclick=\"x()\">Steps <a href=\"javascript:alert(1)\">here</a></p><script>steal()</script><img src=\"https://i.example/a.png\">"}
        ]}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let html = loop {
        match tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ChatEvent::Message { message, .. }
                if message
                    .body
                    .first()
                    .is_some_and(|b| b["uiType"] == "OutputHtml") =>
            {
                break message.body[0]["value"].as_str().unwrap().to_owned();
            }
            _ => {}
        }
    };
    assert!(!html.contains("script") && !html.contains("onclick") && !html.contains("javascript"));
    assert!(html.contains("Steps") && html.contains("https://i.example/a.png"));
    // Attachments: too large is a validation error; a small file is served to the VA.
    let b64 = base64::engine::general_purpose::STANDARD;
    let big = b64.encode(vec![0u8; 10 * 1024 * 1024 + 1]);
    let err = service
        .attach(&actor, &s.id, "big.bin", "application/octet-stream", &big)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.fields.contains_key("file"));
    let out = service
        .attach(
            &actor,
            &s.id,
            "log.pdf",
            "application/pdf",
            &b64.encode(b"%PDF-1.4 test"),
        )
        .await
        .unwrap();
    let a = out[0].attachment.as_ref().unwrap();
    assert_eq!((a.file_name.as_str(), a.size), ("log.pdf", 13));
    let url: String = conn
        .query_row(
            "SELECT json_extract(body, '$.attachment.url') FROM chat_messages WHERE id = ?1",
            [out[0].id],
            |r| r.get(0),
        )
        .unwrap();
    let served = reqwest::get(&url).await.unwrap();
    assert_eq!(served.headers()["content-type"], "application/pdf");
    assert_eq!(served.bytes().await.unwrap().as_ref(), b"%PDF-1.4 test");
    let guessed = url.rsplit_once('/').unwrap().0.to_owned() + "/" + &"0".repeat(64);
    assert_eq!(reqwest::get(&guessed).await.unwrap().status().as_u16(), 404);
}

#[test]
fn settings_validate_and_need_the_right_role() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with(dir.path(), StorePreference::File).unwrap();
    let admin = core.actor(None, None).unwrap();
    let defaults = core.chat_settings(&admin).unwrap();
    assert_eq!(defaults.values.mode, Mode::Simulated);
    assert_eq!(defaults.values.wait_timeout_s, 180);
    let err = core
        .save_chat_settings(
            &admin,
            ChatSettingsPatch {
                mode: Some(Mode::Real),
                instance_url: Some("not a url".into()),
                wait_timeout_s: Some(1),
                tunnel: Some(true),
                ..ChatSettingsPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
    for field in ["instance_url", "wait_timeout_s", "public_hosts"] {
        assert!(err.fields.contains_key(field), "{field}: {err:?}");
    }
    let saved = core
        .save_chat_settings(
            &admin,
            ChatSettingsPatch {
                instance_url: Some("https://acme.service-now.com/".into()),
                va_token: Some(SecretString::from("tok".to_owned())),
                auth: Some(ChatAuth::Token),
                ..ChatSettingsPatch::default()
            },
        )
        .unwrap();
    assert_eq!(
        saved.values.instance_url.as_deref(),
        Some("https://acme.service-now.com")
    );
    assert!(saved.secrets.va_token);
    // An empty secret removes it.
    let cleared = core
        .save_chat_settings(
            &admin,
            ChatSettingsPatch {
                va_token: Some(SecretString::from(String::new())),
                ..ChatSettingsPatch::default()
            },
        )
        .unwrap();
    assert!(!cleared.secrets.va_token);
    common::protect_admin(&core, &admin);
    core.add_profile(&admin, "Vic", Role::Viewer, None).unwrap();
    let viewer = core.actor(Some("Vic"), None).unwrap();
    assert!(core.chat_settings(&viewer).is_ok());
    assert_eq!(
        core.save_chat_settings(&viewer, ChatSettingsPatch::default())
            .unwrap_err()
            .code,
        ErrorCode::PermissionDenied
    );
}

/// With the model: a small knowledge base synced from the simulator gives cited answers; an
/// unhelpful rating and a declined question become knowledge gaps and reach the agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cited_answers_declines_gaps_and_the_agents_context_from_a_synced_knowledge_base() {
    let mut h = Harness::start(json!({})).await;
    if let Err(e) = h.core.knowledge_base().embedder() {
        if std::env::var("SUPPORTBOT_REQUIRE_MODEL").as_deref() == Ok("1") {
            panic!("the embedding model is required: {e}");
        }
        eprintln!("skipping: {e}");
        return;
    }
    let sim = supportbot_sim::start(SimConfig {
        incidents: 60,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let id = h
        .core
        .add_integration(&h.actor, common::sim_basic("Sim", &sim.base_url()))
        .unwrap()
        .id;
    let report = h
        .core
        .sync(&h.actor, id, SyncOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(report.error.is_none(), "{report:?}");
    let s = h.new_session().await;
    let question: String = {
        let conn = supportbot_core::store::open_connection(
            &h.dir.path().join(supportbot_core::store::DB_FILE),
        )
        .unwrap();
        conn.query_row("SELECT short_description FROM incidents LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let out = h.svc().send(&h.actor, &s.id, &question).await.unwrap();
    let answer = out[1].answer.as_ref().unwrap();
    assert!(!answer.citations.is_empty(), "{answer:?}");
    assert!(answer.citations.iter().all(|c| c.number.starts_with("INC")));
    assert!((0.0..=1.0).contains(&answer.confidence));
    assert!(
        !answer.low_confidence,
        "asking an incident's own title is a confident match: {answer:?}"
    );
    assert!(answer.text.contains(&answer.citations[0].number));
    h.until(
        "the answer event",
        |e| matches!(e, ChatEvent::Message { message, .. } if message.answer.is_some()),
    )
    .await;
    // The user says it did not help, then asks what no incident answers: the bot declines.
    let cited: Vec<String> = answer.citations.iter().map(|c| c.number.clone()).collect();
    h.svc().feedback(&h.actor, out[1].id, false).unwrap();
    let out = h
        .svc()
        .send(&h.actor, &s.id, "what is on the canteen menu today")
        .await
        .unwrap();
    let declined = out[1].answer.as_ref().unwrap();
    assert!(
        declined.declined && declined.citations.is_empty(),
        "{declined:?}"
    );
    // Both show as knowledge gaps, and the statistics count them.
    let gaps = h.core.kb_gaps(&h.actor).unwrap();
    let reasons: Vec<(&str, &str)> = gaps
        .iter()
        .map(|g| (g.question.as_str(), g.reason.as_str()))
        .collect();
    assert!(
        reasons.contains(&("what is on the canteen menu today", "declined")),
        "{gaps:?}"
    );
    assert!(
        reasons.contains(&(question.as_str(), "unhelpful")),
        "{gaps:?}"
    );
    // The agent receives why the bot failed: the incidents it showed and its last outcome.
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    h.until_agent_text("couldn't find this in past incidents")
        .await;
    let requests = sim_get(&h.sim, "/sim/va/requests").await["result"]
        .as_array()
        .unwrap()
        .clone();
    let agent = requests.iter().find(|r| r["action"] == "AGENT").unwrap();
    let context = &agent["context_variables"];
    assert_eq!(context["cited_incidents"], cited.join(", "), "{context}");
    assert_eq!(context["bot_outcome"], "declined");
    let transcript = context["request_transcript"].as_str().unwrap();
    assert!(
        transcript.contains(&format!("User: {question}")),
        "{transcript}"
    );
    assert!(transcript.contains("User: what is on the canteen menu today"));
    assert!(transcript.chars().count() <= 2000);
    let stats = h.core.chat_stats(&h.actor).unwrap();
    assert_eq!(
        (
            stats.answered,
            stats.declined,
            stats.helpful,
            stats.unhelpful,
            stats.handed_off
        ),
        (1, 1, 0, 1, 1),
        "{stats:?}"
    );
    assert_eq!(
        stats.deflection_rate,
        Some(0.0),
        "no answer was rated helpful"
    );
}

// ---- failed webhook deliveries through the service ------------------------------------------

/// The webhook secret the instance is configured with: it stays the same across restarts
/// (without one, simulated mode draws a new secret per run, and the VA's retries of a payload
/// still carry the old one).
const KNOWN_SECRET: &str = "retry-test-webhook-secret";

impl Harness {
    /// Like `start_with`, with a configured webhook secret, so the service can restart on the
    /// same port and the VA's retries are accepted.
    async fn start_configured(knobs: Value, wait: Duration) -> Harness {
        Harness::launch(knobs, wait, Some(KNOWN_SECRET)).await
    }

    /// The app quits: the webhook stops answering (connections are refused). Returns its port.
    async fn stop(&mut self) -> u16 {
        let service = self.service.take().unwrap();
        let port: u16 = service
            .webhook_url()
            .trim_start_matches("http://127.0.0.1:")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        service.shutdown().await;
        port
    }

    /// The app starts again on the same data directory and webhook port.
    async fn start_again(&mut self, port: u16, wait: Duration) {
        drop(std::mem::replace(
            &mut self.core,
            Arc::new(Core::open_with(self.dir.path(), StorePreference::File).unwrap()),
        ));
        let service = ChatConsole::start(
            Arc::clone(&self.core),
            ChatOptions {
                webhook_port: Some(port),
                ..options(&self.sim, wait)
            },
        )
        .await
        .unwrap();
        assert!(service.webhook_url().contains(&format!(":{port}/")));
        self.events = service.subscribe();
        self.service = Some(service);
    }

    /// The simulator's delivery attempts for one request: (attempt, outcome, delivered).
    async fn attempts(&self, request_id: &str) -> Vec<(u64, String, bool)> {
        sim_get(&self.sim, "/sim/va/deliveries").await["result"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["request_id"] == request_id)
            .map(|d| {
                (
                    d["attempt"].as_u64().unwrap(),
                    d["outcome"].as_str().unwrap().to_owned(),
                    d["delivered"].as_bool().unwrap(),
                )
            })
            .collect()
    }

    /// The request id of the latest request the simulator received.
    async fn last_request_id(&self) -> String {
        let requests = sim_get(&self.sim, "/sim/va/requests").await;
        requests["result"].as_array().unwrap().last().unwrap()["request_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Messages of the transcript whose body or text contains `needle`.
fn count_containing(session: &ChatSession, needle: &str) -> usize {
    session
        .messages
        .iter()
        .filter(|m| {
            m.text.as_deref().is_some_and(|t| t.contains(needle))
                || m.body.iter().any(|b| b.to_string().contains(needle))
        })
        .count()
}

/// A configured harness (`knobs` for the VA's retries) chatting with the agent, who from now on
/// takes `step_ms` per step (typing, answer); `text` is sent. The session and `text`'s request
/// id.
async fn agent_answers_slowly(
    knobs: Value,
    wait: Duration,
    step_ms: u64,
    text: &str,
) -> (Harness, ChatSession, String) {
    let mut knobs = knobs;
    knobs["agent_replies_before_end"] = json!(0);
    let mut h = Harness::start_configured(knobs, wait).await;
    let s = h.new_session().await;
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    h.until_agent_text("Hi, this is Beth").await;
    h.drain(Duration::from_millis(300)).await;
    sim_put(&h.sim, "/sim/va", json!({"step_delay_ms": step_ms})).await;
    h.svc().send(&h.actor, &s.id, text).await.unwrap();
    let request_id = h.last_request_id().await;
    (h, s, request_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reply_sent_while_the_app_is_down_arrives_once_and_in_order_after_a_restart() {
    let wait = Duration::from_secs(60);
    // The agent takes a while to answer; the app quits meanwhile.
    let (mut h, s, request_id) = agent_answers_slowly(
        json!({"max_retries": 8, "retry_delay_ms": 150}),
        wait,
        300,
        "my vpn drops while the app restarts",
    )
    .await;
    let port = h.stop().await;
    // The typing indicator (after 300 ms) fails and is retried while the app is down
    // (150, 300, 450 ms … apart); the answer waits behind it in the conversation's queue.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let failed = h.attempts(&request_id).await;
    assert!(
        !failed.is_empty()
            && failed
                .iter()
                .all(|(_, outcome, delivered)| !delivered && outcome.starts_with("error")),
        "{failed:?}"
    );
    h.start_again(port, wait).await;
    h.until_agent_text("my vpn drops while the app restarts")
        .await;
    h.drain(Duration::from_millis(400)).await;
    let view = h.view(&s.id).await;
    assert_eq!(view.state, State::Connected);
    // Exactly once, after the user's message and the greeting.
    assert_eq!(
        count_containing(&view, "You wrote: \\\"my vpn drops"),
        1,
        "{view:#?}"
    );
    let position = |needle: &str| {
        view.messages
            .iter()
            .position(|m| {
                m.text.as_deref().is_some_and(|t| t.contains(needle))
                    || m.body.iter().any(|b| b.to_string().contains(needle))
            })
            .unwrap()
    };
    assert!(position("Hi, this is Beth") < position("my vpn drops while"));
    assert!(position("my vpn drops while") < position("You wrote: \\\"my vpn drops"));
    let seqs: Vec<i64> = view.messages.iter().map(|m| m.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
    // The simulator's view: refused attempts, then each payload (typing, answer) delivered
    // once.
    let attempts = h.attempts(&request_id).await;
    let delivered = attempts.iter().filter(|(_, _, d)| *d).count();
    assert_eq!(delivered, 2, "{attempts:#?}");
    assert!(
        attempts.iter().any(|(n, _, d)| *d && *n > 1),
        "{attempts:#?}"
    );
    let stored: i64 = supportbot_core::store::open_connection(
        &h.dir.path().join(supportbot_core::store::DB_FILE),
    )
    .unwrap()
    .query_row(
        "SELECT COUNT(*) FROM chat_messages WHERE request_id = ?1 AND kind = 'va_payload'",
        [&request_id],
        |r| r.get(0),
    )
    .unwrap();
    assert_eq!(stored, 2, "typing and answer, each stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_va_gives_up_delivering_the_wait_times_out_and_the_next_message_reconnects() {
    let wait = Duration::from_millis(1500);
    let mut h = Harness::start_configured(
        json!({"agent_replies_before_end": 0, "max_retries": 1, "retry_delay_ms": 50,
               "step_delay_ms": 400}),
        wait,
    )
    .await;
    let s = h.new_session().await;
    h.svc().escalate(&h.actor, &s.id).await.unwrap();
    let request_id = h.last_request_id().await;
    // The queue payload arrives; the app quits before the agent joins (400 ms later).
    h.until_spinner().await;
    let port = h.stop().await;
    // Joined, typing and greeting: each tried twice (one retry), refused, and dropped.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let attempts = h.attempts(&request_id).await;
        if attempts.iter().filter(|(_, _, d)| !d).count() >= 6 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the VA kept retrying: {attempts:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let attempts = h.attempts(&request_id).await;
    assert_eq!(
        attempts.iter().filter(|(_, _, d)| *d).count(),
        1,
        "only the queue payload got through: {attempts:#?}"
    );
    assert!(attempts.iter().all(|(n, _, _)| *n <= 2), "{attempts:#?}");
    let sim_phase = sim_get(&h.sim, "/sim/va/conversations").await["result"][0]["phase"].clone();
    assert_eq!(sim_phase, "agent", "the instance thinks the agent joined");
    // Back up: the app still waits (it never heard of the agent), and its wait timer asks the
    // user, as for an agent who never came.
    h.start_again(port, wait).await;
    assert_eq!(h.view(&s.id).await.state, State::Waiting);
    h.until("the wait timeout", |e| {
        matches!(e, ChatEvent::WaitTimeout { .. })
    })
    .await;
    let view = h.view(&s.id).await;
    assert!(view
        .notice
        .as_deref()
        .unwrap()
        .contains("No agent has joined yet"));
    assert_eq!(count_containing(&view, "Hi, this is Beth"), 0);
    // The user writes anyway: it reaches the agent, whose answer says connected.
    h.svc()
        .send(&h.actor, &s.id, "is anyone there?")
        .await
        .unwrap();
    h.until_state(State::Connected).await;
    h.until_agent_text("is anyone there?").await;
    assert_eq!(h.state_in_db(&s.id), "connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_the_app_cannot_store_is_answered_500_and_stored_on_the_retry() {
    // The agent types, then answers a second later.
    let (mut h, s, request_id) = agent_answers_slowly(
        json!({"max_retries": 3, "retry_delay_ms": 200}),
        Duration::from_secs(60),
        1000,
        "the printer is on fire",
    )
    .await;
    h.until("typing", |e| {
        matches!(e, ChatEvent::Typing { on: true, .. })
    })
    .await;
    // Meanwhile another process holds the database's write lock for longer than the webhook
    // waits for it (the busy timeout), so storing the answer fails: 500, and the VA retries.
    let db = h.dir.path().join(supportbot_core::store::DB_FILE);
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = supportbot_core::store::open_connection(&db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        conn.execute_batch("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !h
        .attempts(&request_id)
        .await
        .iter()
        .any(|(_, outcome, _)| outcome == "HTTP 500")
    {
        assert!(tokio::time::Instant::now() < deadline, "no 500");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    h.until_agent_text("You wrote: \\\"the printer is on fire")
        .await;
    h.drain(Duration::from_millis(400)).await;
    let attempts = h.attempts(&request_id).await;
    // Typing is delivered first; the answer is refused (500, or on a loaded machine a connection
    // the webhook's own timeouts cut while the lock is held) until the lock is gone, then
    // accepted exactly once.
    let (typing, answer) = attempts.split_first().expect("attempts");
    assert_eq!(
        (typing.0, typing.1.as_str(), typing.2),
        (1, "HTTP 200", true),
        "{attempts:#?}"
    );
    let (last, refused) = answer.split_last().expect("the answer's attempts");
    assert_eq!(
        (last.1.as_str(), last.2),
        ("HTTP 200", true),
        "{attempts:#?}"
    );
    assert!(
        refused.iter().any(|(_, o, _)| o == "HTTP 500") && refused.iter().all(|(_, _, d)| !d),
        "refused while the lock was held, then accepted on a retry: {attempts:#?}"
    );
    let view = h.view(&s.id).await;
    assert_eq!(view.state, State::Connected);
    assert_eq!(count_containing(&view, "You wrote: \\\"the printer"), 1);
    let published = h
        .seen
        .iter()
        .filter(|e| {
            matches!(e, ChatEvent::Message { message, .. }
            if message.body.iter().any(|b| b.to_string().contains("You wrote: \\\"the printer")))
        })
        .count();
    assert_eq!(published, 1, "published once");
}

/// A chat session belongs to the profile that started it: another profile can neither resume
/// it, nor read it through a command, nor act on it or its messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_session_belongs_to_the_profile_that_started_it() {
    let h = Harness::start(json!({})).await;
    let s = h.new_session().await;
    let answered = h
        .svc()
        .send(&h.actor, &s.id, "My VPN keeps dropping")
        .await
        .unwrap();
    let bot_message = answered[1].id;
    common::protect_admin(&h.core, &h.actor);
    h.core
        .add_profile(&h.actor, "Vic", Role::Viewer, None)
        .unwrap();
    let vic = h.core.actor(Some("Vic"), None).unwrap();

    let denied = |r: Result<(), supportbot_core::CoreError>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.code, ErrorCode::PermissionDenied, "{what}: {e:?}");
        assert!(
            !e.message.contains("VPN"),
            "{what}: no content in the error"
        );
    };
    let svc = h.svc();
    denied(svc.send(&vic, &s.id, "hi").await.map(drop), "send");
    denied(
        svc.reply(
            &vic,
            &s.id,
            ChatReply {
                value: "x".into(),
                label: "x".into(),
                typed: true,
                secure: false,
            },
        )
        .await
        .map(drop),
        "reply",
    );
    denied(svc.start_conversation(&vic, &s.id).await.map(drop), "start");
    denied(
        svc.switch_topic(&vic, &s.id, "vpn").await.map(drop),
        "switch",
    );
    denied(
        svc.attach(&vic, &s.id, "a.txt", "text/plain", "aGk=")
            .await
            .map(drop),
        "attach",
    );
    denied(svc.escalate(&vic, &s.id).await.map(drop), "escalate");
    denied(svc.cancel(&vic, &s.id).await.map(drop), "cancel");
    denied(svc.end(&vic, &s.id).await.map(drop), "end");
    denied(
        svc.keep_waiting(&vic, &s.id).await.map(drop),
        "keep waiting",
    );
    denied(svc.feedback(&vic, bot_message, true), "feedback");
    assert!(!h.core.chat_session_is_own(&vic, &s.id).unwrap());
    assert!(h.core.chat_session_is_own(&h.actor, &s.id).unwrap());

    // Vic's "current session" is a new one of Vic's, not the admin's open one.
    let vics = svc.session(&vic).await.unwrap();
    assert_ne!(vics.id, s.id);
    assert!(vics
        .messages
        .iter()
        .all(|m| m.text.as_deref() != Some("My VPN keeps dropping")));
    // The owner still has it.
    assert_eq!(svc.session(&h.actor).await.unwrap().id, s.id);
    svc.feedback(&h.actor, bot_message, true).unwrap();
}
