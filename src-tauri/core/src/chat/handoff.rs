//! The LiveChat handoff spec's state machine as a pure type: no I/O, no clock. The caller
//! feeds it events (the user's commands, VA payloads classified by [`Signal::of`], timer expiry,
//! send failures) and carries out the [`Effect`]s it returns.
//!
//! ```text
//!             RequestAgent / Signal::Waiting
//!   active ─────────────────────────────────▶ waiting ──Connected──▶ connected
//!     ▲                                        │  ▲  │                 │   │
//!     │ UserMessage / RequestAgent (again)     │  └──┘ WaitTimedOut →  │   │ UserEnd (END_CONVERSATION),
//!     │                                        │       ask, KeepWaiting│   │ Completed
//!  completed │ fail │ cancelled ◀─────────────────────────────────────────┘
//!               ▲        ▲ UserCancel / Cancelled
//!               └ Fail (no agents, errors): back to the bot with a visible notice
//! ```
//!
//! Rules taken from the LiveChat handoff spec's special cases and the reference notes:
//! - a. Agent taking control (`status: connected`, `takeControl`, `agentChat`): connected, the
//!   agent is in control; from waiting this also connects.
//! - b. Session completion (`status: completed` / `completed: true` / EndConversation /
//!   SwitchToVirtualAgent): completed.
//! - c. Errors (`status: fail`, `error_message`, e.g. "No agents are available to chat"): fail,
//!   and the conversation falls back to the bot with the error shown.
//! - `takeControl` alone (the VA Bot Integration API reference: the VA hands control back to the primary bot): completed.
//! - Connection errors after the client's retries: fail, back to the bot, user told.
//! - The VA bot's greeting (START_CONVERSATION) and topic switch (SWITCH) are the user's to ask
//!   for while the bot has the conversation (active, or after a handoff ended, which makes it
//!   active again); while waiting for or chatting with an agent they are refused with a reason
//!   (cancel the wait or end the chat first), so a click cannot drop the user out of the queue.
//! - Terminal states ignore late status signals (a stale delivery never reopens a chat); a new
//!   message or a new agent request starts over.

use serde::Serialize;

use super::va::model::{ActionKind, VaPayload, WireStatus};

/// The LiveChat handoff spec's status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Talking to the bot.
    Active,
    /// An agent was requested; in the queue.
    Waiting,
    Connected,
    Completed,
    Fail,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Waiting => "waiting",
            State::Connected => "connected",
            State::Completed => "completed",
            State::Fail => "fail",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        Some(match text {
            "active" => State::Active,
            "waiting" => State::Waiting,
            "connected" => State::Connected,
            "completed" => State::Completed,
            "fail" => State::Fail,
            "cancelled" => State::Cancelled,
            _ => return None,
        })
    }

    /// The handoff is over; the bot has the conversation again.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Completed | State::Fail | State::Cancelled)
    }
}

/// What a VA payload means for the handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Content only (bot or agent messages, typing indicators).
    Message,
    /// Queued for an agent (status waiting, StartSpinner, SubscribeToSupportQueue).
    Waiting,
    /// An agent is chatting (status connected, `agentChat`, SwitchToLiveAgent).
    Connected,
    /// Special case a: the agent took control.
    AgentTookControl,
    /// The VA reference's `takeControl` without an agent: control returns to the primary bot.
    ControlReturned,
    /// Special case b.
    Completed,
    /// Special case c; the error message when the payload gives one.
    Failed(Option<String>),
    Cancelled,
}

impl Signal {
    /// Classifies a payload. Precedence: failure, then cancellation, completion, control and
    /// connection, then waiting, because one payload can carry several hints (the sim's closing
    /// payload has `completed` and SwitchToVirtualAgent together; a waiting payload may already
    /// hold an agent's greeting in sync mode).
    pub fn of(payload: &VaPayload) -> Signal {
        let has = |kind: ActionKind| payload.actions().any(|a| a.action == kind);
        let status = payload.status.as_ref();
        if status == Some(&WireStatus::Fail) || payload.error_message.is_some() {
            return Signal::Failed(payload.error_message.clone());
        }
        if status == Some(&WireStatus::Cancelled) {
            return Signal::Cancelled;
        }
        if status == Some(&WireStatus::Completed)
            || payload.completed
            || has(ActionKind::EndConversation)
            || has(ActionKind::SwitchToVirtualAgent)
        {
            return Signal::Completed;
        }
        let agent = payload.agent_chat
            || status == Some(&WireStatus::Connected)
            || has(ActionKind::SwitchToLiveAgent);
        if payload.take_control || has(ActionKind::AgentControl) {
            return if agent {
                Signal::AgentTookControl
            } else {
                Signal::ControlReturned
            };
        }
        if agent {
            return Signal::Connected;
        }
        if status == Some(&WireStatus::Waiting)
            || has(ActionKind::StartSpinner)
            || has(ActionKind::SubscribeToSupportQueue)
        {
            return Signal::Waiting;
        }
        Signal::Message
    }
}

