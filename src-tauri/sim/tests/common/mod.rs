//! Helpers shared by the integration tests: start a simulator, talk to it over real HTTP.
#![allow(dead_code)]

use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;
use supportbot_sim::{start, RunningSim, SimConfig};

/// A simulator with `incidents` generated incidents and the default seed.
pub async fn sim(incidents: usize) -> RunningSim {
    sim_with(SimConfig {
        incidents,
        ..SimConfig::default()
    })
    .await
}

pub async fn sim_with(config: SimConfig) -> RunningSim {
    start(config).await.expect("simulator starts")
}

pub fn client() -> Client {
    Client::new()
}

/// GET on the Table API as a user, with query parameters.
pub fn table(
    sim: &RunningSim,
    user: (&str, &str),
    table: &str,
    params: &[(&str, &str)],
) -> RequestBuilder {
    client()
        .get(format!("{}/api/now/table/{table}", sim.base_url()))
        .basic_auth(user.0, Some(user.1))
        .header("Accept", "application/json")
        .query(params)
}

pub const ADMIN: (&str, &str) = ("admin", "admin");
pub const READONLY: (&str, &str) = ("svc.readonly", "readonly");
pub const NO_ACCESS: (&str, &str) = ("no.access", "no.access");

/// Status, headers and JSON body of a response.
pub async fn json(response: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, headers, body)
}

/// The `result` array of a Table API list response.
pub async fn results(request: RequestBuilder) -> Vec<Value> {
    let (status, _, body) = json(request.send().await.expect("request")).await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_array().cloned().expect("result array")
}

pub fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
}

/// A request to the control API with the admin account's Basic credentials, which it requires.
pub async fn control(
    sim: &RunningSim,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = client()
        .request(method, format!("{}{path}", sim.base_url()))
        .basic_auth(ADMIN.0, Some(ADMIN.1));
    control_as(request, body).await
}

/// Sends a control API request as built (credentials or not): status and JSON body.
pub async fn control_as(mut request: RequestBuilder, body: Option<Value>) -> (u16, Value) {
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("control request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
