//! The knowledge base at run time: the vector index kept in step with SQLite, and the embedding
//! model loaded once per process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rusqlite::Connection;

use super::prune::TermCounts;
use super::{store, Embedder, VectorIndex};
use crate::error::CoreResult;

/// File of the vector index inside the data directory.
pub const INDEX_FILE: &str = "vectors.usearch";

pub struct KnowledgeBase {
    index_path: PathBuf,
    /// `None` until first use; then always equal in content to SQLite's stored embeddings.
    index: Mutex<Option<VectorIndex>>,
    embedder: OnceLock<Arc<Embedder>>,
    /// Document frequencies of query words, remembered between searches.
    term_counts: Mutex<TermCounts>,
}

impl KnowledgeBase {
    pub fn new(data_dir: &Path) -> KnowledgeBase {
        KnowledgeBase {
            index_path: data_dir.join(INDEX_FILE),
            index: Mutex::new(None),
            embedder: OnceLock::new(),
            term_counts: Mutex::new(TermCounts::default()),
        }
    }

    pub fn index_path(&self) -> &Path {
        &self.index_path
    }

    /// The embedding model, loaded on first use (≈0.4 s) and shared afterwards.
    pub fn embedder(&self) -> CoreResult<Arc<Embedder>> {
        if let Some(e) = self.embedder.get() {
            return Ok(e.clone());
        }
        let loaded = Arc::new(Embedder::load_default()?);
        Ok(self.embedder.get_or_init(|| loaded).clone())
    }

    /// Lock order: the SQLite connection first, then this.
    pub(crate) fn term_counts(&self) -> MutexGuard<'_, TermCounts> {
        self.term_counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The vector index, opened on first use. SQLite is the source of truth: a missing or
    /// damaged file, one whose size disagrees with the stored embeddings, or one saved before
    /// the last committed change to the embeddings (the dirty mark: a crash between a commit and
    /// a save, where sizes may agree) is rebuilt from the stored embeddings.
    ///
    /// Lock order: take the SQLite connection first, then this (the caller passes `conn`).
    pub fn index(&self, conn: &Connection) -> CoreResult<MutexGuard<'_, Option<VectorIndex>>> {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let expected = store::embedded_count(conn)?;
            let dirty = store::index_dirty(conn)?;
            let opened = match VectorIndex::open(&self.index_path) {
                Ok(_) if dirty => {
                    tracing::warn!(
                        "vector index saved before the last committed change; rebuilding"
                    );
                    None
                }
                Ok(ix) if ix.len() as u64 == expected => Some(ix),
                Ok(ix) => {
                    tracing::warn!(
                        index = ix.len(),
                        sqlite = expected,
                        "vector index out of step with SQLite; rebuilding"
                    );
                    None
                }
                Err(e) => {
                    if self.index_path.exists() {
                        tracing::warn!(error = %e, "vector index unreadable; rebuilding");
                    }
                    None
                }
            };
            *guard = Some(match opened {
                Some(ix) => ix,
                None => self.rebuild(conn)?,
            });
        }
        Ok(guard)
    }

    fn rebuild(&self, conn: &Connection) -> CoreResult<VectorIndex> {
        self.rebuild_with(conn, &mut |_, _| {})
    }

    /// A new index from every stored embedding, saved, and the dirty mark cleared. Calls
    /// `on_progress(done, total)` as vectors go in.
    pub(crate) fn rebuild_with(
        &self,
        conn: &Connection,
        on_progress: &mut dyn FnMut(u64, u64),
    ) -> CoreResult<VectorIndex> {
        /// Vectors per `add_many` call: large enough to use every core, small enough to report.
        const CHUNK: usize = 2048;
        let _ = std::fs::remove_file(&self.index_path);
        let mut ix = VectorIndex::create(&self.index_path)?;
        let rows = store::all_embeddings(conn)?;
        let total = rows.len() as u64;
        ix.reserve(rows.len())?;
        on_progress(0, total);
        let mut done = 0u64;
        for chunk in rows.chunks(CHUNK) {
            let items: Vec<(u64, &[f32])> = chunk
                .iter()
                .map(|(id, v)| (*id as u64, v.as_slice()))
                .collect();
            ix.add_many(&items)?;
            done += chunk.len() as u64;
            on_progress(done, total);
        }
        ix.save()?;
        store::clear_index_dirty(conn)?;
        tracing::info!(vectors = rows.len(), "rebuilt the vector index from SQLite");
        Ok(ix)
    }

    /// Saves the index (if open) and clears the dirty mark. Call with the connection held, so
    /// no commit can slip between the save and the clear.
    pub(crate) fn save_index(&self, conn: &Connection) -> CoreResult<()> {
        if let Some(ix) = self.index(conn)?.as_ref() {
            ix.save()?;
            store::clear_index_dirty(conn)?;
        }
        Ok(())
    }

    /// The in-memory index if this process has opened it, without opening it.
    pub(crate) fn loaded_index(&self) -> MutexGuard<'_, Option<VectorIndex>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }
}
