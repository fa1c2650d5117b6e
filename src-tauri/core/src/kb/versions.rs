//! Version history of the knowledge base: every sync and rollback with its stats and the size of
//! the knowledge base after it, and per version which incidents it added, changed (field by
//! field, before → after) or removed.
//!
//! The "after" image of a change is the before image of the incident's next change in a later
//! version, or the current row when there is none: before images are all the history stores.

use serde::Serialize;
use serde_json::Value;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

/// Most changes one [`Core::kb_version`] call returns.
pub const MAX_CHANGES_PAGE: u64 = 1000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VersionSummary {
    pub id: i64,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub integration_id: Option<i64>,
    /// The integration's name, or the name it had when it was deleted; for a rollback, the
    /// profile that ran it.
    pub source: String,
    /// "sync", "full_sync" or "rollback".
    pub kind: String,
    /// "running", "success", "partial", "error" or "cancelled".
    pub status: String,
    pub fetched: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub notes: String,
    /// The version a rollback went back to.
    pub rollback_to: Option<i64>,
    /// Incidents in the knowledge base after this version.
    pub size_after: u64,
    /// What the source counted for the sync's query; `None` for rollbacks and sources that
    /// give no count.
    pub source_total: Option<u64>,
    /// Counted by the source but not readable by the account (row-level ACLs).
    pub unread: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VersionDetail {
    pub version: VersionSummary,
    pub changes: Vec<VersionChange>,
    pub changes_total: u64,
    pub offset: u64,
    pub skipped: Vec<SkippedRecord>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedRecord {
    pub external_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VersionChange {
    pub incident_id: i64,
    pub number: String,
    pub short_description: String,
    /// "added", "updated" or "deleted".
    pub change: String,
    /// For "updated": the fields that changed; empty otherwise.
    pub fields: Vec<FieldDiff>,
    /// The record before this version (`None` when it did not exist).
    pub before: Option<Value>,
    /// The record right after this version (`None` when it no longer existed).
    pub after: Option<Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldDiff {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Record fields a user reads, in display order. Hashes, row and version ids, the model and the
/// integration bookkeeping are left out of diffs.
const DIFF_FIELDS: [&str; 18] = [
    "number",
    "short_description",
    "description",
    "resolution",
    "close_code",
    "state",
    "priority",
    "category",
    "subcategory",
    "assigned_to",
    "resolved_by",
    "caller",
    "opened_at",
    "updated_at",
    "resolved_at",
    "comments",
    "link",
    "external_id",
];

const SUMMARY_SQL: &str = "SELECT v.id, v.created_at, v.finished_at, v.integration_id,
        COALESCE(i.name, v.source_name), v.kind, v.status, v.fetched, v.added, v.updated,
        v.unchanged, v.deleted, v.skipped, v.notes, v.rollback_to, v.source_total, v.unread
     FROM versions v LEFT JOIN integrations i ON i.id = v.integration_id
     ORDER BY v.id";

impl Core {
    /// Every version, newest first.
    pub fn kb_versions(&self, actor: &Actor) -> CoreResult<Vec<VersionSummary>> {
        actor.require(Permission::IntegrationView)?;
        let mut list = all_versions(&self.db().conn())?;
        list.reverse();
        Ok(list)
    }

    /// One version with a page of its changes (`limit` at most [`MAX_CHANGES_PAGE`]) and its
    /// skipped records.
    pub fn kb_version(
        &self,
        actor: &Actor,
        id: i64,
        offset: u64,
        limit: u64,
    ) -> CoreResult<VersionDetail> {
        actor.require(Permission::IntegrationView)?;
        if limit == 0 || limit > MAX_CHANGES_PAGE {
            return Err(CoreError::new(
                ErrorCode::Validation,
                format!("Ask for 1 to {MAX_CHANGES_PAGE} changes at a time (got {limit}); page with the offset."),
            )
            .with_field("limit", format!("Between 1 and {MAX_CHANGES_PAGE}.")));
        }
        let conn = self.db().conn();
        let version = all_versions(&conn)?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| unknown_version(id))?;
        let changes_total: u64 = conn.query_row(
            "SELECT COUNT(*) FROM version_changes WHERE version_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        let rows: Vec<(i64, String, Option<String>)> = {
            let mut stmt = conn.prepare(
                "SELECT incident_id, change, before_json FROM version_changes
                 WHERE version_id = ?1 ORDER BY incident_id LIMIT ?2 OFFSET ?3",
            )?;
            let rows = stmt
                .query_map(rusqlite::params![id, limit, offset], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows
        };
        let mut changes = Vec::with_capacity(rows.len());
        for (incident_id, change, before_json) in rows {
            let before = parse(before_json.as_deref());
            let after = parse(after_image(&conn, id, incident_id)?.as_deref());
            let shown = after.as_ref().or(before.as_ref());
            let text = |field: &str| {
                shown
                    .and_then(|v| v.get(field))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let fields = if change == "updated" {
                diff(before.as_ref(), after.as_ref())
            } else {
                Vec::new()
            };
            changes.push(VersionChange {
                incident_id,
                number: text("number"),
                short_description: text("short_description"),
                change,
                fields,
                before,
                after,
            });
        }
        let skipped = {
            let mut stmt = conn.prepare(
                "SELECT external_id, reason FROM version_skipped WHERE version_id = ?1 ORDER BY rowid",
            )?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok(SkippedRecord {
                        external_id: r.get(0)?,
                        reason: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows
        };
        Ok(VersionDetail {
            version,
            changes,
            changes_total,
            offset,
            skipped,
        })
    }
}

/// Every version, oldest first, with the running size of the knowledge base. Each version's
/// counters are committed with its rows (rollbacks record their own), so the running sum of
/// added − deleted is the size after each version.
pub(crate) fn all_versions(conn: &rusqlite::Connection) -> CoreResult<Vec<VersionSummary>> {
    let mut stmt = conn.prepare(SUMMARY_SQL)?;
    let mut size: i64 = 0;
    let rows = stmt
        .query_map([], |r| {
            Ok(VersionSummary {
                id: r.get(0)?,
                created_at: r.get(1)?,
                finished_at: r.get(2)?,
                integration_id: r.get(3)?,
                source: r.get(4)?,
                kind: r.get(5)?,
                status: r.get(6)?,
                fetched: r.get(7)?,
                added: r.get(8)?,
                updated: r.get(9)?,
                unchanged: r.get(10)?,
                deleted: r.get(11)?,
                skipped: r.get(12)?,
                notes: r.get(13)?,
                rollback_to: r.get(14)?,
                size_after: 0,
                source_total: r.get(15)?,
                unread: r.get(16)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|mut v| {
            size += v.added as i64 - v.deleted as i64;
            v.size_after = size.max(0) as u64;
            v
        })
        .collect())
}

/// One version's summary.
pub(crate) fn version_summary(conn: &rusqlite::Connection, id: i64) -> CoreResult<VersionSummary> {
    all_versions(conn)?
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(|| unknown_version(id))
}

pub(crate) fn unknown_version(id: i64) -> CoreError {
    CoreError::new(
        ErrorCode::NotFound,
        format!("There is no version v{id}. List the versions with `supportbot kb versions`."),
    )
}

/// The record right after `version`: the before image of the incident's next change, else the
/// current row (`None` when it no longer exists).
fn after_image(
    conn: &rusqlite::Connection,
    version: i64,
    incident_id: i64,
) -> CoreResult<Option<String>> {
    use rusqlite::OptionalExtension;
    let next: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT before_json FROM version_changes WHERE incident_id = ?1 AND version_id > ?2
             ORDER BY version_id LIMIT 1",
        )?
        .query_row([incident_id, version], |r| r.get(0))
        .optional()?;
    match next {
        Some(before_next) => Ok(before_next),
        None => super::store::record_json(conn, incident_id),
    }
}

fn parse(json: Option<&str>) -> Option<Value> {
    json.and_then(|j| serde_json::from_str(j).ok())
}

/// The user-visible fields that differ between two images.
fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldDiff> {
    DIFF_FIELDS
        .iter()
        .filter_map(|field| {
            let b = before.and_then(|v| v.get(*field)).and_then(display);
            let a = after.and_then(|v| v.get(*field)).and_then(display);
            (b != a).then(|| FieldDiff {
                field: (*field).to_string(),
                before: b,
                after: a,
            })
        })
        .collect()
}

/// A field's value as text: strings as they are, JSON null as absent, anything else as JSON.
fn display(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
