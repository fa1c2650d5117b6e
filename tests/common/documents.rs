//! What the fake instance answers in the documents tests: the product documents' own payloads
//! (`tests/fixtures/va/`), addressed to the app's conversation as an instance does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use super::fake_instance::fixture;

pub const BOT_ID: &str = "A85PWLERF";
pub const SECRET: &str = "documents-webhook-secret-0123456789";
pub const NOW_SESSION: &str = "now-7f3a";

/// A documents' payload addressed to the conversation of `request`, as the instance does: its
/// requestId and clientSessionId, its own conversation id, and the spec's clientVariables.
pub fn addressed(mut payload: Value, request: &Value) -> Value {
    payload["requestId"] = request["requestId"].clone();
    payload["clientSessionId"] = request["clientSessionId"].clone();
    payload["nowSessionId"] = json!(NOW_SESSION);
    payload["clientVariables"] =
        json!({"tenantId": "acme", "botId": BOT_ID, "conversationId": "conv-42"});
    payload
}

/// What the fake instance answers, all from the documents.
pub fn script(agent_requests: Arc<AtomicUsize>) -> impl Fn(&Value) -> Vec<Value> + Send + Sync {
    move |request| {
        let action = request["action"].as_str().unwrap_or_default();
        let text = request["message"]["text"].as_str().unwrap_or_default();
        let names: Vec<&str> = match action {
            "START_CONVERSATION" => vec!["va_01_start_conversation.response.json"],
            // A picker whose options are all `enabled: false`.
            "SWITCH" => vec!["va_02_agent_utterance.response.json"],
            "END_CONVERSATION" => vec![
                "va_11_attachment_pdf.response.json",
                "va_12_attachment_video.response.json",
                "va_13_attachment_image.response.json",
                "va_05_end_live_agent.response.json",
            ],
            "AGENT" => {
                if agent_requests.fetch_add(1, Ordering::SeqCst) == 0 {
                    let mut waiting = json!({"status": "waiting", "body": [
                        fixture("element_action_start_spinner.json"),
                        fixture("element_action_start_typing.json")]});
                    waiting = addressed(waiting, request);
                    // The LiveChat spec's agent messages carry their text in `message` only.
                    let greeting = addressed(
                        json!({"status": "connected", "agentChat": true, "body": [{
                            "uiType": "OutputText",
                            "message": "Hi, I'm Beth from IT. I can see your conversation with the bot.",
                            "agentInfo": {"agentName": "Beth Anglin", "sentFromAgent": true}}]}),
                        request,
                    );
                    return vec![
                        waiting,
                        greeting,
                        addressed(
                            fixture("livechat_agent_taking_control.response.json"),
                            request,
                        ),
                        addressed(
                            fixture("livechat_session_completion.response.json"),
                            request,
                        ),
                    ];
                }
                vec!["livechat_error_handling.response.json"]
            }
            _ if text == "Live Agent Support." => vec!["va_03_agent_selection.response.json"],
            _ if text == "show me everything" => vec![
                "va_04_end_virtual_agent.response.json",
                "va_06_hola_utterance.response.json",
                "va_07_bye_utterance.response.json",
                "va_08_switch_topic.response.json",
                "va_09_nlu_score.response.json",
                "va_10_agent_queue.response.json",
            ],
            _ => vec![],
        };
        names
            .into_iter()
            .map(|n| addressed(fixture(n), request))
            .collect()
    }
}
