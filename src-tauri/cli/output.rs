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

/// Remote text (incident fields, agent messages) made safe for a terminal: control characters,
/// and so ANSI/OSC escape sequences that could rewrite the screen or the window title, are
/// dropped; line breaks and tabs stay.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escape_sequences_cannot_reach_the_terminal() {
        assert_eq!(
            terminal_safe("ok\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nnext\u{9b}31m"),
            "ok[2J]0;pwned\nnext31m"
        );
    }
}
