//! ITSM connectors: read incidents from ServiceNow and Jira (Cloud and Data Center) page by page,
//! resumably, without losing records to watermark ties, offset drift, ACL-short pages, time
//! zones or truncation.
//!
//! The sync pipeline's loop is:
//!
//! ```text
//! let mut after = stored_watermark;
//! loop {
//!     let page = connector.next_page(after.as_ref(), &filters, 100).await?;
//!     upsert(page.incidents); report(page.skipped, page.notes);
//!     after = page.next.or(after);            // persist as the checkpoint
//!     if page.done { break }
//! }
//! ```
//!
//! Keep one `Connector` for the whole loop: it remembers where the run stands (the tie set of
//! the last Jira millisecond, the lowered page size, which tables are readable, user names).
//!
//! Invariants: every record a page reads ends up in `incidents` or in `skipped`, never nowhere;
//! a short or empty page never ends paging while the system reports more rows; secrets live in
//! `SecretString`s, are exposed only while building a request, and appear in no message, log or
//! `Debug` output.
//!
//! Code map: `http` (client, send + retry), `failures` (what a failed request means, the
//! error a user sees), `retry` (policy and waits), `pacing` (request budget, wait notices), `trust` (OS store + the integration's CA file),
//! `oauth` (ServiceNow tokens), `servicenow/` and `jira/` (one folder per system, split by job:
//! requests, paging, records, queries), `text` (dates, ADF, wiki markup).

mod failures;
pub(crate) mod http;
mod jira;
pub(crate) mod oauth;
pub mod pacing;
mod pages;
mod progress;
pub(crate) mod retry;
mod servicenow;
mod text;
pub mod trust;

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
pub use tokio_util::sync::CancellationToken;

pub use self::http::{
    client, client_trusting, CONNECT_TIMEOUT, MAX_REDIRECTS, MAX_RESPONSE_BYTES, REQUEST_TIMEOUT,
    USER_AGENT,
};
pub use self::jira::{Jira, JiraFlavour};
pub use self::retry::RetryPolicy;
pub use self::servicenow::ServiceNow;
use crate::error::{CoreError, CoreResult};
use crate::integrations::{AuthType, Kind};

/// One incident as the knowledge base stores it, whatever system it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceIncident {
    /// ServiceNow `sys_id` or Jira issue id: the stable key to upsert on.
    pub external_id: String,
    /// `INC0010001` or `KEY-12`.
    pub number: String,
    pub short_description: String,
    pub description: String,
    /// ServiceNow `close_notes`; Jira: the last comment of a resolved issue.
    pub resolution: String,
    /// ServiceNow `close_code`; Jira resolution name (`Done`, `Won't Do`).
    pub close_code: Option<String>,
    /// Label (`Closed`, `In Progress`) when the system's standard values are used, else the raw
    /// value.
    pub state: String,
    /// ServiceNow `1 - Critical` … `5 - Planning` (raw value if non-standard); Jira priority name.
    pub priority: String,
    /// ServiceNow category value; Jira project name.
    pub category: String,
    /// ServiceNow subcategory value; Jira labels, comma separated.
    pub subcategory: String,
    /// Display name when readable, else the user's sys_id.
    pub assigned_to: Option<String>,
    pub resolved_by: Option<String>,
    /// ServiceNow caller, Jira reporter.
    pub caller: Option<String>,
    /// RFC 3339 UTC.
    pub opened_at: Option<String>,
    /// RFC 3339 UTC; with milliseconds for Jira.
    pub updated_at: String,
    pub resolved_at: Option<String>,
    /// Journal entries (ServiceNow comments and work notes) or Jira comments, oldest first, as
    /// `"<Kind> by <author> at <RFC 3339>: <text>"`.
    pub comments: Vec<String>,
    /// The record in the system's own UI.
    pub link: String,
}

/// Where paging resumes: strictly after this (updated, id) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// RFC 3339 UTC.
    pub updated_at: String,
    pub external_id: String,
}

