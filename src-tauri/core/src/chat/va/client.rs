//! The client of `POST /api/sn_va_as_service/bot/integration`.
//!
//! Auth as configured: the static `token` header of the VA Bot Integration API reference, Basic, or an OAuth Bearer from the
//! password grant of the LiveChat handoff spec, refreshed before expiry (and once more when the VA answers 401
//! before the token's time, e.g. after an instance restart). Sending goes through the connectors'
//! [`Http`], so connection errors, 429 and 5xx are retried with exponential backoff and full
//! jitter within a bounded budget, and other 4xx become [`CoreError`]s with stable codes.
//!
//! The endpoint is synchronous or asynchronous depending on the instance's configuration: an
//! asynchronous one acknowledges with `{"status":"success"}` and posts the replies to the
//! webhook; a synchronous one answers with the reply payload itself. Both come back as a
//! [`VaReply`].

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::model::{payload_from_value, VaPayload, VaRequest};
use crate::connectors::endpoint;
use crate::connectors::http::{self, error, unreachable_message, Http, Reply};
use crate::connectors::oauth::{Grant, OAuth};
use crate::connectors::retry::RetryPolicy;
use crate::error::{CoreError, CoreResult, ErrorCode};

/// The documented path of the endpoint.
pub const INTEGRATION_PATH: &str = "/api/sn_va_as_service/bot/integration";

/// How the app authenticates to the VA API. Secrets stay `SecretString`: `Debug` redacts them
/// and nothing here formats them.
#[derive(Debug, Clone)]
pub enum VaAuth {
    /// The `token` header (token-based auth of the VA API's provider channel).
    Token(SecretString),
    Basic {
        username: String,
        password: SecretString,
    },
    /// OAuth password grant at `/oauth_token.do`.
    OAuth {
        client_id: String,
        client_secret: SecretString,
        username: String,
        password: SecretString,
    },
}

/// What the client needs.
#[derive(Debug, Clone)]
pub struct VaClientConfig {
    /// The instance, e.g. `https://company.service-now.com`.
    pub instance_url: String,
    pub auth: VaAuth,
    pub retry: RetryPolicy,
}

/// The VA's answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum VaReply {
    /// Asynchronous mode: accepted; the replies will reach the webhook.
    Accepted,
    /// Synchronous mode: the reply payload.
    Messages(Box<VaPayload>),
}

/// Sends requests to one instance's VA API. Cheap to share behind an `Arc`; the OAuth state is
/// behind an async lock so concurrent sends refresh the token once.
#[derive(Debug)]
pub struct VaClient {
    http: Http,
    url: url::Url,
    auth: Auth,
}

#[derive(Debug)]
enum Auth {
    Token(SecretString),
    Basic {
        username: String,
        password: SecretString,
    },
    /// Boxed: the token state is large and only this variant carries it.
    Bearer(Box<Mutex<OAuth>>),
}

impl VaClient {
    pub fn new(config: VaClientConfig) -> CoreResult<VaClient> {
        let base = url::Url::parse(config.instance_url.trim()).map_err(|_| {
            CoreError::new(
                ErrorCode::Validation,
                "The ServiceNow instance URL is not a valid URL (e.g. https://company.service-now.com).",
            )
            .with_field("instance_url", "Enter a URL such as https://company.service-now.com.")
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(CoreError::new(
                ErrorCode::Validation,
                "The ServiceNow instance URL must start with https://.",
            )
            .with_field("instance_url", "Use an https:// URL."));
        }
        let auth = match config.auth {
            VaAuth::Token(token) => Auth::Token(token),
            VaAuth::Basic { username, password } => Auth::Basic { username, password },
            VaAuth::OAuth {
                client_id,
                client_secret,
                username,
                password,
            } => Auth::Bearer(Box::new(Mutex::new(OAuth::new(
                &base,
                client_id,
                client_secret,
                Grant::Password { username, password },
            )))),
        };
        Ok(VaClient {
            http: Http {
                client: http::client()?,
                policy: config.retry,
                cancel: CancellationToken::new(),
                system: "ServiceNow",
                max_body: http::MAX_RESPONSE_BYTES,
                pacing: Default::default(),
            },
            url: endpoint(&base, INTEGRATION_PATH),
            auth,
        })
    }

    /// Sends one request. With OAuth, a 401 refreshes the token once and sends again.
    pub async fn send(&self, request: &VaRequest) -> CoreResult<VaReply> {
        let what = match request.action {
            Some(action) => format!("VA {}", action.as_str()),
            None => "VA message".to_owned(),
        };
        let mut reply = self.send_once(&what, request).await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            if let Auth::Bearer(oauth) = &self.auth {
                tracing::info!("VA API refused the OAuth token before its expiry; refreshing");
                oauth.lock().await.rejected(&self.http).await?;
                reply = self.send_once(&what, request).await?;
            }
        }
        interpret(&reply)
    }

