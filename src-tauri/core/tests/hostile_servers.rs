//! Misbehaving servers, each written here (`common/rogue.rs` is a recording HTTP server): no
//! credential follows a redirect to another origin (ServiceNow Basic, the OAuth form, the
//! Bearer it yields, Jira Basic, the Virtual Agent's token header), same-origin redirects are
//! followed only a few hops, an endless body ends a sync with `response_too_large`, and a
//! pager that never advances stops with `paging_stalled` instead of looping; moving the chat
//! instance to another host needs the VA secret again, and sends that host nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use secrecy::SecretString;
use serde_json::{json, Value};
use supportbot_core::chat::store::Mode;
use supportbot_core::chat::va::model::{OutMessage, VaRequest};
use supportbot_core::chat::va::{VaAuth, VaClient, VaClientConfig};
use supportbot_core::chat::{ChatAuth, ChatConsole, ChatOptions, ChatSettingsPatch};
use supportbot_core::connectors::{
    Connector, ConnectorOptions, Credentials, Filters, RetryPolicy, MAX_REDIRECTS,
};
use supportbot_core::integrations::{AuthType, Kind, NewIntegration};
use supportbot_core::secrets::StorePreference;
use supportbot_core::sync::{SyncOptions, SyncOutcome, SyncReport};
use supportbot_core::{Core, CoreError, ErrorCode};

#[path = "common/rogue.rs"]
mod rogue;
use rogue::{Reply, Request, Server};

const USER: &str = "svc.supportbot";
const PASSWORD: &str = "pw-7f3a-not-for-strangers";
const CLIENT_SECRET: &str = "cs-91bd-not-for-strangers";
const TOKEN: &str = "tk-5c2e-not-for-strangers";

fn secret(value: &str) -> Option<SecretString> {
    Some(SecretString::from(value.to_owned()))
}

fn options() -> ConnectorOptions {
    ConnectorOptions {
        retry: RetryPolicy::fast(),
        ..ConnectorOptions::default()
    }
}

fn servicenow_basic(url: &str) -> Connector {
    let credentials = Credentials {
        username: Some(USER.into()),
        password: secret(PASSWORD),
        ..Credentials::default()
    };
    Connector::new(
        Kind::Servicenow,
        AuthType::Basic,
        url,
        credentials,
        options(),
    )
    .unwrap()
}

fn servicenow_oauth(url: &str) -> Connector {
    let credentials = Credentials {
        username: Some(USER.into()),
        password: secret(PASSWORD),
        client_id: Some("client".into()),
        client_secret: secret(CLIENT_SECRET),
        ..Credentials::default()
    };
    Connector::new(
        Kind::Servicenow,
        AuthType::Oauth2,
        url,
        credentials,
        options(),
    )
    .unwrap()
}

fn jira_cloud(url: &str, options: ConnectorOptions) -> Connector {
    let credentials = Credentials {
        username: Some("someone@example.com".into()),
        token: secret(TOKEN),
        ..Credentials::default()
    };
    Connector::new(Kind::Jira, AuthType::Token, url, credentials, options).unwrap()
}

async fn first_page(
    connector: &mut Connector,
) -> Result<supportbot_core::connectors::Page, CoreError> {
    connector.next_page(None, &Filters::default(), 10).await
}

/// A server that redirects every request to the same path on `to` with `status`.
fn redirecting_to(to: &Server, status: u16) -> Server {
    let to = to.base.clone();
    Server::start(move |r| Reply::redirect(status, &format!("{to}{}", r.target)))
}

/// The refusal names where the redirect pointed and says the credentials stayed home.
fn assert_refused_towards(e: &CoreError, other: &Server) {
    assert_eq!(e.code, ErrorCode::RedirectRefused, "{e:?}");
    assert!(e.message.contains(&other.base), "{}", e.message);
    assert!(
        e.message.contains("credentials were not sent"),
        "{}",
        e.message
    );
    for secret in [PASSWORD, CLIENT_SECRET, TOKEN] {
        assert!(!format!("{e:?}").contains(secret));
    }
}

/// The other origin received nothing at all: no request, so no credential in any form.
fn assert_untouched(other: &Server) {
    let got = other.requests();
    assert!(got.is_empty(), "the other origin received {got:#?}");
}

fn incident_row(n: u32) -> Value {
    json!({
        "sys_id": format!("{n:032x}"),
        "number": format!("INC{n:07}"),
        "short_description": "VPN drops every hour",
        "description": "The VPN client disconnects.",
        "close_notes": "Replaced the certificate.",
        "close_code": "Solved (Permanently)",
        "state": "7",
        "priority": "3",
        "category": "network",
        "subcategory": "vpn",
        "sys_updated_on": format!("2025-01-01 00:00:{:02}", n % 60),
        "opened_at": "2024-12-31 09:00:00",
    })
}