/// Everything that can happen to a handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// "Talk to a human" or typing "agent".
    RequestAgent,
    /// The user sends a message (text, option, attachment).
    UserMessage,
    /// The user asks the VA bot for its greeting topic (`action: START_CONVERSATION`).
    StartVaConversation,
    /// The user switches the VA bot's topic (`action: SWITCH`, `intent.id`).
    SwitchTopic,
    /// The user gives up waiting.
    UserCancel,
    /// The user ends the agent chat.
    UserEnd,
    /// The wait timer ran out with no agent.
    WaitTimedOut,
    /// The user chose to keep waiting after a timeout.
    KeepWaiting,
    /// A VA payload arrived.
    Inbound(Signal),
    /// A request to the VA failed after the client's retries; the error code.
    SendFailed(String),
}

/// What the caller must do after a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// POST `action: AGENT` (with the transcript in contextVariables).
    SendAgentRequest,
    /// POST `action: END_CONVERSATION`.
    SendEndConversation,
    /// Forward the user's message to the VA (agent or VA bot), not to the local bot.
    ForwardToVa,
    /// Answer the user's message with the local knowledge-base bot.
    AnswerLocally,
    StartWaitTimer,
    StopWaitTimer,
    /// Offer "keep waiting" or "cancel".
    AskKeepWaiting,
    /// Show a notice in the conversation.
    Show(Notice),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    AgentJoined,
    AgentTookControl,
    ControlReturned,
    ChatEnded,
    /// Waiting cancelled by the user.
    Cancelled,
    /// No agent could take the chat or the VA reported an error: the bot answers again.
    FellBackToBot {
        reason: Option<String>,
    },
    /// Still no agent after the wait timeout.
    StillWaiting,
}

/// A refused event, with the reason to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub state: State,
    pub event: Event,
    pub reason: &'static str,
}

/// The handoff of one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handoff {
    pub state: State,
    /// The agent took control (special case a); cleared when the chat ends.
    pub agent_in_control: bool,
    /// The wait timed out and the user has not yet chosen.
    pub awaiting_keep_waiting: bool,
}

impl Default for Handoff {
    fn default() -> Self {
        Handoff::new(State::Active)
    }
}

impl Handoff {
    pub fn new(state: State) -> Handoff {
        Handoff {
            state,
            agent_in_control: false,
            awaiting_keep_waiting: false,
        }
    }

