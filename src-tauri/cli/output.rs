//! How the CLI prints: JSON or text, and the error line scripts depend on.

use serde::Serialize;
use supportbot_core::CoreError;

/// Where results and errors go, by output mode.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints `value` as one JSON document (JSON mode only).
    pub fn json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string(value) {
            Ok(s) => println!("{s}"),
            Err(e) => println!(
                "{{\"error\":{{\"code\":\"internal\",\"message\":\"cannot print result: {e}\"}}}}"
            ),
        }
    }

    /// Reports `e` and returns the exit code: JSON mode prints the `{"error":…}` line on stdout,
    /// text mode prints the message (and each field's problem) on stderr.
    pub fn fail(&self, e: &CoreError) -> i32 {
        if self.json {
            self.json(&serde_json::json!({ "error": e }));
        } else {
            eprintln!("error: {}", e.message);
            if e.fields.len() > 1 || e.fields.values().any(|m| *m != e.message) {
                for (field, msg) in &e.fields {
                    eprintln!("  --{}: {msg}", field.replace('_', "-"));
                }
            }
        }
        1
    }
}
