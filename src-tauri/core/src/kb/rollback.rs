//! Rolling the knowledge base back to a version: contents and vectors become exactly as they
//! were right after it, recorded as a new version (kind `rollback`) so the rollback itself can
//! be undone by rolling back to the version before it.
//!
//! How: undoing every later version's changes in reverse order leaves each touched incident as
//! the before image of its *earliest* change after the target (nothing changed it between the
//! target and that change), or absent when that change added it. So the rollback computes that
//! final state per incident and writes it once, in one SQLite transaction with the new
//! version's own changes (with before images), counters and the reset sync checkpoints. The
//! usearch index is updated and saved after the commit; the transaction sets the dirty mark, so
//! if the process dies in between, the next open rebuilds the index from SQLite.
//!
//! Sync checkpoints: each integration a later version touched gets back its checkpoint as of
//! the target (the snapshot its last sync up to the target recorded, or none: start over), so
//! the next incremental sync re-fetches and re-applies what the source changed since then.

use serde::Serialize;

use super::store::{self, BeforeImage};
use super::versions::{unknown_version, version_summary, VersionSummary};
use super::MODEL_ID;
use crate::clock::now_rfc3339;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

/// Incidents re-embedded per model call when before images predate stored vectors.
const EMBED_CHUNK: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackPhase {
    /// Writing the records as of the target (and re-embedding old ones without a stored vector).
    Undo,
    /// Updating and saving the vector index.
    Index,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RollbackProgress {
    pub phase: RollbackPhase,
    pub done: u64,
    pub total: u64,
}

/// An incident's state as of the target version, from the before image of its first later change.
struct Target {
    json: String,
    embedding: Option<Vec<u8>>,
    /// The version's integration and name: before images written before migration 7 lack them.
    integration_id: Option<i64>,
    source_name: String,
}

impl Core {
    /// Rolls the knowledge base back to version `target`; returns the new `rollback` version.
    /// Refused while a sync runs (and syncs are refused while it runs), for an unknown or
    /// running version, and for the latest version.
    pub fn kb_rollback(
        &self,
        actor: &Actor,
        target: i64,
        mut on_progress: impl FnMut(RollbackProgress),
    ) -> CoreResult<VersionSummary> {
        actor.require(Permission::KbRollback)?;
        let _exclusive = self.sync_jobs().start_exclusive("rollback")?;

        // Which incidents change, and the vectors old before images lack (the model is only
        // needed for those, and runs before any lock is taken).
        let (steps, to_embed) = {
            let conn = self.db().conn();
            check_target(&conn, target)?;
            plan(&conn, target)?
        };
        let total = steps.len() as u64;
        let mut progress = Throttle::new(total);
        on_progress(RollbackProgress {
            phase: RollbackPhase::Undo,
            done: 0,
            total,
        });
        let mut embedded: std::collections::HashMap<i64, Vec<u8>> = Default::default();
        if !to_embed.is_empty() {
            tracing::info!(
                count = to_embed.len(),
                "re-embedding records whose versions predate stored vectors"
            );
            let embedder = self.knowledge_base().embedder()?;
            for chunk in to_embed.chunks(EMBED_CHUNK) {
                let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
                let vectors = embedder.embed(&texts)?;
                for ((id, _), v) in chunk.iter().zip(vectors) {
                    embedded.insert(*id, store::vector_to_blob(&v));
                }
            }
        }

        let mut conn = self.db().conn();
        let kb = self.knowledge_base();
        // Lock order: connection, then index.
        let mut index = kb.index(&conn)?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO versions (created_at, integration_id, source_name, kind, status, rollback_to)
             VALUES (?1, NULL, ?2, 'rollback', 'running', ?3)",
            rusqlite::params![now_rfc3339(), actor.name, target],
        )?;
        let version = tx.last_insert_rowid();

        // Rows leave first, so re-inserting an incident never collides with a later row that
        // took its (integration, external id).
        let (mut added, mut updated, mut deleted) = (0u64, 0u64, 0u64);
        let mut changed: Vec<i64> = Vec::new();
        let mut inserts: Vec<(i64, Target, bool)> = Vec::new();
        for (n, (incident, first_version)) in steps.iter().enumerate() {
            let mut wanted = load_target(&tx, *first_version, *incident)?;
            if let Some(t) = wanted.as_mut() {
                if let Some(v) = embedded.remove(incident) {
                    t.embedding = Some(v);
                }
            }
            let current = store::before_image(&tx, *incident)?;
            if let (Some(c), Some(t)) = (&current, &wanted) {
                if same(c, t) {
                    progress.tick(n as u64 + 1, RollbackPhase::Undo, &mut on_progress);
                    continue;
                }
            }
            if let Some(c) = &current {
                let kind = if wanted.is_some() {
                    "updated"
                } else {
                    "deleted"
                };
                store::record_change(&tx, version, *incident, kind, Some(c))?;
                tx.execute("DELETE FROM incidents WHERE id = ?1", [incident])?;
                if wanted.is_some() {
                    updated += 1;
                } else {
                    deleted += 1;
                }
                changed.push(*incident);
            }
            if let Some(t) = wanted {
                if current.is_none() {
                    added += 1;
                    changed.push(*incident);
                }
                inserts.push((*incident, t, current.is_none()));
            }
            progress.tick(n as u64 + 1, RollbackPhase::Undo, &mut on_progress);
        }
        for (incident, t, is_new) in &inserts {
            restore_row(&tx, *incident, t)?;
            if *is_new {
                store::record_change(&tx, version, *incident, "added", None)?;
            }
        }
        reset_sync_state(&tx, target, version)?;
        let mut notes = format!("Rollback to v{target}");
        if !to_embed.is_empty() {
            notes.push_str(&format!(
                ". {} records were re-embedded with the model: their versions predate stored vectors.",
                to_embed.len()
            ));
        }
        tx.execute(
            "UPDATE versions SET status = 'success', finished_at = ?2, notes = ?3,
                added = ?4, updated = ?5, deleted = ?6 WHERE id = ?1",
            rusqlite::params![version, now_rfc3339(), notes, added, updated, deleted],
        )?;
        if !changed.is_empty() {
            store::mark_index_dirty(&tx)?;
        }
        tx.commit()?;
        tracing::info!(target, version, added, updated, deleted, by = %actor.name, "rolled the knowledge base back");

        // The index follows SQLite. On failure the in-memory index is dropped: the dirty mark
        // makes the next use rebuild it.
        let index_total = changed.len() as u64;
        let mut progress = Throttle::new(index_total);
        on_progress(RollbackProgress {
            phase: RollbackPhase::Index,
            done: 0,
            total: index_total,
        });
        let updated_index = (|| -> CoreResult<()> {
            let ix = index
                .as_mut()
                .ok_or_else(|| CoreError::internal("The vector index is not open."))?;
            for (n, id) in changed.iter().enumerate() {
                let blob: Option<Vec<u8>> = conn
                    .query_row("SELECT embedding FROM incidents WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .ok()
                    .flatten();
                match blob {
                    Some(b) => ix.add(*id as u64, &store::blob_to_vector(&b))?,
                    None => {
                        ix.remove(*id as u64)?;
                    }
                }
                progress.tick(n as u64 + 1, RollbackPhase::Index, &mut on_progress);
            }
            if !changed.is_empty() {
                ix.save()?;
                store::clear_index_dirty(&conn)?;
            }
            Ok(())
        })();
        if let Err(e) = updated_index {
            *index = None;
            tracing::error!(error = %e, "updating the vector index after a rollback failed; it is rebuilt on next use");
            return Err(e);
        }
        drop(index);
        store::optimize_fts(&conn);
        on_progress(RollbackProgress {
            phase: RollbackPhase::Done,
            done: total,
            total,
        });
        version_summary(&conn, version)
    }
}

/// Refuses an unknown or running target, and the latest version (nothing to undo).
fn check_target(conn: &rusqlite::Connection, target: i64) -> CoreResult<()> {
    use rusqlite::OptionalExtension;
    let status: Option<String> = conn
        .query_row("SELECT status FROM versions WHERE id = ?1", [target], |r| {
            r.get(0)
        })
        .optional()?;
    let status = status.ok_or_else(|| unknown_version(target))?;
    if status == "running" {
        return Err(CoreError::new(
            ErrorCode::Validation,
            format!("v{target} is still running or was interrupted, so it is not a state the knowledge base was ever left in. Pick a finished version."),
        )
        .with_field("version", "Pick a finished version."));
    }
    let latest: i64 = conn.query_row("SELECT MAX(id) FROM versions", [], |r| r.get(0))?;
    if latest == target {
        return Err(CoreError::new(
            ErrorCode::Validation,
            format!("v{target} is the latest version: the knowledge base is already as of it. Pick an earlier version."),
        )
        .with_field("version", "Pick an earlier version."));
    }
    Ok(())
}

type Plan = (Vec<(i64, i64)>, Vec<(i64, String)>);

/// Every incident a version after `target` changed, with the first such version; and the text
/// of those whose before image has no stored vector of the current model (to re-embed).
fn plan(conn: &rusqlite::Connection, target: i64) -> CoreResult<Plan> {
    let steps = {
        let mut stmt = conn.prepare(
            "SELECT incident_id, MIN(version_id) FROM version_changes WHERE version_id > ?1
             GROUP BY incident_id ORDER BY incident_id",
        )?;
        let rows = stmt
            .query_map([target], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(i64, i64)>>>()?;
        rows
    };
    let mut to_embed = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT json_extract(before_json, '$.short_description'),
                json_extract(before_json, '$.description'),
                json_extract(before_json, '$.resolution')
         FROM version_changes
         WHERE version_id = ?1 AND incident_id = ?2 AND change != 'added'
           AND before_json IS NOT NULL
           AND (before_embedding IS NULL
                OR COALESCE(json_extract(before_json, '$.model'), ?3) != ?3)",
    )?;
    for (incident, first) in &steps {
        use rusqlite::OptionalExtension;
        let row: Option<(Option<String>, Option<String>, Option<String>)> = stmt
            .query_row(rusqlite::params![first, incident, MODEL_ID], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if let Some((s, d, res)) = row {
            to_embed.push((
                *incident,
                store::embedding_text_of(
                    s.as_deref().unwrap_or_default(),
                    d.as_deref().unwrap_or_default(),
                    res.as_deref().unwrap_or_default(),
                ),
            ));
        }
    }
    Ok((steps, to_embed))
}

/// The incident as of the target: `None` when the first later change added it.
fn load_target(
    conn: &rusqlite::Connection,
    version: i64,
    incident: i64,
) -> CoreResult<Option<Target>> {
    let (change, json, embedding, integration_id, source_name): (
        String,
        Option<String>,
        Option<Vec<u8>>,
        Option<i64>,
        String,
    ) = conn
        .prepare_cached(
            "SELECT c.change, c.before_json, c.before_embedding, v.integration_id, v.source_name
             FROM version_changes c JOIN versions v ON v.id = c.version_id
             WHERE c.version_id = ?1 AND c.incident_id = ?2",
        )?
        .query_row([version, incident], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    Ok(match (change.as_str(), json) {
        ("added", _) | (_, None) => None,
        (_, Some(json)) => Some(Target {
            json,
            embedding,
            integration_id,
            source_name,
        }),
    })
}

/// Whether the row already is the target (same record, version, text and vector): then it is
/// left alone and not recorded.
fn same(current: &BeforeImage, target: &Target) -> bool {
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
    let (c, t) = (parse(&current.json), parse(&target.json));
    ["record_hash", "text_hash", "version_id", "external_id"]
        .iter()
        .all(|k| c.get(k) == t.get(k))
        && current.embedding == target.embedding
}

/// Inserts the incident as its before image says, under its old row id (the index key).
fn restore_row(conn: &rusqlite::Connection, id: i64, t: &Target) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO incidents (id, integration_id, source_name, external_id, number,
            short_description, description, resolution, close_code, state, priority, category,
            subcategory, assigned_to, resolved_by, caller, opened_at, updated_at, resolved_at,
            comments_json, link, record_hash, text_hash, embedding, model, version_id)
         SELECT ?1, COALESCE(json_extract(j, '$.integration_id'), ?3),
            COALESCE(json_extract(j, '$.source_name'), ?4), json_extract(j, '$.external_id'),
            json_extract(j, '$.number'), json_extract(j, '$.short_description'),
            json_extract(j, '$.description'), json_extract(j, '$.resolution'),
            json_extract(j, '$.close_code'), json_extract(j, '$.state'),
            json_extract(j, '$.priority'), json_extract(j, '$.category'),
            json_extract(j, '$.subcategory'), json_extract(j, '$.assigned_to'),
            json_extract(j, '$.resolved_by'), json_extract(j, '$.caller'),
            json_extract(j, '$.opened_at'), json_extract(j, '$.updated_at'),
            json_extract(j, '$.resolved_at'), COALESCE(json_extract(j, '$.comments'), '[]'),
            json_extract(j, '$.link'), json_extract(j, '$.record_hash'),
            json_extract(j, '$.text_hash'), ?5, CASE WHEN ?5 IS NULL THEN NULL ELSE ?6 END,
            json_extract(j, '$.version_id')
         FROM (SELECT ?2 AS j)",
    )?
    .execute(rusqlite::params![
        id,
        t.json,
        t.integration_id,
        t.source_name,
        t.embedding,
        MODEL_ID
    ])?;
    Ok(())
}

/// Gives every integration a version after `target` touched its checkpoint as of `target`, and
/// records those checkpoints as the rollback version's snapshot.
fn reset_sync_state(conn: &rusqlite::Connection, target: i64, version: i64) -> CoreResult<()> {
    use rusqlite::OptionalExtension;
    let affected: Vec<i64> = {
        let mut stmt = conn.prepare(
            "SELECT integration_id FROM versions WHERE id > ?1 AND integration_id IS NOT NULL
             UNION SELECT integration_id FROM version_sync_state WHERE version_id > ?1",
        )?;
        let rows = stmt
            .query_map([target], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        rows
    };
    for integration in affected {
        type Checkpoint = (Option<String>, Option<String>, Option<String>);
        let snapshot: Checkpoint = conn
            .query_row(
                "SELECT watermark_updated, watermark_id, deletions_checkpoint FROM version_sync_state
                 WHERE integration_id = ?1 AND version_id <= ?2 ORDER BY version_id DESC LIMIT 1",
                [integration, target],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .unwrap_or_default();
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM integrations WHERE id = ?1)",
            [integration],
            |r| r.get(0),
        )?;
        // A deleted integration's data rolls back too; it just has no checkpoint to reset.
        if exists {
            conn.execute(
                "INSERT INTO sync_state (integration_id, watermark_updated, watermark_id, deletions_checkpoint)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (integration_id) DO UPDATE SET watermark_updated = ?2,
                    watermark_id = ?3, deletions_checkpoint = ?4",
                rusqlite::params![integration, snapshot.0, snapshot.1, snapshot.2],
            )?;
        }
        conn.execute(
            "INSERT OR REPLACE INTO version_sync_state
                (version_id, integration_id, watermark_updated, watermark_id, deletions_checkpoint)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![version, integration, snapshot.0, snapshot.1, snapshot.2],
        )?;
    }
    Ok(())
}

/// Progress events about every 1% (and the last one), not one per record.
struct Throttle {
    total: u64,
    every: u64,
}

impl Throttle {
    fn new(total: u64) -> Throttle {
        Throttle {
            total,
            every: (total / 100).max(1),
        }
    }

    fn tick(&mut self, done: u64, phase: RollbackPhase, f: &mut impl FnMut(RollbackProgress)) {
        if done % self.every == 0 || done == self.total {
            f(RollbackProgress {
                phase,
                done,
                total: self.total,
            });
        }
    }
}
