//! A fake ServiceNow instance written for the tests, not `supportbot sim`: it answers the
//! OAuth token call and the VA Bot Integration API with whatever payloads the test's script
//! gives (the product documents' examples, verbatim), posts them to the app's webhook as the
//! instance would, and records every request it received so a test can inspect them.
//!
//! Plain blocking sockets and HTTP/1.1 with `Connection: close`: small enough to read at a
//! glance, and nothing of the app's own HTTP code is reused, so the two cannot agree by accident.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

/// One request the fake instance received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What the instance posts back for one VA request: payloads, in order, to the webhook.
pub type Script = dyn Fn(&Value) -> Vec<Value> + Send + Sync;

struct Shared {
    received: Mutex<Vec<Received>>,
    webhook: Mutex<Option<(String, String)>>,
    script: Box<Script>,
    /// Webhook answers (status codes) of every delivery, in order.
    deliveries: Mutex<Vec<u16>>,
    /// Pause before and between replies.
    pace: Mutex<Duration>,
}

/// The running fake instance; it stops serving when the test process ends.
pub struct FakeInstance {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeInstance {
    pub fn start(script: impl Fn(&Value) -> Vec<Value> + Send + Sync + 'static) -> FakeInstance {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            webhook: Mutex::new(None),
            script: Box::new(script),
            deliveries: Mutex::new(Vec::new()),
            pace: Mutex::new(Duration::from_millis(150)),
        });
        let serving = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&serving);
                thread::spawn(move || serve(stream, shared));
            }
        });
        FakeInstance { url, shared }
    }

    /// Where replies go, with the Bearer secret the LiveChat spec's webhook expects.
    pub fn set_webhook(&self, url: &str, secret: &str) {
        *self.shared.webhook.lock().unwrap() = Some((url.to_owned(), secret.to_owned()));
    }

    /// Pause before and between replies (a window test needs time to see each state).
    pub fn set_pace(&self, pace: Duration) {
        *self.shared.pace.lock().unwrap() = pace;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The VA requests' bodies, in order.
    pub fn va_requests(&self) -> Vec<Value> {
        self.received()
            .iter()
            .filter(|r| r.path.ends_with("/bot/integration"))
            .map(Received::json)
            .collect()
    }

    pub fn deliveries(&self) -> Vec<u16> {
        self.shared.deliveries.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    shared.received.lock().unwrap().push(request.clone());
    let (status, body) = match request.path.as_str() {
        "/oauth_token.do" => (
            200,
            json!({"access_token": "fake-access", "refresh_token": "fake-refresh",
                   "scope": "useraccount", "token_type": "Bearer", "expires_in": 1799}),
        ),
        p if p.ends_with("/api/sn_va_as_service/bot/integration") => {
            let va = request.json();
            let replies = (shared.script)(&va);
            let target = shared.webhook.lock().unwrap().clone();
            if let Some((url, secret)) = target {
                let log = Arc::clone(&shared);
                // Asynchronous, as an instance configured with a response endpoint answers:
                // acknowledge now, post the replies after.
                thread::spawn(move || {
                    let pace = *log.pace.lock().unwrap();
                    for reply in replies {
                        thread::sleep(pace);
                        let code = post_json(&url, &secret, &reply);
                        log.deliveries.lock().unwrap().push(code);
                    }
                });
            }
            (200, json!({"status": "success"}))
        }
        _ => (404, json!({"error": {"message": "not here"}})),
    };
    respond(&mut stream, status, &body.to_string());
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// POSTs `body` to `url` with `Authorization: Bearer <secret>`; the answer's status code (0
/// when unreachable).
pub fn post_json(url: &str, secret: &str, body: &Value) -> u16 {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = TcpStream::connect(host) else {
        return 0;
    };
    let text = body.to_string();
    let _ = write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAuthorization: Bearer {secret}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let mut answer = String::new();
    let _ = BufReader::new(stream).read_line(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A golden fixture (`tests/fixtures/va/NAME`): a payload of the product documents, verbatim,
/// repaired only where the document itself is not JSON (exotic spaces, `//` comments, a bare
/// e-mail address), the same way as the UI's loader.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/va")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_document_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every fixture file name with `suffix`, sorted.
pub fn fixture_names(suffix: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/va");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

pub fn parse_document_json(text: &str) -> Result<Value, serde_json::Error> {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if c == '/' && chars.peek() == Some(&'/') {
            for n in chars.by_ref() {
                if n == '\n' {
                    break;
                }
            }
            out.push('\n');
        } else if c.is_whitespace() {
            out.push(if c == '\n' { '\n' } else { ' ' });
        } else {
            out.push(c);
        }
    }
    // A bare word where a value belongs (`"emailId": beth.anglin@example.com,` and the
    // LiveChat spec's `"clientSessionId": string,` placeholder) becomes a string.
    let mut fixed = String::new();
    for line in out.lines() {
        match line.split_once(": ") {
            Some((key, value)) if key.trim_end().ends_with('"') => {
                let v = value.trim();
                let bare = v.trim_end_matches([',', '}', ']']);
                let literal = bare.starts_with(['"', '{', '[', '-'])
                    || bare.starts_with(|c: char| c.is_ascii_digit())
                    || matches!(bare, "true" | "false" | "null" | "");
                if literal {
                    fixed.push_str(line);
                } else {
                    fixed.push_str(&format!("{key}: \"{bare}\"{}", &v[bare.len()..]));
                }
            }
            _ => fixed.push_str(line),
        }
        fixed.push('\n');
    }
    serde_json::from_str(&fixed)
}
