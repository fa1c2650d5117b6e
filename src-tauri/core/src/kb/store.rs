//! SQL of the knowledge base: incidents, dataset versions, their changes, the sync checkpoint.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::now_rfc3339;
use crate::connectors::{SkippedRecord, SourceIncident, Watermark};
use crate::error::CoreResult;

/// What the store knows of an incident before a sync touches it.
pub(crate) struct Existing {
    pub id: i64,
    pub record_hash: String,
    pub text_hash: String,
}

/// The text embedded for an incident: what a user's question is compared with.
pub(crate) fn embedding_text(i: &SourceIncident) -> String {
    embedding_text_of(&i.short_description, &i.description, &i.resolution)
}

/// [`embedding_text`] from a stored row's fields (re-embedding without the source record).
pub(crate) fn embedding_text_of(
    short_description: &str,
    description: &str,
    resolution: &str,
) -> String {
    let mut text = format!("{}\n\n{}", short_description.trim(), description.trim());
    if !resolution.trim().is_empty() {
        text.push_str("\n\nResolution: ");
        text.push_str(resolution.trim());
    }
    text
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// (record hash, text hash) of an incident.
pub(crate) fn hashes(i: &SourceIncident) -> (String, String) {
    let record = serde_json::to_vec(i).unwrap_or_default();
    (
        sha256_hex(&record),
        sha256_hex(embedding_text(i).as_bytes()),
    )
}

pub(crate) fn existing(
    conn: &Connection,
    integration_id: i64,
    ids: &[&str],
) -> CoreResult<HashMap<String, Existing>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, record_hash, text_hash FROM incidents WHERE integration_id = ?1 AND external_id = ?2",
    )?;
    let mut out = HashMap::new();
    for ext in ids {
        if let Some(e) = stmt
            .query_row(params![integration_id, ext], |r| {
                Ok(Existing {
                    id: r.get(0)?,
                    record_hash: r.get(1)?,
                    text_hash: r.get(2)?,
                })
            })
            .optional()?
        {
            out.insert((*ext).to_string(), e);
        }
    }
    Ok(out)
}

/// The stored record (without its embedding) as JSON: the "before" image of a change.
pub(crate) fn record_json(conn: &Connection, id: i64) -> CoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT json_object('id', id, 'external_id', external_id, 'number', number,
                'short_description', short_description, 'description', description,
                'resolution', resolution, 'close_code', close_code, 'state', state,
                'priority', priority, 'category', category, 'subcategory', subcategory,
                'assigned_to', assigned_to, 'resolved_by', resolved_by, 'caller', caller,
                'opened_at', opened_at, 'updated_at', updated_at, 'resolved_at', resolved_at,
                'comments', json(comments_json), 'link', link, 'record_hash', record_hash,
                'text_hash', text_hash, 'version_id', version_id,
                'integration_id', integration_id, 'source_name', source_name, 'model', model)
             FROM incidents WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn vector_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn blob_to_vector(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// What to write for one incident.
pub(crate) struct Upsert<'a> {
    pub integration_id: i64,
    pub source_name: &'a str,
    pub incident: &'a SourceIncident,
    pub record_hash: &'a str,
    pub text_hash: &'a str,
    /// A new embedding, or `None` to keep the stored one (text unchanged).
    pub embedding: Option<&'a [f32]>,
    pub model: &'a str,
    pub version_id: i64,
}

/// Inserts or updates by (integration, external id); returns the row id.
pub(crate) fn upsert(conn: &Connection, u: &Upsert<'_>) -> CoreResult<i64> {
    let i = u.incident;
    let comments = serde_json::to_string(&i.comments).unwrap_or_else(|_| "[]".into());
    let blob = u.embedding.map(vector_to_blob);
    conn.prepare_cached(
        "INSERT INTO incidents (integration_id, source_name, external_id, number, short_description,
            description, resolution, close_code, state, priority, category, subcategory, assigned_to,
            resolved_by, caller, opened_at, updated_at, resolved_at, comments_json, link,
            record_hash, text_hash, embedding, model, version_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22, ?23, ?24, ?25)
         ON CONFLICT (integration_id, external_id) DO UPDATE SET
            source_name = excluded.source_name, number = excluded.number,
            short_description = excluded.short_description, description = excluded.description,
            resolution = excluded.resolution, close_code = excluded.close_code,
            state = excluded.state, priority = excluded.priority, category = excluded.category,
            subcategory = excluded.subcategory, assigned_to = excluded.assigned_to,
            resolved_by = excluded.resolved_by, caller = excluded.caller,
            opened_at = excluded.opened_at, updated_at = excluded.updated_at,
            resolved_at = excluded.resolved_at, comments_json = excluded.comments_json,
            link = excluded.link, record_hash = excluded.record_hash,
            text_hash = excluded.text_hash,
            embedding = COALESCE(excluded.embedding, incidents.embedding),
            model = COALESCE(excluded.model, incidents.model),
            version_id = excluded.version_id",
    )?
    .execute(params![
        u.integration_id,
        u.source_name,
        i.external_id,
        i.number,
        i.short_description,
        i.description,
        i.resolution,
        i.close_code,
        i.state,
        i.priority,
        i.category,
        i.subcategory,
        i.assigned_to,
        i.resolved_by,
        i.caller,
        i.opened_at,
        i.updated_at,
        i.resolved_at,
        comments,
        i.link,
        u.record_hash,
        u.text_hash,
        blob,
        u.embedding.map(|_| u.model),
        u.version_id
    ])?;
    Ok(conn.query_row(
        "SELECT id FROM incidents WHERE integration_id = ?1 AND external_id = ?2",
        params![u.integration_id, i.external_id],
        |r| r.get(0),
    )?)
}

