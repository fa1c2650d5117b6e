//! The core's chat modules the fuzz targets need, compiled in by path (they depend only on
//! serde_json, ammonia, http, sha2 and subtle), so fuzzing never builds the whole core.

pub mod va;
pub mod webhook;

#[path = "../../../src-tauri/core/src/chat/sanitize.rs"]
pub mod sanitize;
