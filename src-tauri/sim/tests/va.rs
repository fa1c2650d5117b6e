//! The Virtual Agent Bot Integration API and the simulated live agent, observed by a test
//! webhook receiver that records every delivery (order, auth header, payload).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use supportbot_sim::{RunningSim, SimConfig};

const SECRET: &str = "hook-secret";
const ENDPOINT: &str = "/api/sn_va_as_service/bot/integration";

/// One delivery: its Authorization header and JSON body.
type Seen = (Option<String>, Value);

/// A webhook that records deliveries and can fail the first few.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
    fail_first: Arc<AtomicU32>,
}

impl Receiver {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let me = me.clone();
                async move {
                    if me.fail_first.load(Ordering::SeqCst) > 0 {
                        me.fail_first.fetch_sub(1, Ordering::SeqCst);
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap_or_default().to_owned());
                    me.seen.lock().unwrap().push((auth, body));
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// Waits (with a generous deadline, not a timing assertion) for `n` deliveries.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..1500 {
            let seen = self.seen.lock().unwrap().clone();
            if seen.len() >= n {
                return seen.into_iter().map(|(_, body)| body).collect();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "expected {n} deliveries, got {:?}",
            self.seen.lock().unwrap()
        );
    }

    fn auth_headers(&self) -> Vec<Option<String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(auth, _)| auth.clone())
            .collect()
    }
}

async fn setup(knobs: Value) -> (RunningSim, Receiver) {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sim = sim_with(SimConfig {
        incidents: 1,
        va_webhook: Some(url),
        va_webhook_secret: Some(SECRET.into()),
        ..SimConfig::default()
    })
    .await;
    let mut settings = json!({"step_delay_ms": 5, "retry_delay_ms": 10});
    settings
        .as_object_mut()
        .unwrap()
        .extend(knobs.as_object().unwrap().clone());
    let (status, body) = control(&sim, Method::PUT, "/sim/va", Some(settings)).await;
    assert_eq!(status, 200, "{body}");
    (sim, receiver)
}

