//! `supportbot chat --json` as a child process: write lines to its stdin, read one JSON event
//! per line from its stdout.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// `supportbot` with none of the LiveChat handoff spec's environment variables, so settings come from the test.
pub fn cli(dir: &Path) -> Command {
    let mut c = super::command(dir);
    for var in [
        "SERVICENOW_CLIENT_ID",
        "SERVICENOW_CLIENT_SECRET",
        "SERVICENOW_USERNAME",
        "SERVICENOW_PASSWORD",
        "SERVICENOW_INSTANCE",
        "SERVICENOW_BOT_ID",
        "WEBHOOK_SECRET",
    ] {
        c.env_remove(var);
    }
    c
}

/// A running console: write lines, read JSON events.
pub struct Console {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<Value>,
    mark: usize,
}

impl Console {
    pub fn start(dir: &Path, extra: &[&str]) -> Console {
        Console::start_with_env(dir, extra, &[])
    }

    pub fn start_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Console {
        let mut child = cli(dir)
            .args(["chat", "--json"])
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Console {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
            mark: 0,
        }
    }

    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Reads events until one satisfies `done`.
    pub fn until(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let v: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|_| panic!("every line is JSON: {line}"));
                    assert!(v["type"].is_string(), "every event has a type: {v}");
                    self.seen.push(v.clone());
                    if done(&v) {
                        return v;
                    }
                }
                Err(_) => panic!("timed out waiting for {what}; seen {:#?}", self.seen),
            }
        }
    }

    /// Says `line`; later [`Console::answered`] calls look only at events from here on.
    pub fn ask(&mut self, line: &str) {
        self.mark = self.seen.len();
        self.say(line);
    }

    /// An event since the last [`Console::ask`], already read or still to come: for events
    /// whose order among each other the test does not care about.
    pub fn answered(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen[self.mark..].iter().find(|v| done(v)) {
            return v.clone();
        }
        self.until(what, done)
    }

    pub fn until_state(&mut self, state: &str) -> Value {
        self.until(&format!("state {state}"), |v| {
            v["type"] == "state" && v["state"] == state
        })
    }

    /// Closes stdin and waits for a clean exit.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(Instant::now() < deadline, "the console did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
