//! `supportbot chat`: the chat console in a terminal. One line of stdin is one message (answered
//! by the knowledge-base bot, or sent to the agent during a handoff); `/agent`, `/end`, `/cancel`,
//! `/keep-waiting`, `/start` (the Virtual Agent's greeting: START_CONVERSATION), `/topic NAME`
//! (SWITCH to a topic), `/pick N|LABEL` (answer the latest picker, `typed: false`),
//! `/helpful` and `/unhelpful` (rate the bot's last answer) and `/quit` are commands (see
//! [`HELP`]). `supportbot chat stats` prints what the bot did with the questions it got. With `--json` every
//! event is one JSON line with a `type` (`bot_answer`, `state`, `agent_message`, `system`,
//! `typing`, `wait_timeout`, `error`). In simulated mode without `--sim-url` the simulator runs
//! in-process (its demo incidents are not synced: the bot answers from whatever knowledge base
//! the data directory holds, and says so when it is empty).

use std::collections::HashSet;
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use serde_json::{json, Value};
use supportbot_core::chat::sanitize::body_text;
use supportbot_core::chat::store::{Direction, Mode};
use supportbot_core::chat::va::model::{payload_from_value, Element};
use supportbot_core::chat::{ChatConsole, ChatEvent, ChatMessage, ChatOptions, ChatReply};
use supportbot_core::{Actor, CoreError, CoreResult, ErrorCode};
use supportbot_sim::SimConfig;
use tokio::sync::{broadcast, mpsc};

use super::output::terminal_safe;
use super::{Context, Output};

/// The console's commands, shown when it starts.
const HELP: &str = "Ask a question; /agent talks to a human, /end ends the agent chat, /cancel stops waiting, /keep-waiting, /start starts a Virtual Agent conversation, /topic NAME switches its topic, /pick N|LABEL answers the latest choice, /helpful or /unhelpful rates the last answer, /quit.";

/// After stdin closes, events are still printed until this long passes without one.
const QUIET_AFTER_EOF: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Simulated,
    Real,
}

#[derive(Debug, ClapArgs)]
pub struct ChatArgs {
    /// Chat with the built-in simulator's agent or a real ServiceNow instance (default: as in
    /// Settings > Chat).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Port of the webhook on 127.0.0.1 (0 picks a free one; default: as in Settings > Chat).
    #[arg(long, value_name = "N")]
    webhook_port: Option<u16>,
    /// Use a running simulator (e.g. `supportbot sim`) instead of starting one.
    #[arg(long, value_name = "URL")]
    sim_url: Option<String>,
    #[command(subcommand)]
    command: Option<ChatCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// What the bot did with the questions it got: answered, declined, rated helpful or
    /// unhelpful, handed off. Deflection counts only answers rated helpful.
    Stats,
}

pub(crate) fn run(ctx: &Context, args: ChatArgs) -> CoreResult<i32> {
    let actor = ctx.actor()?;
    if let Some(ChatCommand::Stats) = args.command {
        stats(ctx, &actor)?;
        return Ok(0);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CoreError::internal(format!("Cannot start the async runtime: {e}")))?;
    runtime.block_on(console(ctx, &actor, args))
}

