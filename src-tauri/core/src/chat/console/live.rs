//! A session's in-memory state (`Live`): loaded from its row and transcript on first use, the
//! wait timer, the bookkeeping effects of the handoff state machine, and the session as the
//! window shows it.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::{
    parse_session_id, to_chat_message, AgentInfo, ChatEvent, ChatMessage, ChatSession,
    ChatSessionDetails, Inner,
};
use crate::chat::handoff::{Effect, Event, Handoff, Notice, State};
use crate::chat::store::{self as chat_store, Direction, Session};
use crate::clock::now_rfc3339;
use crate::error::{CoreError, CoreResult};

/// A session's in-memory state, rebuilt from SQLite on first use.
pub(super) struct Live {
    pub(super) handoff: Handoff,
    pub(super) agent: Option<AgentInfo>,
    pub(super) notice: Option<String>,
    /// When the current wait began (RFC 3339) and its anchor for the timer (ms).
    pub(super) waiting_since: Option<String>,
    pub(super) wait_anchor_ms: Option<i64>,
    pub(super) timer: Option<JoinHandle<()>>,
    pub(super) timer_generation: u64,
    /// Requests up to this `chat_requests` rowid belong to a handoff that ended before the user
    /// started over; their late replies may show but never move the state. In memory only: a
    /// restart forgets it, and replies that late are rare.
    pub(super) ended_requests_upto: Option<i64>,
    /// The wait the instance announced (StartSpinner `waitTime`) while waiting.
    pub(super) wait_time: Option<String>,
    /// Why the handoff failed, in state `fail`.
    pub(super) reason: Option<String>,
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.timer.take() {
            t.abort();
        }
    }
}

impl Notice {
    fn text(&self, agent: Option<&str>) -> String {
        match self {
            Notice::AgentJoined => match agent {
                Some(name) => format!("{name} joined the chat."),
                None => "An agent joined the chat.".into(),
            },
            Notice::AgentTookControl => "The agent has taken control of the conversation.".into(),
            Notice::ControlReturned => {
                "The agent handed the conversation back to the bot; it answers again.".into()
            }
            Notice::ChatEnded => {
                "The conversation with the agent has ended. The bot answers again.".into()
            }
            Notice::Cancelled => "You stopped waiting for an agent. The bot answers again.".into(),
            Notice::FellBackToBot { reason } => format!(
                "{}. The bot answers again; you can ask for an agent later.",
                reason
                    .as_deref()
                    .map(|r| r.trim_end_matches('.').to_owned())
                    .unwrap_or_else(|| "The handoff to an agent failed".into())
            ),
            Notice::StillWaiting => {
                "No agent has joined yet. Keep waiting, or cancel and continue with the bot?".into()
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Notice::AgentJoined => "agent_joined",
            Notice::AgentTookControl => "agent_took_control",
            Notice::ControlReturned => "control_returned",
            Notice::ChatEnded => "chat_ended",
            Notice::Cancelled => "cancelled",
            Notice::FellBackToBot { .. } => "fell_back_to_bot",
            Notice::StillWaiting => "still_waiting",
        }
    }
}

impl Inner {
    /// A session's row and its live state (loaded from SQLite on first use).
    pub(super) fn open(
        self: &Arc<Self>,
        session_id: &str,
    ) -> CoreResult<(Session, Arc<tokio::sync::Mutex<Live>>)> {
        let id = parse_session_id(session_id)?;
        let session = {
            let conn = self.core.db().conn();
            chat_store::session(&conn, id)?
                .ok_or_else(|| CoreError::not_found("chat session", session_id))?
        };
        Ok((session.clone(), self.live(&session)?))
    }

    pub(super) fn live(
        self: &Arc<Self>,
        session: &Session,
    ) -> CoreResult<Arc<tokio::sync::Mutex<Live>>> {
        let mut map = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = map.get(&session.id) {
            return Ok(Arc::clone(l));
        }
        let loaded = self.load_live(session)?;
        let l = Arc::new(tokio::sync::Mutex::new(loaded));
        map.insert(session.id, Arc::clone(&l));
        Ok(l)
    }

