//! The chat webhook under abuse, over real sockets: a thousand half-sent requests that idle, a
//! guesser of the bearer secret, a stalled body, and a short secret. Deadlines here are
//! generous bounds on "answered at all" / "closed at all", never measurements; the latency is
//! printed (`--nocapture`) and recorded in BENCHMARKS.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use supportbot_core::chat::va::VaPayload;
use supportbot_core::chat::webhook::{
    Accepted, ConversationSink, Inbound, WebhookConfig, WebhookLimits, WebhookServer,
};
use supportbot_core::chat::ChatSettingsPatch;
use supportbot_core::secrets::StorePreference;
use supportbot_core::{Core, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "abuse-test-webhook-secret-0123456789";
const PAYLOAD: &str =
    r#"{"requestId":"r1","clientSessionId":"c1","body":[{"uiType":"OutputText","value":"hi"}]}"#;

/// Knows every conversation and keeps nothing: the webhook's own behaviour is under test.
struct NullSink;

impl ConversationSink for NullSink {
    fn session_for(&self, _: &VaPayload) -> Option<String> {
        Some("c1".into())
    }
    fn accept(&self, _: &Inbound) -> supportbot_core::CoreResult<Accepted> {
        Ok(Accepted::New)
    }
    fn deliver(&self, _: Inbound) {}
}

async fn start(limits: WebhookLimits) -> WebhookServer {
    let mut config = WebhookConfig::new(0, SecretString::from(SECRET.to_owned()));
    config.limits = limits;
    WebhookServer::start(config, Arc::new(NullSink))
        .await
        .unwrap()
}

/// Two thousand descriptors are needed (a thousand clients, the server's side); raise the soft
/// limit when the hard one allows, as a server process would.
fn enough_descriptors() {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let limit = getrlimit(Resource::Nofile);
        let want = 4096u64.min(limit.maximum.unwrap_or(u64::MAX));
        if limit.current.is_some_and(|c| c < want) {
            let _ = setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(want),
                    maximum: limit.maximum,
                },
            );
        }
    }
}

async fn post(server: &WebhookServer, bearer: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url())
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .body(PAYLOAD)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .expect("answered within 2 s")
}

/// Reads until the server closes the connection (EOF or reset) or `deadline` passes.
async fn closed_by(mut stream: TcpStream, deadline: tokio::time::Instant) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An error answer before the close is fine; keep reading to the close.
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_half_open_connections_neither_block_a_delivery_nor_stay_open() {
    enough_descriptors();
    let server = start(WebhookLimits::default()).await;
    let addr = server.addr();
    let half = format!(
        "POST /api/v1/snowBot/receiveMessage HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}",
        &SECRET[..10]
    );
    let mut idle = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // A closed (evicted) connection may refuse the write; that is fine.
        let _ = s.write_all(half.as_bytes()).await;
        idle.push(s);
    }
    let opened = tokio::time::Instant::now();

    let t = Instant::now();
    let answer = post(&server, SECRET).await;
    let latency = t.elapsed();
    assert_eq!(answer.status(), 200);
    eprintln!(
        "webhook: a normal POST answered in {:.1} ms beside 1,000 half-open connections",
        latency.as_secs_f64() * 1000.0
    );

    // Every idle connection is closed by the server: evicted at once beyond the limit, the
    // rest by the header timeout (5 s). 15 s is the bound the issue sets.
    let deadline = opened + Duration::from_secs(15);
    let waits: Vec<_> = idle
        .into_iter()
        .map(|s| tokio::spawn(closed_by(s, deadline)))
        .collect();
    let mut still_open = 0;
    for w in waits {
        if !w.await.unwrap() {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "connections still open after 15 s");
    // And the server still answers.
    assert_eq!(post(&server, SECRET).await.status(), 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_secrets_are_throttled() {
    let server = start(WebhookLimits::default()).await;
    for _ in 0..5 {
        assert_eq!(post(&server, "wrong-secret-guess").await.status(), 401);
    }
    // Locked: refused without looking at the secret, with a hint when to come back.
    let locked = post(&server, "wrong-secret-guess").await;
    assert_eq!(locked.status(), 429);
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(post(&server, SECRET).await.status(), 429);
    // The first lock lasts a second; well after it, the right secret goes through.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(post(&server, SECRET).await.status(), 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_and_an_idle_connection_closed() {
    let server = start(WebhookLimits {
        body_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(600),
        ..WebhookLimits::default()
    })
    .await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "POST /api/v1/snowBot/receiveMessage HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {SECRET}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"requestId\""
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !answer.contains("\r\n\r\n") {
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A connection that sends nothing at all is closed too.
    let quiet = TcpStream::connect(addr).await.unwrap();
    assert!(closed_by(quiet, tokio::time::Instant::now() + Duration::from_secs(10)).await);
    server.shutdown().await;
}

#[tokio::test]
async fn a_short_secret_is_refused_at_start_and_on_save() {
    let config = WebhookConfig::new(0, SecretString::from("twelve-chars".to_owned()));
    let err = WebhookServer::start(config, Arc::new(NullSink))
        .await
        .err()
        .expect("refused");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(
        err.message.contains("at least 16 characters"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("twelve-chars"));

    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with(dir.path(), StorePreference::File).unwrap();
    let admin = core.actor(None, None).unwrap();
    let err = core
        .save_chat_settings(
            &admin,
            ChatSettingsPatch {
                webhook_secret: Some(SecretString::from("twelve-chars".to_owned())),
                ..ChatSettingsPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.fields["webhook_secret"].contains("at least 16 characters"));
    assert!(!core.chat_settings(&admin).unwrap().secrets.webhook_secret);
    core.save_chat_settings(
        &admin,
        ChatSettingsPatch {
            webhook_secret: Some(SecretString::from(SECRET.to_owned())),
            ..ChatSettingsPatch::default()
        },
    )
    .unwrap();
}
