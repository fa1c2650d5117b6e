//! `chat::va::model` of the core, by path.

#[path = "../../../../src-tauri/core/src/chat/va/model.rs"]
pub mod model;
