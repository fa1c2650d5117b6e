//! Jira Cloud and Data Center REST endpoints over issues derived from the incident data.
//!
//! Cloud lives at the root (`/rest/api/{2,3}/…`, Basic email + API token, `search/jql` with
//! `nextPageToken`, the removed `search` answering 410). Data Center lives under the `/dc`
//! context path (`/dc/rest/api/2/…`, Bearer PAT, `search` with `startAt`/`total`), the way many
//! real DC instances sit under a context path, so one server can play both.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Map, Value};
use time::PrimitiveDateTime;

use crate::auth::{credentials, secret_eq, Credentials, JIRA_API_TOKEN, JIRA_EMAIL, JIRA_PAT};
use crate::errors;
use crate::jql::{self, Clause, DateField, Jql, OrderField, TextField};
use crate::server::AppState;
use crate::store::Store;
use crate::tz::{epoch_millis, format_jira, now_utc, parse_sn, Zone};

/// The account both flavours sign in as; JQL dates and rendered dates use its zone.
const ACCOUNT_ZONE: &str = "America/New_York";
const ACCOUNT_ID: &str = "712020:5b10ac8d-82e0-5b22-cc7d-4ef5aa1b2c3d";

/// Which API a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// Cloud v3: ADF descriptions and comments.
    CloudV3,
    /// Cloud v2: wiki-markup strings.
    CloudV2,
    /// Data Center v2.
    DataCenter,
}

impl Flavour {
    fn cloud(version: &str) -> Option<Flavour> {
        match version {
            "3" => Some(Flavour::CloudV3),
            "2" => Some(Flavour::CloudV2),
            _ => None,
        }
    }

    fn api_root(self, base: &str) -> String {
        match self {
            Flavour::CloudV3 => format!("{base}/rest/api/3"),
            Flavour::CloudV2 => format!("{base}/rest/api/2"),
            Flavour::DataCenter => format!("{base}/dc/rest/api/2"),
        }
    }
}

/// A person as Jira shows them.
#[derive(Debug, Clone)]
struct Person {
    account_id: String,
    user_name: String,
    name: String,
    email: String,
}

#[derive(Debug, Clone)]
struct Comment {
    id: u64,
    author: Person,
    body: String,
    created: PrimitiveDateTime,
}

/// One issue.
#[derive(Debug, Clone)]
struct Issue {
    id: u64,
    project: &'static str,
    number: u64,
    summary: String,
    description: String,
    status: &'static str,
    priority: &'static str,
    created: PrimitiveDateTime,
    updated: PrimitiveDateTime,
    /// Sub-second part, so epoch-millisecond watermarks have something to cut.
    millis: u16,
    resolved: Option<PrimitiveDateTime>,
    resolution: Option<&'static str>,
    assignee: Option<Person>,
    reporter: Option<Person>,
    labels: Vec<String>,
    comments: Vec<Comment>,
}

impl Issue {
    fn key(&self) -> String {
        format!("{}-{}", self.project, self.number)
    }

    fn updated_millis(&self) -> i64 {
        epoch_millis(self.updated) + i64::from(self.millis)
    }

    fn date_millis(&self, field: DateField) -> Option<i64> {
        match field {
            DateField::Created => Some(epoch_millis(self.created) + i64::from(self.millis)),
            DateField::Updated => Some(self.updated_millis()),
            DateField::Resolved => self.resolved.map(epoch_millis),
        }
    }

    fn matches(&self, clause: &Clause) -> bool {
        match clause {
            Clause::Text {
                field,
                negated,
                values,
            } => {
                let actual = match field {
                    TextField::Project => self.project.to_lowercase(),
                    TextField::Key => self.key().to_lowercase(),
                    TextField::Status => self.status.to_lowercase(),
                    TextField::IssueType => "incident".to_owned(),
                    TextField::Summary | TextField::Text => return false,
                };
                values.contains(&actual) != *negated
            }
            Clause::Date { field, cmp, millis } => self
                .date_millis(*field)
                .is_some_and(|value| cmp.test(value, *millis)),
            Clause::Key {
                cmp,
                project,
                number,
            } => self.project.eq_ignore_ascii_case(project) && cmp.test(self.number, *number),
            Clause::Contains { field, needle } => {
                let mut haystack = self.summary.to_lowercase();
                if *field == TextField::Text {
                    haystack.push(' ');
                    haystack.push_str(&self.description.to_lowercase());
                    for comment in &self.comments {
                        haystack.push(' ');
                        haystack.push_str(&comment.body.to_lowercase());
                    }
                }
                needle
                    .split_whitespace()
                    .all(|word| haystack.contains(word))
            }
        }
    }
}