    /// Rebuilds a session's live state from its row and transcript (after a restart).
    fn load_live(&self, session: &Session) -> CoreResult<Live> {
        let messages = {
            let conn = self.core.db().conn();
            chat_store::messages(&conn, session.id)?
        };
        let mut handoff = Handoff::new(session.state);
        handoff.agent_in_control = session.agent_in_control;
        let mut live = Live {
            handoff,
            agent: None,
            notice: None,
            waiting_since: None,
            wait_anchor_ms: None,
            timer: None,
            timer_generation: 0,
            ended_requests_upto: None,
            wait_time: None,
            reason: None,
        };
        let mut avatar = None;
        for m in &messages {
            match (m.direction, m.kind.as_str()) {
                (Direction::System, "notice") => {
                    let kind = m.body["kind"].as_str().unwrap_or_default();
                    live.notice = m.body["text"].as_str().map(str::to_owned);
                    match kind {
                        "waiting" => {
                            live.waiting_since = Some(m.created_at.clone());
                            live.wait_anchor_ms = Some(m.order_key);
                            live.handoff.awaiting_keep_waiting = false;
                        }
                        "keep_waiting" => {
                            live.wait_anchor_ms = Some(m.order_key);
                            live.handoff.awaiting_keep_waiting = false;
                        }
                        "still_waiting" => live.handoff.awaiting_keep_waiting = true,
                        _ => live.handoff.awaiting_keep_waiting = false,
                    }
                }
                (_, "va_payload") => {
                    if let Some(w) = m.body["body"].as_array().and_then(|b| {
                        b.iter()
                            .find_map(|e| e["waitTime"].as_str().filter(|s| !s.is_empty()))
                    }) {
                        live.wait_time = Some(w.to_owned());
                    }
                    if let Some(r) = m.body["errorMessage"].as_str() {
                        live.reason = Some(r.to_owned());
                    }
                    if let Some(a) = m.body["body"].as_array().and_then(|b| {
                        b.iter().find_map(|e| {
                            e["agentInfo"]["agentAvatar"]
                                .as_str()
                                .filter(|s| !s.is_empty())
                        })
                    }) {
                        avatar = Some(a.to_owned());
                    }
                }
                _ => {}
            }
        }
        if session.state != State::Waiting {
            live.waiting_since = None;
            live.wait_time = None;
            live.handoff.awaiting_keep_waiting = false;
        }
        if session.state != State::Fail {
            live.reason = None;
        }
        if session.agent_name.is_some() || avatar.is_some() {
            live.agent = Some(AgentInfo {
                name: session.agent_name.clone(),
                avatar,
            });
        }
        Ok(live)
    }

    /// After a restart: every waiting session gets its timer back with the time it had left
    /// (or its pending "keep waiting?" question, which needs no timer).
    pub(super) async fn resume_waits(self: &Arc<Self>) -> CoreResult<()> {
        let waiting: Vec<Session> = {
            let conn = self.core.db().conn();
            let mut st = conn.prepare("SELECT id FROM chat_sessions WHERE state = 'waiting'")?;
            let ids: Vec<i64> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            ids.into_iter()
                .filter_map(|id| chat_store::session(&conn, id).ok().flatten())
                .collect()
        };
        for session in waiting {
            let live = self.live(&session)?;
            let mut live = live.lock().await;
            if live.handoff.awaiting_keep_waiting {
                continue;
            }
            let timeout = self.wait_timeout()?;
            let elapsed = live
                .wait_anchor_ms
                .map(|a| Duration::from_millis((chat_store::now_ms() - a).max(0) as u64))
                .unwrap_or_default();
            let remaining = timeout.saturating_sub(elapsed);
            tracing::info!(
                session = session.id,
                remaining_s = remaining.as_secs(),
                "resuming a wait for an agent"
            );
            self.start_timer(&session, &mut live, remaining);
        }
        Ok(())
    }

    pub(super) fn wait_timeout(&self) -> CoreResult<Duration> {
        Ok(match self.options.wait_timeout {
            Some(d) => d,
            None => Duration::from_secs(u64::from(self.core.chat_values()?.wait_timeout_s)),
        })
    }

