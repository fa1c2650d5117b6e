//! What the simulated Virtual Agent and live agent say: the payloads of the VA reference's and
//! the LiveChat spec's examples, and how a conversation moves from bot to agent to the end.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Conversation, Phase, Step, VaConfig};

const GREETING: &str = "Hi, I'm your Virtual Agent. Let me know how I can help you today.";
/// The value of the "Live Agent Support." topic (the VA reference's examples use this sys_id).
const LIVE_AGENT_TOPIC: &str = "ce2ee85053130010cf8cddeeff7b12bf";
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
            {"label": "Live Agent Support.", "value": LIVE_AGENT_TOPIC, "enabled": true}
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
pub(super) fn respond(
    config: &VaConfig,
    conversation: &mut Conversation,
    request: &Value,
) -> Vec<Step> {
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
        )
        // Picking the greeting's "Live Agent Support." topic sends its value, as on an instance,
        // where that topic transfers to a live agent.
        || utterance == LIVE_AGENT_TOPIC;
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
            // What the bot already tried, so the user is not asked to repeat it.
            let context = |key: &str| {
                request
                    .pointer(&format!("/contextVariables/{key}"))
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
            };
            let tried = match (context("bot_outcome"), context("cited_incidents")) {
                (Some("declined"), _) => {
                    " The bot couldn't find this in past incidents, so let's work it out together."
                        .to_owned()
                }
                (Some("unhelpful"), Some(cited)) => {
                    format!(" I see the bot's suggestion ({cited}) didn't help.")
                }
                (_, Some(cited)) => format!(" I can see the bot pointed you to {cited}."),
                _ => String::new(),
            };
            let greeting = match (topic, text.trim()) {
                (Some(topic), _) => format!(
                    "Hi, this is {first_name}. I see you need help with {topic}.{tried} How can I help?"
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

/// The shapes the product documents show, for clients that must handle them: the LiveChat
/// handoff spec's elements carry their text in `message` only, the VA reference's bot-to-bot
/// pickers arrive with every option `enabled: false`, and the spec's `clientVariables`
/// (tenantId, botId, conversationId) come with every payload.
pub(super) fn documents_shape(payload: &mut Value, request: &Value) {
    if let Some(body) = payload["body"].as_array_mut() {
        for element in body {
            let ui_type = element["uiType"].as_str().unwrap_or_default().to_owned();
            if ui_type == "OutputText" {
                if let Some(text) = element.as_object_mut().and_then(|e| e.remove("value")) {
                    element["message"] = text;
                }
            }
            if let Some(options) = element["options"].as_array_mut() {
                for option in options {
                    option["enabled"] = Value::Bool(false);
                }
            }
        }
    }
    let mut variables = request["clientVariables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    variables
        .entry("tenantId")
        .or_insert_with(|| json!("sim-tenant"));
    if let Some(bot) = request["nowBotId"].as_str() {
        variables.entry("botId").or_insert_with(|| json!(bot));
    }
    variables
        .entry("conversationId")
        .or_insert_with(|| request["clientSessionId"].clone());
    payload["clientVariables"] = Value::Object(variables);
}