/// All issues, ordered by id.
pub struct JiraData {
    issues: Vec<Issue>,
}

impl JiraData {
    /// One issue per incident: network and database problems go to project OPS, the rest to
    /// SUP. Comments come from the incident's journal, plus the resolution notes.
    pub fn from_store(store: &Store) -> JiraData {
        let people: HashMap<String, Person> = store
            .select("sys_user", "", Zone::named("GMT"))
            .iter()
            .map(|u| {
                let id = u.get("sys_id").cloned().unwrap_or_default();
                let person = Person {
                    account_id: format!("712020:{}", &id[..id.len().min(24)]),
                    user_name: u.get("user_name").cloned().unwrap_or_default(),
                    name: u.get("name").cloned().unwrap_or_default(),
                    email: u.get("email").cloned().unwrap_or_default(),
                };
                (id, person)
            })
            .collect();
        let mut journal: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
        for entry in store
            .select(
                "sys_journal_field",
                "ORDERBYsys_created_on",
                Zone::named("GMT"),
            )
            .iter()
        {
            let get = |f: &str| entry.get(f).cloned().unwrap_or_default();
            journal.entry(get("element_id")).or_default().push((
                get("sys_created_by"),
                get("value"),
                get("sys_created_on"),
            ));
        }
        let by_user_name: HashMap<&str, &Person> =
            people.values().map(|p| (p.user_name.as_str(), p)).collect();
        let mut counters: HashMap<&'static str, u64> = HashMap::new();
        let mut issues = Vec::new();
        let mut comment_id = 10_000;
        for incident in store
            .select("incident", "ORDERBYnumber", Zone::named("GMT"))
            .iter()
        {
            let get = |f: &str| incident.get(f).cloned().unwrap_or_default();
            let project = if matches!(get("category").as_str(), "network" | "database") {
                "OPS"
            } else {
                "SUP"
            };
            let counter = counters.entry(project).or_insert(0);
            *counter += 1;
            let person = |field: &str| people.get(&get(field)).cloned();
            let created = parse_sn(&get("opened_at"))
                .or_else(|| parse_sn(&get("sys_created_on")))
                .unwrap_or_else(now_utc);
            let updated = parse_sn(&get("sys_updated_on")).unwrap_or(created);
            let resolved = parse_sn(&get("resolved_at"));
            let (status, resolution) = match get("state").as_str() {
                "1" => ("To Do", None),
                "2" | "3" => ("In Progress", None),
                "8" => ("Done", Some("Won't Do")),
                "6" | "7" => ("Done", Some("Done")),
                _ => ("To Do", None),
            };
            let priority = match get("priority").as_str() {
                "1" => "Highest",
                "2" => "High",
                "3" => "Medium",
                "4" => "Low",
                _ => "Lowest",
            };
            let sys_id = get("sys_id");
            let mut comments: Vec<Comment> = journal
                .get(&sys_id)
                .into_iter()
                .flatten()
                .filter_map(|(author, body, at)| {
                    comment_id += 1;
                    Some(Comment {
                        id: comment_id,
                        author: (*by_user_name.get(author.as_str())?).clone(),
                        body: body.clone(),
                        created: parse_sn(at)?,
                    })
                })
                .collect();
            if let (Some(at), Some(author)) = (resolved, person("resolved_by")) {
                comment_id += 1;
                comments.push(Comment {
                    id: comment_id,
                    author,
                    body: format!("Resolution: {}", get("close_notes")),
                    created: at,
                });
            }
            let millis =
                u16::from_str_radix(sys_id.get(29..32).unwrap_or("0"), 16).unwrap_or(0) % 1000;
            issues.push(Issue {
                id: 10_000 + issues.len() as u64 + 1,
                project,
                number: *counter,
                summary: get("short_description"),
                description: get("description"),
                status,
                priority,
                created,
                updated,
                millis,
                resolved,
                resolution,
                assignee: person("assigned_to"),
                reporter: person("caller_id"),
                labels: [get("category"), get("subcategory")]
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .map(|l| l.replace(' ', "-"))
                    .collect(),
                comments,
            });
        }
        JiraData { issues }
    }