/// Answers a ServiceNow Table API request: `rows` for incident, nothing for the other tables.
fn table_reply(r: &Request, rows: &[Value]) -> Reply {
    if r.path().ends_with("/api/now/table/incident") {
        Reply::json(200, &json!({ "result": rows }))
            .with_header("X-Total-Count", &rows.len().to_string())
    } else {
        Reply::json(200, &json!({"result": []})).with_header("X-Total-Count", "0")
    }
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[tokio::test]
async fn servicenow_basic_credentials_never_follow_a_redirect_to_another_origin() {
    for status in [301, 302, 303, 307, 308] {
        let other = Server::recorder();
        let instance = redirecting_to(&other, status);
        let e = first_page(&mut servicenow_basic(&instance.base))
            .await
            .unwrap_err();
        assert_refused_towards(&e, &other);
        assert_untouched(&other);
        // One request, to the origin the password was entered for; a refusal is not retried.
        let sent = instance.requests();
        assert_eq!(sent.len(), 1, "HTTP {status}");
        assert!(sent[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")));
    }
}

#[tokio::test]
async fn the_oauth_form_never_follows_a_307_to_another_origin() {
    let other = Server::recorder();
    let instance = redirecting_to(&other, 307);
    let e = first_page(&mut servicenow_oauth(&instance.base))
        .await
        .unwrap_err();
    assert_refused_towards(&e, &other);
    assert_untouched(&other);
    let sent = instance.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path(), "/oauth_token.do");
}

#[tokio::test]
async fn the_oauth_bearer_never_follows_a_table_redirect_to_another_origin() {
    let other = Server::recorder();
    let to = other.base.clone();
    let instance = Server::start(move |r| {
        if r.path() == "/oauth_token.do" {
            Reply::json(
                200,
                &json!({"access_token": "at-bearer-secret", "refresh_token": "rt-secret",
                        "token_type": "Bearer", "expires_in": 1799}),
            )
        } else {
            Reply::redirect(308, &format!("{to}{}", r.target))
        }
    });
    let e = first_page(&mut servicenow_oauth(&instance.base))
        .await
        .unwrap_err();
    assert_refused_towards(&e, &other);
    assert_untouched(&other);
    let table = instance.requests().pop().unwrap();
    assert_eq!(
        table.header("authorization"),
        Some("Bearer at-bearer-secret")
    );
}

#[tokio::test]
async fn jira_basic_credentials_never_follow_a_redirect_to_another_origin() {
    let other = Server::recorder();
    let instance = redirecting_to(&other, 307);
    let e = first_page(&mut jira_cloud(&instance.base, options()))
        .await
        .unwrap_err();
    assert_refused_towards(&e, &other);
    assert_untouched(&other);
}

#[tokio::test]
async fn the_virtual_agent_token_never_follows_a_redirect_to_another_origin() {
    let other = Server::recorder();
    let instance = redirecting_to(&other, 307);
    let client = VaClient::new(VaClientConfig {
        instance_url: instance.base.clone(),
        auth: VaAuth::Token(SecretString::from(TOKEN.to_owned())),
        retry: RetryPolicy::fast(),
    })
    .unwrap();
    let request = VaRequest {
        request_id: "req-1".into(),
        client_session_id: "session-1".into(),
        user_id: "user-1".into(),
        message: OutMessage {
            text: Some("hello".into()),
            typed: true,
            client_message_id: None,
            attachment: None,
        },
        ..VaRequest::default()
    };
    let e = client.send(&request).await.unwrap_err();
    assert_refused_towards(&e, &other);
    assert_untouched(&other);
    assert_eq!(instance.requests()[0].header("token"), Some(TOKEN));
}

/// `/h0/…` redirects to `/h1/…` and so on up to `/h<hops>/…`, which answers: every hop on
/// the same origin.
fn hopping(hops: u32) -> Server {
    Server::start(move |r| {
        let mut parts = r.target.splitn(3, '/');
        let (_, hop, rest) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
        let n: u32 = hop
            .and_then(|h| h.strip_prefix('h'))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if n < hops {
            Reply::redirect(302, &format!("/h{}/{rest}", n + 1))
        } else {
            table_reply(r, &[incident_row(1), incident_row(2)])
        }
    })
}

#[tokio::test]
async fn same_origin_redirects_are_followed_only_a_few_hops() {
    let hops = u32::try_from(MAX_REDIRECTS).unwrap();
    let instance = hopping(hops);
    let page = first_page(&mut servicenow_basic(&instance.url("/h0")))
        .await
        .unwrap();
    assert_eq!(page.incidents.len(), 2);
    // Credentials stay with the request within the origin.
    let last = instance.requests().into_iter().last().unwrap();
    assert!(last.path().starts_with(&format!("/h{hops}/")));
    assert!(last.header("authorization").is_some());

    let instance = hopping(hops + 1);
    let e = first_page(&mut servicenow_basic(&instance.url("/h0")))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RedirectRefused);
    assert!(e.message.contains("more than 3 times"), "{}", e.message);
    assert!(e
        .message
        .contains(&format!("{}/h{}/", instance.base, hops + 1)));
}

// ---------------------------------------------------------------------------------------------
// Bounded bodies

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap() {
    let instance = Server::start(|_| Reply::Endless {
        start: b"{\"issues\":[".to_vec(),
        filler: br#"{"id":"1","key":"A-1","fields":{}},"#.repeat(512),
    });
    let capped = ConnectorOptions {
        max_response_bytes: Some(1024 * 1024),
        ..options()
    };
    let e = first_page(&mut jira_cloud(&instance.base, capped))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ResponseTooLarge, "{e:?}");
    assert!(e.message.contains("larger than 1 MB"), "{}", e.message);
    // Not retried: the next attempt would stream forever too.
    assert_eq!(instance.requests().len(), 1);
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let instance = Server::start(|_| Reply::Full {
        status: 200,
        headers: Vec::new(),
        body: vec![b' '; 4096],
    });
    let capped = ConnectorOptions {
        max_response_bytes: Some(1024),
        ..options()
    };
    let e = first_page(&mut jira_cloud(&instance.base, capped))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ResponseTooLarge);
}

