//! `supportbot chat --json` through the real binary: stdin lines in, one JSON event per line
//! out. The handoff runs against the simulator the console starts itself; the cited answer
//! needs a synced knowledge base and so the embedding model (skips without it unless
//! SUPPORTBOT_REQUIRE_MODEL=1).

mod common;
use common::console::{cli, Console};

#[test]
fn handoff_from_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(dir.path(), &["--mode", "simulated", "--webhook-port", "0"]);
    let hello = c.until("the welcome", |v| v["type"] == "system");
    assert!(hello["text"].as_str().unwrap().contains("/agent"));
    // Nothing synced: the bot says so, with no citations.
    c.say("My VPN disconnects every few minutes");
    let answer = c.until("the bot's answer", |v| v["type"] == "bot_answer");
    assert!(
        answer["text"].as_str().unwrap().contains("empty"),
        "{answer}"
    );
    assert_eq!(answer["citations"], serde_json::json!([]));
    assert_eq!(answer["low_confidence"], true);
    c.say("/agent");
    c.until_state("waiting");
    c.until_state("connected");
    let greeting = c.until("the agent's greeting", |v| {
        v["type"] == "agent_message" && v["text"].as_str().unwrap().contains("Hi, this is Beth")
    });
    assert_eq!(greeting["agent"], "Beth Anglin");
    c.say("It happens on the office wifi");
    c.until("the agent's answer", |v| {
        v["type"] == "agent_message" && v["text"].as_str().unwrap().contains("You wrote")
    });
    c.say("/end");
    c.until_state("completed");
    // A command that does not fit the state is an error event, not the end of the console.
    c.say("/cancel");
    let error = c.until("the refusal", |v| v["type"] == "error");
    assert_eq!(error["code"], "chat_refused");
    c.finish();
}

/// Real mode configured only by the LiveChat handoff spec's environment variables (nothing in Settings): OAuth
/// password grant against the instance (the simulator), the webhook secret from
/// WEBHOOK_SECRET, a handoff end to end; and none of those secrets lands in the data directory.
#[test]
fn real_mode_from_the_seed_001_environment() {
    let sim = common::Sim::start(10);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    const WEBHOOK_SECRET: &str = "env-webhook-secret-5521";
    // What an instance administrator sets up on the ServiceNow side: where replies go.
    sim.control(
        "PUT",
        "/sim/va",
        &serde_json::json!({
            "webhook_url": format!("http://127.0.0.1:{port}/api/v1/snowBot/receiveMessage"),
            "webhook_secret": WEBHOOK_SECRET,
        })
        .to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start_with_env(
        dir.path(),
        &["--mode", "real", "--webhook-port", &port.to_string()],
        &[
            ("SERVICENOW_INSTANCE", &sim.1),
            ("SERVICENOW_CLIENT_ID", "demo-client"),
            ("SERVICENOW_CLIENT_SECRET", "demo-secret"),
            ("SERVICENOW_USERNAME", "admin"),
            ("SERVICENOW_PASSWORD", "admin"),
            ("WEBHOOK_SECRET", WEBHOOK_SECRET),
        ],
    );
    c.until("the welcome", |v| v["type"] == "system");
    c.say("/agent");
    c.until_state("waiting");
    c.until_state("connected");
    c.until("the agent's greeting", |v| {
        v["type"] == "agent_message" && v["text"].as_str().unwrap().contains("Hi, this is Beth")
    });
    c.say("/end");
    c.until_state("completed");
    c.finish();
    for secret in ["demo-secret", WEBHOOK_SECRET] {
        let found = common::grep_dir(dir.path(), secret.as_bytes());
        assert!(found.is_empty(), "{secret} found in {found:?}");
    }
}

#[test]
fn virtual_agent_conversation_from_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(dir.path(), &["--mode", "simulated", "--webhook-port", "0"]);
    let hello = c.until("the welcome", |v| v["type"] == "system");
    let help = hello["text"].as_str().unwrap();
    assert!(
        help.contains("/start") && help.contains("/topic NAME"),
        "{help}"
    );
    // START_CONVERSATION: the greeting and the topic picker, as agent messages.
    c.say("/start");
    let greeting = c.until("the greeting", |v| {
        v["type"] == "agent_message"
            && v["text"]
                .as_str()
                .unwrap()
                .contains("Hi, I'm your Virtual Agent")
    });
    assert!(greeting["body"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["uiType"] == "TopicPickerControl"));
    assert!(greeting["text"]
        .as_str()
        .unwrap()
        .contains("Report an IT issue"));
    // Picking an option answers the VA (it does not know that topic and says so).
    c.say("/pick 1");
    c.until("the VA's answer to the pick", |v| {
        v["type"] == "agent_message" && v["text"].as_str().unwrap().contains("didn't understand")
    });
    c.say("/pick 9");
    let error = c.until("the bad pick", |v| v["type"] == "error");
    assert_eq!(error["code"], "validation");
    // SWITCH: the topic's input.
    c.say("/topic Reset my password");
    c.until("the topic's input", |v| {
        v["type"] == "agent_message"
            && v["text"]
                .as_str()
                .unwrap()
                .contains("Reset my password input:")
    });
    c.say("/topic");
    let error = c.until("the empty topic", |v| v["type"] == "error");
    assert_eq!(error["code"], "validation");
    // Typed text still goes to the knowledge-base bot.
    c.say("printer jam");
    c.until("the bot's answer", |v| v["type"] == "bot_answer");
    // With an agent, /start is refused and the console goes on.
    c.say("/agent");
    c.until_state("connected");
    c.say("/start");
    let error = c.until("the refusal", |v| v["type"] == "error");
    assert_eq!(error["code"], "chat_refused");
    assert!(error["message"].as_str().unwrap().contains("end that chat"));
    c.finish();
}

#[test]
fn cited_answers_after_a_sync() {
    let dir = tempfile::tempdir().unwrap();
    if !common::model_ready(dir.path()) {
        return;
    }
    let sim = common::Sim::start(80);
    let url = sim.1.clone();
    let run = |args: &[&str]| {
        let out = cli(dir.path())
            .args(args)
            .env("SUPPORTBOT_PASSWORD", "admin")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    };
    run(&[
        "integrations",
        "add",
        "--name",
        "Sim",
        "--kind",
        "servicenow",
        "--auth",
        "basic",
        "--url",
        &url,
        "--username",
        "admin",
        "--json",
    ]);
    run(&["sync", "Sim", "--json"]);
    let title: String =
        supportbot_core::store::open_connection(&dir.path().join(supportbot_core::store::DB_FILE))
            .ok()
            .and_then(|c| {
                c.query_row("SELECT short_description FROM incidents LIMIT 1", [], |r| {
                    r.get(0)
                })
                .ok()
            })
            .unwrap_or_else(|| "VPN disconnects every few minutes".into());
    let mut c = Console::start(dir.path(), &["--sim-url", &url]);
    c.say(&title);
    let answer = c.until("the bot's answer", |v| v["type"] == "bot_answer");
    let citations = answer["citations"].as_array().unwrap();
    assert!(!citations.is_empty(), "{answer}");
    assert!(citations
        .iter()
        .all(|n| n.as_str().unwrap().starts_with("INC")));
    assert_eq!(answer["sources"][0]["number"], citations[0]);
    let confidence = answer["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    c.finish();
}
