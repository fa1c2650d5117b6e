//! Integrity of the knowledge base: does the vector index hold exactly the stored embeddings
//! (`kb check`), and rebuilding it from SQLite when it does not (`kb rebuild`).
//!
//! The check reads the index this process has open, or else loads the file afresh (without
//! repairing it, so a damaged file is reported rather than silently replaced).

use std::collections::HashSet;
use std::time::Instant;

use serde::Serialize;

use super::{store, VectorIndex, MODEL_ID};
use crate::error::{CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

/// An index vector further than this (largest component difference) from the stored embedding
/// is stale; f16 storage alone moves components by about 1e-3.
const VECTOR_TOLERANCE: f32 = 1e-2;

/// Incidents re-embedded per model call by a rebuild.
const EMBED_CHUNK: usize = 32;

/// What `kb check` tells the user to run.
const REBUILD_HINT: &str = "Run `supportbot kb rebuild` (Settings > Knowledge Base > Rebuild index) to recreate it from the local database.";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KbCheck {
    pub ok: bool,
    pub incidents: u64,
    /// Incidents with a stored embedding of the current model.
    pub embedded: u64,
    pub index_vectors: u64,
    /// Embedded incidents whose id is not a key of the index.
    pub missing_from_index: u64,
    /// Index keys with no embedded incident.
    pub orphans_in_index: u64,
    /// Rows of the full-text index, when there is one.
    pub fts_rows: Option<u64>,
    /// `PRAGMA integrity_check`: "ok" or what SQLite found.
    pub sqlite_integrity: String,
    /// Each problem in plain words, saying what to do.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RebuildReport {
    pub vectors: u64,
    pub reembedded: u64,
    pub took_ms: f64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct RebuildProgress {
    pub done: u64,
    pub total: u64,
}

impl Core {
    /// Verifies the index against SQLite (counts, ids, vectors), SQLite itself and the
    /// full-text index's row count.
    pub fn kb_check(&self, actor: &Actor) -> CoreResult<KbCheck> {
        actor.require(Permission::IntegrationView)?;
        let conn = self.db().conn();
        let mut problems = Vec::new();
        let integrity: Vec<String> = {
            let mut stmt = conn.prepare("PRAGMA integrity_check")?;
            let rows = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            rows
        };
        let sqlite_integrity = integrity.join("; ");
        if sqlite_integrity != "ok" {
            problems.push(format!("SQLite reports damage in the database ({sqlite_integrity}). Close the app, copy the data directory somewhere safe, and restore it from a backup or report the problem with the log file."));
        }
        let incidents: u64 = conn.query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))?;
        let unembedded: u64 = conn.query_row(
            "SELECT COUNT(*) FROM incidents WHERE embedding IS NULL OR model IS NOT ?1",
            [MODEL_ID],
            |r| r.get(0),
        )?;
        if unembedded > 0 {
            problems.push(format!("{unembedded} incidents have no vector of the current embedding model, so vector search cannot find them. Run `supportbot kb rebuild` to embed them."));
        }
        let fts_exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'incidents_fts')",
            [],
            |r| r.get(0),
        )?;
        let fts_rows: Option<u64> = if fts_exists {
            let n: u64 = conn.query_row("SELECT COUNT(*) FROM incidents_fts", [], |r| r.get(0))?;
            if n != incidents {
                problems.push(format!("The full-text index has {n} rows for {incidents} incidents, so keyword search misses or repeats some. Run a full sync of each integration, or report the problem with the log file."));
            }
            Some(n)
        } else {
            None
        };

        let dirty = store::index_dirty(&conn)?;
        let syncing = self.sync_jobs().any_running();
        let loaded = self.knowledge_base().loaded_index();
        let opened;
        let index: Option<&VectorIndex> = match loaded.as_ref() {
            Some(ix) => Some(ix),
            None => {
                if dirty && !syncing {
                    problems.push(format!("The vector index file was saved before the last change to the database: a sync or rollback was interrupted (or one is running in the open app). It is rebuilt on next use. {REBUILD_HINT}"));
                }
                match VectorIndex::open(self.knowledge_base().index_path()) {
                    Ok(ix) => {
                        opened = ix;
                        Some(&opened)
                    }
                    Err(e) if e.code == ErrorCode::NotFound => {
                        if incidents > 0 {
                            problems.push(format!("The vector index file is missing; it is rebuilt on next use. {REBUILD_HINT}"));
                        }
                        None
                    }
                    Err(e) => {
                        problems.push(format!(
                            "The vector index file is damaged or unreadable: {} {REBUILD_HINT}",
                            e.message
                        ));
                        None
                    }
                }
            }
        };

        // Stream the stored vectors: the index must hold each one (within f16 rounding) and
        // nothing else.
        let mut embedded = 0u64;
        let mut missing = 0u64;
        let mut stale = 0u64;
        let mut ids = HashSet::new();
        {
            let mut stmt = conn.prepare(
                "SELECT id, embedding FROM incidents WHERE embedding IS NOT NULL AND model IS ?1",
            )?;
            let mut rows = stmt.query([MODEL_ID])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                embedded += 1;
                ids.insert(id as u64);
                let Some(ix) = index else { continue };
                match ix.get(id as u64)? {
                    None => missing += 1,
                    Some(v) => {
                        let stored = store::blob_to_vector(&row.get::<_, Vec<u8>>(1)?);
                        let far = stored.len() != v.len()
                            || stored
                                .iter()
                                .zip(&v)
                                .any(|(a, b)| (a - b).abs() > VECTOR_TOLERANCE);
                        if far {
                            stale += 1;
                        }
                    }
                }
            }
        }
        let (index_vectors, orphans) = match index {
            Some(ix) => {
                let keys = ix.keys()?;
                let orphans = keys.iter().filter(|k| !ids.contains(k)).count() as u64;
                (keys.len() as u64, orphans)
            }
            None => (0, 0),
        };
        if index.is_some() {
            if missing > 0 {
                problems.push(format!("{missing} incidents are missing from the vector index, so vector search cannot find them. {REBUILD_HINT}"));
            }
            if orphans > 0 {
                problems.push(format!("The vector index holds {orphans} vectors of incidents that no longer exist, so search can return dead results. {REBUILD_HINT}"));
            }
            if stale > 0 {
                problems.push(format!("{stale} vectors in the index differ from the stored embeddings (an out-of-date index). {REBUILD_HINT}"));
            }
        } else {
            missing = embedded;
        }
        Ok(KbCheck {
            ok: problems.is_empty(),
            incidents,
            embedded,
            index_vectors,
            missing_from_index: missing,
            orphans_in_index: orphans,
            fts_rows,
            sqlite_integrity,
            problems,
        })
    }

    /// Rebuilds the vector index from SQLite, first embedding incidents that have no stored
    /// vector of the current model. Refused while a sync runs (and syncs wait for it).
    pub fn kb_rebuild(
        &self,
        actor: &Actor,
        mut on_progress: impl FnMut(RebuildProgress),
    ) -> CoreResult<RebuildReport> {
        actor.require(Permission::IntegrationSync)?;
        let _exclusive = self.sync_jobs().start_exclusive("index rebuild")?;
        let started = Instant::now();
        let (to_embed, vectors_before): (Vec<(i64, String)>, u64) = {
            let conn = self.db().conn();
            let mut stmt = conn.prepare(
                "SELECT id, short_description, description, resolution FROM incidents
                 WHERE embedding IS NULL OR model IS NOT ?1 ORDER BY id",
            )?;
            let rows = stmt
                .query_map([MODEL_ID], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        store::embedding_text_of(
                            &r.get::<_, String>(1)?,
                            &r.get::<_, String>(2)?,
                            &r.get::<_, String>(3)?,
                        ),
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let n: u64 = conn.query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))?;
            (rows, n)
        };
        let reembedded = to_embed.len() as u64;
        let total = reembedded + vectors_before;
        on_progress(RebuildProgress { done: 0, total });
        if !to_embed.is_empty() {
            let embedder = self.knowledge_base().embedder()?;
            let mut done = 0u64;
            for chunk in to_embed.chunks(EMBED_CHUNK) {
                let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
                let vectors = embedder.embed(&texts)?;
                let mut conn = self.db().conn();
                let tx = conn.transaction()?;
                for ((id, _), v) in chunk.iter().zip(&vectors) {
                    tx.execute(
                        "UPDATE incidents SET embedding = ?2, model = ?3 WHERE id = ?1",
                        rusqlite::params![id, store::vector_to_blob(v), MODEL_ID],
                    )?;
                }
                store::mark_index_dirty(&tx)?;
                tx.commit()?;
                done += chunk.len() as u64;
                on_progress(RebuildProgress { done, total });
            }
        }
        let conn = self.db().conn();
        let kb = self.knowledge_base();
        // Lock order: connection, then index.
        let mut guard = kb.loaded_index();
        *guard = None;
        let ix = kb.rebuild_with(&conn, &mut |done, _| {
            on_progress(RebuildProgress {
                done: reembedded + done,
                total,
            })
        })?;
        let vectors = ix.len() as u64;
        *guard = Some(ix);
        Ok(RebuildReport {
            vectors,
            reembedded,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}