    pub fn len(&self) -> usize {
        self.issues.len()
    }
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/rest/api/{version}/search/jql",
            get(cloud_search).post(cloud_search),
        )
        .route(
            "/rest/api/{version}/search",
            get(removed_search).post(removed_search),
        )
        .route("/rest/api/{version}/serverInfo", get(cloud_server_info))
        .route("/rest/api/{version}/field", get(cloud_fields))
        .route("/rest/api/{version}/myself", get(cloud_myself))
        .route("/rest/api/{version}/issue/{key}", get(cloud_issue))
        .route("/dc/rest/api/2/search", get(dc_search).post(dc_search))
        .route("/dc/rest/api/2/serverInfo", get(dc_server_info))
        .route("/dc/rest/api/2/field", get(dc_fields))
        .route("/dc/rest/api/2/myself", get(dc_myself))
        .route("/dc/rest/api/2/issue/{key}", get(dc_issue))
}

fn not_authenticated() -> Response {
    errors::jira(
        StatusCode::UNAUTHORIZED,
        "You are not authenticated. Authentication required to perform this operation.",
    )
}

fn check(flavour: Flavour, headers: &HeaderMap) -> Result<(), Response> {
    let ok = match (flavour, credentials(headers)) {
        (Flavour::DataCenter, Credentials::Bearer(token)) => secret_eq(JIRA_PAT, &token),
        (Flavour::CloudV2 | Flavour::CloudV3, Credentials::Basic(email, token)) => {
            email.eq_ignore_ascii_case(JIRA_EMAIL) && secret_eq(JIRA_API_TOKEN, &token)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(not_authenticated())
    }
}

/// Search parameters from a GET query string or a POST JSON body.
#[derive(Debug, Default)]
struct SearchRequest {
    jql: String,
    max_results: Option<usize>,
    start_at: Option<usize>,
    next_page_token: Option<String>,
    fields: Option<Vec<String>>,
}

fn search_request(
    method: &Method,
    uri: &OriginalUri,
    body: &Bytes,
) -> Result<SearchRequest, Response> {
    let mut request = SearchRequest::default();
    let bad = |message: &str| errors::jira(StatusCode::BAD_REQUEST, message);
    if method == Method::POST {
        let body: Value = serde_json::from_slice(body).map_err(|_| {
            bad("Invalid request payload. Refer to the REST API documentation and try again.")
        })?;
        request.jql = body["jql"].as_str().unwrap_or_default().to_owned();
        request.max_results = body["maxResults"].as_u64().map(|n| n as usize);
        request.start_at = body["startAt"].as_u64().map(|n| n as usize);
        request.next_page_token = body["nextPageToken"].as_str().map(str::to_owned);
        request.fields = match &body["fields"] {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            ),
            Value::String(s) => Some(s.split(',').map(str::to_owned).collect()),
            _ => None,
        };
    } else {
        for (key, value) in
            form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned()
        {
            match key.as_str() {
                "jql" => request.jql = value,
                "maxResults" => {
                    request.max_results = Some(
                        value
                            .parse()
                            .map_err(|_| bad("maxResults must be a number"))?,
                    )
                }
                "startAt" => {
                    request.start_at =
                        Some(value.parse().map_err(|_| bad("startAt must be a number"))?)
                }
                "nextPageToken" => request.next_page_token = Some(value),
                // Clients send both `fields=a,b` and repeated `fields=a&fields=b`.
                "fields" => request
                    .fields
                    .get_or_insert_with(Vec::new)
                    .extend(value.split(',').map(str::to_owned)),
                _ => {}
            }
        }
    }
    if let Some(fields) = request.fields.as_mut() {
        fields.retain(|f| !f.trim().is_empty());
        for f in fields.iter_mut() {
            *f = f.trim().to_owned();
        }
    }
    Ok(request)
}

