//! ServiceNow Table API connector: incidents by keyset pages on (sys_updated_on, sys_id), names
//! from sys_user, journal entries from sys_journal_field, deletions from sys_audit_delete.
//!
//! Why keyset: offset paging drifts when rows change between pages, and a strict `>` on the
//! last time alone skips rows sharing that second. Each page asks for the rows strictly after
//! the last (time, sys_id) pair, so ties are split on sys_id and rows updated meanwhile move to
//! the end, where a later page reads them. `sysparm_limit` applies before row ACLs, so a short
//! or even empty page proves nothing; only `X-Total-Count` (rows the query matches) ends paging.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::http::{error, unreachable_message, Attempt, Http, Reply};
use super::oauth::OAuth;
use super::text::{parse_time, sn_to_rfc3339, to_sn};
use super::{
    endpoint, missing, ConnectionCheck, ConnectorOptions, Credentials, Deletions, Filters, IdList,
    Notes, Page, SkippedRecord, SourceIncident, Watermark,
};
use crate::error::{CoreError, CoreResult, ErrorCode};
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

const AUTH_INVALID: &str = "ServiceNow refused the credentials: invalid username or password, or \
an expired password. Verify the username and password, check whether the service account is \
locked, then update the credentials and try again.";
const MFA_REQUIRED: &str = "ServiceNow requires multi-factor authentication for this account, \
which an API sign-in cannot complete. Use a dedicated service account without MFA (or an app \
password, or OAuth), as the integrations guide recommends.";