    async fn send_once(&self, what: &str, request: &VaRequest) -> CoreResult<Reply> {
        let bearer = match &self.auth {
            Auth::Bearer(oauth) => Some(oauth.lock().await.access_token(&self.http).await?),
            _ => None,
        };
        let mut body = serde_json::to_value(request)
            .map_err(|e| CoreError::internal(format!("a VA request did not serialise: {e}")))?;
        if let (Auth::Token(token), Some(fields)) = (&self.auth, body.as_object_mut()) {
            // The LiveChat handoff spec's AGENT request carries the token in the body as well
            // as the VA reference's `token` header; instances configured from either accept it.
            fields.insert(
                "token".into(),
                Value::String(token.expose_secret().to_owned()),
            );
        }
        self.http
            .send(what, |_| {
                let builder = self
                    .http
                    .client
                    .post(self.url.clone())
                    .header(reqwest::header::ACCEPT, "application/json")
                    .json(&body);
                match (&self.auth, &bearer) {
                    (Auth::Token(token), _) => builder.header("token", token.expose_secret()),
                    (Auth::Basic { username, password }, _) => {
                        builder.basic_auth(username, Some(password.expose_secret()))
                    }
                    (Auth::Bearer(_), Some(token)) => builder.bearer_auth(token.expose_secret()),
                    (Auth::Bearer(_), None) => builder,
                }
            })
            .await
    }
}

/// Maps a final reply (after retries) to the outcome.
fn interpret(reply: &Reply) -> CoreResult<VaReply> {
    let status = reply.status;
    let body = reply.json();
    if status.is_success() {
        // `{"status":"failure","error":{…}}` with a 2xx: the VA validated and refused.
        if body.get("status").and_then(Value::as_str) == Some("failure") {
            return Err(rejected(reply));
        }
        let looks_like_payload = body.get("body").is_some()
            || body.get("requestId").is_some()
            || body.get("agentChat").is_some();
        if looks_like_payload {
            return payload_from_value(body)
                .map(|p| VaReply::Messages(Box::new(p)))
                .map_err(|e| {
                    error(
                        ErrorCode::MalformedResponse,
                        "The Virtual Agent API answered with something other than a reply \
                         payload. Check that the URL points at the instance itself.",
                        e.to_string(),
                    )
                });
        }
        return Ok(VaReply::Accepted);
    }
    Err(match status {
        StatusCode::UNAUTHORIZED => error(
            ErrorCode::AuthInvalid,
            "ServiceNow refused the Virtual Agent API credentials. Check the token, username \
             and password or OAuth client configured for the chat, and that the account is \
             not locked.",
            reply.describe(),
        ),
        StatusCode::FORBIDDEN => error(
            ErrorCode::Forbidden,
            "The account may not use the Virtual Agent API. Ask the ServiceNow admin to grant \
             the VA API role to the integration user.",
            reply.describe(),
        ),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => error(
            ErrorCode::VaRejected,
            "The Virtual Agent API was not found on this instance. Check the instance URL and \
             that the Virtual Agent API plugin (sn_va_as_service) is installed.",
            reply.describe(),
        ),
        s if s.is_client_error() => rejected(reply),
        _ => error(
            ErrorCode::ServerError,
            unreachable_message("ServiceNow"),
            reply.describe(),
        ),
    })
}

fn rejected(reply: &Reply) -> CoreError {
    error(
        ErrorCode::VaRejected,
        "The Virtual Agent API rejected the message. The details say why; if it persists, check \
         the bot configuration (bot id, provider channel) with the ServiceNow admin.",
        reply.describe(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_validation_errors() {
        for url in ["not a url", "ftp://x"] {
            let err = VaClient::new(VaClientConfig {
                instance_url: url.into(),
                auth: VaAuth::Token(SecretString::from("t".to_owned())),
                retry: RetryPolicy::fast(),
            })
            .unwrap_err();
            assert_eq!(err.code, ErrorCode::Validation);
            assert!(err.fields.contains_key("instance_url"));
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let client = VaClient::new(VaClientConfig {
            instance_url: "https://x.service-now.com".into(),
            auth: VaAuth::OAuth {
                client_id: "id".into(),
                client_secret: SecretString::from("client-secret-value".to_owned()),
                username: "u".into(),
                password: SecretString::from("password-value".to_owned()),
            },
            retry: RetryPolicy::fast(),
        })
        .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("client-secret-value") && !shown.contains("password-value"));
    }
}