async fn console(ctx: &Context, actor: &Actor, args: ChatArgs) -> CoreResult<i32> {
    let settings = ctx.core.chat_settings(actor)?;
    let mode = match args.mode {
        Some(ModeArg::Simulated) => Mode::Simulated,
        Some(ModeArg::Real) => Mode::Real,
        None => settings.values.mode,
    };
    // The simulator lives as long as the console; its VA is pointed at our webhook.
    let mut own_sim = None;
    let sim_url = match (args.sim_url, mode) {
        (Some(url), _) => Some(url),
        (None, Mode::Simulated) => {
            let sim = supportbot_sim::start(SimConfig::default())
                .await
                .map_err(|e| {
                    CoreError::new(
                        ErrorCode::Internal,
                        format!("The chat simulator could not start: {e}"),
                    )
                })?;
            let url = sim.base_url();
            own_sim = Some(sim);
            Some(url)
        }
        (None, Mode::Real) => None,
    };
    let service = ChatConsole::start(
        Arc::clone(&ctx.core),
        ChatOptions {
            sim_url,
            mode: Some(mode),
            webhook_port: args.webhook_port,
            ..ChatOptions::default()
        },
    )
    .await?;
    let mut events = service.subscribe();
    let session = service.new_session(actor, Some(mode)).await?;
    let mut printer = Printer {
        out: ctx.out,
        printed: HashSet::new(),
        choices: Vec::new(),
        last_answer: None,
    };
    printer.system(&format!(
        "Chat session {} ({}), webhook {}. {HELP}",
        session.id,
        mode.as_str(),
        service.webhook_url()
    ));
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    // Stdin blocks; a thread feeds it to the async loop.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdin_open = true;
    loop {
        tokio::select! {
            line = lines.recv(), if stdin_open => match line {
                Some(line) => {
                    if !handle(&service, actor, &session.id, line.trim(), &mut printer).await {
                        break;
                    }
                }
                None => stdin_open = false,
            },
            event = events.recv() => match event {
                Ok(e) => printer.event(&e),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    printer.system(&format!("({n} events skipped: the terminal is slower than the chat)"))
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tokio::time::sleep(QUIET_AFTER_EOF), if !stdin_open => break,
        }
    }
    service.shutdown().await;
    if let Some(sim) = own_sim {
        sim.shutdown().await;
    }
    Ok(0)
}

fn stats(ctx: &Context, actor: &Actor) -> CoreResult<()> {
    let s = ctx.core.chat_stats(actor)?;
    if ctx.out.is_json() {
        ctx.out.json(&s);
        return Ok(());
    }
    println!(
        "{} questions in {} chats: {} answered, {} declined",
        s.answered + s.declined,
        s.sessions,
        s.answered,
        s.declined
    );
    println!(
        "rated helpful {}, unhelpful {}; handed off to an agent in {} chats",
        s.helpful, s.unhelpful, s.handed_off
    );
    match s.deflection_rate {
        Some(rate) => println!(
            "resolved by the bot (rated helpful): {:.0} % of questions",
            rate * 100.0
        ),
        None => println!("No questions yet."),
    }
    Ok(())
}

/// Runs one line; false ends the console.
async fn handle(
    service: &ChatConsole,
    actor: &Actor,
    session: &str,
    line: &str,
    printer: &mut Printer,
) -> bool {
    if line.is_empty() {
        return true;
    }
    // Commands with an argument: the word decides, the rest is the argument as typed.
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w.to_ascii_lowercase(), r.trim()),
        None => (line.to_ascii_lowercase(), ""),
    };
    let result = match (word.as_str(), rest) {
        ("/quit" | "/exit", "") => return false,
        ("/agent", "") => service.escalate(actor, session).await.map(|s| s.messages),
        ("/end", "") => service.end(actor, session).await.map(|s| s.messages),
        ("/cancel", "") => service.cancel(actor, session).await.map(|s| s.messages),
        ("/keep-waiting" | "/keep_waiting", "") => service
            .keep_waiting(actor, session)
            .await
            .map(|s| s.messages),
        ("/start", "") => service.start_conversation(actor, session).await,
        // An empty topic reaches the service, which says what is missing.
        ("/topic" | "/switch", topic) => service.switch_topic(actor, session, topic).await,
        ("/helpful" | "/unhelpful", "") => match printer.last_answer {
            Some(id) => {
                let helpful = word == "/helpful";
                match service.feedback(actor, id, helpful) {
                    Ok(()) => {
                        printer.rated(id, helpful);
                        return true;
                    }
                    Err(e) => Err(e),
                }
            }
            None => Err(CoreError::new(
                ErrorCode::Validation,
                "There is no bot answer to rate yet: ask a question first.",
            )),
        },
        ("/pick", choice) => match printer.choice(choice) {
            Ok(reply) => service.reply(actor, session, reply).await,
            Err(e) => Err(e),
        },
        _ => service.send(actor, session, line).await,
    };
    match result {
        Ok(messages) => {
            for m in &messages {
                printer.message(m);
            }
        }
        Err(e) => printer.error(&e),
    }
    true
}

/// Prints each message once (it arrives both as a result and as an event).
struct Printer {
    out: Output,
    printed: HashSet<i64>,
    /// (value, label) of the latest picker an agent or the VA sent, for `/pick`.
    choices: Vec<(String, String)>,
    /// The bot's latest answer, for `/helpful` and `/unhelpful`.
    last_answer: Option<i64>,
}