/// A core with a ServiceNow integration at `url`, or `None` (skip) without the embedding model,
/// which a sync loads before it connects.
fn core_for(url: &str) -> Option<(tempfile::TempDir, Arc<Core>, i64)> {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    if let Err(e) = core.knowledge_base().embedder() {
        if std::env::var("SUPPORTBOT_REQUIRE_MODEL").as_deref() == Ok("1") {
            panic!("the embedding model is required: {e}");
        }
        eprintln!("skipping: {e}");
        return None;
    }
    let admin = core.actor(None, None).unwrap();
    let input = NewIntegration {
        name: "Rogue".into(),
        kind: Kind::Servicenow,
        auth: AuthType::Basic,
        url: url.to_owned(),
        username: Some(USER.into()),
        client_id: None,
        password: secret(PASSWORD),
        token: None,
        client_secret: None,
        enabled: None,
        schedule_minutes: None,
        filters: None,
        request_budget: None,
        ca_certificates: None,
        allow_insecure_http: false,
    };
    let id = core.add_integration(&admin, input).unwrap().id;
    Some((dir, core, id))
}

async fn sync(core: &Arc<Core>, id: i64) -> SyncReport {
    let admin = core.actor(None, None).unwrap();
    let options = SyncOptions {
        connector: options(),
        ..SyncOptions::default()
    };
    core.sync(&admin, id, options, |_| {}).await.unwrap()
}

#[tokio::test]
async fn an_endless_body_ends_the_sync_with_response_too_large() {
    let instance = Server::start(|r| {
        if r.path().ends_with("/api/now/table/incident") {
            Reply::Endless {
                start: b"{\"result\":[".to_vec(),
                filler: incident_row(1).to_string().into_bytes().repeat(64),
            }
        } else {
            table_reply(r, &[])
        }
    });
    let Some((_dir, core, id)) = core_for(&instance.base) else {
        return;
    };
    let report = sync(&core, id).await;
    assert_eq!(report.status, SyncOutcome::Error);
    let error = report.error.expect("an error");
    assert_eq!(error.code, ErrorCode::ResponseTooLarge, "{error:?}");
    assert!(
        error.message.contains("larger than 64 MB"),
        "{}",
        error.message
    );
    // The integration shows it in red like any other failure.
    let admin = core.actor(None, None).unwrap();
    let shown = core.integration(&admin, id).unwrap();
    assert_eq!(shown.error.unwrap().code, "response_too_large");
}

// ---------------------------------------------------------------------------------------------
// Paging that never advances

