//! Jira connector: Cloud (`POST /rest/api/3/search/jql`, token paging, ADF text) and Data Center
//! (`POST /rest/api/2/search`, startAt/total, wiki markup), issues as incidents.
//!
//! Each page re-queries `updated >= T ORDER BY updated ASC, key ASC` from the newest time
//! delivered so far, skipping the issues already delivered at exactly T. Following one query's
//! page tokens instead would drift: an issue updated meanwhile leaves its place and the next
//! token skips whatever slid into it. Times are epoch milliseconds, the only JQL date form free
//! of the account's time zone and minute rounding; a watermark loaded from storage is rewound by
//! an overlap margin, and the pipeline's upsert on the issue id absorbs the repeats.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::http::{error, unreachable_message, Attempt, Http, Reply};
use super::text::{adf_to_text, epoch_millis, parse_jira_time, parse_time, rfc3339, wiki_to_text};
use super::{
    endpoint, missing, ConnectionCheck, ConnectorOptions, Credentials, Filters, IdList, Notes,
    Page, SkippedRecord, SourceIncident, Watermark,
};
use crate::error::{CoreError, CoreResult, ErrorCode};
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

/// Where a search page starts.
#[derive(Debug, Clone)]
enum Position {
    Token(Option<String>),
    StartAt(usize),
}

impl Position {
    fn start(flavour: JiraFlavour) -> Position {
        match flavour {
            JiraFlavour::Cloud => Position::Token(None),
            JiraFlavour::DataCenter => Position::StartAt(0),
        }
    }
}