async fn say(sim: &RunningSim, request: Value) -> (u16, Value) {
    let response = client()
        .post(format!("{}{ENDPOINT}", sim.base_url()))
        .header("token", "demo-va-token")
        .json(&request)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn message(request_id: &str, text: &str) -> Value {
    json!({"requestId": request_id, "clientSessionId": "S1", "userId": "beth.anglin", "emailId": "beth.anglin@example.com",
           "message": {"text": text, "typed": true, "clientMessageId": request_id}, "clientVariables": {"tenantId": "t1", "botId": "b1", "conversationId": "c1"}})
}

fn with_action(mut request: Value, action: &str) -> Value {
    request["action"] = json!(action);
    request
}

fn ui_types(payload: &Value) -> Vec<String> {
    payload["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["actionType"]
                .as_str()
                .or(b["uiType"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn start_conversation_greets_with_a_topic_picker_at_the_webhook() {
    let (sim, receiver) = setup(json!({})).await;
    let (status, ack) = say(&sim, with_action(message("r1", ""), "START_CONVERSATION")).await;
    assert_eq!((status, ack), (200, json!({"status": "success"})));
    let got = receiver.wait_for(1).await;
    let payload = &got[0];
    assert_eq!(payload["requestId"], "r1");
    assert_eq!(payload["clientSessionId"], "S1");
    assert_eq!(payload["userId"], "beth.anglin");
    assert_eq!(payload["clientVariables"]["conversationId"], "c1");
    assert_eq!(ui_types(payload), ["OutputText", "TopicPickerControl"]);
    assert!(payload["body"][1]["options"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["label"] == "Live Agent Support."));
    assert_eq!(receiver.auth_headers(), [Some(format!("Bearer {SECRET}"))]);
    sim.shutdown().await;
}

#[tokio::test]
async fn utterances_hi_hola_bye_and_unknown_text() {
    let (sim, receiver) = setup(json!({})).await;
    for (id, text) in [
        ("u1", "hi"),
        ("u2", "hola"),
        ("u3", "bye"),
        ("u4", "most popular choice"),
    ] {
        say(&sim, message(id, text)).await;
    }
    let got = receiver.wait_for(4).await;
    assert_eq!(ui_types(&got[0]), ["OutputText", "TopicPickerControl"]);
    assert_eq!(ui_types(&got[1]), ["OutputText", "TopicPickerControl"]);
    assert_eq!(ui_types(&got[2]), ["Picker"]);
    assert_eq!(got[2]["body"][0]["options"][0]["label"], "End conversation");
    assert_eq!(
        ui_types(&got[3]),
        ["OutputText", "OutputText", "TopicPickerControl"]
    );
    assert_eq!(got[3]["score"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn live_agent_joins_types_answers_what_the_user_wrote_and_ends_the_chat() {
    let (sim, receiver) = setup(json!({"agent_replies_before_end": 2})).await;
    say(
        &sim,
        with_action(message("a1", "Live Agent Support."), "AGENT"),
    )
    .await;
    let got = receiver.wait_for(4).await;
    assert_eq!(ui_types(&got[0]), ["OutputText", "StartSpinner"]);
    assert_eq!(got[0]["body"][1]["spinnerType"], "wait_time");
    assert_eq!(got[0]["body"][1]["waitTime"], "8 Seconds");
    assert!(got[0].get("agentChat").is_none());
    assert_eq!(ui_types(&got[1]), ["SwitchToLiveAgent", "System"]);
    assert_eq!(got[1]["agentChat"], true);
    assert_eq!(ui_types(&got[2]), ["StartTypingIndicator"]);
    assert_eq!(ui_types(&got[3]), ["EndTypingIndicator", "OutputText"]);
    assert_eq!(got[3]["body"][1]["agentInfo"]["agentName"], "Beth Anglin");
    assert_eq!(got[3]["body"][1]["agentInfo"]["sentFromAgent"], true);

    say(&sim, message("a2", "My VPN keeps dropping")).await;
    let got = receiver.wait_for(6).await;
    assert_eq!(ui_types(&got[4]), ["StartTypingIndicator"]);
    let answer = got[5]["body"][1]["value"].as_str().unwrap();
    assert!(
        answer.contains("My VPN keeps dropping") && answer.contains("VPN client"),
        "{answer}"
    );

    say(&sim, message("a3", "Still broken")).await;
    let got = receiver.wait_for(9).await;
    let last = &got[8];
    assert_eq!(last["completed"], true);
    assert!(ui_types(last).contains(&"EndConversation".to_owned()));
    assert!(got[..8].iter().all(|p| p.get("completed").is_none()));
    sim.shutdown().await;
}

#[tokio::test]
async fn agent_can_take_control() {
    let (sim, receiver) = setup(json!({"agent_takes_control": true})).await;
    say(&sim, message("c1", "agent")).await;
    let got = receiver.wait_for(5).await;
    assert_eq!(got[4]["takeControl"], true);
    assert_eq!(got[4]["agentChat"], true);
    assert_eq!(ui_types(&got[4]), ["AgentControl"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn no_agents_available_fails_with_a_message() {
    let (sim, receiver) = setup(json!({"agents_available": false})).await;
    say(
        &sim,
        with_action(message("n1", "Live Agent Support."), "AGENT"),
    )
    .await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0]["status"], "fail");
    assert_eq!(got[0]["error_message"], "No agents are available to chat");
    assert!(got[0]["body"][0]["value"]
        .as_str()
        .unwrap()
        .contains("busy"));
    sim.shutdown().await;
}

#[tokio::test]
async fn agent_that_never_joins_leaves_the_user_waiting() {
    let (sim, receiver) = setup(json!({"agent_joins": false})).await;
    say(
        &sim,
        with_action(message("w1", "Live Agent Support."), "AGENT"),
    )
    .await;
    say(&sim, message("w2", "hello?")).await;
    say(&sim, with_action(message("w3", ""), "END_CONVERSATION")).await;
    // Deliveries of one conversation are ordered, so nothing can still be pending after w3.
    let got = receiver.wait_for(3).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|p| p["requestId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["w1", "w2", "w3"]);
    assert!(got.iter().all(|p| p.get("agentChat").is_none()));
    assert_eq!(got[1]["status"], "waiting");
    sim.shutdown().await;
}

#[tokio::test]
async fn end_conversation_switch_and_attachments() {
    let (sim, receiver) = setup(json!({})).await;
    let mut switch = with_action(message("s1", ""), "SWITCH");
    switch["intent"] = json!({"id": "Saloon Vehicle"});
    say(&sim, switch).await;
    say(&sim, with_action(message("s2", ""), "END_CONVERSATION")).await;
    let mut file = message("s3", "");
    file["message"] = json!({"attachment": {"clientAttachmentId": "x1", "contentType": "application/pdf", "fileName": "MY PDF TEST", "url": "http://127.0.0.1/x.pdf"}});
    say(&sim, file).await;
    let got = receiver.wait_for(3).await;
    assert_eq!(got[0]["body"][0]["uiType"], "InputText");
    assert_eq!(got[0]["body"][0]["label"], "Saloon Vehicle input:");
    assert_eq!(
        got[1]["body"][0]["value"],
        "The conversation has ended. If you need help again, type hi."
    );
    assert!(
        got[1].get("completed").is_none(),
        "ending a bot conversation is not a completed agent chat"
    );
    assert!(got[2]["body"][0]["label"]
        .as_str()
        .unwrap()
        .starts_with("File got"));
    assert_eq!(got[2]["completed"], true);
    assert_eq!(got[2]["message"]["attachment"]["fileName"], "MY PDF TEST");
    sim.shutdown().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_logged() {
    let (sim, receiver) = setup(json!({"max_retries": 3})).await;
    receiver.fail_first.store(2, Ordering::SeqCst);
    say(&sim, message("f1", "hi")).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0]["requestId"], "f1");
    let (_, log) = control(&sim, Method::GET, "/sim/va/deliveries", None).await;
    let attempts: Vec<(u64, bool)> = log["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["delivered"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [(1, false), (2, false), (3, true)]);

    // Out of retries: logged as undelivered, and the next message still goes out.
    control(&sim, Method::DELETE, "/sim/va/deliveries", None).await;
    control(
        &sim,
        Method::PUT,
        "/sim/va",
        Some(json!({"max_retries": 1})),
    )
    .await;
    receiver.fail_first.store(2, Ordering::SeqCst);
    say(&sim, message("f2", "hi")).await;
    say(&sim, message("f3", "hi")).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1]["requestId"], "f3");
    let (_, log) = control(&sim, Method::GET, "/sim/va/deliveries", None).await;
    let f2: Vec<bool> = log["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["request_id"] == "f2")
        .map(|d| d["delivered"].as_bool().unwrap())
        .collect();
    assert_eq!(f2, [false, false]);
    sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_and_out_of_order_deliveries() {
    let (sim, receiver) = setup(json!({"duplicate_deliveries": true})).await;
    say(&sim, message("d1", "hi")).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[0], got[1]);
    sim.shutdown().await;

    let (sim, receiver) = setup(json!({"out_of_order": true})).await;
    say(&sim, message("o1", "agent")).await;
    let got = receiver.wait_for(4).await;
    assert_eq!(ui_types(&got[0]), ["EndTypingIndicator", "OutputText"]);
    assert_eq!(ui_types(&got[3]), ["OutputText", "StartSpinner"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn synchronous_mode_answers_in_the_response() {
    let (sim, receiver) = setup(json!({"mode": "sync"})).await;
    let (status, answer) = say(&sim, with_action(message("y1", ""), "START_CONVERSATION")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["requestId"], "y1");
    assert_eq!(ui_types(&answer), ["OutputText", "TopicPickerControl"]);
    // The agent's later messages still arrive at the webhook.
    let (_, answer) = say(&sim, message("y2", "agent")).await;
    assert_eq!(ui_types(&answer), ["OutputText", "StartSpinner"]);
    let got = receiver.wait_for(3).await;
    assert_eq!(got[0]["agentChat"], true);
    sim.shutdown().await;
}

#[tokio::test]
async fn inbound_auth_token_basic_oauth_and_signature() {
    let (sim, receiver) = setup(json!({})).await;
    let url = format!("{}{ENDPOINT}", sim.base_url());
    let body = message("z1", "hi");
    // No credentials at all: refused outright.
    let none = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    // A wrong token: "success", and nothing is ever delivered (as on a real instance).
    let wrong = client()
        .post(&url)
        .header("token", "nope")
        .json(&message("z0", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"status": "success"})
    );
    let basic = client()
        .post(&url)
        .basic_auth("admin", Some("admin"))
        .json(&message("z2", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 200);
    let token: Value = client()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("username", "admin"),
            ("password", "admin"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let oauth = client()
        .post(&url)
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&message("z3", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(oauth.status().as_u16(), 200);
    // x-b2b-signature: hex HmacSHA1 of the payload keyed with the VA token.
    let raw = serde_json::to_vec(&message("z4", "hi")).unwrap();
    let signature = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"demo-va-token").unwrap();
        mac.update(&raw);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let signed = client()
        .post(&url)
        .header("x-b2b-signature", signature)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 200);
    let missing_user = client()
        .post(&url)
        .header("token", "demo-va-token")
        .json(&json!({"message": {"text": "hi"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_user.status().as_u16(), 400);
    let got = receiver.wait_for(3).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|p| p["requestId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["z2", "z3", "z4"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn webhook_can_be_set_at_run_time() {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sim = sim(1).await;
    say(&sim, message("t0", "hi")).await;
    let (status, config) = control(
        &sim,
        Method::PUT,
        "/sim/va",
        Some(json!({"webhook_url": url, "webhook_secret": "later"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(config["webhook_secret"], "***");
    say(&sim, message("t1", "hi")).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0]["requestId"], "t1");
    assert_eq!(receiver.auth_headers(), [Some("Bearer later".to_owned())]);
    let (status, _) = control(
        &sim,
        Method::PUT,
        "/sim/va",
        Some(json!({"webhook_url": "ftp://x"})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, log) = control(&sim, Method::GET, "/sim/va/deliveries", None).await;
    assert_eq!(
        log["result"][0]["outcome"],
        "not delivered: no webhook configured"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn documents_shapes_put_text_in_message_and_disable_picker_options() {
    let (sim, receiver) = setup(json!({"documents_shapes": true})).await;
    let mut request = with_action(message("d1", ""), "START_CONVERSATION");
    request["nowBotId"] = json!("A85PWLERF");
    request.as_object_mut().unwrap().remove("clientVariables");
    say(&sim, request).await;
    let got = receiver.wait_for(1).await;
    let payload = &got[0];
    let greeting = &payload["body"][0];
    assert_eq!(greeting["uiType"], "OutputText");
    assert!(greeting.get("value").is_none(), "{greeting}");
    assert!(greeting["message"]
        .as_str()
        .unwrap()
        .starts_with("Hi, I'm your Virtual Agent"));
    let options = payload["body"][1]["options"].as_array().unwrap();
    assert!(!options.is_empty() && options.iter().all(|o| o["enabled"] == false));
    // The LiveChat spec's clientVariables: the bot the request named, the conversation.
    assert_eq!(payload["clientVariables"]["botId"], "A85PWLERF");
    assert_eq!(payload["clientVariables"]["conversationId"], "S1");
    assert!(payload["clientVariables"]["tenantId"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn picking_the_live_agent_topic_by_its_value_transfers() {
    let (sim, receiver) = setup(json!({"agent_replies_before_end": 0})).await;
    let mut pick = message("p1", "ce2ee85053130010cf8cddeeff7b12bf");
    pick["message"]["typed"] = json!(false);
    say(&sim, pick).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0]["status"], "waiting", "{}", got[0]);
    assert!(ui_types(&got[0]).contains(&"StartSpinner".to_owned()));
    sim.shutdown().await;
}
