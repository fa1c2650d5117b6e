//! Shared helpers for the core's integration tests.
#![allow(dead_code)]

pub mod rogue;
pub mod sync_fixture;
pub mod tls_front;

use secrecy::SecretString;
use supportbot_core::integrations::{AuthType, Kind, NewIntegration};
use supportbot_core::secrets::StorePreference;
use supportbot_core::{Actor, Core};

pub fn core_with(pref: StorePreference) -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with(dir.path(), pref).unwrap();
    (dir, core)
}

/// A core with the encrypted-file store, independent of any keyring on the machine.
pub fn file_core() -> (tempfile::TempDir, Core) {
    core_with(StorePreference::File)
}

pub fn admin(core: &Core) -> Actor {
    core.actor(None, None).unwrap()
}

/// The admin's password in tests that add profiles (a second profile needs one).
pub const ADMIN_PASSWORD: &str = "admin-pw";

/// Gives the default Admin a password, as adding any other profile requires.
pub fn protect_admin(core: &Core, admin: &Actor) {
    core.set_profile_password(
        admin,
        &admin.name,
        None,
        &SecretString::from(ADMIN_PASSWORD.to_string()),
    )
    .unwrap();
}

pub fn secret(s: &str) -> Option<SecretString> {
    Some(SecretString::from(s.to_string()))
}

pub fn basic(name: &str, password: &str) -> NewIntegration {
    NewIntegration {
        name: name.into(),
        kind: Kind::Servicenow,
        auth: AuthType::Basic,
        url: "https://example.service-now.com".into(),
        username: Some("svc.supportbot".into()),
        client_id: None,
        password: secret(password),
        token: None,
        client_secret: None,
        enabled: None,
        schedule_minutes: None,
        filters: None,
        request_budget: None,
        ca_certificates: None,
        allow_insecure_http: false,
    }
}

/// A ServiceNow integration named `name` on a simulator at `url`, with its admin/admin account.
pub fn sim_basic(name: &str, url: &str) -> NewIntegration {
    NewIntegration {
        url: url.into(),
        username: Some("admin".into()),
        ..basic(name, "admin")
    }
}

/// True when `needle` occurs anywhere in any file under `dir`.
pub fn dir_contains(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(path);
                }
            }
        }
    }
    hits
}

/// The simulator account its `/sim` control API requires (HTTP Basic, `admin` role).
pub const SIM_ADMIN: (&str, &str) = ("admin", "admin");

/// A request to the simulator's `/sim` control API, with the admin credentials it requires.
pub fn sim_request(
    sim: &supportbot_sim::RunningSim,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sim.base_url()))
        .basic_auth(SIM_ADMIN.0, Some(SIM_ADMIN.1))
}

/// PUT to the simulator's control API (e.g. `/sim/va` knobs), asserting success.
pub async fn sim_put(
    sim: &supportbot_sim::RunningSim,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let response = sim_request(sim, reqwest::Method::PUT, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// GET from the simulator's control API as JSON, asserting success.
pub async fn sim_get(sim: &supportbot_sim::RunningSim, path: &str) -> serde_json::Value {
    let response = sim_request(sim, reqwest::Method::GET, path)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// POST to the simulator's control API; the status code.
pub async fn sim_post(
    sim: &supportbot_sim::RunningSim,
    path: &str,
    body: serde_json::Value,
) -> u16 {
    sim_request(sim, reqwest::Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
