//! The chat side of the product: the Virtual Agent Bot Integration API (its API reference) and the
//! LiveChat handoff (its spec), without any UI.
//!
//! - `va::model`: the wire types, outbound requests and a lenient parser of inbound payloads.
//! - `va::client`: POSTs requests to the VA API with token, Basic or OAuth auth, retrying.
//! - `webhook`: the loopback HTTP server the VA posts its replies to.
//! - `handoff`: the pure state machine active → waiting → connected → completed | fail | cancelled.
//! - `store`: chat sessions, transcripts and feedback in SQLite (`owner`: whose session it is).
//! - `bot`: the knowledge-base bot (answers with citations and a confidence, or declines).
//! - `outcomes`: what the bot did with each question: knowledge gaps and chat statistics.
//! - `identity`: the user's e-mail and time zone as requests carry them.
//! - `image`: loads an agent's image on request (own sessions' URLs only, capped, raster only).
//! - `sanitize`: OutputHtml allow-list (ammonia) and plain-text rendering of body elements.
//! - `settings`: Settings > Chat (non-secret JSON + vault secrets, the LiveChat handoff spec's environment overrides).
//! - `attachments`: files the user sends (checked, kept under an unguessable token).
//! - `console`: `ChatConsole`, the engine the UI and CLI call; events on a broadcast.

pub mod attachments;
pub mod bot;
pub mod console;
pub mod handoff;
pub mod identity;
pub mod image;
pub mod outcomes;
mod owner;
pub mod sanitize;
pub mod settings;
pub mod store;
pub mod va;
pub mod webhook;

pub use console::{
    AgentInfo, ChatAttachment, ChatConsole, ChatEvent, ChatMessage, ChatOptions, ChatReply,
    ChatSession, Feedback,
};
pub use settings::{ChatAuth, ChatSecretFlags, ChatSettings, ChatSettingsPatch, ChatValues};