/// One search response.
struct Found {
    issues: Vec<Value>,
    last: bool,
    total: Option<u64>,
    next: Position,
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
            AuthType::Oauth2 => {
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

    pub(crate) async fn test_connection(&mut self) -> CoreResult<ConnectionCheck> {
        let flavour = self.flavour().await?;
        let url = self.api(flavour, "/myself");
        self.call("myself", |http, _| http.client.get(url.clone()))
            .await?;
        let jql = format!("updated >= 0 {ORDER}");
        let found = self
            .search(flavour, &jql, &["id"], 1, &Position::start(flavour))
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

    pub(crate) async fn next_page(
        &mut self,
        after: Option<&Watermark>,
        filters: &Filters,
        page_size: usize,
    ) -> CoreResult<Page> {
        let flavour = self.flavour().await?;
        let wanted = page_size.clamp(1, flavour.page_cap());
        let continuing = self.cursor.as_ref().filter(|c| Some(&c.mark) == after);
        let (mut at, mut seen) = match (continuing, after) {
            (Some(cursor), _) => (cursor.at, cursor.seen.clone()),
            (None, None) => (0, HashSet::new()),
            (None, Some(mark)) => {
                let stored = parse_time(&mark.updated_at).ok_or_else(|| {
                    missing(
                        "watermark",
                        "The stored sync position is not a valid time; run a full sync.",
                    )
                })?;
                if self.started {
                    // A watermark this connector did not hand out, mid-run: resume at it.
                    (
                        epoch_millis(stored),
                        HashSet::from([mark.external_id.clone()]),
                    )
                } else {
                    // The first page from a stored watermark: rewind by the overlap margin.
                    let overlap = i64::try_from(self.overlap.as_millis()).unwrap_or(i64::MAX);
                    (epoch_millis(stored).saturating_sub(overlap), HashSet::new())
                }
            }
        };
        let from = match filters.updated_from.as_deref() {
            Some(from) => Some(epoch_millis(parse_time(from).ok_or_else(|| {
                missing(
                    "updated_from",
                    "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.",
                )
            })?)),
            None => None,
        };
        if let Some(from) = from.filter(|f| *f > at) {
            at = from;
            seen.clear();
        }
        let jql = jql(filters, at, ORDER)?;
        let mut page = Page {
            next: after.cloned(),
            ..Page::default()
        };
        let mut position = Position::start(flavour);
        let mut newest: Option<(i64, Watermark)> = None;
        loop {
            let found = self
                .search(flavour, &jql, FIELDS, wanted, &position)
                .await?;
            if page.total_hint.is_none() {
                page.total_hint = found.total;
            }
            for issue in &found.issues {
                let id = id_of(issue);
                let Some(id) = id else {
                    page.skipped.push(SkippedRecord {
                        external_id: None,
                        reason: format!("issue without id (key {:?})", issue["key"].as_str()),
                    });
                    continue;
                };
                let updated = issue["fields"]["updated"]
                    .as_str()
                    .and_then(parse_jira_time);
                let Some(updated) = updated else {
                    if self.reported.insert(id.clone()) {
                        page.skipped.push(SkippedRecord {
                            external_id: Some(id),
                            reason: format!(
                                "updated {:?} is not a date",
                                issue["fields"]["updated"]
                            ),
                        });
                    }
                    continue;
                };
                let millis = epoch_millis(updated);
                // Already delivered: older than the resume time (a server rounding the bound
                // down), or at exactly that time and in the tie set.
                if millis < at || (millis == at && seen.contains(&id)) {
                    continue;
                }
                let incident = self.incident(issue, &id, updated, &mut page.notes);
                let mark = Watermark {
                    updated_at: incident.updated_at.clone(),
                    external_id: id.clone(),
                };
                newest = Some((millis, mark));
                page.incidents.push(incident);
            }
            page.done = found.last;
            if !page.incidents.is_empty() || found.last {
                break;
            }
            // Everything on this page was delivered before (a tie group longer than a page).
            position = found.next;
        }
        if let Some((millis, mark)) = newest {
            if millis != at {
                seen.clear();
            }
            seen.extend(
                page.incidents
                    .iter()
                    .filter(|i| parse_time(&i.updated_at).map(epoch_millis) == Some(millis))
                    .map(|i| i.external_id.clone()),
            );
            page.next = Some(mark.clone());
            self.cursor = Some(Cursor {
                mark,
                at: millis,
                seen,
            });
        }
        self.started = true;
        Ok(page)
    }

    fn incident(
        &mut self,
        issue: &Value,
        id: &str,
        updated: time::OffsetDateTime,
        notes: &mut Vec<String>,
    ) -> SourceIncident {
        let f = &issue["fields"];
        let name = |v: &Value| -> String {
            v.get("name")
                .or_else(|| v.get("displayName"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let person = |v: &Value| {
            v.get("displayName")
                .and_then(Value::as_str)
                .or_else(|| v.get("name").and_then(Value::as_str))
                .map(str::to_owned)
        };
        let date = |v: &Value| v.as_str().and_then(parse_jira_time).and_then(rfc3339);
        let key = issue["key"].as_str().unwrap_or_default().to_owned();
        let comment_page = &f["comment"];
        let comments_raw = comment_page["comments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if comment_page["total"]
            .as_u64()
            .is_some_and(|total| total > comments_raw.len() as u64)
        {
            self.notes.once(
                notes,
                "Some Jira issues have more comments than a search returns; only the first ones \
                 were synced."
                    .to_owned(),
            );
        }
        let comments: Vec<(String, String)> = comments_raw
            .iter()
            .map(|c| {
                let author = person(&c["author"]).unwrap_or_else(|| "unknown".to_owned());
                let at = date(&c["created"]).unwrap_or_default();
                (
                    format!("Comment by {author} at {at}"),
                    rich_text(&c["body"]),
                )
            })
            .filter(|(_, body)| !body.trim().is_empty())
            .collect();
        let resolved_at = date(&f["resolutiondate"]);
        let close_code = Some(name(&f["resolution"])).filter(|r| !r.is_empty());
        // Jira has no resolution notes field: the last comment of a resolved issue is where the
        // fix is usually described.
        let resolution = if resolved_at.is_some() || close_code.is_some() {
            comments
                .last()
                .map(|(_, body)| body.clone())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let labels: Vec<&str> = f["labels"]
            .as_array()
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let project = &f["project"];
        SourceIncident {
            external_id: id.to_owned(),
            short_description: f["summary"].as_str().unwrap_or_default().to_owned(),
            description: rich_text(&f["description"]),
            resolution,
            close_code,
            state: name(&f["status"]),
            priority: name(&f["priority"]),
            category: Some(name(project))
                .filter(|n| !n.is_empty())
                .or_else(|| project["key"].as_str().map(str::to_owned))
                .unwrap_or_default(),
            subcategory: labels.join(", "),
            assigned_to: person(&f["assignee"]),
            resolved_by: None,
            caller: person(&f["reporter"]),
            opened_at: date(&f["created"]),
            updated_at: rfc3339(updated).unwrap_or_default(),
            resolved_at,
            comments: comments
                .into_iter()
                .map(|(head, body)| format!("{head}: {body}"))
                .collect(),
            link: format!("{}/browse/{key}", self.base.as_str().trim_end_matches('/')),
            number: key,
        }
    }

    pub(crate) async fn list_all_ids(&mut self, filters: &Filters) -> CoreResult<IdList> {
        let flavour = self.flavour().await?;
        let from = match filters.updated_from.as_deref() {
            Some(from) => epoch_millis(parse_time(from).ok_or_else(|| {
                missing(
                    "updated_from",
                    "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.",
                )
            })?),
            None => 0,
        };
        // Key order does not change when issues are updated during the listing.
        let jql = jql(filters, from, "ORDER BY key ASC")?;
        // Ids only: Cloud allows 5000 per page then.
        let per_page = match flavour {
            JiraFlavour::Cloud => 5000,
            JiraFlavour::DataCenter => 1000,
        };
        let mut position = Position::start(flavour);
        let mut list = IdList::default();
        let mut seen = HashSet::new();
        let mut first = true;
        loop {
            let found = self
                .search(flavour, &jql, &["id"], per_page, &position)
                .await?;
            if first {
                list.expected = found.total;
                first = false;
            }
            for issue in &found.issues {
                if let Some(id) = id_of(issue) {
                    if seen.insert(id.clone()) {
                        list.ids.push(id);
                    }
                }
            }
            if found.last {
                return Ok(list);
            }
            position = found.next;
        }
    }

    /// One search page.
    async fn search(
        &mut self,
        flavour: JiraFlavour,
        jql: &str,
        fields: &[&str],
        max: usize,
        position: &Position,
    ) -> CoreResult<Found> {
        let (url, what) = match flavour {
            JiraFlavour::Cloud => (self.api(flavour, "/search/jql"), "search/jql"),
            JiraFlavour::DataCenter => (self.api(flavour, "/search"), "search"),
        };
        let body = |attempt: &Attempt| {
            // Fewer issues per page after slow answers.
            let max = (max >> attempt.slow_failures.min(8)).max(1);
            let mut body = json!({"jql": jql, "maxResults": max, "fields": fields});
            match position {
                Position::Token(Some(token)) => body["nextPageToken"] = json!(token),
                Position::Token(None) => {}
                Position::StartAt(start) => body["startAt"] = json!(start),
            }
            body
        };
        let reply = self
            .call(what, |http, attempt| {
                http.client.post(url.clone()).json(&body(attempt))
            })
            .await?;
        let body = reply.json();
        let Some(issues) = body["issues"].as_array().cloned() else {
            return Err(error(
                ErrorCode::MalformedResponse,
                "Jira answered a search without an issue list. Check that the URL is the Jira \
                 site itself (Data Center: including its context path).",
                format!("{what}: {}", reply.describe()),
            ));
        };
        Ok(match position {
            Position::Token(_) => {
                let token = body["nextPageToken"].as_str().map(str::to_owned);
                let last = body["isLast"].as_bool().unwrap_or(token.is_none()) || token.is_none();
                Found {
                    issues,
                    last,
                    total: None,
                    next: Position::Token(token),
                }
            }
            Position::StartAt(start) => {
                let total = body["total"].as_u64();
                let start = body["startAt"]
                    .as_u64()
                    .and_then(|s| usize::try_from(s).ok())
                    .unwrap_or(*start);
                let end = start + issues.len();
                let last = issues.is_empty() || total.is_none_or(|t| end as u64 >= t);
                Found {
                    issues,
                    last,
                    total,
                    next: Position::StartAt(end),
                }
            }
        })
    }

    /// Sends an authenticated request and maps Jira's refusals.
    async fn call<F>(&self, what: &str, build: F) -> CoreResult<Reply>
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

/// An issue's id as a string (Jira sends a string; tolerate a number).
fn id_of(issue: &Value) -> Option<String> {
    match &issue["id"] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Text of a description or comment body: ADF (Cloud v3) or wiki markup (v2, Data Center).
fn rich_text(value: &Value) -> String {
    match value {
        Value::String(markup) => wiki_to_text(markup),
        Value::Object(_) => adf_to_text(value),
        _ => String::new(),
    }
}

/// The search JQL: the filters AND `updated >= since`, then the order.
fn jql(filters: &Filters, since_millis: i64, order: &str) -> CoreResult<String> {
    let mut clauses = Vec::new();
    let mut bad = BTreeMap::new();
    if let Some(raw) = filters.raw_query.as_deref() {
        let fragment = strip_order_by(raw);
        if !fragment.is_empty() {
            // Without parentheses an OR in the fragment would escape the AND-ed conditions.
            if has_top_level_or(&fragment) {
                clauses.push(format!("({fragment})"));
            } else {
                clauses.push(fragment);
            }
        }
    }
    for (field, values) in [
        ("priority", &filters.priority),
        ("status", &filters.state),
        ("project", &filters.category),
    ] {
        let values: Vec<String> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(quote)
            .collect();
        if !values.is_empty() {
            clauses.push(format!("{field} in ({})", values.join(", ")));
        }
    }
    if let Some(to) = filters
        .updated_to
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        match parse_time(to) {
            Some(at) => clauses.push(format!("updated <= {}", epoch_millis(at))),
            None => {
                bad.insert(
                    "updated_to".to_owned(),
                    "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.".to_owned(),
                );
            }
        }
    }
    if !bad.is_empty() {
        return Err(CoreError::invalid(bad));
    }
    // Always bounded: Cloud refuses unbounded JQL.
    clauses.push(format!("updated >= {}", since_millis.max(0)));
    Ok(format!("{} {order}", clauses.join(" AND ")))
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The JQL with a trailing ORDER BY (outside quotes) removed.
fn strip_order_by(jql: &str) -> String {
    let lower = jql.to_ascii_lowercase();
    let mut cut = jql.len();
    let mut quote: Option<char> = None;
    for (i, c) in jql.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if lower[i..].starts_with("order by")
                && (i == 0 || jql[..i].ends_with(char::is_whitespace)) =>
            {
                cut = i;
                break;
            }
            None => {}
        }
    }
    jql[..cut].trim().to_owned()
}

/// Whether an OR joins clauses outside quotes and parentheses.
fn has_top_level_or(jql: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut word = String::new();
    for c in jql.chars().chain(std::iter::once(' ')) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => continue,
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
        if quote.is_some() {
            word.clear();
            continue;
        }
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            if depth == 0 && word.eq_ignore_ascii_case("or") {
                return true;
            }
            word.clear();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_ands_the_filters_and_bounds_the_query() {
        let filters = Filters {
            state: vec!["Done".into()],
            category: vec!["OPS".into()],
            raw_query: Some(
                "status = Done OR summary ~ \"vpn or wifi\" ORDER BY created DESC".into(),
            ),
            ..Filters::default()
        };
        assert_eq!(
            jql(&filters, 1_700_000_000_000, ORDER).unwrap(),
            "(status = Done OR summary ~ \"vpn or wifi\") AND status in (\"Done\") AND project in \
             (\"OPS\") AND updated >= 1700000000000 ORDER BY updated ASC, key ASC"
        );
        assert_eq!(
            jql(&Filters::default(), -5, ORDER).unwrap(),
            "updated >= 0 ORDER BY updated ASC, key ASC"
        );
        let fragment = Filters {
            raw_query: Some("project = OPS AND summary ~ \"order by\"".into()),
            ..Filters::default()
        };
        assert!(jql(&fragment, 0, ORDER)
            .unwrap()
            .starts_with("project = OPS AND summary ~ \"order by\" AND updated >= 0"));
    }

    #[test]
    fn or_inside_quotes_or_parentheses_is_not_top_level() {
        assert!(has_top_level_or("a = 1 or b = 2"));
        assert!(!has_top_level_or("(a = 1 OR b = 2) AND c = 3"));
        assert!(!has_top_level_or("summary ~ \"this or that\""));
        assert!(!has_top_level_or("labels = orange"));
    }
}