/// An incident as stored before a change: the record as JSON and its embedding, so a rollback
/// can restore both exactly.
pub(crate) struct BeforeImage {
    pub json: String,
    pub embedding: Option<Vec<u8>>,
}

/// The row's [`BeforeImage`], or `None` when there is no such row.
pub(crate) fn before_image(conn: &Connection, id: i64) -> CoreResult<Option<BeforeImage>> {
    let Some(json) = record_json(conn, id)? else {
        return Ok(None);
    };
    let embedding = conn
        .prepare_cached("SELECT embedding FROM incidents WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    Ok(Some(BeforeImage { json, embedding }))
}

/// Records that `version_id` changed an incident. A second change of the same incident in the
/// same version (a record re-delivered across pages) keeps the first before image, and an
/// incident the version added stays "added": the change row always describes the version's net
/// effect, which is what a rollback undoes.
pub(crate) fn record_change(
    conn: &Connection,
    version_id: i64,
    incident_id: i64,
    change: &str,
    before: Option<&BeforeImage>,
) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO version_changes (version_id, incident_id, change, before_json, before_embedding)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (version_id, incident_id) DO UPDATE SET
            change = CASE WHEN version_changes.change = 'added' THEN 'added' ELSE excluded.change END",
    )?
    .execute(params![
        version_id,
        incident_id,
        change,
        before.map(|b| b.json.as_str()),
        before.and_then(|b| b.embedding.as_deref())
    ])?;
    Ok(())
}

/// Deletes incidents of an integration by external id, recording each as a change; returns the
/// deleted row ids (to remove from the vector index).
pub(crate) fn delete_external(
    conn: &Connection,
    integration_id: i64,
    external_ids: &[String],
    version_id: i64,
) -> CoreResult<Vec<i64>> {
    let mut deleted = Vec::new();
    for ext in external_ids {
        let id: Option<i64> = conn
            .query_row(
                "SELECT id FROM incidents WHERE integration_id = ?1 AND external_id = ?2",
                params![integration_id, ext],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = id {
            let before = before_image(conn, id)?;
            record_change(conn, version_id, id, "deleted", before.as_ref())?;
            conn.execute("DELETE FROM incidents WHERE id = ?1", [id])?;
            deleted.push(id);
        }
    }
    Ok(deleted)
}

/// External ids of an integration's incidents.
pub(crate) fn external_ids(conn: &Connection, integration_id: i64) -> CoreResult<Vec<String>> {
    let mut stmt = conn.prepare("SELECT external_id FROM incidents WHERE integration_id = ?1")?;
    let rows = stmt.query_map([integration_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

pub(crate) fn create_version(
    conn: &Connection,
    integration_id: i64,
    source_name: &str,
    kind: &str,
) -> CoreResult<i64> {
    conn.execute(
        "INSERT INTO versions (created_at, integration_id, source_name, kind, status) VALUES (?1, ?2, ?3, ?4, 'running')",
        params![now_rfc3339(), integration_id, source_name, kind],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Per-sync counters, added to the version as each batch commits.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub fetched: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub skipped: u64,
}

pub(crate) fn add_counts(conn: &Connection, version_id: i64, c: &Counts) -> CoreResult<()> {
    conn.prepare_cached(
        "UPDATE versions SET fetched = fetched + ?2, added = added + ?3, updated = updated + ?4,
            unchanged = unchanged + ?5, deleted = deleted + ?6, skipped = skipped + ?7 WHERE id = ?1",
    )?
    .execute(params![version_id, c.fetched, c.added, c.updated, c.unchanged, c.deleted, c.skipped])?;
    Ok(())
}

pub(crate) fn record_skipped(
    conn: &Connection,
    version_id: i64,
    skipped: &[SkippedRecord],
) -> CoreResult<()> {
    for s in skipped {
        conn.execute(
            "INSERT INTO version_skipped (version_id, external_id, reason) VALUES (?1, ?2, ?3)",
            params![version_id, s.external_id, s.reason],
        )?;
    }
    Ok(())
}

pub(crate) fn finish_version(
    conn: &Connection,
    version_id: i64,
    status: &str,
    notes: &str,
    error_json: Option<&str>,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE versions SET status = ?2, notes = ?3, error_json = ?4, finished_at = ?5 WHERE id = ?1",
        params![version_id, status, notes, error_json, now_rfc3339()],
    )?;
    Ok(())
}

/// Records what the source counted for a sync and how many of those it could not read.
pub(crate) fn set_version_source_counts(
    conn: &Connection,
    version_id: i64,
    source_total: Option<u64>,
    unread: u64,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE versions SET source_total = ?2, unread = ?3 WHERE id = ?1",
        params![version_id, source_total, unread],
    )?;
    Ok(())
}

/// The checkpoint of an integration: watermark and the deletion log position.
pub(crate) fn checkpoint(
    conn: &Connection,
    integration_id: i64,
) -> CoreResult<(Option<Watermark>, Option<String>)> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT watermark_updated, watermark_id, deletions_checkpoint FROM sync_state WHERE integration_id = ?1",
            [integration_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        Some((Some(updated_at), Some(external_id), del)) => (
            Some(Watermark {
                updated_at,
                external_id,
            }),
            del,
        ),
        Some((_, _, del)) => (None, del),
        None => (None, None),
    })
}

pub(crate) fn set_watermark(
    conn: &Connection,
    integration_id: i64,
    w: &Watermark,
) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (integration_id, watermark_updated, watermark_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (integration_id) DO UPDATE SET watermark_updated = ?2, watermark_id = ?3",
    )?
    .execute(params![integration_id, w.updated_at, w.external_id])?;
    Ok(())
}