#[tokio::test]
async fn a_pager_repeating_its_page_with_link_next_stops_the_sync() {
    let pages = Arc::new(AtomicU64::new(0));
    let counter = pages.clone();
    let instance = Server::start(move |r| {
        if !r.path().ends_with("/api/now/table/incident") {
            return table_reply(r, &[]);
        }
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Reply::json(200, &json!({"result": [incident_row(1), incident_row(2)]}))
            .with_header("X-Total-Count", "100000")
            .with_header(
                "Link",
                &format!("<{}?sysparm_offset={}>;rel=\"next\"", r.path(), (n + 1) * 2),
            )
    });
    let Some((_dir, core, id)) = core_for(&instance.base) else {
        return;
    };
    let report = sync(&core, id).await;
    assert_eq!(report.status, SyncOutcome::Error);
    let error = report.error.expect("an error");
    assert_eq!(error.code, ErrorCode::PagingStalled, "{error:?}");
    // The first page was new and is kept; the repeat ends it.
    assert_eq!(report.fetched, 2);
    assert_eq!(pages.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn jira_page_tokens_that_bring_nothing_new_stop_paging() {
    let tokens = Arc::new(AtomicU64::new(0));
    let counter = tokens.clone();
    let instance = Server::start(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let issue = |id: u32| {
            json!({"id": id.to_string(), "key": format!("OPS-{id}"),
                   "fields": {"summary": "Printer jam", "updated": "2025-01-01T00:00:00.000+0000"}})
        };
        Reply::json(
            200,
            &json!({"issues": [issue(1), issue(2)], "nextPageToken": format!("t{n}"),
                    "isLast": false}),
        )
    });
    let mut jira = jira_cloud(&instance.base, options());
    let page = first_page(&mut jira).await.unwrap();
    assert_eq!(page.incidents.len(), 2);
    assert!(!page.done);
    // The next page re-reads the same issues under ever new tokens: stopped, not looped.
    let e = jira
        .next_page(page.next.as_ref(), &Filters::default(), 10)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PagingStalled, "{e:?}");
    assert_eq!(tokens.load(Ordering::SeqCst), 3);
}

/// Settings > Chat in real mode against `instance` with a VA token, plus a password stored
/// earlier (which token auth does not use).
fn chat_core_for(instance: &Server) -> (tempfile::TempDir, Arc<Core>) {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    let actor = core.actor(None, None).unwrap();
    core.save_chat_settings(
        &actor,
        ChatSettingsPatch {
            mode: Some(Mode::Real),
            instance_url: Some(instance.base.clone()),
            auth: Some(ChatAuth::Token),
            va_token: secret(TOKEN),
            password: secret(PASSWORD),
            webhook_secret: secret("webhook-secret-of-this-machine-01"),
            ..ChatSettingsPatch::default()
        },
    )
    .unwrap();
    (dir, core)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_the_chat_instance_needs_the_va_secret_again_and_sends_the_new_host_nothing() {
    let instance = Server::start(|_| Reply::json(200, &json!({"status": "success"})));
    let other = Server::recorder();
    let (_dir, core) = chat_core_for(&instance);
    let actor = core.actor(None, None).unwrap();
    let moved = ChatSettingsPatch {
        instance_url: Some(other.base.clone()),
        ..ChatSettingsPatch::default()
    };
    let e = core.save_chat_settings(&actor, moved.clone()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.message.contains(&other.base), "{}", e.message);
    assert!(e.message.contains("VA API token"), "{}", e.message);
    assert!(e.fields["va_token"].contains("again for the new host"));
    assert!(
        !e.fields.contains_key("password"),
        "token auth does not use it"
    );
    let kept = core.chat_settings(&actor).unwrap();
    assert_eq!(
        kept.values.instance_url.as_deref(),
        Some(instance.base.as_str())
    );
    // A path change on the same origin keeps the secrets.
    core.save_chat_settings(
        &actor,
        ChatSettingsPatch {
            instance_url: Some(format!("{}/", instance.base)),
            ..ChatSettingsPatch::default()
        },
    )
    .unwrap();
    // The refused move changed nothing: a hand-off still goes to the first instance only.
    let console = ChatConsole::start(Arc::clone(&core), ChatOptions::default())
        .await
        .unwrap();
    let session = console.new_session(&actor, None).await.unwrap();
    console.escalate(&actor, &session.id).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while instance.requests().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    console.shutdown().await;
    assert_eq!(instance.requests()[0].header("token"), Some(TOKEN));
    assert_untouched(&other);
    // Typing the token again moves it; the password, entered for the old host and unused by
    // token auth, is dropped rather than kept for the new one.
    core.save_chat_settings(
        &actor,
        ChatSettingsPatch {
            va_token: secret("tk-for-the-new-host"),
            ..moved
        },
    )
    .unwrap();
    let now = core.chat_settings(&actor).unwrap();
    assert_eq!(
        now.values.instance_url.as_deref(),
        Some(other.base.as_str())
    );
    assert!(now.secrets.va_token && !now.secrets.password);
}