/// How requests authenticate.
#[derive(Debug)]
enum Auth {
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
        let username = credentials
            .username
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| missing("username", "Enter the ServiceNow username."))?;
        let password = credentials
            .password
            .filter(|p| !p.expose_secret().is_empty())
            .ok_or_else(|| missing("password", "Enter the ServiceNow password."))?;
        let auth = match auth {
            AuthType::Basic => Auth::Basic { username, password },
            AuthType::Oauth2 => {
                let client_id = credentials
                    .client_id
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| missing("client_id", "Enter the OAuth client id."))?;
                let client_secret = credentials
                    .client_secret
                    .filter(|s| !s.expose_secret().is_empty())
                    .ok_or_else(|| missing("client_secret", "Enter the OAuth client secret."))?;
                Auth::OAuth(Box::new(OAuth::new(
                    &base,
                    client_id,
                    client_secret,
                    username,
                    password,
                )))
            }
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
            },
            overlap: options.resume_overlap.unwrap_or(Duration::from_secs(60)),
            limit_cap: MAX_PAGE,
            users: HashMap::new(),
            users_readable: true,
            journal_readable: true,
            last_emitted: None,
            started: false,
            notes: Notes::default(),
        })
    }

    pub(crate) fn cancel_token(&self) -> tokio_util::sync::CancellationToken {
        self.http.cancel.clone()
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

    pub(crate) async fn next_page(
        &mut self,
        after: Option<&Watermark>,
        filters: &Filters,
        page_size: usize,
    ) -> CoreResult<Page> {
        let wanted = page_size.clamp(1, MAX_PAGE);
        let keyset = match after {
            None => None,
            Some(mark) => {
                let at = parse_time(&mark.updated_at).ok_or_else(|| {
                    missing(
                        "watermark",
                        "The stored sync position is not a valid time; run a full sync.",
                    )
                })?;
                let continuing = self.last_emitted.as_ref() == Some(mark);
                Some(if continuing || self.started || self.overlap.is_zero() {
                    Keyset::After(to_sn(at), mark.external_id.clone())
                } else {
                    // The first page from a stored watermark: rewind to catch rows committed
                    // late with an earlier time, or updated within the same second after the
                    // last run read. Only once per connector, so paging always moves forward.
                    Keyset::From(to_sn(at - self.overlap))
                })
            }
        };
        let query = encoded_query(filters, keyset.as_ref())?;
        let mut page = Page {
            next: after.cloned(),
            ..Page::default()
        };
        let mut limit = wanted.min(self.limit_cap);
        let mut offset = 0usize;
        let mut last_usable: Option<Watermark> = None;
        let mut kept: Vec<Value> = Vec::new();
        loop {
            let got = self
                .list("incident", &query, INCIDENT_FIELDS, limit, offset)
                .await?;
            if got.limit < self.limit_cap && got.limit < limit {
                self.limit_cap = got.limit;
                self.notes.once(
                    &mut page.notes,
                    format!(
                        "ServiceNow answered slowly; pages were reduced to {} records.",
                        got.limit
                    ),
                );
            }
            if offset == 0 && page.total_hint.is_none() {
                page.total_hint = got.total;
            }
            let remaining = got.total.map(|t| t.saturating_sub(offset as u64));
            if got.rows.is_empty() {
                match remaining {
                    // Rows match but none came back: the whole window is hidden by row ACLs
                    // (or was hidden this once). Widen the window rather than skip it, so rows
                    // hidden only transiently are not jumped over.
                    Some(rest) if (got.limit as u64) < rest => {
                        self.notes.once(
                            &mut page.notes,
                            "Some incidents matched but were not returned (row-level ACLs \
                             hide them from this account)."
                                .to_owned(),
                        );
                        if got.limit < MAX_PAGE {
                            limit = (got.limit * 2).min(MAX_PAGE);
                        } else {
                            offset += got.limit;
                        }
                        continue;
                    }
                    _ => {
                        page.done = true;
                        break;
                    }
                }
            }
            let returned = got.rows.len();
            let mut truncated = false;
            for (processed, row) in got.rows.into_iter().enumerate() {
                // A widened window can return more than asked: stop at the page size, but only
                // once there is a row to resume after (the rest is read by the next page).
                if processed >= wanted && last_usable.is_some() {
                    truncated = true;
                    break;
                }
                match keyset_of(&row) {
                    Ok(mark) => {
                        last_usable = Some(mark);
                        kept.push(row);
                    }
                    Err(skip) => page.skipped.push(skip),
                }
            }
            let end = remaining.is_some_and(|rest| returned as u64 >= rest);
            if last_usable.is_none() && !end {
                // Nothing to resume after (every row malformed): step over this window.
                offset += got.limit;
                continue;
            }
            page.done = end && !truncated;
            break;
        }
        if let Some(mark) = last_usable {
            page.next = Some(mark);
        }
        self.enrich(kept, &mut page).await?;
        self.last_emitted = page.next.clone();
        self.started = true;
        Ok(page)
    }

    /// Turns rows into incidents with user names and journal entries.
    async fn enrich(&mut self, rows: Vec<Value>, page: &mut Page) -> CoreResult<()> {
        let user_ids: Vec<String> = rows
            .iter()
            .flat_map(|r| ["assigned_to", "resolved_by", "caller_id"].map(|f| text(&r[f])))
            .filter(|id| !id.is_empty())
            .collect();
        self.load_users(user_ids, &mut page.notes).await?;
        let ids: Vec<String> = rows.iter().map(|r| text(&r["sys_id"])).collect();
        let mut journal = self.journal(&ids, &mut page.notes).await?;
        for row in rows {
            let mut incident = self.incident(&row, &mut page.notes);
            incident.comments = journal.remove(&incident.external_id).unwrap_or_default();
            page.incidents.push(incident);
        }
        Ok(())
    }

    fn incident(&mut self, row: &Value, notes: &mut Vec<String>) -> SourceIncident {
        let field = |name: &str| text(&row[name]);
        let sys_id = field("sys_id");
        let mut date = |name: &str| {
            let raw = field(name);
            if raw.is_empty() {
                return None;
            }
            let parsed = sn_to_rfc3339(&raw);
            if parsed.is_none() {
                self.notes.once(
                    notes,
                    format!("Incident {sys_id}: {name} {raw:?} is not a date; left empty."),
                );
            }
            parsed
        };
        let opened_at = date("opened_at");
        let resolved_at = date("resolved_at");
        let person = |name: &str| {
            let id = field(name);
            (!id.is_empty()).then(|| self.users.get(&id).cloned().unwrap_or(id))
        };
        SourceIncident {
            number: field("number"),
            short_description: field("short_description"),
            description: field("description"),
            resolution: field("close_notes"),
            close_code: Some(field("close_code")).filter(|c| !c.is_empty()),
            state: label(STATES, &field("state")),
            priority: label(PRIORITIES, &field("priority")),
            category: field("category"),
            subcategory: field("subcategory"),
            assigned_to: person("assigned_to"),
            resolved_by: person("resolved_by"),
            caller: person("caller_id"),
            opened_at,
            updated_at: sn_to_rfc3339(&field("sys_updated_on")).unwrap_or_default(),
            resolved_at,
            comments: Vec::new(),
            link: format!(
                "{}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}",
                self.base.as_str().trim_end_matches('/')
            ),
            external_id: sys_id,
        }
    }

    /// Caches the names of the users not known yet; a forbidden sys_user keeps sys_ids.
    async fn load_users(&mut self, ids: Vec<String>, notes: &mut Vec<String>) -> CoreResult<()> {
        if !self.users_readable {
            return Ok(());
        }
        let mut unknown: Vec<String> = ids
            .into_iter()
            .filter(|id| !self.users.contains_key(id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        unknown.sort();
        for chunk in unknown.chunks(IN_CHUNK) {
            let query = format!("sys_idIN{}", in_list(chunk));
            let got = match self
                .list("sys_user", &query, "sys_id,name,user_name", chunk.len(), 0)
                .await
            {
                Ok(got) => got,
                Err(e) if e.code == ErrorCode::Forbidden => {
                    self.users_readable = false;
                    self.notes.once(
                        notes,
                        "The account cannot read sys_user: assigned to, resolved by and caller \
                         are kept as sys_ids. Grant it read access to sys_user to see names."
                            .to_owned(),
                    );
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            for user in got.rows {
                let name = Some(text(&user["name"]))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| text(&user["user_name"]));
                if !name.is_empty() {
                    self.users.insert(text(&user["sys_id"]), name);
                }
            }
        }
        Ok(())
    }

    /// Comments and work notes by incident sys_id, oldest first.
    async fn journal(
        &mut self,
        ids: &[String],
        notes: &mut Vec<String>,
    ) -> CoreResult<HashMap<String, Vec<String>>> {
        let mut entries: HashMap<String, Vec<String>> = HashMap::new();
        if !self.journal_readable || ids.is_empty() {
            return Ok(entries);
        }
        for chunk in ids.chunks(IN_CHUNK) {
            let query = format!(
                "element_idIN{}^elementINcomments,work_notes^ORDERBYsys_created_on^ORDERBYsys_id",
                in_list(chunk)
            );
            let fields = "element_id,element,value,sys_created_on,sys_created_by";
            let mut offset = 0;
            loop {
                let got = match self
                    .list("sys_journal_field", &query, fields, LIST_PAGE, offset)
                    .await
                {
                    Ok(got) => got,
                    Err(e) if e.code == ErrorCode::Forbidden => {
                        self.journal_readable = false;
                        self.notes.once(
                            notes,
                            "The account cannot read sys_journal_field: comments and work notes \
                             are not synced. Grant it read access to sys_journal_field to include \
                             them."
                                .to_owned(),
                        );
                        return Ok(HashMap::new());
                    }
                    Err(e) => return Err(e),
                };
                let returned = got.rows.len();
                for entry in got.rows {
                    let value = text(&entry["value"]);
                    if value.trim().is_empty() {
                        continue;
                    }
                    let kind = match text(&entry["element"]).as_str() {
                        "work_notes" => "Work note",
                        _ => "Comment",
                    };
                    let at = text(&entry["sys_created_on"]);
                    let at = sn_to_rfc3339(&at).unwrap_or(at);
                    let author = text(&entry["sys_created_by"]);
                    entries
                        .entry(text(&entry["element_id"]))
                        .or_default()
                        .push(format!("{kind} by {author} at {at}: {value}"));
                }
                offset += got.limit;
                // Offset paging is safe here: new entries sort last, and a short page (ACL)
                // is not the end while the count says more rows match.
                let more = match got.total {
                    Some(total) => (offset as u64) < total,
                    None => returned > 0,
                };
                if !more {
                    break;
                }
            }
        }
        Ok(entries)
    }

    pub(crate) async fn deleted_since(&mut self, since: &str) -> CoreResult<Deletions> {
        let at = parse_time(since).ok_or_else(|| {
            missing(
                "since",
                "The deletion checkpoint is not a valid time; run a full reconcile.",
            )
        })?;
        let (rows, _) = self
            .scan(
                "sys_audit_delete",
                &["tablename=incident".to_owned()],
                Some("sys_created_on"),
                "sys_id,documentkey,sys_created_on",
                Some(Keyset::From(to_sn(at))),
            )
            .await?;
        let mut deletions = Deletions::default();
        let mut seen = HashSet::new();
        for row in rows {
            let id = text(&row["documentkey"]);
            if !id.is_empty() && seen.insert(id.clone()) {
                deletions.ids.push(id);
            }
            if let Some(at) = sn_to_rfc3339(&text(&row["sys_created_on"])) {
                if deletions.checkpoint.as_ref().is_none_or(|c| *c < at) {
                    deletions.checkpoint = Some(at);
                }
            }
        }
        Ok(deletions)
    }

    pub(crate) async fn list_all_ids(&mut self, filters: &Filters) -> CoreResult<IdList> {
        let groups = filter_groups(filters)?;
        let (rows, expected) = self.scan("incident", &groups, None, "sys_id", None).await?;
        let mut seen = HashSet::new();
        let ids = rows
            .iter()
            .map(|r| text(&r["sys_id"]))
            .filter(|id| !id.is_empty() && seen.insert(id.clone()))
            .collect();
        Ok(IdList { ids, expected })
    }

    /// Reads every row of a query by keyset pages on (`time_field`, sys_id), or on sys_id alone.
    /// Returns the rows and the count the first page reported.
    async fn scan(
        &mut self,
        table: &str,
        groups: &[String],
        time_field: Option<&str>,
        fields: &str,
        start: Option<Keyset>,
    ) -> CoreResult<(Vec<Value>, Option<u64>)> {
        let mut all = Vec::new();
        let mut first_total = None;
        let mut keyset = start;
        let mut offset = 0;
        let mut limit = LIST_PAGE.min(self.limit_cap);
        let mut first = true;
        loop {
            let query = keyset_query(groups, time_field, keyset.as_ref());
            let got = self.list(table, &query, fields, limit, offset).await?;
            if first {
                first_total = got.total;
                first = false;
            }
            let remaining = got.total.map(|t| t.saturating_sub(offset as u64));
            if got.rows.is_empty() {
                match remaining {
                    Some(rest) if (got.limit as u64) < rest => {
                        if got.limit < MAX_PAGE {
                            limit = (got.limit * 2).min(MAX_PAGE);
                        } else {
                            offset += got.limit;
                        }
                        continue;
                    }
                    _ => break,
                }
            }
            let returned = got.rows.len() as u64;
            let next = got.rows.last().and_then(|row| {
                let id = text(&row["sys_id"]);
                let time = time_field.map(|f| text(&row[f]));
                match time {
                    _ if id.is_empty() => None,
                    Some(t) if t.is_empty() => None,
                    Some(t) => Some(Keyset::After(t, id)),
                    None => Some(Keyset::After(String::new(), id)),
                }
            });
            all.extend(got.rows);
            if remaining.is_some_and(|rest| returned >= rest) {
                break;
            }
            match next {
                Some(next) => {
                    keyset = Some(next);
                    offset = 0;
                    limit = LIST_PAGE.min(self.limit_cap);
                }
                None => offset += got.limit,
            }
        }
        Ok((all, first_total))
    }

    /// One Table API list request; the limit halves for each slow attempt.
    async fn list(
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
        let rows =
            match reply.json().get("result") {
                Some(Value::Array(rows)) => rows.clone(),
                _ => return Err(error(
                    ErrorCode::MalformedResponse,
                    "ServiceNow answered without a result list. Check that the URL points at the \
                     instance itself (https://<instance>.service-now.com), not a login page or \
                     proxy.",
                    format!("table {table}: {}", reply.describe()),
                )),
            };
        let total = reply
            .header("x-total-count")
            .and_then(|v| v.trim().parse::<u64>().ok());
        Ok(Rows {
            rows,
            total,
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
                Auth::OAuth(_) => error(ErrorCode::AuthInvalid, super::oauth::OAUTH_DENIED, detail),
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

/// The keyset position of a row, or why it cannot be used.
fn keyset_of(row: &Value) -> Result<Watermark, SkippedRecord> {
    let sys_id = text(&row["sys_id"]);
    if sys_id.is_empty() {
        let number = text(&row["number"]);
        return Err(SkippedRecord {
            external_id: None,
            reason: format!("record without sys_id (number {number:?})"),
        });
    }
    let raw = text(&row["sys_updated_on"]);
    match sn_to_rfc3339(&raw) {
        Some(updated_at) => Ok(Watermark {
            updated_at,
            external_id: sys_id,
        }),
        None => Err(SkippedRecord {
            external_id: Some(sys_id),
            reason: format!("sys_updated_on {raw:?} is not a date"),
        }),
    }
}

/// A field's value: a string, or the `value` of a reference object (when an instance ignores
/// `sysparm_exclude_reference_link`), or a number or boolean as text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .get("value")
            .or_else(|| map.get("display_value"))
            .map(text)
            .unwrap_or_default(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The label of a standard choice value; other values pass through.
fn label(choices: &[(&str, &str)], value: &str) -> String {
    choices
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, l)| (*l).to_owned())
        .unwrap_or_else(|| value.to_owned())
}

/// A filter value as the raw choice value: accepts the value, the label, or for priorities the
/// word after the dash (`high`).
fn choice_value(choices: &[(&str, &str)], given: &str) -> String {
    let given = given.trim();
    choices
        .iter()
        .find(|(v, l)| {
            *v == given
                || l.eq_ignore_ascii_case(given)
                || l.split_once(" - ")
                    .is_some_and(|(_, word)| word.eq_ignore_ascii_case(given))
        })
        .map(|(v, _)| (*v).to_owned())
        .unwrap_or_else(|| given.to_owned())
}

/// sys_ids for an `IN` condition.
fn in_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| id.replace('^', "^^"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The filters as OR-ed groups of AND-ed conditions (the user's `^NQ` splits groups), without
/// ordering.
fn filter_groups(filters: &Filters) -> CoreResult<Vec<String>> {
    let mut common = Vec::new();
    let mut bad = BTreeMap::new();
    let list = |name: &str, values: Vec<String>, bad: &mut BTreeMap<String, String>| {
        let values: Vec<String> = values
            .into_iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.iter().any(|v| v.contains(',')) {
            bad.insert(
                name.to_owned(),
                "A value cannot contain a comma (ServiceNow IN lists split on commas).".to_owned(),
            );
        }
        (!values.is_empty()).then(|| {
            let escaped: Vec<String> = values.iter().map(|v| v.replace('^', "^^")).collect();
            format!("{name}IN{}", escaped.join(","))
        })
    };
    let priorities = filters
        .priority
        .iter()
        .map(|p| choice_value(PRIORITIES, p))
        .collect();
    let states = filters
        .state
        .iter()
        .map(|s| choice_value(STATES, s))
        .collect();
    common.extend(list("priority", priorities, &mut bad));
    common.extend(list("category", filters.category.clone(), &mut bad));
    common.extend(list("state", states, &mut bad));
    for (name, value, op) in [
        ("updated_from", &filters.updated_from, ">="),
        ("updated_to", &filters.updated_to, "<="),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            match parse_time(value) {
                Some(at) => common.push(format!("sys_updated_on{op}{}", to_sn(at))),
                None => {
                    bad.insert(
                        name.to_owned(),
                        "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.".to_owned(),
                    );
                }
            }
        }
    }
    if !bad.is_empty() {
        return Err(CoreError::invalid(bad));
    }
    let raw = filters.raw_query.as_deref().unwrap_or_default();
    let mut groups: Vec<String> = split_groups(raw)
        .into_iter()
        .map(|g| {
            common
                .iter()
                .cloned()
                .chain((!g.is_empty()).then_some(g))
                .collect::<Vec<_>>()
                .join("^")
        })
        .collect();
    if groups.is_empty() {
        groups.push(common.join("^"));
    }
    Ok(groups)
}

/// Splits an encoded query into its `^NQ` groups, dropping ORDER BY / GROUP BY terms and keeping
/// `^^` (a literal caret) intact.
fn split_groups(raw: &str) -> Vec<String> {
    let mut terms: Vec<String> = vec![String::new()];
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            if chars.peek() == Some(&'^') {
                chars.next();
                if let Some(last) = terms.last_mut() {
                    last.push_str("^^");
                }
            } else {
                terms.push(String::new());
            }
        } else if let Some(last) = terms.last_mut() {
            last.push(c);
        }
    }
    let mut groups: Vec<Vec<String>> = vec![Vec::new()];
    for term in terms {
        let term = term.trim().to_owned();
        let (term, new_group) = match term.strip_prefix("NQ") {
            Some(rest) => (rest.to_owned(), true),
            None => (term, false),
        };
        if new_group && groups.last().is_some_and(|g| !g.is_empty()) {
            groups.push(Vec::new());
        }
        if term.is_empty()
            || term == "EQ"
            || term.starts_with("ORDERBY")
            || term.starts_with("GROUPBY")
        {
            continue;
        }
        if let Some(group) = groups.last_mut() {
            group.push(term);
        }
    }
    groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|g| g.join("^"))
        .collect()
}

/// The incident query of one page: each filter group AND-ed with each keyset branch, ordered.
fn encoded_query(filters: &Filters, keyset: Option<&Keyset>) -> CoreResult<String> {
    let groups = filter_groups(filters)?;
    Ok(keyset_query(&groups, Some("sys_updated_on"), keyset))
}

/// Groups × keyset branches, `^NQ`-joined, then the keyset order. `time_field: None` pages on
/// sys_id alone.
fn keyset_query(groups: &[String], time_field: Option<&str>, keyset: Option<&Keyset>) -> String {
    let branches: Vec<String> = match (keyset, time_field) {
        (None, _) => vec![String::new()],
        (Some(Keyset::From(t)), Some(f)) => vec![format!("{f}>={t}")],
        (Some(Keyset::After(t, id)), Some(f)) => {
            vec![format!("{f}>{t}"), format!("{f}={t}^sys_id>{id}")]
        }
        (Some(Keyset::After(_, id)), None) => vec![format!("sys_id>{id}")],
        (Some(Keyset::From(_)), None) => vec![String::new()],
    };
    let groups: Vec<&str> = if groups.is_empty() {
        vec![""]
    } else {
        groups.iter().map(String::as_str).collect()
    };
    let mut parts = Vec::new();
    for group in &groups {
        for branch in &branches {
            let both: Vec<&str> = [*group, branch.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            parts.push(both.join("^"));
        }
    }
    parts.retain(|p| !p.is_empty());
    let order = match time_field {
        Some(f) => format!("ORDERBY{f}^ORDERBYsys_id"),
        None => "ORDERBYsys_id".to_owned(),
    };
    if parts.is_empty() {
        order
    } else {
        format!("{}^{order}", parts.join("^NQ"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyset_pages_repeat_the_filter_on_both_branches() {
        let filters = Filters {
            priority: vec!["critical".into(), "2".into()],
            raw_query: Some("category=network^NQcategory=database^ORDERBYDESCnumber".into()),
            ..Filters::default()
        };
        let keyset = Keyset::After("2025-06-30 02:00:00".into(), "abc".into());
        assert_eq!(
            encoded_query(&filters, Some(&keyset)).unwrap(),
            "priorityIN1,2^category=network^sys_updated_on>2025-06-30 02:00:00\
             ^NQpriorityIN1,2^category=network^sys_updated_on=2025-06-30 02:00:00^sys_id>abc\
             ^NQpriorityIN1,2^category=database^sys_updated_on>2025-06-30 02:00:00\
             ^NQpriorityIN1,2^category=database^sys_updated_on=2025-06-30 02:00:00^sys_id>abc\
             ^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
        assert_eq!(
            encoded_query(&Filters::default(), None).unwrap(),
            "ORDERBYsys_updated_on^ORDERBYsys_id"
        );
        assert_eq!(
            encoded_query(
                &Filters::default(),
                Some(&Keyset::From("2025-01-01 00:00:00".into()))
            )
            .unwrap(),
            "sys_updated_on>=2025-01-01 00:00:00^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
    }

    #[test]
    fn filters_accept_labels_and_reject_what_cannot_be_expressed() {
        let filters = Filters {
            state: vec!["Closed".into(), "resolved".into(), "42".into()],
            updated_from: Some("2024-01-31T13:05:00+01:00".into()),
            ..Filters::default()
        };
        assert_eq!(
            filter_groups(&filters).unwrap(),
            vec!["stateIN7,6,42^sys_updated_on>=2024-01-31 12:05:00".to_owned()]
        );
        let bad = Filters {
            category: vec!["a,b".into()],
            updated_to: Some("yesterday".into()),
            ..Filters::default()
        };
        let e = filter_groups(&bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation);
        assert!(e.fields.contains_key("category") && e.fields.contains_key("updated_to"));
    }

    #[test]
    fn literal_carets_survive_group_splitting() {
        assert_eq!(
            split_groups("short_descriptionLIKEa^^b^NQpriority=1^ORDERBYnumber"),
            vec![
                "short_descriptionLIKEa^^b".to_owned(),
                "priority=1".to_owned()
            ]
        );
        assert!(split_groups("  ").is_empty());
    }

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

    #[test]
    fn malformed_rows_are_reported_not_dropped() {
        let ok = serde_json::json!({"sys_id": "a1", "sys_updated_on": "2025-01-01 00:00:00"});
        assert_eq!(keyset_of(&ok).unwrap().updated_at, "2025-01-01T00:00:00Z");
        let no_id = serde_json::json!({"number": "INC1", "sys_updated_on": "2025-01-01 00:00:00"});
        assert!(keyset_of(&no_id).unwrap_err().external_id.is_none());
        let bad_date = serde_json::json!({"sys_id": "a2", "sys_updated_on": "01/01/2025"});
        assert_eq!(
            keyset_of(&bad_date).unwrap_err().external_id.as_deref(),
            Some("a2")
        );
    }
}
