//! Authenticated requests to Jira, and what each refusal means for the user.

use reqwest::header::ACCEPT;
use reqwest::StatusCode;

use super::{Jira, JiraFlavour};
use crate::connectors::http::{error, unreachable_message, Attempt, Http, Reply};
use crate::error::{CoreError, CoreResult, ErrorCode};

impl Jira {
    /// Sends an authenticated request and maps Jira's refusals.
    pub(super) async fn call<F>(&self, what: &str, build: F) -> CoreResult<Reply>
    where
        F: Fn(&Http, &Attempt) -> reqwest::RequestBuilder,
    {
        let http = &self.http;
        let reply = http
            .send(what, |attempt| {
                self.auth
                    .apply(build(http, attempt).header(ACCEPT, "application/json"))
            })
            .await?;
        if reply.status.is_success() {
            return Ok(reply);
        }
        Err(self.refusal(what, &reply))
    }

    fn refusal(&self, what: &str, reply: &Reply) -> CoreError {
        let detail = format!("{what}: {}", reply.describe());
        let cloud = self.flavour == Some(JiraFlavour::Cloud);
        match reply.status {
            StatusCode::UNAUTHORIZED => {
                let captcha = reply
                    .header("x-seraph-loginreason")
                    .is_some_and(|r| r.contains("AUTHENTICATION_DENIED"));
                let message = if captcha {
                    "Jira locked the account behind a CAPTCHA after failed sign-ins. Sign in once \
                     in the browser, then check the credentials here."
                } else if cloud {
                    "Jira Cloud refused the credentials. Use the Atlassian account email as the \
                     username and an API token (not the password), and check the token has not \
                     been revoked or expired."
                } else {
                    "Jira refused the credentials. Check the personal access token (or username \
                     and password) is valid, not expired, and that the account is active."
                };
                error(ErrorCode::AuthInvalid, message, detail)
            }
            StatusCode::FORBIDDEN => error(
                ErrorCode::Forbidden,
                "The Jira account lacks permission: it needs the Browse projects permission on \
                 the projects to sync.",
                detail,
            ),
            StatusCode::BAD_REQUEST => error(
                ErrorCode::QueryInvalid,
                "Jira rejected the search. Check the integration's filters (JQL fragment, status, \
                 priority and project names).",
                detail,
            ),
            StatusCode::NOT_FOUND | StatusCode::GONE => error(
                ErrorCode::Unreachable,
                format!(
                    "{} The URL answered but has no Jira REST API there: use the site URL (Data \
                     Center: including its context path, e.g. https://jira.example.com/jira).",
                    unreachable_message("Jira")
                ),
                detail,
            ),
            _ => error(
                ErrorCode::ServerError,
                "Jira refused the request. Check the URL and the account's permissions.",
                detail,
            ),
        }
    }
}
