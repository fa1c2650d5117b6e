//! The core's page parsing modules, compiled in by path (they depend only on serde_json and
//! time), so fuzzing never builds the whole core.

#[path = "../../../src-tauri/core/src/connectors/text.rs"]
pub mod text;

#[path = "../../../src-tauri/core/src/connectors/pages.rs"]
pub mod pages;