    /// Applies an event: the new state is stored and the effects returned, or the event is
    /// refused and nothing changes.
    pub fn apply(&mut self, event: Event) -> Result<Vec<Effect>, Refused> {
        use Effect::*;
        use State::*;
        let refuse = |reason| {
            Err(Refused {
                state: self.state,
                event: event.clone(),
                reason,
            })
        };
        let (next, effects) = match (self.state, &event) {
            // The user.
            (Active, Event::RequestAgent) => (Waiting, vec![SendAgentRequest, StartWaitTimer]),
            (Completed | Fail | Cancelled, Event::RequestAgent) => {
                (Waiting, vec![SendAgentRequest, StartWaitTimer])
            }
            (Waiting, Event::RequestAgent) => return refuse("already waiting for an agent"),
            (Connected, Event::RequestAgent) => return refuse("already connected to an agent"),
            (Active, Event::UserMessage) => (Active, vec![AnswerLocally]),
            (Completed | Fail | Cancelled, Event::UserMessage) => (Active, vec![AnswerLocally]),
            (Waiting | Connected, Event::UserMessage) => (self.state, vec![ForwardToVa]),
            // The VA bot's own conversation (the VA reference's START_CONVERSATION and SWITCH) runs beside
            // the local bot, which keeps answering typed text. While a live agent is wanted or
            // present the conversation belongs to the agent: starting the VA bot's greeting or
            // switching its topic there would pull the user out of the queue or away from the
            // agent (the simulator, like an instance, moves the conversation back to the bot).
            (Active | Completed | Fail | Cancelled, Event::StartVaConversation | Event::SwitchTopic) => {
                (Active, vec![ForwardToVa])
            }
            (Waiting, Event::StartVaConversation) => {
                return refuse("you are waiting for a live agent: cancel the wait before starting a Virtual Agent conversation")
            }
            (Connected, Event::StartVaConversation) => {
                return refuse("you are chatting with a live agent: end that chat before starting a Virtual Agent conversation")
            }
            (Waiting, Event::SwitchTopic) => {
                return refuse("you are waiting for a live agent: cancel the wait before switching the Virtual Agent's topic")
            }
            (Connected, Event::SwitchTopic) => {
                return refuse("you are chatting with a live agent: end that chat before switching the Virtual Agent's topic")
            }
            (Waiting, Event::UserCancel) => (
                Cancelled,
                vec![SendEndConversation, StopWaitTimer, Show(Notice::Cancelled)],
            ),
            (_, Event::UserCancel) => return refuse("only a wait for an agent can be cancelled"),
            (Connected, Event::UserEnd) => (
                Completed,
                vec![SendEndConversation, Show(Notice::ChatEnded)],
            ),
            (_, Event::UserEnd) => return refuse("only a chat with an agent can be ended"),
            // The wait timer.
            (Waiting, Event::WaitTimedOut) => {
                (Waiting, vec![AskKeepWaiting, Show(Notice::StillWaiting)])
            }
            (_, Event::WaitTimedOut) => return refuse("not waiting for an agent"),
            (Waiting, Event::KeepWaiting) if self.awaiting_keep_waiting => {
                (Waiting, vec![StartWaitTimer])
            }
            (_, Event::KeepWaiting) => return refuse("there is no timed-out wait to continue"),
            // The VA.
            (_, Event::Inbound(Signal::Message)) => (self.state, vec![]),
            (s @ (Completed | Fail | Cancelled), Event::Inbound(_)) => (s, vec![]),
            (Active | Waiting, Event::Inbound(Signal::Waiting)) => (Waiting, vec![]),
            // A transfer to another agent puts the user back in the queue.
            (Connected, Event::Inbound(Signal::Waiting)) => (Waiting, vec![StartWaitTimer]),
            (Active | Waiting, Event::Inbound(Signal::Connected)) => {
                (Connected, vec![StopWaitTimer, Show(Notice::AgentJoined)])
            }
            (Connected, Event::Inbound(Signal::Connected)) => (Connected, vec![]),
            (Active | Waiting, Event::Inbound(Signal::AgentTookControl)) => (
                Connected,
                vec![
                    StopWaitTimer,
                    Show(Notice::AgentJoined),
                    Show(Notice::AgentTookControl),
                ],
            ),
            (Connected, Event::Inbound(Signal::AgentTookControl)) => {
                (Connected, vec![Show(Notice::AgentTookControl)])
            }
            (Active, Event::Inbound(Signal::ControlReturned)) => (Active, vec![]),
            (Waiting | Connected, Event::Inbound(Signal::ControlReturned)) => (
                Completed,
                vec![StopWaitTimer, Show(Notice::ControlReturned)],
            ),
            (_, Event::Inbound(Signal::Completed)) => {
                (Completed, vec![StopWaitTimer, Show(Notice::ChatEnded)])
            }
            (_, Event::Inbound(Signal::Cancelled)) => {
                (Cancelled, vec![StopWaitTimer, Show(Notice::Cancelled)])
            }
            (_, Event::Inbound(Signal::Failed(reason))) => (
                Fail,
                vec![
                    StopWaitTimer,
                    Show(Notice::FellBackToBot {
                        reason: reason.clone(),
                    }),
                ],
            ),
            // Send failures after retries.
            (Active, Event::SendFailed(_)) => (Active, vec![]),
            (Waiting | Connected, Event::SendFailed(code)) => (
                Fail,
                vec![
                    StopWaitTimer,
                    Show(Notice::FellBackToBot {
                        reason: Some(code.clone()),
                    }),
                ],
            ),
            (s, Event::SendFailed(_)) => (s, vec![]),
        };
        if next != Waiting || self.state != Waiting {
            // Leaving or entering the queue clears a pending keep-waiting question; staying
            // keeps it unless the user answered it.
            self.awaiting_keep_waiting = false;
        }
        if matches!(event, Event::KeepWaiting) {
            self.awaiting_keep_waiting = false;
        }
        if matches!(event, Event::WaitTimedOut) {
            self.awaiting_keep_waiting = true;
        }
        match (&event, next) {
            (Event::Inbound(Signal::AgentTookControl), Connected) => self.agent_in_control = true,
            (_, Connected) => {}
            _ => self.agent_in_control = false,
        }
        self.state = next;
        Ok(effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use Effect::*;
    use State::*;

    fn inbound(signal: Signal) -> Event {
        Event::Inbound(signal)
    }

    /// (from, event, Some((to, effects)) or None when refused)
    type Row = (State, Event, Option<(State, Vec<Effect>)>);

    #[test]
    fn every_transition() {
        let failed = || Signal::Failed(Some("No agents are available to chat".into()));
        let fell_back = |r: &str| {
            Show(Notice::FellBackToBot {
                reason: Some(r.into()),
            })
        };
        let rows: Vec<Row> = vec![
            // Active
            (
                Active,
                Event::RequestAgent,
                Some((Waiting, vec![SendAgentRequest, StartWaitTimer])),
            ),
            (
                Active,
                Event::UserMessage,
                Some((Active, vec![AnswerLocally])),
            ),
            (
                Active,
                Event::StartVaConversation,
                Some((Active, vec![ForwardToVa])),
            ),
            (
                Active,
                Event::SwitchTopic,
                Some((Active, vec![ForwardToVa])),
            ),
            (Active, Event::UserCancel, None),
            (Active, Event::UserEnd, None),
            (Active, Event::WaitTimedOut, None),
            (Active, Event::KeepWaiting, None),
            (Active, inbound(Signal::Message), Some((Active, vec![]))),
            (Active, inbound(Signal::Waiting), Some((Waiting, vec![]))),
            (
                Active,
                inbound(Signal::Connected),
                Some((Connected, vec![StopWaitTimer, Show(Notice::AgentJoined)])),
            ),
            (
                Active,
                inbound(Signal::ControlReturned),
                Some((Active, vec![])),
            ),
            (
                Active,
                inbound(Signal::Completed),
                Some((Completed, vec![StopWaitTimer, Show(Notice::ChatEnded)])),
            ),
            (
                Active,
                inbound(failed()),
                Some((
                    Fail,
                    vec![StopWaitTimer, fell_back("No agents are available to chat")],
                )),
            ),
            (
                Active,
                Event::SendFailed("unreachable".into()),
                Some((Active, vec![])),
            ),
            // Waiting
            (Waiting, Event::RequestAgent, None),
            (
                Waiting,
                Event::UserMessage,
                Some((Waiting, vec![ForwardToVa])),
            ),
            (
                Waiting,
                Event::UserCancel,
                Some((
                    Cancelled,
                    vec![SendEndConversation, StopWaitTimer, Show(Notice::Cancelled)],
                )),
            ),
            (Waiting, Event::StartVaConversation, None),
            (Waiting, Event::SwitchTopic, None),
            (Waiting, Event::UserEnd, None),
            (
                Waiting,
                Event::WaitTimedOut,
                Some((Waiting, vec![AskKeepWaiting, Show(Notice::StillWaiting)])),
            ),
            (Waiting, Event::KeepWaiting, None),
            (Waiting, inbound(Signal::Message), Some((Waiting, vec![]))),
            (Waiting, inbound(Signal::Waiting), Some((Waiting, vec![]))),
            (
                Waiting,
                inbound(Signal::Connected),
                Some((Connected, vec![StopWaitTimer, Show(Notice::AgentJoined)])),
            ),
            (
                Waiting,
                inbound(Signal::AgentTookControl),
                Some((
                    Connected,
                    vec![
                        StopWaitTimer,
                        Show(Notice::AgentJoined),
                        Show(Notice::AgentTookControl),
                    ],
                )),
            ),
            (
                Waiting,
                inbound(Signal::ControlReturned),
                Some((
                    Completed,
                    vec![StopWaitTimer, Show(Notice::ControlReturned)],
                )),
            ),
            (
                Waiting,
                inbound(Signal::Completed),
                Some((Completed, vec![StopWaitTimer, Show(Notice::ChatEnded)])),
            ),
            (
                Waiting,
                inbound(Signal::Cancelled),
                Some((Cancelled, vec![StopWaitTimer, Show(Notice::Cancelled)])),
            ),
            (
                Waiting,
                inbound(failed()),
                Some((
                    Fail,
                    vec![StopWaitTimer, fell_back("No agents are available to chat")],
                )),
            ),
            (
                Waiting,
                Event::SendFailed("unreachable".into()),
                Some((Fail, vec![StopWaitTimer, fell_back("unreachable")])),
            ),
            // Connected
            (Connected, Event::RequestAgent, None),
            (
                Connected,
                Event::UserMessage,
                Some((Connected, vec![ForwardToVa])),
            ),
            (Connected, Event::StartVaConversation, None),
            (Connected, Event::SwitchTopic, None),
            (Connected, Event::UserCancel, None),
            (
                Connected,
                Event::UserEnd,
                Some((
                    Completed,
                    vec![SendEndConversation, Show(Notice::ChatEnded)],
                )),
            ),
            (Connected, Event::WaitTimedOut, None),
            (Connected, Event::KeepWaiting, None),
            (
                Connected,
                inbound(Signal::Message),
                Some((Connected, vec![])),
            ),
            (
                Connected,
                inbound(Signal::Waiting),
                Some((Waiting, vec![StartWaitTimer])),
            ),
            (
                Connected,
                inbound(Signal::Connected),
                Some((Connected, vec![])),
            ),
            (
                Connected,
                inbound(Signal::AgentTookControl),
                Some((Connected, vec![Show(Notice::AgentTookControl)])),
            ),
            (
                Connected,
                inbound(Signal::ControlReturned),
                Some((
                    Completed,
                    vec![StopWaitTimer, Show(Notice::ControlReturned)],
                )),
            ),
            (
                Connected,
                inbound(Signal::Completed),
                Some((Completed, vec![StopWaitTimer, Show(Notice::ChatEnded)])),
            ),
            (
                Connected,
                inbound(Signal::Cancelled),
                Some((Cancelled, vec![StopWaitTimer, Show(Notice::Cancelled)])),
            ),
            (
                Connected,
                inbound(Signal::Failed(None)),
                Some((
                    Fail,
                    vec![StopWaitTimer, Show(Notice::FellBackToBot { reason: None })],
                )),
            ),
            (
                Connected,
                Event::SendFailed("server_error".into()),
                Some((Fail, vec![StopWaitTimer, fell_back("server_error")])),
            ),
        ];
        let mut rows = rows;
        // Terminal states behave alike.
        for terminal in [Completed, Fail, Cancelled] {
            rows.extend([
                (
                    terminal,
                    Event::RequestAgent,
                    Some((Waiting, vec![SendAgentRequest, StartWaitTimer])),
                ),
                (
                    terminal,
                    Event::UserMessage,
                    Some((Active, vec![AnswerLocally])),
                ),
                (
                    terminal,
                    Event::StartVaConversation,
                    Some((Active, vec![ForwardToVa])),
                ),
                (
                    terminal,
                    Event::SwitchTopic,
                    Some((Active, vec![ForwardToVa])),
                ),
                (terminal, Event::UserCancel, None),
                (terminal, Event::UserEnd, None),
                (terminal, Event::WaitTimedOut, None),
                (terminal, Event::KeepWaiting, None),
                (terminal, inbound(Signal::Message), Some((terminal, vec![]))),
                (terminal, inbound(Signal::Waiting), Some((terminal, vec![]))),
                (
                    terminal,
                    inbound(Signal::Connected),
                    Some((terminal, vec![])),
                ),
                (
                    terminal,
                    inbound(Signal::AgentTookControl),
                    Some((terminal, vec![])),
                ),
                (
                    terminal,
                    inbound(Signal::Completed),
                    Some((terminal, vec![])),
                ),
                (terminal, inbound(failed()), Some((terminal, vec![]))),
                (
                    terminal,
                    Event::SendFailed("x".into()),
                    Some((terminal, vec![])),
                ),
            ]);
        }
        for (from, event, expected) in rows {
            let mut handoff = Handoff::new(from);
            let result = handoff.apply(event.clone());
            match expected {
                Some((to, effects)) => {
                    assert_eq!(result, Ok(effects), "{from:?} + {event:?}");
                    assert_eq!(handoff.state, to, "{from:?} + {event:?}");
                }
                None => {
                    let refused =
                        result.expect_err(&format!("{from:?} + {event:?} should be refused"));
                    assert_eq!(refused.state, from);
                    assert_eq!(handoff.state, from, "a refused event changes nothing");
                }
            }
        }
    }

    #[test]
    fn agent_never_joins_then_keep_waiting_then_cancel() {
        let mut h = Handoff::default();
        h.apply(Event::RequestAgent).unwrap();
        assert_eq!(
            h.apply(Event::KeepWaiting).unwrap_err().reason,
            "there is no timed-out wait to continue"
        );
        h.apply(Event::WaitTimedOut).unwrap();
        assert!(h.awaiting_keep_waiting);
        assert_eq!(h.apply(Event::KeepWaiting).unwrap(), vec![StartWaitTimer]);
        assert!(!h.awaiting_keep_waiting);
        h.apply(Event::WaitTimedOut).unwrap();
        h.apply(Event::UserCancel).unwrap();
        assert_eq!(h.state, Cancelled);
        assert!(!h.awaiting_keep_waiting);
    }

    #[test]
    fn taking_control_is_remembered_until_the_chat_ends() {
        let mut h = Handoff::new(Waiting);
        h.apply(inbound(Signal::Connected)).unwrap();
        assert!(!h.agent_in_control);
        h.apply(inbound(Signal::AgentTookControl)).unwrap();
        assert!(h.agent_in_control);
        h.apply(Event::UserMessage).unwrap();
        assert!(h.agent_in_control);
        h.apply(Event::UserEnd).unwrap();
        assert!(!h.agent_in_control);
    }

    #[test]
    fn payloads_classify_as_seed_001_special_cases_say() {
        use crate::chat::va::model::payload_from_value;
        let cases = [
            // a. Agent taking control.
            (
                json!({"status": "connected", "takeControl": true, "agentChat": true,
                    "body": [{"uiType": "ActionMsg", "actionType": "AgentControl", "message": "Agent has taken control of the conversation"}]}),
                Signal::AgentTookControl,
            ),
            // b. Session completion.
            (
                json!({"status": "completed", "completed": true,
                    "body": [{"uiType": "ActionMsg", "actionType": "EndConversation", "message": "The conversation has ended"}]}),
                Signal::Completed,
            ),
            // c. Error handling.
            (
                json!({"status": "fail", "error_message": "No agents are available to chat",
                    "body": [{"uiType": "OutputText", "message": "We're sorry, but all agents are currently busy. Please try again later."}]}),
                Signal::Failed(Some("No agents are available to chat".into())),
            ),
            (
                json!({"body": [{"uiType": "ActionMsg", "actionType": "StartSpinner", "waitTime": "8 Seconds"}]}),
                Signal::Waiting,
            ),
            (json!({"status": "waiting"}), Signal::Waiting),
            (
                json!({"agentChat": true, "body": [{"uiType": "OutputText", "value": "Please stand by"}]}),
                Signal::Connected,
            ),
            (
                json!({"body": [{"uiType": "ActionMsg", "actionType": "SwitchToLiveAgent"}]}),
                Signal::Connected,
            ),
            (json!({"takeControl": true}), Signal::ControlReturned),
            (
                json!({"completed": true, "body": [{"uiType": "OutputText", "label": "File got"}]}),
                Signal::Completed,
            ),
            (
                json!({"body": [{"uiType": "ActionMsg", "actionType": "SwitchToVirtualAgent"}]}),
                Signal::Completed,
            ),
            (json!({"status": "cancelled"}), Signal::Cancelled),
            (
                json!({"body": [{"uiType": "OutputText", "value": "Hi"}], "score": 1}),
                Signal::Message,
            ),
        ];
        for (raw, expected) in cases {
            let payload = payload_from_value(&raw).unwrap();
            assert_eq!(Signal::of(&payload), expected, "{raw}");
        }
    }

    #[test]
    fn states_round_trip_their_names() {
        for s in [Active, Waiting, Connected, Completed, Fail, Cancelled] {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("closed"), None);
    }
}