/// What to sync. Empty lists mean "any". Values may be the system's raw values or, for
/// ServiceNow state and priority, the standard labels (`Closed`, `2 - High`, `high`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub priority: Vec<String>,
    /// ServiceNow category values; Jira project keys or names.
    #[serde(default)]
    pub category: Vec<String>,
    /// ServiceNow state values or labels; Jira status names.
    #[serde(default)]
    pub state: Vec<String>,
    /// RFC 3339 (or `YYYY-MM-DD`), inclusive.
    #[serde(default)]
    pub updated_from: Option<String>,
    #[serde(default)]
    pub updated_to: Option<String>,
    /// A ServiceNow encoded query or a JQL fragment, AND-ed with the rest. Its ORDER BY terms
    /// are dropped: the connector owns the order.
    #[serde(default)]
    pub raw_query: Option<String>,
}

/// A record that was read but could not be used, and why: reported, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedRecord {
    pub external_id: Option<String>,
    pub reason: String,
}

/// One page of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Page {
    pub incidents: Vec<SourceIncident>,
    pub skipped: Vec<SkippedRecord>,
    /// Resume point after this page (the last record read); `None` when nothing was read and
    /// there was no previous watermark.
    pub next: Option<Watermark>,
    /// No more records after `next`.
    pub done: bool,
    /// Records the system counts after the previous watermark, this page included (ServiceNow
    /// `X-Total-Count`, Jira Data Center `total`); Jira Cloud gives none.
    pub total_hint: Option<u64>,
    /// Things the user should know that are not errors (e.g. journal not readable), each
    /// reported once per connector.
    pub notes: Vec<String>,
}

/// Records deleted in the system since a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Deletions {
    /// External ids of the deleted records.
    pub ids: Vec<String>,
    /// The newest deletion time seen (RFC 3339 UTC), to pass as `since` next time; server
    /// time, so the local clock does not matter. `None` when nothing was found.
    pub checkpoint: Option<String>,
}

/// Every id matching the filters, for a full reconcile (pruning records deleted in the system).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdList {
    pub ids: Vec<String>,
    /// How many records the system said matched when the listing started (ServiceNow
    /// `X-Total-Count`, Jira DC `total`). Fewer ids than this means some were hidden (row ACLs)
    /// or vanished meanwhile: do not prune on an incomplete list without thinking.
    pub expected: Option<u64>,
}

impl IdList {
    /// Whether every record the system counted was listed.
    pub fn is_complete(&self) -> bool {
        self.expected.is_none_or(|n| self.ids.len() as u64 >= n)
    }
}

/// The outcome of a connection test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnectionCheck {
    /// "ServiceNow", "Jira Cloud" or "Jira Data Center".
    pub system: String,
    /// Non-fatal findings (e.g. sys_user not readable: names will show as ids).
    pub notes: Vec<String>,
}

/// The credentials of an integration, as stored.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub token: Option<SecretString>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

/// How a connector behaves, beyond what it talks to.
#[derive(Debug, Clone, Default)]
pub struct ConnectorOptions {
    pub retry: RetryPolicy,
    /// Cancelling it makes the current and every later call fail with `cancelled`.
    pub cancel: CancellationToken,
    /// How far the first page of a connector rewinds the watermark it is given (one loaded from
    /// storage at the start of a run), to catch records committed late with an earlier time.
    /// Later pages never rewind, so keep one connector for a whole run. `None`: 60 s for
    /// ServiceNow, 2 min for Jira.
    pub resume_overlap: Option<Duration>,
    /// An HTTP client to share (connection pool); a new one is built when absent. Build it
    /// with [`client`]: its redirect policy is what keeps credentials on their origin.
    pub client: Option<reqwest::Client>,
    /// The most bytes one response body may have; `None`: [`MAX_RESPONSE_BYTES`] (64 MB).
    pub max_response_bytes: Option<u64>,
    /// The integration's request budget, and who to tell when a request waits.
    pub pacing: pacing::Pacing,
}

/// A connector to one integration's system.
#[derive(Debug)]
pub enum Connector {
    ServiceNow(ServiceNow),
    Jira(Jira),
}

impl Connector {
    /// A connector for an integration; fails with `validation` when credentials are missing.
    /// Jira with a token and a username is Cloud (Basic email:token); with a token and no
    /// username it is Data Center (Bearer PAT); with Basic auth the flavour is asked of
    /// `serverInfo` on first use.
    pub fn new(
        kind: Kind,
        auth: AuthType,
        base_url: &str,
        credentials: Credentials,
        options: ConnectorOptions,
    ) -> CoreResult<Connector> {
        let base = base(base_url)?;
        let client = match options.client.clone() {
            Some(client) => client,
            None => client()?,
        };
        match kind {
            Kind::Servicenow => Ok(Connector::ServiceNow(ServiceNow::new(
                base,
                auth,
                credentials,
                client,
                options,
            )?)),
            Kind::Jira => Ok(Connector::Jira(Jira::new(
                base,
                auth,
                credentials,
                client,
                options,
            )?)),
        }
    }

