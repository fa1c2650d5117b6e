//! Jira connector: Cloud (`POST /rest/api/3/search/jql`, token paging, ADF text) and Data Center
//! (`POST /rest/api/2/search`, startAt/total, wiki markup), issues as incidents.
//!
//! Each page re-queries `updated >= T ORDER BY updated ASC, key ASC` from the newest time
//! delivered so far, skipping the issues already delivered at exactly T. Following one query's
//! page tokens instead would drift: an issue updated meanwhile leaves its place and the next
//! token skips whatever slid into it. Times are epoch milliseconds, the only JQL date form free
//! of the account's time zone and minute rounding; a watermark loaded from storage is rewound by
//! an overlap margin, and the pipeline's upsert on the issue id absorbs the repeats.

mod api;
mod issues;
mod jql;
mod paging;

use std::collections::HashSet;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::http::{Http, MAX_RESPONSE_BYTES};
use super::pages::Position;
use super::{endpoint, missing, ConnectionCheck, ConnectorOptions, Credentials, Notes, Watermark};
use crate::error::CoreResult;
use crate::integrations::AuthType;

/// The fields requested: Cloud returns only id/key/self unless fields are named.
const FIELDS: &[&str] = &[
    "summary",
    "description",
    "status",
    "priority",
    "issuetype",
    "project",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "assignee",
    "reporter",
    "labels",
    "comment",
];
const ORDER: &str = "ORDER BY updated ASC, key ASC";

/// Jira Cloud or Data Center (Server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JiraFlavour {
    Cloud,
    DataCenter,
}

impl JiraFlavour {
    /// Where the first search page starts.
    fn first_page(self) -> Position {
        match self {
            JiraFlavour::Cloud => Position::Token(None),
            JiraFlavour::DataCenter => Position::StartAt(0),
        }
    }

    fn label(self) -> &'static str {
        match self {
            JiraFlavour::Cloud => "Jira Cloud",
            JiraFlavour::DataCenter => "Jira Data Center",
        }
    }

    /// Issues per search page with fields: Cloud caps at 100, Data Center's default cap is 1000.
    fn page_cap(self) -> usize {
        match self {
            JiraFlavour::Cloud => 100,
            JiraFlavour::DataCenter => 1000,
        }
    }
}

#[derive(Debug)]
enum Auth {
    /// Cloud: email + API token; Data Center: username + password.
    Basic(String, SecretString),
    /// Data Center personal access token.
    Bearer(SecretString),
}

impl Auth {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Basic(user, secret) => request.basic_auth(user, Some(secret.expose_secret())),
            Auth::Bearer(token) => request.bearer_auth(token.expose_secret()),
        }
    }
}

/// Where the current run stands, so the next page can skip what this one delivered.
#[derive(Debug)]
struct Cursor {
    /// The watermark handed out last; a caller passing it back continues this run.
    mark: Watermark,
    /// Epoch ms of the newest issue delivered.
    at: i64,
    /// Issues delivered with exactly that time.
    seen: HashSet<String>,
}

/// A Jira site.
#[derive(Debug)]
pub struct Jira {
    base: url::Url,
    auth: Auth,
    /// Known from the credentials, or asked of serverInfo on first use (Basic auth).
    flavour: Option<JiraFlavour>,
    http: Http,
    overlap: Duration,
    cursor: Option<Cursor>,
    /// A page was returned already: only the first page of a connector rewinds a watermark.
    started: bool,
    /// Malformed issues already reported, so re-reads do not report them twice.
    reported: HashSet<String>,
    notes: Notes,
}

impl Jira {
    pub(crate) fn new(
        base: url::Url,
        auth: AuthType,
        credentials: Credentials,
        client: reqwest::Client,
        options: ConnectorOptions,
    ) -> CoreResult<Jira> {
        let username = credentials.username.filter(|u| !u.trim().is_empty());
        let (auth, flavour) = match auth {
            AuthType::Token => {
                let token = credentials
                    .token
                    .filter(|t| !t.expose_secret().is_empty())
                    .ok_or_else(|| missing("token", "Enter the Jira API token."))?;
                match username {
                    // Cloud: Basic with the Atlassian account email and an API token.
                    Some(email) => (Auth::Basic(email, token), Some(JiraFlavour::Cloud)),
                    // Data Center: a personal access token, sent as Bearer.
                    None => (Auth::Bearer(token), Some(JiraFlavour::DataCenter)),
                }
            }
            AuthType::Basic => {
                let username =
                    username.ok_or_else(|| missing("username", "Enter the Jira username."))?;
                let password = credentials
                    .password
                    .filter(|p| !p.expose_secret().is_empty())
                    .ok_or_else(|| missing("password", "Enter the Jira password."))?;
                (Auth::Basic(username, password), None)
            }
            AuthType::Oauth2 | AuthType::Oauth2ClientCredentials => {
                return Err(missing(
                    "auth",
                    "Jira connects with an API token (Cloud: email + token; Data Center: a \
                     personal access token) or Basic auth.",
                ))
            }
        };
        Ok(Jira {
            base,
            auth,
            flavour,
            http: Http {
                client,
                policy: options.retry,
                cancel: options.cancel,
                system: "Jira",
                max_body: options.max_response_bytes.unwrap_or(MAX_RESPONSE_BYTES),
                pacing: options.pacing.clone(),
            },
            overlap: options.resume_overlap.unwrap_or(Duration::from_secs(120)),
            cursor: None,
            started: false,
            reported: HashSet::new(),
            notes: Notes::default(),
        })
    }

    pub(crate) fn cancel_token(&self) -> tokio_util::sync::CancellationToken {
        self.http.cancel.clone()
    }

    /// Cloud or Data Center, asking `serverInfo` when the credentials do not say.
    pub async fn flavour(&mut self) -> CoreResult<JiraFlavour> {
        if let Some(flavour) = self.flavour {
            return Ok(flavour);
        }
        let url = endpoint(&self.base, "/rest/api/2/serverInfo");
        let reply = self
            .call("serverInfo", |http, _| http.client.get(url.clone()))
            .await?;
        let flavour = match reply.json()["deploymentType"].as_str() {
            Some(kind) if kind.eq_ignore_ascii_case("cloud") => JiraFlavour::Cloud,
            _ => JiraFlavour::DataCenter,
        };
        self.flavour = Some(flavour);
        Ok(flavour)
    }

    fn api(&self, flavour: JiraFlavour, path: &str) -> url::Url {
        let version = match flavour {
            JiraFlavour::Cloud => "3",
            JiraFlavour::DataCenter => "2",
        };
        endpoint(&self.base, &format!("/rest/api/{version}{path}"))
    }

    pub(crate) async fn reach(&self) -> CoreResult<u16> {
        self.http
            .probe(endpoint(&self.base, "/rest/api/2/serverInfo"))
            .await
    }

    pub(crate) async fn test_connection(&mut self) -> CoreResult<ConnectionCheck> {
        let flavour = self.flavour().await?;
        let url = self.api(flavour, "/myself");
        self.call("myself", |http, _| http.client.get(url.clone()))
            .await?;
        let jql = format!("updated >= 0 {ORDER}");
        let found = self
            .search(flavour, &jql, &["id"], 1, &flavour.first_page())
            .await?;
        let mut notes = Vec::new();
        if found.issues.is_empty() {
            notes.push(
                "The account sees no issues: check that it has the Browse projects permission \
                 on the projects to sync."
                    .to_owned(),
            );
        }
        Ok(ConnectionCheck {
            system: flavour.label().to_owned(),
            notes,
        })
    }
}