/// Issues matching a query, ordered.
fn run(data: &JiraData, jql: &Jql) -> Vec<usize> {
    let mut hits: Vec<usize> = (0..data.issues.len())
        .filter(|&i| {
            jql.groups.is_empty()
                || jql
                    .groups
                    .iter()
                    .any(|g| g.iter().all(|c| data.issues[i].matches(c)))
        })
        .collect();
    let order = if jql.order.is_empty() {
        vec![(OrderField::Id, false)]
    } else {
        jql.order.clone()
    };
    hits.sort_by(|&a, &b| {
        let (a, b) = (&data.issues[a], &data.issues[b]);
        for (field, descending) in &order {
            let ord = match field {
                OrderField::Updated => a.updated_millis().cmp(&b.updated_millis()),
                OrderField::Created => a.created.cmp(&b.created),
                OrderField::Key => (a.project, a.number).cmp(&(b.project, b.number)),
                OrderField::Id => a.id.cmp(&b.id),
            };
            if ord != std::cmp::Ordering::Equal {
                return if *descending { ord.reverse() } else { ord };
            }
        }
        a.id.cmp(&b.id)
    });
    hits
}

/// Tokens encode the offset and a fingerprint of the query they belong to.
fn page_token(offset: usize, jql: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{offset}:{:016x}", fingerprint(jql)))
}

fn read_page_token(token: &str, jql: &str) -> Option<usize> {
    let text = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?,
    )
    .ok()?;
    let (offset, print) = text.split_once(':')?;
    (print == format!("{:016x}", fingerprint(jql)))
        .then(|| offset.parse().ok())
        .flatten()
}

