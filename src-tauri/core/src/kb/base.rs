//! The knowledge base at run time: the vector index kept in step with SQLite, and the embedding
//! model loaded once per process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rusqlite::Connection;

use super::{store, Embedder, VectorIndex};
use crate::error::CoreResult;

/// File of the vector index inside the data directory.
pub const INDEX_FILE: &str = "vectors.usearch";

pub struct KnowledgeBase {
    index_path: PathBuf,
    /// `None` until first use; then always equal in content to SQLite's stored embeddings.
    index: Mutex<Option<VectorIndex>>,
    embedder: OnceLock<Arc<Embedder>>,
}

impl KnowledgeBase {
    pub fn new(data_dir: &Path) -> KnowledgeBase {
        KnowledgeBase {
            index_path: data_dir.join(INDEX_FILE),
            index: Mutex::new(None),
            embedder: OnceLock::new(),
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

    /// The vector index, opened on first use. SQLite is the source of truth: a missing or
    /// damaged file, or one whose size disagrees with the stored embeddings (a crash between a
    /// commit and a save), is rebuilt from the stored embeddings.
    pub fn index(&self, conn: &Connection) -> CoreResult<MutexGuard<'_, Option<VectorIndex>>> {
        let mut guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let expected = store::embedded_count(conn)?;
            let opened = match VectorIndex::open(&self.index_path) {
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
        let _ = std::fs::remove_file(&self.index_path);
        let mut ix = VectorIndex::create(&self.index_path)?;
        let rows = store::all_embeddings(conn)?;
        ix.reserve(rows.len())?;
        for (id, v) in &rows {
            ix.add(*id as u64, v)?;
        }
        ix.save()?;
        tracing::info!(vectors = rows.len(), "rebuilt the vector index from SQLite");
        Ok(ix)
    }
}
