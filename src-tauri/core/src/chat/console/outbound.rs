//! What the user does (type, answer a control, start or switch a Virtual Agent topic, attach a
//! file, cancel, end, keep waiting) and the VA requests it sends, through the mode's client.

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::json;

use super::{
    capitalise, random_hex, refused, wants_agent, ChatConsole, ChatMessage, ChatReply, ChatSession,
    Inner, Live, SIM_VA_TOKEN,
};
use crate::access::{Actor, Permission};
use crate::chat::attachments;
use crate::chat::handoff::{Effect, Event, State};
use crate::chat::store::{self as chat_store, Direction, Mode, Session, UserMessage};
use crate::chat::va::model::{Action, Attachment, Intent, OutMessage, VaRequest};
use crate::chat::va::{VaAuth, VaClient, VaClientConfig, VaReply};
use crate::chat::webhook::Inbound;
use crate::chat::{identity, settings};
use crate::connectors::RetryPolicy;
use crate::error::{CoreError, CoreResult, ErrorCode};

/// Longest topic (`intent.id`) accepted by "Switch topic".
const MAX_INTENT_CHARS: usize = 200;

impl ChatConsole {
    /// A typed message: answered by the bot (state active or finished), sent to the agent
    /// (waiting, connected), or an escalation ("agent", "/agent", "human", "talk to a human").
    /// Returns the messages stored at once; agent replies follow as events.
    pub async fn send(
        &self,
        actor: &Actor,
        session_id: &str,
        text: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(
                CoreError::new(ErrorCode::Validation, "Type a message first.")
                    .with_field("text", "Type a message first."),
            );
        }
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        let with_agent = matches!(live.handoff.state, State::Waiting | State::Connected);
        if wants_agent(text) && !with_agent {
            let mut out = vec![inner.store_user(&session, text, None)?];
            out.extend(inner.escalate_locked(actor, &session, &mut live).await?);
            return Ok(out);
        }
        let before = live.handoff.state;
        let effects = live
            .handoff
            .apply(Event::UserMessage)
            .map_err(|r| refused(r.reason))?;
        inner.left_terminal(&session, &mut live, before)?;
        let mut out = Vec::new();
        if effects.contains(&Effect::AnswerLocally) {
            if before != live.handoff.state {
                inner.persist(&session, &live)?;
                inner.emit_state(&session, &live);
            }
            out.push(inner.store_user(&session, text, None)?);
            out.push(inner.answer(actor, &session, text).await?);
        } else if effects.contains(&Effect::ForwardToVa) {
            let request = inner.request(&session, None, text, true);
            out.push(inner.store_user(&session, text, Some(&request.request_id))?);
            out.extend(inner.post(&session, &mut live, request).await?);
        }
        Ok(out)
    }

    /// Answers a control: the value goes to the VA with `typed` as given (false for options);
    /// a SECURE answer is stored and shown only as a placeholder.
    pub async fn reply(
        &self,
        actor: &Actor,
        session_id: &str,
        reply: ChatReply,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        let with_agent = matches!(live.handoff.state, State::Waiting | State::Connected);
        // A picked option goes to the instance as it is (its value, `typed: false`): the
        // instance's own topics route "Live Agent Support." themselves. Only a typed answer
        // that asks for a human is a local escalation, like typed text.
        if reply.typed
            && !reply.secure
            && !with_agent
            && (wants_agent(&reply.value) || wants_agent(&reply.label))
        {
            let mut out = vec![inner.store_user(&session, &reply.label, None)?];
            out.extend(inner.escalate_locked(actor, &session, &mut live).await?);
            return Ok(out);
        }
        let mut request = inner.request(&session, None, &reply.value, reply.typed);
        request.message.typed = reply.typed;
        let stored = {
            let conn = inner.core.db().conn();
            let shown = if reply.label.trim().is_empty() {
                &reply.value
            } else {
                &reply.label
            };
            let id = chat_store::add_user_message(
                &conn,
                session.id,
                &UserMessage {
                    text: Some(shown.clone()),
                    secure: reply.secure,
                    attachment: None,
                    request_id: Some(request.request_id.clone()),
                },
            )?;
            inner.message_by_id(&conn, id)?
        };
        inner.emit_message(&session, &stored);
        let mut out = vec![stored];
        out.extend(inner.post(&session, &mut live, request).await?);
        Ok(out)
    }

    /// "Start conversation": `action: START_CONVERSATION` (the VA Bot Integration API reference), so the instance's Virtual
    /// Agent answers with its greeting topic (a greeting and a topic picker, as events; picking
    /// an option goes through [`ChatConsole::reply`] with `typed: false`). Typed text keeps
    /// going to the local knowledge-base bot. Allowed while the bot has the conversation
    /// (active, or a finished handoff, which becomes active again); refused with `chat_refused`
    /// while waiting for or chatting with an agent. The user's action is stored as a visible
    /// line ("Started a Virtual Agent conversation") before the request goes out; returns the
    /// messages stored at once.
    pub async fn start_conversation(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        self.va_action(session_id, None).await
    }

    /// "Switch topic": `action: SWITCH` with `intent: {id}` (the VA Bot Integration API reference), so the Virtual Agent
    /// moves the conversation to that topic (its first control follows as an event). Same
    /// states as [`ChatConsole::start_conversation`]; an empty intent is a validation error on
    /// the field `intent`.
    pub async fn switch_topic(
        &self,
        actor: &Actor,
        session_id: &str,
        intent_id: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let intent = intent_id.trim();
        let invalid = |m: &str| CoreError::new(ErrorCode::Validation, m).with_field("intent", m);
        if intent.is_empty() {
            return Err(invalid("Enter the topic to switch to."));
        }
        if intent.chars().count() > MAX_INTENT_CHARS || intent.chars().any(char::is_control) {
            return Err(invalid(&format!(
                "A topic is one line of at most {MAX_INTENT_CHARS} characters."
            )));
        }
        self.va_action(session_id, Some(intent)).await
    }

    /// START_CONVERSATION (`intent` None) or SWITCH to `intent`, under the session's lock.
    async fn va_action(
        &self,
        session_id: &str,
        intent: Option<&str>,
    ) -> CoreResult<Vec<ChatMessage>> {
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        // Configuration problems surface before anything changes.
        let _ = inner.client(session.mode)?;
        let (event, action, line) = match intent {
            None => (
                Event::StartVaConversation,
                Action::StartConversation,
                "Started a Virtual Agent conversation".to_owned(),
            ),
            Some(topic) => (
                Event::SwitchTopic,
                Action::Switch,
                format!("Switched topic to {topic}"),
            ),
        };
        let before = live.handoff.state;
        live.handoff
            .apply(event)
            .map_err(|r| refused(capitalise(r.reason)))?;
        inner.left_terminal(&session, &mut live, before)?;
        if before != live.handoff.state {
            inner.persist(&session, &live)?;
            inner.emit_state(&session, &live);
        }
        // The VA reference's examples: START_CONVERSATION sends an empty text, SWITCH none at all.
        let mut request = inner.request(&session, Some(action), "", true);
        if let Some(topic) = intent {
            request.message.text = None;
            request.intent = Some(Intent {
                id: topic.to_owned(),
            });
        }
        let stored = inner.store_local(
            &session,
            Direction::User,
            "va_action",
            &json!({"text": line, "action": action.as_str(), "intent": intent}),
        )?;
        let mut out = vec![stored];
        out.extend(inner.post(&session, &mut live, request).await?);
        Ok(out)
    }

    /// Sends a file: stored under an unguessable URL the webhook server serves, and posted to
    /// the VA as `message.attachment` (the VA reference's attachments are URLs).
    pub async fn attach(
        &self,
        actor: &Actor,
        session_id: &str,
        file_name: &str,
        content_type: &str,
        data_base64: &str,
    ) -> CoreResult<Vec<ChatMessage>> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let upload = attachments::Upload::decode(file_name, content_type, data_base64)?;
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        let mut live = live.lock().await;
        // The instance's FileUpload element may ask for less than the app's own cap.
        let transcript = chat_store::messages(&inner.core.db().conn(), session.id)?;
        if let Some(limit) = attachments::requested_limit(&transcript) {
            if upload.bytes.len() > limit {
                let m = format!(
                    "The agent accepts files up to {:.1} MB; {} is larger.",
                    limit as f64 / (1024.0 * 1024.0),
                    upload.file_name
                );
                return Err(CoreError::new(ErrorCode::Validation, &m).with_field("file", &m));
            }
        }
        let token = attachments::store(&inner.attachments_dir, &upload).await?;
        let attachment = Attachment {
            client_attachment_id: Some(token.clone()),
            content_type: upload.content_type.clone(),
            file_name: upload.file_name.clone(),
            url: format!("{}/{token}", inner.attachment_base),
        };
        let mut request = inner.request(&session, None, "", true);
        request.message.text = None;
        request.message.attachment = Some(attachment.clone());
        // `post` records the request before sending, so its replies find the session.
        let stored = inner.store_local(
            &session,
            Direction::User,
            "attachment",
            &json!({"text": null, "attachment": {
                "file_name": upload.file_name, "content_type": upload.content_type,
                "size": upload.bytes.len(), "url": attachment.url}}),
        )?;
        let mut out = vec![stored];
        out.extend(inner.post(&session, &mut live, request).await?);
        Ok(out)
    }

    /// Cancels a wait for an agent (waiting → cancelled; END_CONVERSATION to the VA).
    pub async fn cancel(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        self.user_command(actor, session_id, Event::UserCancel)
            .await
    }

    /// Ends the chat with the agent (connected → completed; END_CONVERSATION to the VA).
    pub async fn end(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        self.user_command(actor, session_id, Event::UserEnd).await
    }

    /// After a wait timeout: keep waiting (the timer starts again).
    pub async fn keep_waiting(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        self.user_command(actor, session_id, Event::KeepWaiting)
            .await
    }

    async fn user_command(
        &self,
        actor: &Actor,
        session_id: &str,
        event: Event,
    ) -> CoreResult<ChatSession> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let inner = &self.inner;
        let (session, live) = inner.open(session_id)?;
        {
            let mut live = live.lock().await;
            let keep = event == Event::KeepWaiting;
            let effects = live
                .handoff
                .apply(event)
                .map_err(|r| refused(capitalise(r.reason)))?;
            if keep {
                live.wait_anchor_ms = Some(chat_store::now_ms());
                inner.store_notice(
                    &session,
                    State::Waiting,
                    "keep_waiting",
                    "You chose to keep waiting for an agent.",
                )?;
            }
            inner.effects(&session, &mut live, &effects)?;
            if effects.contains(&Effect::SendEndConversation) {
                let request = inner.request(&session, Some(Action::EndConversation), "", true);
                // The chat is over for the user whatever the VA answers; a failure is logged.
                if let Err(e) = inner.post(&session, &mut live, request).await {
                    tracing::warn!(code = e.code.as_str(), "END_CONVERSATION failed");
                }
            }
        }
        inner.view(session.id).await
    }
}

