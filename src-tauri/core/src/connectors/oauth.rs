//! ServiceNow OAuth at `POST /oauth_token.do`: the password grant, or the client credentials
//! grant (no user password stored: the token acts as the OAuth application's user), refreshed
//! before expiry, with a fresh sign-in when the refresh token is refused or was never given.
//!
//! The endpoint answers every failure with the same opaque `access_denied`, so the error says
//! everything that can cause it.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::endpoint;
use super::http::{error, Http};
use crate::error::{CoreResult, ErrorCode};

/// The message for a refused password grant.
pub(crate) const OAUTH_DENIED: &str =
    "ServiceNow refused the OAuth sign-in (access_denied). Check the client id and \
     client secret, that the password grant is enabled for this OAuth application, and the \
     user's username and password (and that the account is not locked).";

/// The message for a refused client credentials grant.
pub(crate) const CLIENT_CREDENTIALS_DENIED: &str =
    "ServiceNow refused the OAuth sign-in (access_denied). Check the client id and client \
     secret, and ask the instance admin whether the client credentials grant is enabled (system \
     property glide.oauth.inbound.client.credential.grant_type.enabled) and whether this OAuth \
     application has an OAuth Application User that may read incidents.";

/// How the app signs in.
#[derive(Debug)]
pub(crate) enum Grant {
    /// `grant_type=password`: as a named user.
    Password {
        username: String,
        password: SecretString,
    },
    /// `grant_type=client_credentials`: as the OAuth application's user.
    ClientCredentials,
}

/// The OAuth settings and the current tokens.
#[derive(Debug)]
pub(crate) struct OAuth {
    token_url: url::Url,
    client_id: String,
    client_secret: SecretString,
    grant: Grant,
    tokens: Option<Tokens>,
}

#[derive(Debug)]
struct Tokens {
    access: SecretString,
    refresh: Option<SecretString>,
    /// When to refresh proactively.
    refresh_at: Instant,
}

impl OAuth {
    pub(crate) fn new(
        base: &url::Url,
        client_id: String,
        client_secret: SecretString,
        grant: Grant,
    ) -> OAuth {
        OAuth {
            token_url: endpoint(base, "/oauth_token.do"),
            client_id,
            client_secret,
            grant,
            tokens: None,
        }
    }

    /// The message for a refused sign-in with this grant.
    fn denied(&self) -> &'static str {
        match self.grant {
            Grant::Password { .. } => OAUTH_DENIED,
            Grant::ClientCredentials => CLIENT_CREDENTIALS_DENIED,
        }
    }

    /// A live access token: signs in, or refreshes one that is close to expiry.
    pub(crate) async fn access_token(&mut self, http: &Http) -> CoreResult<SecretString> {
        let due = self.tokens.as_ref().map(|t| Instant::now() >= t.refresh_at);
        match due {
            Some(false) => {}
            Some(true) => self.refresh(http).await?,
            None => self.login(http).await?,
        }
        match &self.tokens {
            Some(tokens) => Ok(tokens.access.clone()),
            None => Err(error(
                ErrorCode::AuthInvalid,
                self.denied(),
                "no access token",
            )),
        }
    }

    /// The access token was refused before its time (revoked, or the instance's clock or
    /// configuration differs): refresh now.
    pub(crate) async fn rejected(&mut self, http: &Http) -> CoreResult<()> {
        self.refresh(http).await
    }

    /// Uses the refresh token; falls back to a new password grant when it is refused or absent.
    async fn refresh(&mut self, http: &Http) -> CoreResult<()> {
        let refresh = self.tokens.as_ref().and_then(|t| t.refresh.clone());
        if let Some(refresh) = refresh {
            let form = |r: &SecretString| {
                vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("client_id", self.client_id.clone()),
                    (
                        "client_secret",
                        self.client_secret.expose_secret().to_owned(),
                    ),
                    ("refresh_token", r.expose_secret().to_owned()),
                ]
            };
            let reply = http
                .send("OAuth token refresh", |_| {
                    http.client
                        .post(self.token_url.clone())
                        .form(&form(&refresh))
                })
                .await?;
            if reply.status.is_success() {
                self.tokens = Some(parse_tokens(reply.json(), Some(refresh))?);
                return Ok(());
            }
            tracing::info!(
                status = reply.status.as_u16(),
                "OAuth refresh token refused; signing in again"
            );
        }
        self.login(http).await
    }

    async fn login(&mut self, http: &Http) -> CoreResult<()> {
        self.tokens = None;
        let form = || {
            let mut form = vec![
                ("client_id", self.client_id.clone()),
                (
                    "client_secret",
                    self.client_secret.expose_secret().to_owned(),
                ),
            ];
            match &self.grant {
                Grant::Password { username, password } => {
                    form.push(("grant_type", "password".to_owned()));
                    form.push(("username", username.clone()));
                    form.push(("password", password.expose_secret().to_owned()));
                }
                Grant::ClientCredentials => {
                    form.push(("grant_type", "client_credentials".to_owned()));
                }
            }
            form
        };
        let reply = http
            .send("OAuth sign-in", |_| {
                http.client.post(self.token_url.clone()).form(&form())
            })
            .await?;
        if matches!(
            reply.status,
            StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN
        ) {
            return Err(error(
                ErrorCode::AuthInvalid,
                self.denied(),
                reply.describe(),
            ));
        }
        if !reply.status.is_success() {
            return Err(error(
                ErrorCode::Unreachable,
                super::http::unreachable_message("ServiceNow"),
                format!("OAuth endpoint: {}", reply.describe()),
            ));
        }
        self.tokens = Some(parse_tokens(reply.json(), None)?);
        Ok(())
    }
}

