//! `POST /oauth_token.do` (password, refresh_token and, when enabled, client_credentials
//! grants) and Bearer-token checks.
//!
//! Like the real endpoint it takes form-urlencoded bodies only, enforces expiry, and answers
//! every failure with the same opaque `access_denied`, so clients learn to report it usefully.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::json;

use crate::auth::{
    credentials, secret_eq, Account, Credentials, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET,
};
use crate::errors;
use crate::server::AppState;

/// The OAuth Application User that client credentials tokens act as (a real instance maps
/// the application to a user in its registry): the read-only service account.
pub const CLIENT_CREDENTIALS_USER: &str = "svc.readonly";

/// Default lifetimes of a real instance.
const ACCESS_TTL: Duration = Duration::from_secs(1800);
const REFRESH_TTL: Duration = Duration::from_secs(100 * 24 * 3600);

struct Grant {
    user_name: &'static str,
    expires: Instant,
}

/// Issued tokens.
pub struct Tokens {
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// The client credentials grant is accepted (off by default, as on a real instance, where
    /// `glide.oauth.inbound.client.credential.grant_type.enabled` must be set).
    pub client_credentials: bool,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            access: HashMap::new(),
            refresh: HashMap::new(),
            access_ttl: ACCESS_TTL,
            refresh_ttl: REFRESH_TTL,
            client_credentials: false,
        }
    }
}

impl Tokens {
    /// No tokens yet; the client credentials grant accepted when `enabled`.
    pub fn with_client_credentials(enabled: bool) -> Tokens {
        Tokens {
            client_credentials: enabled,
            ..Tokens::default()
        }
    }

    /// The user behind a live access token.
    pub fn user(&self, token: &str) -> Option<&'static Account> {
        let grant = self.access.get(token)?;
        (grant.expires > Instant::now())
            .then(|| Account::named(grant.user_name))
            .flatten()
    }

    /// Makes every access token expire now (refresh tokens stay valid).
    pub fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        for grant in self.access.values_mut() {
            grant.expires = now;
        }
    }

    /// Makes every refresh token expire now.
    pub fn expire_refresh_tokens(&mut self) {
        let now = Instant::now();
        for grant in self.refresh.values_mut() {
            grant.expires = now;
        }
    }

    /// An access token without a refresh token (RFC 6749 §4.4.3: client credentials).
    fn issue_access_only(&mut self, user_name: &'static str) -> serde_json::Value {
        let mut body = self.issue(user_name, None);
        if let Some(refresh) = body.as_object_mut().and_then(|o| o.remove("refresh_token")) {
            if let Some(refresh) = refresh.as_str() {
                self.refresh.remove(refresh);
            }
        }
        body
    }

    fn issue(&mut self, user_name: &'static str, refresh: Option<String>) -> serde_json::Value {
        let access = token();
        let now = Instant::now();
        self.access.insert(
            access.clone(),
            Grant {
                user_name,
                expires: now + self.access_ttl,
            },
        );
        let refresh = refresh.unwrap_or_else(|| {
            let refresh = token();
            self.refresh.insert(
                refresh.clone(),
                Grant {
                    user_name,
                    expires: now + self.refresh_ttl,
                },
            );
            refresh
        });
        // The real endpoint reports one second less than the configured lifetime.
        let expires_in = self.access_ttl.as_secs().saturating_sub(1);
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": expires_in,
        })
    }
}

/// ServiceNow-style opaque tokens: 86 URL-safe characters.
fn token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..86)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `POST /oauth_token.do`.
pub async fn token_endpoint(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form {
        return errors::oauth_denied();
    }
    let params: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    // Client credentials may come in the body or as HTTP Basic (requests-oauthlib does the latter).
    let (client_id, client_secret) = match credentials(&headers) {
        Credentials::Basic(id, secret)
            if params.get("client_id").is_none_or(|c| c == &id)
                && !params.contains_key("client_secret") =>
        {
            (id, secret)
        }
        _ => (
            param("client_id").to_owned(),
            param("client_secret").to_owned(),
        ),
    };
    if !(secret_eq(OAUTH_CLIENT_ID, &client_id) && secret_eq(OAUTH_CLIENT_SECRET, &client_secret)) {
        return errors::oauth_denied();
    }
    let Ok(mut tokens) = state.tokens.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match param("grant_type") {
        "password" => match Account::check(param("username"), param("password")) {
            Some(account) => axum::Json(tokens.issue(account.user_name, None)).into_response(),
            None => errors::oauth_denied(),
        },
        "refresh_token" => {
            let refresh = param("refresh_token").to_owned();
            let user = tokens
                .refresh
                .get(&refresh)
                .filter(|g| g.expires > Instant::now())
                .map(|g| g.user_name);
            match user {
                Some(user) => axum::Json(tokens.issue(user, Some(refresh))).into_response(),
                None => errors::oauth_denied(),
            }
        }
        // Exists on real instances but is off unless an admin enables it.
        "client_credentials" if tokens.client_credentials => {
            axum::Json(tokens.issue_access_only(CLIENT_CREDENTIALS_USER)).into_response()
        }
        _ => errors::oauth_denied(),
    }
}

/// Resolves the ServiceNow user of a request (Basic or OAuth Bearer), or the 401 to send.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<&'static Account, Response> {
    match credentials(headers) {
        Credentials::Basic(user, password) => match Account::check(&user, &password) {
            Some(account) if account.mfa_enforced => {
                let mut response = errors::servicenow_unauthenticated();
                errors::put(response.headers_mut(), "X-MFA_TOKEN", "invalid");
                Err(response)
            }
            Some(account) => Ok(account),
            None => Err(errors::servicenow_unauthenticated()),
        },
        Credentials::Bearer(token) => state
            .tokens
            .lock()
            .ok()
            .and_then(|tokens| tokens.user(&token))
            .ok_or_else(errors::servicenow_unauthenticated),
        Credentials::None => Err(errors::servicenow_unauthenticated()),
    }
}