impl Inner {
    /// The VA client of a mode, rebuilt when Settings > Chat changed.
    pub(super) fn client(&self, mode: Mode) -> CoreResult<Arc<VaClient>> {
        let revision = self.core.chat_settings_revision()?;
        if let Some((rev, client)) = self
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&mode)
        {
            if *rev == revision || mode == Mode::Simulated {
                return Ok(Arc::clone(client));
            }
        }
        let retry = self
            .options
            .retry
            .clone()
            .unwrap_or_else(RetryPolicy::interactive);
        let config = match mode {
            Mode::Simulated => VaClientConfig {
                instance_url: self.options.sim_url.clone().ok_or_else(|| {
                    refused("Simulated chat needs the built-in simulator, which is not running. Restart the app, or switch Settings > Chat to real mode.")
                })?,
                auth: VaAuth::Token(SecretString::from(SIM_VA_TOKEN.to_owned())),
                retry,
            },
            Mode::Real => {
                let s = self.core.resolved_chat()?;
                if !self.configured_secret {
                    return Err(CoreError::new(
                        ErrorCode::Validation,
                        "Real chat mode needs a webhook secret, the same one the instance sends as its Bearer token: set it in Settings > Chat (or WEBHOOK_SECRET) and restart the chat.",
                    )
                    .with_field("webhook_secret", "Enter the webhook secret configured on the instance."));
                }
                let instance_url = s.values.instance_url.clone().ok_or_else(|| {
                    CoreError::new(ErrorCode::Validation, "Real chat mode needs the ServiceNow instance URL.")
                        .with_field("instance_url", "Enter the instance URL.")
                })?;
                if let Some(problem) = settings::instance_url_problem(&instance_url) {
                    // Name where the value came from, so the user fixes the right place.
                    let message = match settings::env_var_of("instance_url") {
                        Some(var) => format!("{var} ({instance_url}): {problem}"),
                        None => format!("Settings > Chat instance URL: {problem}"),
                    };
                    return Err(CoreError::new(ErrorCode::Validation, &message)
                        .with_field("instance_url", &message));
                }
                VaClientConfig {
                    instance_url,
                    auth: s.va_auth()?,
                    retry,
                }
            }
        };
        let client = Arc::new(VaClient::new(config)?);
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(mode, (revision, Arc::clone(&client)));
        Ok(client)
    }

    pub(super) fn request(
        &self,
        session: &Session,
        action: Option<Action>,
        text: &str,
        typed: bool,
    ) -> VaRequest {
        // Per request, so a changed bot id applies at once; the values need no vault read.
        let values = self.core.chat_values().ok();
        // Every field the documents' requests show: the LiveChat handoff spec's AGENT request
        // and the VA reference's examples (the body `token` is added by the client).
        VaRequest {
            request_id: format!("req-{}", random_hex(12)),
            action,
            enterprise_id: values.as_ref().and_then(|v| v.enterprise_id.clone()),
            now_bot_id: values.and_then(|v| v.bot_id),
            client_session_id: session.client_session_id.clone(),
            now_session_id: session.now_session_id.clone(),
            silent_message: Some(false),
            message: OutMessage {
                text: Some(text.to_owned()),
                typed,
                client_message_id: Some(format!("msg-{}", random_hex(8))),
                attachment: None,
            },
            user_id: session.user_id.clone(),
            email_id: Some(
                session
                    .email_id
                    .clone()
                    .unwrap_or_else(|| identity::fallback_email(&session.user_id)),
            ),
            timestamp: Some(chat_store::now_ms() / 1000),
            timezone: Some(identity::timezone()),
            ..VaRequest::default()
        }
    }

    /// Records and sends a request. A synchronous answer is applied at once; a failure after
    /// the client's retries moves the handoff (waiting/connected → fail, with a notice).
    /// Returns the notices it stored.
    pub(super) async fn post(
        self: &Arc<Self>,
        session: &Session,
        live: &mut Live,
        request: VaRequest,
    ) -> CoreResult<Vec<ChatMessage>> {
        let client = self.client(session.mode)?;
        {
            let conn = self.core.db().conn();
            chat_store::record_request(
                &conn,
                session.id,
                &request.request_id,
                request.action.map(Action::as_str),
            )?;
        }
        match client.send(&request).await {
            Ok(VaReply::Accepted) => Ok(Vec::new()),
            Ok(VaReply::Messages(payload)) => {
                let inbound = Inbound {
                    session: session.client_session_id.clone(),
                    delivery_id: format!("sync:{}", request.request_id),
                    order_key: payload.timestamp_ms.unwrap_or_else(chat_store::now_ms),
                    arrival: 0,
                    late: false,
                    payload: *payload,
                };
                // The answer may carry the instance's ids: read the row again for them.
                let current = {
                    let conn = self.core.db().conn();
                    chat_store::add_inbound(&conn, session.id, &inbound)?;
                    chat_store::session(&conn, session.id)?
                };
                self.apply_inbound(current.as_ref().unwrap_or(session), live, &inbound)
            }
            Err(e) => {
                tracing::warn!(code = e.code.as_str(), "a VA request failed after retries");
                let effects = live
                    .handoff
                    .apply(Event::SendFailed(e.message.clone()))
                    .unwrap_or_default();
                if effects.is_empty() {
                    // Nothing to fall back from (the bot has the chat): tell the caller.
                    return Err(e);
                }
                self.effects(session, live, &effects)
            }
        }
    }
}
