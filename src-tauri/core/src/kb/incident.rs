//! One incident as it was synced, every field the integrations guide lists: what the incident
//! detail view (from search results, chat citations and version diffs) and
//! `supportbot kb incident NUMBER` show.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

/// Every synced field of an incident, with where it came from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IncidentDetail {
    /// The knowledge base's row id (the vector index's key).
    pub id: i64,
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub state: String,
    pub priority: String,
    pub category: String,
    pub subcategory: String,
    pub assigned_to: Option<String>,
    pub resolved_by: Option<String>,
    /// Resolution notes (ServiceNow `close_notes`; Jira's resolution comment).
    pub resolution: String,
    pub close_code: Option<String>,
    pub caller: Option<String>,
    /// Created, updated and resolved, as the source gave them (UTC).
    pub opened_at: Option<String>,
    pub updated_at: String,
    pub resolved_at: Option<String>,
    /// Comments and work notes synced with the record.
    pub comments: Vec<String>,
    pub integration_id: i64,
    /// The integration's name (kept when the integration is deleted).
    pub integration: String,
    /// The dataset version that last added or changed this incident.
    pub version_id: i64,
    /// The source system's own record id (`sys_id`, Jira issue id).
    pub external_id: String,
    /// The record in the source system (http(s) only).
    pub link: String,
}

const COLUMNS: &str = "id, number, short_description, description, state, priority, category,
     subcategory, assigned_to, resolved_by, resolution, close_code, caller, opened_at,
     updated_at, resolved_at, comments_json, integration_id, source_name, version_id,
     external_id, link";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentDetail> {
    let comments: String = row.get(16)?;
    Ok(IncidentDetail {
        id: row.get(0)?,
        number: row.get(1)?,
        short_description: row.get(2)?,
        description: row.get(3)?,
        state: row.get(4)?,
        priority: row.get(5)?,
        category: row.get(6)?,
        subcategory: row.get(7)?,
        assigned_to: row.get(8)?,
        resolved_by: row.get(9)?,
        resolution: row.get(10)?,
        close_code: row.get(11)?,
        caller: row.get(12)?,
        opened_at: row.get(13)?,
        updated_at: row.get(14)?,
        resolved_at: row.get(15)?,
        comments: comment_texts(&comments),
        integration_id: row.get(17)?,
        integration: row.get(18)?,
        version_id: row.get(19)?,
        external_id: row.get(20)?,
        link: row.get(21)?,
    })
}

/// Comments are stored as a JSON array of strings or of `{text|value|body}` objects.
fn comment_texts(raw: &str) -> Vec<String> {
    let parsed: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
    parsed
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    c.as_str()
                        .or_else(|| ["text", "value", "body"].iter().find_map(|k| c[k].as_str()))
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn by_id(conn: &Connection, id: i64) -> CoreResult<Option<IncidentDetail>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"),
            [id],
            read,
        )
        .optional()?)
}

fn by_number(conn: &Connection, number: &str) -> CoreResult<Vec<IncidentDetail>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM incidents WHERE number = ?1 COLLATE NOCASE ORDER BY source_name, id"
    ))?;
    let rows = st.query_map([number.trim()], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Core {
    /// An incident by number (`INC0010001`, any case). With `integration`, only that
    /// integration's; a number two integrations share without it is a validation error that
    /// names them. Permission: `integration.view`.
    pub fn kb_incident(
        &self,
        actor: &Actor,
        number: &str,
        integration: Option<&str>,
    ) -> CoreResult<IncidentDetail> {
        actor.require(Permission::IntegrationView)?;
        let mut found = by_number(&self.db().conn(), number)?;
        if let Some(name) = integration {
            found.retain(|i| i.integration.eq_ignore_ascii_case(name.trim()));
        }
        match found.len() {
            0 => Err(CoreError::not_found("incident", number.trim())),
            1 => Ok(found.remove(0)),
            _ => {
                let names: Vec<&str> = found.iter().map(|i| i.integration.as_str()).collect();
                Err(CoreError::new(
                    ErrorCode::Validation,
                    format!(
                        "{} is in more than one integration ({}): name the one you mean with --integration.",
                        number.trim(),
                        names.join(", ")
                    ),
                )
                .with_field("integration", "Choose the integration."))
            }
        }
    }

    /// An incident by its knowledge-base id (what search hits and citations carry).
    /// Permission: `integration.view`.
    pub fn kb_incident_by_id(&self, actor: &Actor, id: i64) -> CoreResult<IncidentDetail> {
        actor.require(Permission::IntegrationView)?;
        by_id(&self.db().conn(), id)?
            .ok_or_else(|| CoreError::not_found("incident", &id.to_string()))
    }
}
