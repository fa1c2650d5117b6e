//! `/oauth_token.do`: password and refresh grants, opaque errors, expiry.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn token(sim: &supportbot_sim::RunningSim, form: &[(&str, &str)]) -> (u16, Value) {
    let response = client()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn password_grant<'a>(user: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", "demo-client"),
        ("client_secret", "demo-secret"),
        ("username", user),
        ("password", password),
    ]
}

async fn incidents_with(sim: &supportbot_sim::RunningSim, access: &str) -> u16 {
    client()
        .get(format!(
            "{}/api/now/table/incident?sysparm_limit=1",
            sim.base_url()
        ))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

const DENIED: &str = r#"{"error":"server_error","error_description":"access_denied"}"#;

#[tokio::test]
async fn password_grant_then_bearer_then_refresh() {
    let sim = sim(5).await;
    let (status, body) = token(&sim, &password_grant("admin", "admin")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "useraccount");
    assert_eq!(body["expires_in"], 1799);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(incidents_with(&sim, &access).await, 200);

    let (status, renewed) = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(renewed["access_token"], body["access_token"]);
    assert_eq!(
        incidents_with(&sim, renewed["access_token"].as_str().unwrap()).await,
        200
    );
    // Roles follow the user behind the token.
    let (_, limited) = token(&sim, &password_grant("no.access", "no.access")).await;
    assert_eq!(
        incidents_with(&sim, limited["access_token"].as_str().unwrap()).await,
        403
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn client_credentials_may_come_as_http_basic() {
    let sim = sim(1).await;
    let response = client()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&[
            ("grant_type", "password"),
            ("username", "svc.readonly"),
            ("password", "readonly"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_failure_is_the_same_opaque_access_denied() {
    let sim = sim(1).await;
    let denied: Value = serde_json::from_str(DENIED).unwrap();
    let cases: Vec<Vec<(&str, &str)>> = vec![
        password_grant("admin", "wrong"),
        password_grant("nobody", "x"),
        vec![
            ("grant_type", "password"),
            ("client_id", "demo-client"),
            ("client_secret", "nope"),
            ("username", "admin"),
            ("password", "admin"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("refresh_token", "made-up"),
        ],
    ];
    for form in cases {
        assert_eq!(token(&sim, &form).await, (401, denied.clone()), "{form:?}");
    }
    // JSON bodies are refused: the endpoint is form-urlencoded only.
    let response = client()
        .post(format!("{}/oauth_token.do", sim.base_url()))
        .json(&json!({"grant_type": "password", "client_id": "demo-client", "client_secret": "demo-secret", "username": "admin", "password": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.json::<Value>().await.unwrap(), denied);
    sim.shutdown().await;
}

#[tokio::test]
async fn expired_tokens_are_refused_and_refresh_still_works() {
    let sim = sim(1).await;
    let (_, body) = token(&sim, &password_grant("admin", "admin")).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        control(&sim, Method::POST, "/sim/oauth/expire", None)
            .await
            .0,
        204
    );
    let expired = client()
        .get(format!("{}/api/now/table/incident", sim.base_url()))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    let (status, _, error) = json(expired).await;
    assert_eq!(status, 401);
    assert_eq!(error["error"]["message"], "User Not Authenticated");
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("client_id", "demo-client"),
        ("client_secret", "demo-secret"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, renewed) = token(&sim, &refresh_form).await;
    assert_eq!(status, 200);
    assert_eq!(
        incidents_with(&sim, renewed["access_token"].as_str().unwrap()).await,
        200
    );

    // Zero lifetime: tokens are dead on arrival.
    let (status, settings) = control(
        &sim,
        Method::PUT,
        "/sim/oauth",
        Some(json!({"access_token_ttl": 0})),
    )
    .await;
    assert_eq!(
        (status, settings["access_token_ttl"].as_u64()),
        (200, Some(0))
    );
    let (_, short) = token(&sim, &password_grant("admin", "admin")).await;
    assert_eq!(
        incidents_with(&sim, short["access_token"].as_str().unwrap()).await,
        401
    );

    // Expired refresh tokens are refused too.
    control(
        &sim,
        Method::POST,
        "/sim/oauth/expire",
        Some(json!({"refresh_tokens": true})),
    )
    .await;
    assert_eq!(token(&sim, &refresh_form).await.0, 401);
    sim.shutdown().await;
}