    /// Signs in and reads one record, so that credentials, URL and read permission are all
    /// checked.
    pub async fn test_connection(&mut self) -> CoreResult<ConnectionCheck> {
        match self {
            Connector::ServiceNow(c) => c.test_connection().await,
            Connector::Jira(c) => c.test_connection().await,
        }
    }

    /// Whether the system answers at all, without credentials (DNS, TCP, TLS): the HTTP status
    /// of one unauthenticated request.
    pub async fn reach(&self) -> CoreResult<u16> {
        match self {
            Connector::ServiceNow(c) => c.reach().await,
            Connector::Jira(c) => c.reach().await,
        }
    }

    /// How many incidents the source counts for `filters`: ServiceNow's `X-Total-Count`, Jira's
    /// total, or (Jira Cloud, which gives none) an id-only listing.
    pub async fn source_total(&mut self, filters: &Filters) -> CoreResult<Option<u64>> {
        match self {
            Connector::ServiceNow(c) => c.source_total(filters).await,
            Connector::Jira(c) => {
                let listed = c.list_all_ids(filters).await?;
                Ok(listed.expected.or(Some(listed.ids.len() as u64)))
            }
        }
    }

    /// The page after `after` (from the start when `None`), at most `page_size` records.
    pub async fn next_page(
        &mut self,
        after: Option<&Watermark>,
        filters: &Filters,
        page_size: usize,
    ) -> CoreResult<Page> {
        match self {
            Connector::ServiceNow(c) => c.next_page(after, filters, page_size).await,
            Connector::Jira(c) => c.next_page(after, filters, page_size).await,
        }
    }

    /// Whether [`Connector::deleted_since`] can see deletions; when not, only a reconcile with
    /// [`Connector::list_all_ids`] finds them.
    pub fn supports_deletion_log(&self) -> bool {
        matches!(self, Connector::ServiceNow(_))
    }

    /// Records deleted since `since` (RFC 3339; inclusive). ServiceNow reads `sys_audit_delete`
    /// (`forbidden` when the account may not); Jira has no such log and answers nothing.
    pub async fn deleted_since(&mut self, since: &str) -> CoreResult<Deletions> {
        match self {
            Connector::ServiceNow(c) => c.deleted_since(since).await,
            Connector::Jira(_) => Ok(Deletions::default()),
        }
    }

    /// Every id matching the filters (for pruning by full reconcile).
    pub async fn list_all_ids(&mut self, filters: &Filters) -> CoreResult<IdList> {
        match self {
            Connector::ServiceNow(c) => c.list_all_ids(filters).await,
            Connector::Jira(c) => c.list_all_ids(filters).await,
        }
    }

    /// The token that cancels this connector's requests.
    pub fn cancel_token(&self) -> CancellationToken {
        match self {
            Connector::ServiceNow(c) => c.cancel_token(),
            Connector::Jira(c) => c.cancel_token(),
        }
    }
}

/// The base URL without a trailing slash, query or fragment; a context path is kept.
fn base(raw: &str) -> CoreResult<url::Url> {
    let invalid =
        |why: &str| CoreError::invalid(BTreeMap::from([("url".to_owned(), why.to_owned())]));
    let mut url = url::Url::parse(raw.trim())
        .map_err(|_| invalid("Enter the full URL, e.g. https://company.service-now.com."))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("The URL must start with https:// and name a host."));
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// `base` + `path` (which starts with `/`), keeping the base's context path.
pub(crate) fn endpoint(base: &url::Url, path: &str) -> url::Url {
    let mut url = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url
}

/// A validation error naming a missing credential.
pub(crate) fn missing(field: &str, message: &str) -> CoreError {
    CoreError::invalid(BTreeMap::from([(field.to_owned(), message.to_owned())]))
}

/// Records each note once per connector, so a page reports a condition only the first time.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    seen: std::collections::HashSet<String>,
}

impl Notes {
    pub(crate) fn once(&mut self, page: &mut Vec<String>, note: String) {
        if self.seen.insert(note.clone()) {
            page.push(note);
        }
    }
}
