//! One Table API request: authentication (Basic, or an OAuth token renewed once when refused),
//! smaller pages after slow answers, and what each refusal means for the user.

use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

use super::{Rows, ServiceNow, MIN_PAGE};
use crate::connectors::endpoint;
use crate::connectors::http::{error, unreachable_message, Attempt, Reply};
use crate::connectors::oauth::OAuth;
use crate::connectors::pages::table_page;
use crate::error::{CoreError, CoreResult, ErrorCode};

const AUTH_INVALID: &str = "ServiceNow refused the credentials: invalid username or password, or \
an expired password. Verify the username and password, check whether the service account is \
locked, then update the credentials and try again.";
const MFA_REQUIRED: &str = "ServiceNow requires multi-factor authentication for this account, \
which an API sign-in cannot complete. Use a dedicated service account without MFA (or an app \
password, or OAuth), as the integrations guide recommends.";

/// How requests authenticate.
#[derive(Debug)]
pub(super) enum Auth {
    Basic {
        username: String,
        password: SecretString,
    },
    OAuth(Box<OAuth>),
}

/// The header value of one request, so each retry sends the same one.
enum Header {
    Basic(String, SecretString),
    Bearer(SecretString),
}

impl Header {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        // reqwest marks both headers sensitive, so they never show in its Debug output.
        match self {
            Header::Basic(user, password) => {
                request.basic_auth(user, Some(password.expose_secret()))
            }
            Header::Bearer(token) => request.bearer_auth(token.expose_secret()),
        }
    }
}

impl ServiceNow {
    /// One Table API list request; the limit halves for each slow attempt.
    pub(super) async fn list(
        &mut self,
        table: &str,
        query: &str,
        fields: &str,
        limit: usize,
        offset: usize,
    ) -> CoreResult<Rows> {
        let params = |attempt: &Attempt| {
            let limit = shrunk(limit, attempt);
            let mut params = vec![
                ("sysparm_limit", limit.to_string()),
                ("sysparm_fields", fields.to_owned()),
                ("sysparm_display_value", "false".to_owned()),
                ("sysparm_exclude_reference_link", "true".to_owned()),
                ("sysparm_suppress_pagination_header", "true".to_owned()),
            ];
            if !query.is_empty() {
                params.push(("sysparm_query", query.to_owned()));
            }
            if offset > 0 {
                params.push(("sysparm_offset", offset.to_string()));
            }
            params
        };
        let reply = self.get(table, &params).await?;
        let Some(page) = table_page(reply.json(), reply.header("x-total-count")) else {
            return Err(error(
                ErrorCode::MalformedResponse,
                "ServiceNow answered without a result list. Check that the URL points at the \
                 instance itself (https://<instance>.service-now.com), not a login page or \
                 proxy.",
                format!("table {table}: {}", reply.describe()),
            ));
        };
        Ok(Rows {
            rows: page.rows,
            total: page.total,
            limit: shrunk(limit, &reply.attempt),
        })
    }

    /// A GET on a table with authentication; an expired OAuth token is renewed once.
    async fn get(
        &mut self,
        table: &str,
        params: &(dyn Fn(&Attempt) -> Vec<(&'static str, String)> + Sync),
    ) -> CoreResult<Reply> {
        let url = endpoint(&self.base, &format!("/api/now/table/{table}"));
        let what = format!("table {table}");
        let mut renewed = false;
        loop {
            let header = match &mut self.auth {
                Auth::Basic { username, password } => {
                    Header::Basic(username.clone(), password.clone())
                }
                Auth::OAuth(oauth) => Header::Bearer(oauth.access_token(&self.http).await?),
            };
            let http = &self.http;
            let reply = http
                .send(&what, |attempt| {
                    header.apply(
                        http.client
                            .get(url.clone())
                            .query(&params(attempt))
                            .header(ACCEPT, "application/json"),
                    )
                })
                .await?;
            if reply.status.is_success() {
                return Ok(reply);
            }
            if reply.status == StatusCode::UNAUTHORIZED {
                if let (Auth::OAuth(oauth), false) = (&mut self.auth, renewed) {
                    tracing::info!("ServiceNow refused the OAuth access token; renewing it");
                    oauth.rejected(&self.http).await?;
                    renewed = true;
                    continue;
                }
            }
            return Err(self.refusal(table, &reply));
        }
    }

    /// The error for a 4xx the retry layer passed through.
    fn refusal(&self, table: &str, reply: &Reply) -> CoreError {
        let detail = format!("table {table}: {}", reply.describe());
        match reply.status {
            StatusCode::UNAUTHORIZED if reply.header("x-mfa_token").is_some() => {
                error(ErrorCode::AuthInvalid, MFA_REQUIRED, detail)
            }
            StatusCode::UNAUTHORIZED => match self.auth {
                Auth::Basic { .. } => error(ErrorCode::AuthInvalid, AUTH_INVALID, detail),
                Auth::OAuth(_) => error(
                    ErrorCode::AuthInvalid,
                    crate::connectors::oauth::OAUTH_DENIED,
                    detail,
                ),
            },
            StatusCode::FORBIDDEN => error(
                ErrorCode::Forbidden,
                format!(
                    "The ServiceNow account lacks read permission on the {table} table. Grant the \
                     service account read access to incident (and sys_user for names), or test \
                     with an admin account to isolate permission issues."
                ),
                detail,
            ),
            StatusCode::BAD_REQUEST => error(
                ErrorCode::QueryInvalid,
                "ServiceNow rejected the query. Check the integration's filters (encoded query) \
                 and that the account can see the incident table.",
                detail,
            ),
            StatusCode::NOT_FOUND => error(
                ErrorCode::Unreachable,
                format!(
                    "{} The URL answered but has no ServiceNow Table API: it should be the \
                     instance root, e.g. https://company.service-now.com.",
                    unreachable_message("ServiceNow")
                ),
                detail,
            ),
            _ => error(
                ErrorCode::ServerError,
                "ServiceNow refused the request. Check the URL and the account's roles.",
                detail,
            ),
        }
    }
}

/// The limit an attempt uses: halved per earlier slow failure, never below [`MIN_PAGE`].
fn shrunk(limit: usize, attempt: &Attempt) -> usize {
    let halved = limit >> attempt.slow_failures.min(16);
    halved.max(MIN_PAGE.min(limit)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_answers_halve_the_page_but_not_below_the_floor() {
        let attempt = |slow| Attempt {
            number: 1,
            slow_failures: slow,
        };
        assert_eq!(shrunk(100, &attempt(0)), 100);
        assert_eq!(shrunk(100, &attempt(1)), 50);
        assert_eq!(shrunk(100, &attempt(5)), MIN_PAGE);
        assert_eq!(shrunk(3, &attempt(2)), 3);
    }
}