/// Reads a token response; a refresh response may omit the refresh token (keep the old one).
fn parse_tokens(body: &Value, previous_refresh: Option<SecretString>) -> CoreResult<Tokens> {
    let access = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            error(
                ErrorCode::MalformedResponse,
                "ServiceNow's OAuth endpoint answered without an access token. Check that the URL \
                 points at the instance itself.",
                "no access_token in the token response",
            )
        })?;
    let refresh = body
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(|t| SecretString::from(t.to_owned()))
        .or(previous_refresh);
    // Default lifetime of a real instance when the field is missing or not a number.
    let expires_in = body
        .get("expires_in")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .unwrap_or(1799);
    let now = Instant::now();
    Ok(Tokens {
        access: SecretString::from(access.to_owned()),
        refresh,
        // `checked_add` as well: an `Instant` far in the future can overflow on some platforms.
        refresh_at: now.checked_add(refresh_after(expires_in)).unwrap_or(now),
    })
}

/// The longest token lifetime believed: a server may say anything, and a token kept for
/// longer than a day is renewed anyway (a refresh costs one request).
const MAX_LIFETIME_S: u64 = 24 * 3600;

/// Refresh at 80 % of the lifetime or a minute before expiry, whichever comes first; an
/// absurd lifetime counts as [`MAX_LIFETIME_S`], so no arithmetic here can overflow.
fn refresh_after(expires_in: u64) -> Duration {
    let lifetime = expires_in.min(MAX_LIFETIME_S);
    let by_share = lifetime * 4 / 5;
    let by_margin = lifetime.saturating_sub(60);
    Duration::from_secs(by_share.min(by_margin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_well_before_expiry() {
        assert_eq!(refresh_after(1799), Duration::from_secs(1439));
        assert_eq!(refresh_after(100), Duration::from_secs(40));
        assert_eq!(refresh_after(30), Duration::ZERO);
    }

    #[test]
    fn absurd_lifetimes_neither_overflow_nor_keep_a_token_for_ages() {
        let limit = refresh_after(MAX_LIFETIME_S);
        assert_eq!(refresh_after(u64::MAX), limit);
        assert_eq!(refresh_after(u64::MAX / 4 + 7), limit);
        assert!(limit < Duration::from_secs(MAX_LIFETIME_S));
        for body in [
            serde_json::json!({"access_token": "a", "expires_in": u64::MAX}),
            serde_json::json!({"access_token": "a", "expires_in": "18446744073709551615"}),
            serde_json::json!({"access_token": "a", "expires_in": -5}),
            serde_json::json!({"access_token": "a", "expires_in": "soon"}),
        ] {
            let tokens = parse_tokens(&body, None).unwrap();
            assert!(tokens.refresh_at <= Instant::now() + limit);
        }
    }
}