    /// Carries out the bookkeeping effects (timers, notices, the keep-waiting question),
    /// persists the state and publishes it. The caller sends what must be sent.
    pub(super) fn effects(
        self: &Arc<Self>,
        session: &Session,
        live: &mut Live,
        effects: &[Effect],
    ) -> CoreResult<Vec<ChatMessage>> {
        let mut out = Vec::new();
        for effect in effects {
            match effect {
                Effect::StartWaitTimer => {
                    if live.wait_anchor_ms.is_none()
                        || live.handoff.state == State::Waiting && live.waiting_since.is_none()
                    {
                        live.waiting_since = Some(now_rfc3339());
                        live.wait_anchor_ms = Some(chat_store::now_ms());
                    }
                    let timeout = self.wait_timeout()?;
                    self.start_timer(session, live, timeout);
                }
                Effect::StopWaitTimer => {
                    live.timer_generation += 1;
                    if let Some(t) = live.timer.take() {
                        t.abort();
                    }
                }
                Effect::AskKeepWaiting => {
                    let waited = live
                        .wait_anchor_ms
                        .map(|a| ((chat_store::now_ms() - a).max(0) / 1000) as u64)
                        .unwrap_or_default();
                    self.emit(ChatEvent::WaitTimeout {
                        session_id: session.id.to_string(),
                        waited_s: waited,
                    });
                }
                Effect::Show(notice) => {
                    if let Notice::AgentJoined = notice {
                        live.waiting_since = None;
                    }
                    let text = notice.text(live.agent.as_ref().and_then(|a| a.name.as_deref()));
                    let m = self.store_notice(session, live.handoff.state, notice.kind(), &text)?;
                    live.notice = Some(text);
                    out.push(m);
                }
                _ => {}
            }
        }
        if live.handoff.state != State::Waiting {
            live.waiting_since = None;
            live.wait_anchor_ms = None;
            live.wait_time = None;
        }
        if live.handoff.state != State::Fail {
            live.reason = None;
        }
        self.persist(session, live)?;
        self.emit_state(session, live);
        Ok(out)
    }

    pub(super) fn start_timer(
        self: &Arc<Self>,
        session: &Session,
        live: &mut Live,
        after: Duration,
    ) {
        live.timer_generation += 1;
        if let Some(t) = live.timer.take() {
            t.abort();
        }
        let generation = live.timer_generation;
        let inner = Arc::clone(self);
        let session = session.clone();
        live.timer = Some(tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let Ok(handle) = inner.live(&session) else {
                return;
            };
            let mut live = handle.lock().await;
            if live.timer_generation != generation {
                return;
            }
            live.timer = None;
            if let Ok(effects) = live.handoff.apply(Event::WaitTimedOut) {
                if let Err(e) = inner.effects(&session, &mut live, &effects) {
                    tracing::warn!(code = e.code.as_str(), "wait timeout bookkeeping failed");
                }
            }
        }));
    }

    /// After a user's event: leaving a finished handoff (completed, fail, cancelled) starts a
    /// new conversation, and every request sent so far belongs to the old one.
    pub(super) fn left_terminal(
        &self,
        session: &Session,
        live: &mut Live,
        before: State,
    ) -> CoreResult<()> {
        if before.is_terminal() && !live.handoff.state.is_terminal() {
            let conn = self.core.db().conn();
            live.ended_requests_upto = Some(conn.query_row(
                "SELECT COALESCE(MAX(rowid), 0) FROM chat_requests WHERE session_id = ?1",
                [session.id],
                |r| r.get(0),
            )?);
        }
        Ok(())
    }

    /// The session as the UI shows it.
    pub(super) async fn view(self: &Arc<Self>, id: i64) -> CoreResult<ChatSession> {
        let (session, messages) = {
            let conn = self.core.db().conn();
            let session = chat_store::session(&conn, id)?
                .ok_or_else(|| CoreError::not_found("chat session", &id.to_string()))?;
            let messages = chat_store::messages(&conn, id)?;
            (session, messages)
        };
        let handle = self.live(&session)?;
        let live = handle.lock().await;
        Ok(ChatSession {
            id: session.id.to_string(),
            mode: session.mode,
            state: live.handoff.state,
            started_at: session.created_at.clone(),
            updated_at: session.updated_at.clone(),
            agent: live.agent.clone(),
            waiting_since: if live.handoff.state == State::Waiting {
                live.waiting_since.clone()
            } else {
                None
            },
            notice: live.notice.clone(),
            take_control: live.handoff.agent_in_control,
            wait_time: live.wait_time.clone(),
            reason: live.reason.clone(),
            details: ChatSessionDetails::of(&session),
            messages: messages.iter().filter_map(to_chat_message).collect(),
        })
    }
}