impl Printer {
    /// `/pick N` (1-based) or `/pick LABEL` (any case) as the reply to the latest picker.
    fn choice(&self, choice: &str) -> CoreResult<ChatReply> {
        let invalid =
            |m: String| CoreError::new(ErrorCode::Validation, m.clone()).with_field("choice", m);
        if self.choices.is_empty() {
            return Err(invalid("There is no choice to answer yet.".into()));
        }
        let listed = || {
            self.choices
                .iter()
                .enumerate()
                .map(|(i, (_, label))| format!("{} {label}", i + 1))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let found = match choice.parse::<usize>() {
            Ok(n) if n >= 1 => self.choices.get(n - 1),
            Ok(_) => None,
            Err(_) => self
                .choices
                .iter()
                .find(|(_, label)| label.eq_ignore_ascii_case(choice.trim())),
        };
        let (value, label) = found
            .ok_or_else(|| invalid(format!("Pick one of: {}.", listed())))?
            .clone();
        Ok(ChatReply {
            value,
            label,
            typed: false,
            secure: false,
        })
    }

    /// Remembers the options of the latest picker in an agent or VA message, as the VA model
    /// reads them (a Boolean without options answers Yes = "true", No = "false").
    fn remember_choices(&mut self, body: &[Value]) {
        let Ok(payload) = payload_from_value(&json!({ "body": body })) else {
            return;
        };
        for item in &payload.body {
            if let Element::Picker(p) = &item.element {
                self.choices = p
                    .options
                    .iter()
                    .map(|o| (o.value.clone(), o.label.clone()))
                    .collect();
            }
        }
    }

    fn line(&self, value: Value, text: &str) {
        if self.out.is_json() {
            println!("{value}");
        } else if !text.is_empty() {
            println!("{text}");
        }
    }

    fn rated(&self, message_id: i64, helpful: bool) {
        let said = if helpful {
            "Thanks: the answer is marked helpful."
        } else {
            "Thanks: the answer is marked unhelpful and listed under Knowledge gaps. Type /agent to talk to a human."
        };
        self.line(
            json!({"type": "feedback", "message_id": message_id, "helpful": helpful, "text": said}),
            &format!("-- {said}"),
        );
    }

    fn system(&self, text: &str) {
        self.line(
            json!({"type": "system", "text": text}),
            &format!("-- {text}"),
        );
    }

    fn error(&self, e: &CoreError) {
        self.line(
            json!({"type": "error", "code": e.code.as_str(), "message": e.message}),
            &format!("error: {}", e.message),
        );
    }

    fn event(&mut self, event: &ChatEvent) {
        match event {
            ChatEvent::Message { message, .. } => self.message(message),
            ChatEvent::State {
                session_id,
                state,
                notice,
                agent,
                take_control,
                wait_time,
                reason,
                details,
            } => {
                let name = agent.as_ref().and_then(|a| a.name.clone());
                // The control indicator in words, as the window's header shows it.
                let said = match (state.as_str(), &name) {
                    ("connected", Some(n)) if *take_control => format!("{n} has taken control"),
                    ("connected", Some(n)) => format!("{n} connected"),
                    ("waiting", _) => match wait_time {
                        Some(w) => format!("waiting for an agent (estimated wait {w})"),
                        None => "waiting for an agent".into(),
                    },
                    ("fail", _) => match reason {
                        Some(r) => format!("handoff failed: {r}"),
                        None => "handoff failed".into(),
                    },
                    (s, _) => s.to_owned(),
                };
                self.line(
                    json!({"type": "state", "session_id": session_id, "state": state,
                           "notice": notice, "agent": name, "take_control": take_control,
                           "wait_time": wait_time, "reason": reason, "details": details}),
                    &terminal_safe(&format!("-- [{said}]")),
                )
            }
            ChatEvent::Typing { session_id, on } => self.line(
                json!({"type": "typing", "session_id": session_id, "on": on}),
                "",
            ),
            ChatEvent::WaitTimeout {
                session_id,
                waited_s,
            } => self.line(
                json!({"type": "wait_timeout", "session_id": session_id, "waited_s": waited_s}),
                &format!("-- No agent after {waited_s} s: type /keep-waiting or /cancel."),
            ),
        }
    }

    fn message(&mut self, m: &ChatMessage) {
        if m.from == Direction::User || !self.printed.insert(m.id) {
            return;
        }
        match (m.from, &m.answer) {
            (Direction::Bot, Some(a)) => {
                self.last_answer = Some(m.id);
                let numbers: Vec<&str> = a.citations.iter().map(|c| c.number.as_str()).collect();
                let mut text = format!("bot> {}", a.text);
                for c in &a.citations {
                    text.push_str(&format!(
                        "\n     [{}] {} ({:.2}) {}",
                        c.number, c.short_description, c.score, c.link
                    ));
                }
                if a.declined {
                    text.push_str("\n     (declined: type /agent to talk to a human)");
                } else {
                    text.push_str(&format!(
                        "\n     confidence {:.2} · /helpful or /unhelpful",
                        a.confidence
                    ));
                }
                let text = terminal_safe(&text);
                self.line(
                    json!({"type": "bot_answer", "session_id": m.session_id, "message_id": m.id,
                           "text": a.text, "resolution": a.resolution, "citations": numbers,
                           "sources": a.citations, "confidence": a.confidence,
                           "low_confidence": a.low_confidence, "declined": a.declined}),
                    &text,
                );
            }
            (Direction::System, _) | (Direction::Bot, None) => {
                let text = m.text.clone().unwrap_or_default();
                self.line(
                    json!({"type": "system", "session_id": m.session_id, "message_id": m.id, "text": text}),
                    &terminal_safe(&format!("-- {text}")),
                );
            }
            _ => {
                self.remember_choices(&m.body);
                let mut lines = body_text(&m.body);
                if lines.is_empty() {
                    lines.extend(m.text.clone());
                }
                if lines.is_empty() {
                    return;
                }
                let name = m.agent.as_ref().and_then(|a| a.name.clone());
                let who = name.clone().unwrap_or_else(|| "agent".into());
                self.line(
                    json!({"type": "agent_message", "session_id": m.session_id, "message_id": m.id,
                           "agent": name, "text": lines.join("\n"), "body": m.body}),
                    &terminal_safe(&format!("{who}> {}", lines.join("\n       "))),
                );
            }
        }
    }
}
