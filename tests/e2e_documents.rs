//! The chat page of the real window against a fake ServiceNow instance that answers only with
//! the product documents' payloads (`tests/fixtures/va/`): the app is configured by the LiveChat
//! handoff spec's environment variables, the webhook port is set in Settings > Chat (the
//! webhook restarts at once), and the visible text is checked: the Virtual Agent's greeting, a
//! picker whose options are all `enabled: false` (still pickable), the message-only agent
//! greeting, the AgentControl and completion texts, the fail payload's text, and the control
//! indicator at each step.

use std::net::TcpListener;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;

mod common;
use common::documents::{script, BOT_ID, SECRET};
use common::fake_instance::FakeInstance;
use common::window::*;

const CONTROL: &str = r#"[data-testid="chat-control"]"#;
const AGENT_TEXT: &str = r#"[data-testid="chat-log"]"#;

/// Waits until the fake instance has delivered `n` payloads.
async fn delivered(instance: &FakeInstance, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while instance.deliveries().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {:?} delivered",
            instance.deliveries()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_payloads_in_the_real_window() {
    let _one = ONE_WINDOW.lock().await;
    let agents = Arc::new(AtomicUsize::new(0));
    let instance = FakeInstance::start(script(agents));
    // Slow enough for the window to show every state the payloads imply.
    instance.set_pace(Duration::from_millis(1500));
    let Some((_driver, c, _data)) = open_app_with(
        false,
        &[
            ("SERVICENOW_INSTANCE", instance.url.as_str()),
            ("SERVICENOW_CLIENT_ID", "doc-client"),
            ("SERVICENOW_CLIENT_SECRET", "doc-client-secret"),
            ("SERVICENOW_USERNAME", "svc.bot"),
            ("SERVICENOW_PASSWORD", "doc-password"),
            ("SERVICENOW_BOT_ID", BOT_ID),
            ("WEBHOOK_SECRET", SECRET),
        ],
    )
    .await
    else {
        return;
    };

    // Settings > Chat: the variables in force are named; a new webhook port applies at once.
    click(&c, r#"[data-testid="nav-chat-settings"]"#).await;
    text_contains(&c, r#"[data-testid="chat-env"]"#, "SERVICENOW_INSTANCE").await;
    text_contains(&c, r#"[data-testid="chat-env"]"#, "SERVICENOW_BOT_ID").await;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    type_into(&c, "#cs-port", &port.to_string()).await;
    click(&c, r#"[data-testid="chat-settings-save"]"#).await;
    text_contains(
        &c,
        r#"[data-testid="chat-settings-saved"]"#,
        "webhook restarted",
    )
    .await;
    screenshot(&c, "e2e-chat-settings.png").await;
    instance.set_webhook(
        &format!("http://127.0.0.1:{port}/api/v1/snowBot/receiveMessage"),
        SECRET,
    );

    click(&c, r#"[data-testid="nav-chat"]"#).await;
    text_contains(&c, r#"[data-testid="chat-mode"]"#, "ServiceNow").await;
    text_contains(&c, CONTROL, "Bot").await;

    // START_CONVERSATION, then SWITCH to a picker whose options are all enabled:false.
    click(&c, r#"[data-testid="chat-va-start"]"#).await;
    text_contains(&c, AGENT_TEXT, "Hi, I'm your Virtual Agent").await;
    click(&c, r#"[data-testid="chat-va-switch"]"#).await;
    type_into(&c, r#"[data-testid="chat-topic"]"#, "agent").await;
    click(&c, r#"[data-testid="chat-topic-submit"]"#).await;
    text_contains(&c, AGENT_TEXT, "I want to be sure I got this right").await;
    let mut latest = Vec::new();
    for option in c
        .find_all(Locator::Css(r#"[data-testid="choice-option"]"#))
        .await
        .unwrap()
    {
        let label = option.text().await.unwrap();
        if [
            "Live Agent Support.",
            "Virtual Agent Capabilities.",
            "I want something else",
        ]
        .contains(&label.trim())
        {
            latest.push(option);
        }
    }
    // The greeting's topic picker also offers "Live Agent Support."; the reference's picker
    // is the last three.
    let picker = &latest[latest.len() - 3..];
    for option in picker {
        assert!(
            option.is_enabled().await.unwrap(),
            "enabled:false is still pickable"
        );
    }
    picker[0].click().await.unwrap();
    text_contains(&c, AGENT_TEXT, "Please stand by while I connect you").await;
    wait_attr(
        &c,
        r#"[data-testid="chat-state"]"#,
        "data-state",
        "connected",
    )
    .await;
    screenshot(&c, "e2e-documents-picker.png").await;
    click(&c, r#"[data-testid="chat-end"]"#).await;
    wait_attr(
        &c,
        r#"[data-testid="chat-state"]"#,
        "data-state",
        "completed",
    )
    .await;
    // START, SWITCH, the pick, and the four replies to END_CONVERSATION.
    delivered(&instance, 7).await;

    // AGENT: waiting with the instance's wait time, the message-only greeting, the agent
    // taking control, the completion.
    click(&c, r#"[data-testid="chat-escalate"]"#).await;
    text_contains(&c, CONTROL, "estimated wait 8 Seconds").await;
    text_contains(&c, AGENT_TEXT, "Hi, I'm Beth from IT").await;
    text_contains(&c, CONTROL, "Beth Anglin has taken control").await;
    text_contains(
        &c,
        AGENT_TEXT,
        "Agent has taken control of the conversation",
    )
    .await;
    screenshot(&c, "e2e-documents-control.png").await;
    text_contains(&c, AGENT_TEXT, "The conversation has ended").await;
    wait_attr(
        &c,
        r#"[data-testid="chat-state"]"#,
        "data-state",
        "completed",
    )
    .await;
    delivered(&instance, 11).await;

    // AGENT again: the fail payload's text and its reason in the indicator.
    click(&c, r#"[data-testid="chat-escalate"]"#).await;
    text_contains(
        &c,
        CONTROL,
        "Handoff failed: No agents are available to chat",
    )
    .await;
    text_contains(&c, AGENT_TEXT, "all agents are currently busy").await;
    // The session details show what the instance said about the conversation.
    click(&c, r#"[data-testid="chat-details"] summary"#).await;
    text_contains(&c, r#"[data-testid="chat-details"]"#, BOT_ID).await;
    screenshot(&c, "e2e-documents-fail.png").await;
}
