//! ServiceNow Table API connector: incidents by keyset pages on (sys_updated_on, sys_id), names
//! from sys_user, journal entries from sys_journal_field, deletions from sys_audit_delete.
//!
//! Why keyset: offset paging drifts when rows change between pages, and a strict `>` on the
//! last time alone skips rows sharing that second. Each page asks for the rows strictly after
//! the last (time, sys_id) pair, so ties are split on sys_id and rows updated meanwhile move to
//! the end, where a later page reads them. `sysparm_limit` applies before row ACLs, so a short
//! or even empty page proves nothing; only `X-Total-Count` (rows the query matches) ends paging.

mod deletions;
mod paging;
mod query;
mod records;
mod table_api;

use std::collections::HashMap;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::Value;

use self::table_api::Auth;
use super::http::{Http, MAX_RESPONSE_BYTES};
use super::oauth::{Grant, OAuth};
use super::progress::Progress;
use super::{missing, ConnectionCheck, ConnectorOptions, Credentials, Filters, Notes, Watermark};
use crate::error::{CoreResult, ErrorCode};
use crate::integrations::AuthType;

/// Exactly the incident fields the knowledge base uses.
const INCIDENT_FIELDS: &str = "sys_id,number,short_description,description,close_notes,close_code,\
state,priority,category,subcategory,assigned_to,resolved_by,caller_id,opened_at,sys_updated_on,resolved_at";
/// Pages never shrink below this after slow answers, nor grow beyond the API's default cap.
const MIN_PAGE: usize = 10;
const MAX_PAGE: usize = 10_000;
/// sys_ids per `IN` list: keeps URLs far below the 8 KB that proxies commonly allow.
const IN_CHUNK: usize = 100;
/// Page size of journal, deletion and id listings.
const LIST_PAGE: usize = 1_000;

/// The standard incident state and priority choices (values and labels).
const STATES: &[(&str, &str)] = &[
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
];
const PRIORITIES: &[(&str, &str)] = &[
    ("1", "1 - Critical"),
    ("2", "2 - High"),
    ("3", "3 - Moderate"),
    ("4", "4 - Low"),
    ("5", "5 - Planning"),
];

/// Where a keyset page starts.
#[derive(Debug, Clone, PartialEq)]
enum Keyset {
    /// Rows updated at or after a raw time (a rewound resume point).
    From(String),
    /// Rows strictly after the (raw time, sys_id) pair.
    After(String, String),
}

/// One Table API list response.
struct Rows {
    rows: Vec<Value>,
    /// `X-Total-Count`: rows the query matches before ACLs, paging ignored.
    total: Option<u64>,
    /// The limit the successful attempt used (lower than asked after slow answers).
    limit: usize,
}

/// A ServiceNow instance.
#[derive(Debug)]
pub struct ServiceNow {
    base: url::Url,
    auth: Auth,
    http: Http,
    overlap: Duration,
    /// Page size ceiling, lowered for the rest of the run after slow answers.
    limit_cap: usize,
    /// sys_user names by sys_id.
    users: HashMap<String, String>,
    users_readable: bool,
    journal_readable: bool,
    /// The watermark of the last page returned: a caller passing it back is continuing this run.
    last_emitted: Option<Watermark>,
    /// A page was returned already: only the first page of a connector rewinds a watermark.
    started: bool,
    /// Where each page of the run ended, so a page that ends on an earlier end stops the run.
    pages: Progress,
    notes: Notes,
}

impl ServiceNow {
    pub(crate) fn new(
        base: url::Url,
        auth: AuthType,
        credentials: Credentials,
        client: reqwest::Client,
        options: ConnectorOptions,
    ) -> CoreResult<ServiceNow> {
        let username = || {
            credentials
                .username
                .clone()
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| missing("username", "Enter the ServiceNow username."))
        };
        let password = || {
            credentials
                .password
                .clone()
                .filter(|p| !p.expose_secret().is_empty())
                .ok_or_else(|| missing("password", "Enter the ServiceNow password."))
        };
        let oauth = |grant: Grant| -> CoreResult<Auth> {
            let client_id = credentials
                .client_id
                .clone()
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| missing("client_id", "Enter the OAuth client id."))?;
            let client_secret = credentials
                .client_secret
                .clone()
                .filter(|s| !s.expose_secret().is_empty())
                .ok_or_else(|| missing("client_secret", "Enter the OAuth client secret."))?;
            Ok(Auth::OAuth(Box::new(OAuth::new(
                &base,
                client_id,
                client_secret,
                grant,
            ))))
        };
        let auth = match auth {
            AuthType::Basic => Auth::Basic {
                username: username()?,
                password: password()?,
            },
            AuthType::Oauth2 => oauth(Grant::Password {
                username: username()?,
                password: password()?,
            })?,
            AuthType::Oauth2ClientCredentials => oauth(Grant::ClientCredentials)?,
            AuthType::Token => {
                return Err(missing(
                    "auth",
                    "ServiceNow connects with Basic auth or OAuth 2.0, not an API token.",
                ))
            }
        };
        Ok(ServiceNow {
            base,
            auth,
            http: Http {
                client,
                policy: options.retry,
                cancel: options.cancel,
                system: "ServiceNow",
                max_body: options.max_response_bytes.unwrap_or(MAX_RESPONSE_BYTES),
                pacing: options.pacing.clone(),
            },
            overlap: options.resume_overlap.unwrap_or(Duration::from_secs(60)),
            limit_cap: MAX_PAGE,
            users: HashMap::new(),
            users_readable: true,
            journal_readable: true,
            last_emitted: None,
            started: false,
            pages: Progress::new("ServiceNow", "table incident"),
            notes: Notes::default(),
        })
    }

    pub(crate) fn cancel_token(&self) -> tokio_util::sync::CancellationToken {
        self.http.cancel.clone()
    }

    pub(crate) async fn reach(&self) -> CoreResult<u16> {
        self.http
            .probe(crate::connectors::endpoint(
                &self.base,
                "/api/now/table/incident",
            ))
            .await
    }

    pub(crate) async fn source_total(&mut self, filters: &Filters) -> CoreResult<Option<u64>> {
        let query = query::encoded_query(filters, None)?;
        Ok(self.list("incident", &query, "sys_id", 1, 0).await?.total)
    }

    pub(crate) async fn test_connection(&mut self) -> CoreResult<ConnectionCheck> {
        self.list("incident", "", "sys_id", 1, 0).await?;
        let mut notes = Vec::new();
        for (table, consequence) in [
            (
                "sys_user",
                "assigned to, resolved by and caller will show as sys_ids instead of names",
            ),
            (
                "sys_journal_field",
                "comments and work notes will not be synced",
            ),
        ] {
            match self.list(table, "", "sys_id", 1, 0).await {
                Ok(_) => {}
                Err(e) if e.code == ErrorCode::Forbidden => notes.push(format!(
                    "The account cannot read {table}: {consequence}. Grant it read access to \
                     {table} to include them."
                )),
                Err(e) => return Err(e),
            }
        }
        Ok(ConnectionCheck {
            system: "ServiceNow".to_owned(),
            notes,
        })
    }
}
