//! The chat against the product documents, not against our simulator: `supportbot chat --json
//! --mode real`, configured only by the LiveChat handoff spec's environment variables (plus
//! `SERVICENOW_BOT_ID`), talks to a fake instance written here that answers with the documents'
//! own payloads (`tests/fixtures/va/`, verbatim). Checked: the text of every example payload is
//! shown, the states they imply are reached (waiting with its wait time, connected, the agent
//! taking control, completed, fail with its reason), a picked `enabled:false` option's value is
//! sent, every request carries the fields the documents show, and the webhook refuses a payload
//! for another bot with 400.

use std::net::TcpListener;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use serde_json::{json, Value};

mod common;
use common::console::Console;
use common::documents::{script, BOT_ID, NOW_SESSION, SECRET};
use common::fake_instance::{fixture, fixture_names, post_json, FakeInstance};

/// The words a body element shows, as the documents put them: value, else message, else the
/// prompt or label.
fn element_text(e: &Value) -> Option<String> {
    ["value", "message", "promptMsg", "label"]
        .iter()
        .find_map(|k| e[*k].as_str().filter(|s| !s.is_empty()))
        .map(str::to_owned)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_documents_payloads_drive_the_chat_in_real_mode() {
    let dir = tempfile::tempdir().unwrap();
    let agents = Arc::new(AtomicUsize::new(0));
    let instance = FakeInstance::start(script(Arc::clone(&agents)));
    let port = free_port();
    let webhook = format!("http://127.0.0.1:{port}/api/v1/snowBot/receiveMessage");
    instance.set_webhook(&webhook, SECRET);
    let mut c = Console::start_with_env(
        dir.path(),
        &["--mode", "real", "--webhook-port", &port.to_string()],
        &[
            ("SERVICENOW_INSTANCE", instance.url.as_str()),
            ("SERVICENOW_CLIENT_ID", "doc-client"),
            ("SERVICENOW_CLIENT_SECRET", "doc-client-secret"),
            ("SERVICENOW_USERNAME", "svc.bot"),
            ("SERVICENOW_PASSWORD", "doc-password"),
            ("SERVICENOW_BOT_ID", BOT_ID),
            ("WEBHOOK_SECRET", SECRET),
        ],
    );
    c.until("the welcome", |v| v["type"] == "system");
    let said = |v: &Value, needle: &str| {
        v["type"] == "agent_message" && v["text"].as_str().unwrap_or_default().contains(needle)
    };

    // START_CONVERSATION: the greeting and the topic picker.
    c.ask("/start");
    c.answered("the greeting", |v| said(v, "Hi, I'm your Virtual Agent"));
    // SWITCH: a picker whose options are all enabled:false; the app picks anyway.
    c.ask("/topic agent");
    c.answered("the enabled:false picker", |v| {
        said(v, "I want to be sure I got this right")
    });
    c.ask("/pick 1");
    c.answered("connected", |v| {
        v["type"] == "state" && v["state"] == "connected"
    });
    c.answered("the stand-by text", |v| {
        said(v, "Please stand by while I connect you")
    });
    // Connected: typed text goes to the instance, which answers with the other examples.
    c.ask("show me everything");
    c.answered("the queue example", |v| {
        said(v, "I am sorry but I didn't understand")
    });
    c.ask("/end");
    c.answered("completed", |v| {
        v["type"] == "state" && v["state"] == "completed"
    });
    c.answered("the attachment replies", |v| said(v, "File got"));
    // All four replies to END_CONVERSATION, before the next request.
    while c
        .seen
        .iter()
        .rev()
        .take_while(|v| !(v["type"] == "state" && v["state"] == "connected"))
        .filter(|v| v["type"] == "agent_message")
        .count()
        < 4
    {
        c.until("the last reply to END_CONVERSATION", |v| {
            v["type"] == "agent_message"
        });
    }

    // AGENT: waiting with the instance's wait time, a message-only greeting, the agent taking
    // control, the session completion.
    c.ask("/agent");
    let waiting = c.answered("waiting", |v| {
        v["type"] == "state" && v["state"] == "waiting" && v["wait_time"].is_string()
    });
    assert_eq!(waiting["wait_time"], "8 Seconds");
    c.answered("the message-only greeting", |v| {
        said(v, "Hi, I'm Beth from IT")
    });
    let control = c.answered("the agent taking control", |v| {
        v["type"] == "state" && v["take_control"] == true
    });
    assert_eq!(control["state"], "connected");
    assert_eq!(control["agent"], "Beth Anglin");
    assert_eq!(control["details"]["client_variables"]["botId"], BOT_ID);
    assert_eq!(control["details"]["now_session_id"], NOW_SESSION);
    c.answered("the control text", |v| {
        said(v, "Agent has taken control of the conversation")
    });
    c.answered("the completion text", |v| {
        said(v, "The conversation has ended")
    });
    c.answered("completed", |v| {
        v["type"] == "state" && v["state"] == "completed"
    });

    // AGENT again: no agents: fail, with the reason and the message-only text.
    c.ask("/agent");
    let failed = c.answered("fail", |v| v["type"] == "state" && v["state"] == "fail");
    assert_eq!(failed["reason"], "No agents are available to chat");
    c.answered("the busy text", |v| {
        said(v, "all agents are currently busy")
    });

    // The text of every response example of both documents was shown.
    let shown: Vec<String> = c
        .seen
        .iter()
        .filter(|v| v["type"] == "agent_message")
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    for name in fixture_names(".response.json") {
        for e in fixture(&name)["body"].as_array().unwrap() {
            let Some(text) = element_text(e) else {
                continue;
            };
            assert!(
                shown.iter().any(|s| s.contains(&text)),
                "{name}: {text:?} was not shown; shown: {shown:#?}"
            );
        }
    }

    // Every request carries what the documents show.
    let requests = instance.va_requests();
    assert!(requests.len() >= 7, "{requests:#?}");
    for r in &requests {
        for field in [
            "requestId",
            "clientSessionId",
            "userId",
            "emailId",
            "timezone",
        ] {
            assert!(r[field].is_string(), "{field} missing in {r}");
        }
        assert_eq!(r["nowBotId"], BOT_ID, "{r}");
        assert_eq!(r["silentMessage"], false, "{r}");
        assert!(r["timestamp"].is_number(), "{r}");
        assert!(r["message"]["typed"].is_boolean(), "{r}");
        assert!(r["message"]["clientMessageId"].is_string(), "{r}");
        assert!(r["emailId"].as_str().unwrap().contains('@'), "{r}");
    }
    // The instance's conversation id is echoed once it gave one.
    assert!(
        requests
            .iter()
            .skip(1)
            .any(|r| r["nowSessionId"] == NOW_SESSION),
        "{requests:#?}"
    );
    // The picked option: its value, typed false.
    let pick = requests
        .iter()
        .find(|r| r["message"]["text"] == "Live Agent Support.")
        .expect("the pick was sent");
    assert_eq!(pick["message"]["typed"], false);
    let agent = requests.iter().find(|r| r["action"] == "AGENT").unwrap();
    let context = agent["contextVariables"].as_object().unwrap();
    assert!(context.contains_key("request_topic") && context.contains_key("request_transcript"));
    // OAuth first, as the LiveChat spec's token generation.
    let token = instance
        .received()
        .into_iter()
        .find(|r| r.path == "/oauth_token.do")
        .expect("an OAuth token request");
    assert!(token.body.contains("grant_type=password"), "{}", token.body);

    // The webhook refuses a payload for another bot (400) and takes this bot's (200).
    let last = requests.last().unwrap();
    let reply = |bot: &str| {
        json!({"requestId": last["requestId"], "clientSessionId": last["clientSessionId"],
               "clientVariables": {"botId": bot}, "body": [{"uiType": "OutputText", "message": format!("for {bot}")}]})
    };
    assert_eq!(post_json(&webhook, SECRET, &reply("SOMEONE_ELSE")), 400);
    assert_eq!(post_json(&webhook, SECRET, &reply(BOT_ID)), 200);
    // Every delivery of the fake instance was accepted.
    assert!(
        instance.deliveries().iter().all(|code| *code == 200),
        "{:?}",
        instance.deliveries()
    );
    c.finish();
}

#[test]
fn every_fixture_parses_and_the_set_is_complete() {
    // 13 worked examples of the VA reference (request and response), the reference's two body
    // element examples, the LiveChat spec's AGENT request and its three special cases.
    assert_eq!(fixture_names(".request.json").len(), 14);
    assert_eq!(fixture_names(".response.json").len(), 16);
    assert_eq!(fixture_names(".json").len(), 32);
    for name in fixture_names(".json") {
        let v = fixture(&name);
        assert!(v.is_object(), "{name}");
    }
}

#[test]
fn a_plain_http_instance_from_the_environment_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start_with_env(
        dir.path(),
        &["--mode", "real", "--webhook-port", "0"],
        &[
            ("SERVICENOW_INSTANCE", "http://acme.service-now.example"),
            ("SERVICENOW_CLIENT_ID", "doc-client"),
            ("SERVICENOW_CLIENT_SECRET", "doc-client-secret"),
            ("SERVICENOW_USERNAME", "svc.bot"),
            ("SERVICENOW_PASSWORD", "doc-password"),
            ("WEBHOOK_SECRET", SECRET),
        ],
    );
    c.until("the welcome", |v| v["type"] == "system");
    c.ask("/agent");
    let refused = c.answered("the refusal", |v| v["type"] == "error");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("SERVICENOW_INSTANCE"), "{message}");
    assert!(message.contains("https://"), "{message}");
    c.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_sends_the_token_as_the_documents_show_it_and_enterprise_id_when_set() {
    use secrecy::SecretString;
    use supportbot_core::chat::va::model::OutMessage;
    use supportbot_core::chat::va::{Action, VaAuth, VaClient, VaClientConfig, VaRequest};
    use supportbot_core::connectors::RetryPolicy;

    let instance = FakeInstance::start(|_| Vec::new());
    let client = VaClient::new(VaClientConfig {
        instance_url: instance.url.clone(),
        auth: VaAuth::Token(SecretString::from("1234".to_owned())),
        retry: RetryPolicy::fast(),
    })
    .unwrap();
    let request = VaRequest {
        request_id: "req-1".into(),
        action: Some(Action::Agent),
        enterprise_id: Some("ServiceNow".into()),
        client_session_id: "sb-1".into(),
        message: OutMessage {
            text: Some("Live Agent Support.".into()),
            typed: true,
            ..OutMessage::default()
        },
        user_id: "beth.anglin".into(),
        ..VaRequest::default()
    };
    client.send(&request).await.unwrap();
    let sent = instance
        .received()
        .into_iter()
        .find(|r| r.path.ends_with("/bot/integration"))
        .unwrap();
    // The VA reference's `token` header, and the LiveChat spec's AGENT body `token`.
    assert_eq!(sent.headers.get("token").map(String::as_str), Some("1234"));
    let body = sent.json();
    assert_eq!(body["token"], "1234");
    assert_eq!(body["enterpriseId"], "ServiceNow");
    assert_eq!(body["action"], "AGENT");
}