fn fingerprint(text: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn parse_jql(text: &str) -> Result<Jql, Response> {
    jql::parse(text, Zone::named(ACCOUNT_ZONE))
        .map_err(|e| errors::jira(StatusCode::BAD_REQUEST, &e.to_string()))
}

async fn cloud_search(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(flavour) = Flavour::cloud(&version) else {
        return errors::jira(StatusCode::NOT_FOUND, "Not found");
    };
    if let Err(response) = check(flavour, &headers) {
        return response;
    }
    let request = match search_request(&method, &uri, &body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let jql = match parse_jql(&request.jql) {
        Ok(jql) => jql,
        Err(response) => return response,
    };
    if jql.groups.is_empty() {
        return errors::jira(StatusCode::BAD_REQUEST, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.");
    }
    let offset = match &request.next_page_token {
        None => 0,
        Some(token) => match read_page_token(token, &request.jql) {
            Some(offset) => offset,
            None => {
                return errors::jira(
                    StatusCode::BAD_REQUEST,
                    "The provided next page token is invalid or expired.",
                )
            }
        },
    };
    let fields = request.fields.unwrap_or_default();
    // Cloud returns at most 100 issues with fields (5000 with ids only).
    let cap = if fields.iter().all(|f| f == "id" || f == "key") {
        5000
    } else {
        100
    };
    let max = request.max_results.unwrap_or(50).clamp(1, cap);
    let Ok(data) = state.jira.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let hits = run(&data, &jql);
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .map(|&i| render(&data.issues[i], flavour, &fields, &state.base_url))
        .collect();
    let mut body = json!({"issues": page});
    if offset + max < hits.len() {
        body["nextPageToken"] = json!(page_token(offset + max, &request.jql));
        body["isLast"] = json!(false);
    } else {
        body["isLast"] = json!(true);
    }
    Json(body).into_response()
}

async fn removed_search(Path(version): Path<String>) -> Response {
    if Flavour::cloud(&version).is_none() {
        return errors::jira(StatusCode::NOT_FOUND, "Not found");
    }
    errors::jira(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

async fn dc_search(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check(Flavour::DataCenter, &headers) {
        return response;
    }
    let request = match search_request(&method, &uri, &body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let jql = match parse_jql(&request.jql) {
        Ok(jql) => jql,
        Err(response) => return response,
    };
    let start = request.start_at.unwrap_or(0);
    let max = request.max_results.unwrap_or(50).min(1000);
    // Data Center returns navigable fields when none are named.
    let fields = request
        .fields
        .unwrap_or_else(|| vec!["*navigable".to_owned()]);
    let Ok(data) = state.jira.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let hits = run(&data, &jql);
    let issues: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(max)
        .map(|&i| {
            render(
                &data.issues[i],
                Flavour::DataCenter,
                &fields,
                &state.base_url,
            )
        })
        .collect();
    Json(json!({"expand": "schema,names", "startAt": start, "maxResults": max, "total": hits.len(), "issues": issues})).into_response()
}

/// Field ids, names and JQL clause names, as `/rest/api/2/field` lists them.
const FIELDS: &[(&str, &str, &str)] = &[
    ("summary", "Summary", "string"),
    ("description", "Description", "string"),
    ("status", "Status", "status"),
    ("priority", "Priority", "priority"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"),
    ("resolutiondate", "Resolved", "datetime"),
    ("resolution", "Resolution", "resolution"),
    ("assignee", "Assignee", "user"),
    ("reporter", "Reporter", "user"),
    ("labels", "Labels", "array"),
    ("comment", "Comment", "comments-page"),
];

fn field_list() -> Value {
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(id, name, kind)| {
            let clause = match *id {
                "resolutiondate" => "resolved",
                "issuetype" => "type",
                other => other,
            };
            json!({
                "id": id, "key": id, "name": name, "custom": false, "orderable": true, "navigable": true, "searchable": true,
                "clauseNames": [id, clause], "schema": {"type": kind, "system": id}
            })
        })
        .collect();
    Value::Array(fields)
}

fn wanted(fields: &[String], name: &str) -> bool {
    let excluded = fields.iter().any(|f| f.strip_prefix('-') == Some(name));
    let included = fields
        .iter()
        .any(|f| f == name || f == "*all" || (f == "*navigable"));
    included && !excluded
}

fn render(issue: &Issue, flavour: Flavour, fields: &[String], base: &str) -> Value {
    let root = flavour.api_root(base);
    let zone = Zone::named(ACCOUNT_ZONE);
    let mut out = json!({
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": issue.id.to_string(),
        "self": format!("{root}/issue/{}", issue.id),
        "key": issue.key(),
    });
    let mut map = Map::new();
    let text = |body: &str| match flavour {
        Flavour::CloudV3 => adf(body),
        _ => json!(body),
    };
    let person = |p: &Option<Person>| match p {
        None => Value::Null,
        Some(p) => user_json(p, flavour, &root),
    };
    let date = |d: PrimitiveDateTime, ms: u16| json!(format_jira(d, ms, zone));
    for (id, _, _) in FIELDS {
        if !wanted(fields, id) {
            continue;
        }
        let value = match *id {
            "summary" => json!(issue.summary),
            "description" => text(&issue.description),
            "status" => {
                let (cat_id, cat_key, colour) = match issue.status {
                    "To Do" => (2, "new", "blue-gray"),
                    "In Progress" => (4, "indeterminate", "yellow"),
                    _ => (3, "done", "green"),
                };
                json!({"self": format!("{root}/status/{cat_id}"), "name": issue.status, "id": cat_id.to_string(),
                       "statusCategory": {"id": cat_id, "key": cat_key, "colorName": colour, "name": issue.status}})
            }
            "priority" => {
                json!({"self": format!("{root}/priority/{}", issue.priority), "name": issue.priority})
            }
            "issuetype" => {
                json!({"self": format!("{root}/issuetype/10004"), "id": "10004", "name": "Incident", "subtask": false})
            }
            "project" => {
                let (pid, name) = if issue.project == "OPS" {
                    ("10001", "Operations")
                } else {
                    ("10000", "Support")
                };
                json!({"self": format!("{root}/project/{pid}"), "id": pid, "key": issue.project, "name": name, "projectTypeKey": "service_desk"})
            }
            "created" => date(issue.created, issue.millis),
            "updated" => date(issue.updated, issue.millis),
            "resolutiondate" => issue.resolved.map(|d| date(d, 0)).unwrap_or(Value::Null),
            "resolution" => issue
                .resolution
                .map(|r| json!({"name": r}))
                .unwrap_or(Value::Null),
            "assignee" => person(&issue.assignee),
            "reporter" => person(&issue.reporter),
            "labels" => json!(issue.labels),
            "comment" => {
                let comments: Vec<Value> = issue
                    .comments
                    .iter()
                    .map(|c| {
                        json!({"self": format!("{root}/issue/{}/comment/{}", issue.id, c.id), "id": c.id.to_string(),
                               "author": user_json(&c.author, flavour, &root), "body": text(&c.body),
                               "created": date(c.created, 0), "updated": date(c.created, 0)})
                    })
                    .collect();
                json!({"comments": comments, "self": format!("{root}/issue/{}/comment", issue.id), "maxResults": comments.len(), "total": comments.len(), "startAt": 0})
            }
            _ => continue,
        };
        map.insert((*id).to_owned(), value);
    }
    if !map.is_empty() {
        out["fields"] = Value::Object(map);
    }
    out
}

fn user_json(person: &Person, flavour: Flavour, root: &str) -> Value {
    match flavour {
        Flavour::DataCenter => json!({
            "self": format!("{root}/user?username={}", person.user_name), "name": person.user_name, "key": person.user_name,
            "emailAddress": person.email, "displayName": person.name, "active": true, "timeZone": ACCOUNT_ZONE
        }),
        _ => json!({
            "self": format!("{root}/user?accountId={}", person.account_id), "accountId": person.account_id,
            "emailAddress": person.email, "displayName": person.name, "active": true, "timeZone": ACCOUNT_ZONE, "accountType": "atlassian"
        }),
    }
}

/// Plain text to an Atlassian Document Format document: one paragraph per blank-line block.
pub fn adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| json!({"type": "paragraph", "content": [{"type": "text", "text": p.trim()}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

fn server_info(flavour: Flavour, base: &str) -> Value {
    let now = format_jira(now_utc(), 0, Zone::named("UTC"));
    match flavour {
        Flavour::DataCenter => json!({
            "baseUrl": format!("{base}/dc"), "version": "9.12.15", "versionNumbers": [9, 12, 15], "deploymentType": "Server",
            "buildNumber": 9120015, "buildDate": "2024-10-01T00:00:00.000+0000", "serverTime": now,
            "scmInfo": "simulated", "serverTitle": "Jira (simulated Data Center)"
        }),
        _ => json!({
            "baseUrl": base, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
            "buildNumber": 100287, "buildDate": "2025-06-27T06:03:47.000+0000", "serverTime": now,
            "scmInfo": "simulated", "serverTitle": "Jira (simulated Cloud)", "defaultLocale": {"locale": "en_US"}
        }),
    }
}

async fn cloud_server_info(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
) -> Response {
    match Flavour::cloud(&version) {
        Some(flavour) => Json(server_info(flavour, &state.base_url)).into_response(),
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn dc_server_info(State(state): State<Arc<AppState>>) -> Response {
    Json(server_info(Flavour::DataCenter, &state.base_url)).into_response()
}

async fn cloud_fields(Path(version): Path<String>, headers: HeaderMap) -> Response {
    match Flavour::cloud(&version).map(|f| check(f, &headers)) {
        Some(Ok(())) => Json(field_list()).into_response(),
        Some(Err(response)) => response,
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn dc_fields(headers: HeaderMap) -> Response {
    match check(Flavour::DataCenter, &headers) {
        Ok(()) => Json(field_list()).into_response(),
        Err(response) => response,
    }
}

fn myself(flavour: Flavour, base: &str) -> Value {
    let root = flavour.api_root(base);
    match flavour {
        Flavour::DataCenter => json!({
            "self": format!("{root}/user?username=demo"), "key": "JIRAUSER10000", "name": "demo", "emailAddress": JIRA_EMAIL,
            "displayName": "Demo User", "active": true, "timeZone": ACCOUNT_ZONE, "locale": "en_US"
        }),
        _ => json!({
            "self": format!("{root}/user?accountId={ACCOUNT_ID}"), "accountId": ACCOUNT_ID, "accountType": "atlassian",
            "emailAddress": JIRA_EMAIL, "displayName": "Demo User", "active": true, "timeZone": ACCOUNT_ZONE, "locale": "en_US"
        }),
    }
}

async fn cloud_myself(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    match Flavour::cloud(&version).map(|f| check(f, &headers).map(|()| f)) {
        Some(Ok(flavour)) => Json(myself(flavour, &state.base_url)).into_response(),
        Some(Err(response)) => response,
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn dc_myself(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match check(Flavour::DataCenter, &headers) {
        Ok(()) => Json(myself(Flavour::DataCenter, &state.base_url)).into_response(),
        Err(response) => response,
    }
}

fn issue(state: &AppState, flavour: Flavour, key: &str, uri: &OriginalUri) -> Response {
    let Ok(data) = state.jira.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let found = data
        .issues
        .iter()
        .find(|i| i.key().eq_ignore_ascii_case(key) || i.id.to_string() == key);
    let Some(found) = found else {
        return errors::jira(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        );
    };
    let fields: Vec<String> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "fields")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let fields = if fields.is_empty() {
        vec!["*all".to_owned()]
    } else {
        fields
    };
    Json(render(found, flavour, &fields, &state.base_url)).into_response()
}

async fn cloud_issue(
    State(state): State<Arc<AppState>>,
    Path((version, key)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    match Flavour::cloud(&version).map(|f| check(f, &headers).map(|()| f)) {
        Some(Ok(flavour)) => issue(&state, flavour, &key, &uri),
        Some(Err(response)) => response,
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn dc_issue(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    match check(Flavour::DataCenter, &headers) {
        Ok(()) => issue(&state, Flavour::DataCenter, &key, &uri),
        Err(response) => response,
    }
}

/// `POST /sim/jira/issues`: touch or create issues. Body: one object or an array of
/// `{"key"?, "project"?, "summary"?, "description"?, "status"?, "updated"?}`; `updated` is a raw
/// UTC `YYYY-MM-DD HH:MM:SS` (default now). Returns the keys written.
pub async fn upsert_issues(
    State(state): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> Response {
    let items = match body {
        Value::Array(items) => items,
        other => vec![other],
    };
    let Ok(mut data) = state.jira.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut keys = Vec::new();
    for item in items {
        let text = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_owned);
        let updated = match text("updated") {
            Some(raw) => match parse_sn(&raw) {
                Some(at) => at,
                None => {
                    return crate::control::error(
                        StatusCode::BAD_REQUEST,
                        format!("bad updated {raw:?}"),
                    )
                }
            },
            None => now_utc(),
        };
        let position = text("key").and_then(|key| {
            data.issues
                .iter()
                .position(|i| i.key().eq_ignore_ascii_case(&key))
        });
        let index = match position {
            Some(index) => index,
            None => {
                let project = if text("project").as_deref() == Some("OPS") {
                    "OPS"
                } else {
                    "SUP"
                };
                let number = data
                    .issues
                    .iter()
                    .filter(|i| i.project == project)
                    .map(|i| i.number)
                    .max()
                    .unwrap_or(0)
                    + 1;
                let id = data.issues.iter().map(|i| i.id).max().unwrap_or(10_000) + 1;
                data.issues.push(Issue {
                    id,
                    project,
                    number,
                    summary: String::new(),
                    description: String::new(),
                    status: "To Do",
                    priority: "Medium",
                    created: updated,
                    updated,
                    millis: 0,
                    resolved: None,
                    resolution: None,
                    assignee: None,
                    reporter: None,
                    labels: Vec::new(),
                    comments: Vec::new(),
                });
                data.issues.len() - 1
            }
        };
        let issue = &mut data.issues[index];
        if let Some(summary) = text("summary") {
            issue.summary = summary;
        }
        if let Some(description) = text("description") {
            issue.description = description;
        }
        if let Some(status) = text("status") {
            issue.status = match status.as_str() {
                "Done" => "Done",
                "In Progress" => "In Progress",
                _ => "To Do",
            };
        }
        issue.updated = updated;
        issue.millis = 0;
        keys.push(issue.key());
    }
    Json(json!({"result": keys})).into_response()
}
