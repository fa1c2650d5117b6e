//! Jira Cloud and Data Center REST endpoints over issues derived from the incident data.
//!
//! Cloud lives at the root (`/rest/api/{2,3}/…`, Basic email + API token, `search/jql` with
//! `nextPageToken`, the removed `search` answering 410). Data Center lives under the `/dc`
//! context path (`/dc/rest/api/2/…`, Bearer PAT, `search` with `startAt`/`total`), the way many
//! real DC instances sit under a context path, so one server can play both.
//!
//! Code map: this module holds the issue model, the data set and the routes with their
//! authentication; `search` runs JQL searches (Cloud token paging, DC offsets), `rest_json` turns
//! issues into REST JSON (fields, users, ADF, serverInfo, myself, one issue), `control` is the
//! `/sim/jira/issues` control API (add, change, delete issues).

mod control;
mod rest_json;
mod search;

pub use control::{delete_issue, upsert_issues};
use rest_json::{
    cloud_fields, cloud_issue, cloud_myself, cloud_server_info, dc_fields, dc_issue, dc_myself,
    dc_server_info,
};
use search::{cloud_search, dc_search, removed_search};

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use time::PrimitiveDateTime;

use crate::auth::{credentials, secret_eq, Credentials, JIRA_API_TOKEN, JIRA_EMAIL, JIRA_PAT};
use crate::errors;
use crate::jql::{Clause, DateField, TextField};
use crate::server::AppState;
use crate::store::Store;
use crate::tz::{epoch_millis, now_utc, parse_sn, Zone};

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