pub(crate) fn set_deletions_checkpoint(
    conn: &Connection,
    integration_id: i64,
    checkpoint: &str,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO sync_state (integration_id, deletions_checkpoint) VALUES (?1, ?2)
         ON CONFLICT (integration_id) DO UPDATE SET deletions_checkpoint = ?2",
        params![integration_id, checkpoint],
    )?;
    Ok(())
}

pub(crate) fn set_last_version(
    conn: &Connection,
    integration_id: i64,
    version_id: i64,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO sync_state (integration_id, last_version_id) VALUES (?1, ?2)
         ON CONFLICT (integration_id) DO UPDATE SET last_version_id = ?2",
        params![integration_id, version_id],
    )?;
    Ok(())
}

pub(crate) fn integration_total(conn: &Connection, integration_id: i64) -> CoreResult<u64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM incidents WHERE integration_id = ?1",
        [integration_id],
        |r| r.get(0),
    )?)
}

/// Every stored embedding, for rebuilding the index.
pub(crate) fn all_embeddings(conn: &Connection) -> CoreResult<Vec<(i64, Vec<f32>)>> {
    let mut stmt =
        conn.prepare("SELECT id, embedding FROM incidents WHERE embedding IS NOT NULL")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            blob_to_vector(&r.get::<_, Vec<u8>>(1)?),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn embedded_count(conn: &Connection) -> CoreResult<u64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM incidents WHERE embedding IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}

/// Copies an integration's checkpoint as it is now into the version's snapshot (what a rollback
/// to this version restores).
pub(crate) fn snapshot_sync_state(
    conn: &Connection,
    version_id: i64,
    integration_id: i64,
) -> CoreResult<()> {
    conn.execute(
        "INSERT OR REPLACE INTO version_sync_state
            (version_id, integration_id, watermark_updated, watermark_id, deletions_checkpoint)
         SELECT ?1, ?2, s.watermark_updated, s.watermark_id, s.deletions_checkpoint
         FROM (SELECT 1) LEFT JOIN sync_state s ON s.integration_id = ?2",
        params![version_id, integration_id],
    )?;
    Ok(())
}

/// Settings key set in every transaction that changes stored embeddings and cleared when the
/// index file is saved while no such change is pending: if set when the index is opened, the
/// file may lag SQLite (the process died between a commit and a save) and is rebuilt, even when
/// its size happens to agree.
const INDEX_DIRTY_KEY: &str = "kb_index_dirty";

/// Merges the full-text index into one segment after a job that changed incidents (a sync, a
/// rollback). Why: FTS5 adds a segment per transaction and merges them only now and then, and a
/// query reads every segment of each word; at 100k incidents a bulk-loaded index had 10, and
/// one segment made the BM25 query ~20 % faster (BENCHMARKS.md). At 100k it takes well under a
/// second. A failure is logged: the index stays correct, only slower.
pub(crate) fn optimize_fts(conn: &Connection) {
    if let Err(e) = conn.execute(
        "INSERT INTO incidents_fts(incidents_fts) VALUES('optimize')",
        [],
    ) {
        tracing::warn!(error = %e, "could not merge the full-text index");
    }
}

pub(crate) fn mark_index_dirty(conn: &Connection) -> CoreResult<()> {
    crate::store::set_setting(conn, INDEX_DIRTY_KEY, "1")
}

pub(crate) fn clear_index_dirty(conn: &Connection) -> CoreResult<()> {
    conn.execute("DELETE FROM settings WHERE key = ?1", [INDEX_DIRTY_KEY])?;
    Ok(())
}

pub(crate) fn index_dirty(conn: &Connection) -> CoreResult<bool> {
    Ok(crate::store::get_setting(conn, INDEX_DIRTY_KEY)?.is_some())
}
