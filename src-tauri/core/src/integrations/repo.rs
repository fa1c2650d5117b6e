//! SQL for the `integrations` table. Secrets are handled by the vault, not here.

use rusqlite::{Connection, OptionalExtension, Row};

use super::model::{AuthType, Integration, Kind, SecretFlags, SyncError, SyncStatus, SyncSummary};
use super::validate::Candidate;
use crate::clock::now_rfc3339;
use crate::error::{CoreError, CoreResult};

const COLUMNS: &str = "i.id, i.name, i.kind, i.auth, i.url, i.username, i.client_id, i.enabled,
    i.last_sync, i.last_attempt, i.status, i.error_json, i.created_at, i.updated_at,
    EXISTS(SELECT 1 FROM secrets s WHERE s.scope = 'integration' AND s.owner_id = i.id AND s.field = 'password'),
    EXISTS(SELECT 1 FROM secrets s WHERE s.scope = 'integration' AND s.owner_id = i.id AND s.field = 'token'),
    EXISTS(SELECT 1 FROM secrets s WHERE s.scope = 'integration' AND s.owner_id = i.id AND s.field = 'client_secret'),
    v.id, v.added, v.updated, v.deleted, v.skipped,
    (SELECT COUNT(*) FROM incidents n WHERE n.integration_id = i.id), i.schedule_minutes,
    i.filters_json, i.request_budget, i.ca_certificates";

/// Joins the last finished sync's version.
const FROM: &str = "integrations i
    LEFT JOIN sync_state ss ON ss.integration_id = i.id
    LEFT JOIN versions v ON v.id = ss.last_version_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Integration> {
    let kind: String = r.get(2)?;
    let auth: String = r.get(3)?;
    let status: String = r.get(10)?;
    let error_json: Option<String> = r.get(11)?;
    Ok(Integration {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Servicenow),
        auth: AuthType::parse(&auth).unwrap_or(AuthType::Basic),
        url: r.get(4)?,
        username: r.get(5)?,
        client_id: r.get(6)?,
        enabled: r.get(7)?,
        last_sync: r.get(8)?,
        last_attempt: r.get(9)?,
        status: SyncStatus::parse(&status),
        error: error_json.and_then(|j| serde_json::from_str::<SyncError>(&j).ok()),
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        secrets: SecretFlags {
            password: r.get(14)?,
            token: r.get(15)?,
            client_secret: r.get(16)?,
        },
        last_summary: match r.get::<_, Option<i64>>(17)? {
            Some(version) => Some(SyncSummary {
                added: r.get(18)?,
                updated: r.get(19)?,
                deleted: r.get(20)?,
                skipped: r.get(21)?,
                total: r.get(22)?,
                version: Some(version),
            }),
            None => None,
        },
        running: false,
        schedule_minutes: r.get(23)?,
        filters: serde_json::from_str(&r.get::<_, String>(24)?).unwrap_or_default(),
        request_budget: r.get(25)?,
        ca_certificates: r.get(26)?,
    })
}

pub(crate) fn list(conn: &Connection) -> CoreResult<Vec<Integration>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM {FROM} ORDER BY i.name COLLATE NOCASE"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn get(conn: &Connection, id: i64) -> CoreResult<Integration> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE i.id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| {
        CoreError::new(
            crate::error::ErrorCode::NotFound,
            "That integration no longer exists; it may have been deleted. Refresh the list.",
        )
    })
}

pub(crate) fn find_by_name(conn: &Connection, name: &str) -> CoreResult<Option<Integration>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM {FROM} WHERE i.name = ?1"),
            [name.trim()],
            from_row,
        )
        .optional()?)
}

pub(crate) fn insert(conn: &Connection, c: &Candidate) -> CoreResult<i64> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO integrations (name, kind, auth, url, username, client_id, enabled, created_at, updated_at, schedule_minutes, filters_json, request_budget, ca_certificates)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12)",
        rusqlite::params![c.name, c.kind.as_str(), c.auth.as_str(), c.url, c.username, c.client_id, c.enabled, now, c.schedule_minutes, filters_json(c), c.request_budget, c.ca_certificates],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn update(conn: &Connection, id: i64, c: &Candidate) -> CoreResult<()> {
    conn.execute(
        "UPDATE integrations SET name = ?2, auth = ?3, url = ?4, username = ?5, client_id = ?6, enabled = ?7, updated_at = ?8,
            schedule_minutes = ?9, filters_json = ?10, request_budget = ?11, ca_certificates = ?12
         WHERE id = ?1",
        rusqlite::params![id, c.name, c.auth.as_str(), c.url, c.username, c.client_id, c.enabled, now_rfc3339(), c.schedule_minutes, filters_json(c), c.request_budget, c.ca_certificates],
    )?;
    Ok(())
}

fn filters_json(c: &Candidate) -> String {
    serde_json::to_string(&c.filters).unwrap_or_else(|_| "{}".into())
}

pub(crate) fn set_enabled(conn: &Connection, id: i64, enabled: bool) -> CoreResult<()> {
    conn.execute(
        "UPDATE integrations SET enabled = ?2, updated_at = ?3 WHERE id = ?1",
        rusqlite::params![id, enabled, now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, id: i64) -> CoreResult<()> {
    conn.execute("DELETE FROM integrations WHERE id = ?1", [id])?;
    Ok(())
}
