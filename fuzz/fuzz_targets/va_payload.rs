//! Fuzz target: the VA payload parser must never panic, whatever the bytes.
//!
//! The parser module is compiled in directly (it depends only on serde and serde_json) rather
//! than through supportbot-core, so fuzzing does not build the embedding runtime, SQLite and
//! the rest of the core with sanitizer instrumentation.
#![no_main]

#[path = "../../src-tauri/core/src/chat/va/model.rs"]
#[allow(dead_code)]
mod model;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = model::parse_payload(data) {
        // Whatever parsed must also serialise (the store and the UI do that next).
        let _ = serde_json::to_vec(&payload);
        let _ = payload.actions().count();
        let _ = payload.agent_name();
    }
});
