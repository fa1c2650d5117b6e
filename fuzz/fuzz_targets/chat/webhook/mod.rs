//! `chat::webhook::checks` of the core, by path.

#[path = "../../../../src-tauri/core/src/chat/webhook/checks.rs"]
pub mod checks;
