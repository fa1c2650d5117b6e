//! The persistent vector index: usearch HNSW over [`DIM`]-dimensional vectors, cosine metric,
//! stored as f16 (half the memory of f32; recall@10 0.996 against exact search at 100k
//! incidents in `benches/search.rs`), keyed by SQLite row id.
//!
//! On disk the usearch image is wrapped in a small header with a CRC-32, so a truncated or
//! damaged file is reported as [`ErrorCode::IndexCorrupt`] (rebuild it from SQLite) instead of
//! being handed to the C++ loader, which does not validate the graph. Saves are atomic: a temp
//! file in the same directory, fsynced, then renamed over the old one.
//!
//! Sharing: mutations take `&mut self`, [`VectorIndex::search`] takes `&self`; wrap it in an
//! `RwLock` to share it. Up to [`SEARCH_THREADS`] searches may run at once (usearch keeps one
//! scratch context per concurrent caller).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::embedder::DIM;
use crate::error::{CoreError, CoreResult, ErrorCode};

/// Concurrent callers usearch reserves scratch space for.
pub const SEARCH_THREADS: usize = 8;

/// Capacity reserved on the first add; growth doubles from here, since usearch refuses an add
/// beyond the reserved capacity and reserving per add would copy the tables each time.
const MIN_CAPACITY: usize = 1024;

/// Candidates kept while searching (usearch's default is 64). On small indexes of tightly
/// spread vectors, 64 found 92% of the true top 10 (2 000 synthetic vectors); 256 finds 99.9%.
/// At 100k vectors 256 gave recall@10 0.976-0.987 on real question embeddings across runs
/// (`benches/search.rs`), under the 0.98 target; 512 keeps the walk well under the cost of
/// embedding the query (4-13 ms) while finding more of the true top 10.
const EXPANSION_SEARCH: usize = 512;

/// `SBVINDEX`, then format version, dimensions, payload length and payload CRC-32.
const MAGIC: &[u8; 8] = b"SBVINDEX";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 4;

/// An approximate nearest-neighbour index of embeddings, bound to the file it saves to.
pub struct VectorIndex {
    index: Index,
    path: PathBuf,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("path", &self.path)
            .field("len", &self.len())
            .finish()
    }
}

impl VectorIndex {
    /// A new, empty index that [`VectorIndex::save`] writes to `path`. Nothing is written yet.
    pub fn create(path: &Path) -> CoreResult<VectorIndex> {
        Ok(VectorIndex {
            index: new_usearch()?,
            path: path.to_path_buf(),
        })
    }

    /// Loads the index saved at `path`.
    ///
    /// Errors: [`ErrorCode::NotFound`] when there is no file, [`ErrorCode::IndexCorrupt`] when
    /// it is damaged, truncated, of another format or dimension (rebuild it from SQLite),
    /// [`ErrorCode::Storage`] when it cannot be read.
    pub fn open(path: &Path) -> CoreResult<VectorIndex> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CoreError::new(
                    ErrorCode::NotFound,
                    format!("There is no vector index at {}. Rebuild the knowledge base index to create it.", path.display()),
                ))
            }
            Err(e) => {
                return Err(CoreError::new(
                    ErrorCode::Storage,
                    format!("Cannot read the vector index {}: {e}. Check the data directory's permissions.", path.display()),
                ))
            }
        };
        let payload = check_header(&bytes).map_err(|why| corrupt(path, &why))?;
        let index = new_usearch()?;
        index
            .load_from_buffer(payload)
            .map_err(|e| corrupt(path, &format!("usearch cannot load it ({e})")))?;
        if index.dimensions() != DIM {
            return Err(corrupt(
                path,
                &format!("it holds {}-dimensional vectors", index.dimensions()),
            ));
        }
        // The search width is a setting of this build, not of the file.
        index.change_expansion_search(EXPANSION_SEARCH);
        let mut loaded = VectorIndex {
            index,
            path: path.to_path_buf(),
        };
        // Loading sizes the thread pool from the library default, not SEARCH_THREADS.
        let capacity = loaded.index.capacity().max(MIN_CAPACITY);
        loaded.reserve_exact(capacity)?;
        Ok(loaded)
    }

    /// [`VectorIndex::open`] if the file exists, else [`VectorIndex::create`].
    pub fn open_or_create(path: &Path) -> CoreResult<VectorIndex> {
        if path.exists() {
            VectorIndex::open(path)
        } else {
            VectorIndex::create(path)
        }
    }

    /// The file this index saves to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.index.size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, key: u64) -> bool {
        self.index.contains(key)
    }

    /// Makes room for `additional` more vectors at once (a sync batch), so the adds that
    /// follow do not grow the tables one doubling at a time.
    pub fn reserve(&mut self, additional: usize) -> CoreResult<()> {
        let needed = self.len() + additional;
        if needed > self.index.capacity() {
            self.reserve_exact(needed.max(MIN_CAPACITY))?;
        }
        Ok(())
    }

    /// Stores `vector` under `key` (a SQLite row id), replacing the vector the key had.
    /// `vector` must have [`DIM`] components; it is stored as f16.
    pub fn add(&mut self, key: u64, vector: &[f32]) -> CoreResult<()> {
        check_dim(vector)?;
        // usearch rejects a duplicate key; an edited incident re-embeds under the same row id.
        if self.index.contains(key) {
            self.remove(key)?;
        }
        // Removed slots are reused, so `len` (live vectors), not the slot count, is what must
        // stay below capacity.
        if self.len() >= self.index.capacity() {
            let grown = (self.index.capacity() * 2).max(MIN_CAPACITY);
            self.reserve_exact(grown)?;
        }
        self.index.add(key, vector).map_err(|e| {
            CoreError::internal(format!(
                "Adding a vector to the index failed: {e}. Rebuild the knowledge base index."
            ))
        })
    }

    /// [`VectorIndex::add`] for many vectors at once, on all cores: a rebuild from SQLite or a
    /// sync batch. A key given twice keeps its last vector, as with repeated `add`s.
    pub fn add_many(&mut self, items: &[(u64, &[f32])]) -> CoreResult<()> {
        let mut last_of_key = HashMap::with_capacity(items.len());
        for (position, (key, vector)) in items.iter().enumerate() {
            check_dim(vector)?;
            last_of_key.insert(*key, position);
        }
        for key in last_of_key.keys() {
            if self.index.contains(*key) {
                self.remove(*key)?;
            }
        }
        self.reserve(last_of_key.len())?;
        let unique: Vec<(u64, &[f32])> = items
            .iter()
            .enumerate()
            .filter(|(position, (key, _))| last_of_key.get(key) == Some(position))
            .map(|(_, item)| *item)
            .collect();
        // usearch adds concurrently from up to the reserved number of threads; each add locks
        // only the graph nodes it links.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(SEARCH_THREADS);
        let per_thread = unique.len().div_ceil(threads).max(1);
        let index = &self.index;
        std::thread::scope(|scope| {
            let workers: Vec<_> = unique
                .chunks(per_thread)
                .map(|chunk| {
                    scope.spawn(move || -> Result<(), String> {
                        for (key, vector) in chunk {
                            index.add(*key, vector).map_err(|e| e.to_string())?;
                        }
                        Ok(())
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("an indexing thread panicked".into()))
            })
        })
        .map_err(|e| {
            CoreError::internal(format!(
                "Adding vectors to the index failed: {e}. Rebuild the knowledge base index."
            ))
        })
    }

    /// Removes `key`'s vector; returns whether there was one.
    pub fn remove(&mut self, key: u64) -> CoreResult<bool> {
        self.index
            .remove(key)
            .map(|removed| removed > 0)
            .map_err(|e| CoreError::internal(format!("Removing a vector from the index failed: {e}. Rebuild the knowledge base index.")))
    }

    /// The `k` nearest neighbours of `query` as `(key, cosine similarity)`, most similar first.
    /// Similarity is `1 - cosine distance`, in [-1, 1]; 1 means the same direction. Results
    /// are approximate (HNSW) and similarities carry f16 rounding (about 1e-3).
    pub fn search(&self, query: &[f32], k: usize) -> CoreResult<Vec<(u64, f32)>> {
        check_dim(query)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let matches = self
            .index
            .search(query, k)
            .map_err(|e| CoreError::internal(format!("Searching the vector index failed: {e}. Try again; if it persists, rebuild the knowledge base index.")))?;
        Ok(matches
            .keys
            .into_iter()
            .zip(matches.distances)
            .map(|(key, distance)| (key, 1.0 - distance))
            .collect())
    }

    /// Every key in the index, ascending. usearch keeps no key list, so this is an exact scan
    /// over all live vectors (removed slots are skipped): O(n), for integrity checks, not for
    /// hot paths.
    pub fn keys(&self) -> CoreResult<Vec<u64>> {
        let n = self.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        // Any non-zero query works (a zero vector has no cosine distance); only the keys are used.
        let mut probe = vec![0.0f32; DIM];
        probe[0] = 1.0;
        let matches = self.index.exact_search(&probe, n).map_err(|e| {
            CoreError::internal(format!(
                "Listing the vector index failed: {e}. Rebuild the knowledge base index."
            ))
        })?;
        let mut keys = matches.keys;
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    /// The vector stored under `key` (as f32, carrying the f16 rounding), or `None`.
    pub fn get(&self, key: u64) -> CoreResult<Option<Vec<f32>>> {
        if !self.index.contains(key) {
            return Ok(None);
        }
        let mut v = vec![0.0f32; DIM];
        let found = self.index.get(key, &mut v).map_err(|e| {
            CoreError::internal(format!(
                "Reading a vector from the index failed: {e}. Rebuild the knowledge base index."
            ))
        })?;
        Ok((found > 0).then_some(v))
    }

    /// [`VectorIndex::search`] restricted to the keys `allow` accepts, filtered inside the
    /// graph walk (usearch `filtered_search`), so up to `k` allowed keys come back even when
    /// most of the nearest vectors are filtered out. With a very selective filter the walk can
    /// end before it finds `k`; callers that need exact results over a small allowed set score
    /// the stored embeddings directly instead.
    pub fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        allow: impl Fn(u64) -> bool,
    ) -> CoreResult<Vec<(u64, f32)>> {
        check_dim(query)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let matches = self
            .index
            .filtered_search(query, k, allow)
            .map_err(|e| CoreError::internal(format!("Searching the vector index failed: {e}. Try again; if it persists, rebuild the knowledge base index.")))?;
        Ok(matches
            .keys
            .into_iter()
            .zip(matches.distances)
            .map(|(key, distance)| (key, 1.0 - distance))
            .collect())
    }

    /// Writes the index to its file atomically: readers see the old or the new file, never a
    /// partial one, even if the app dies mid-save.
    pub fn save(&self) -> CoreResult<()> {
        let len = self.index.serialized_length();
        let mut bytes = vec![0u8; HEADER_LEN + len];
        self.index
            .save_to_buffer(&mut bytes[HEADER_LEN..])
            .map_err(|e| {
                CoreError::internal(format!(
                    "Serialising the vector index failed: {e}. Rebuild the knowledge base index."
                ))
            })?;
        let crc = crc32fast::hash(&bytes[HEADER_LEN..]);
        write_header(&mut bytes[..HEADER_LEN], len as u64, crc);

        let storage = |what: &str, e: std::io::Error| {
            CoreError::new(
                ErrorCode::Storage,
                format!("Cannot {what} the vector index {}: {e}. Check free disk space and the data directory's permissions.", self.path.display()),
            )
        };
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = self.path.with_file_name(tmp_name);
        let written = File::create(&tmp)
            .and_then(|mut file| {
                file.write_all(&bytes)?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(storage("save", e));
        }
        // Persist the rename itself; without it a crash can bring back the old file.
        #[cfg(unix)]
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| storage("persist", e))?;
        }
        Ok(())
    }

    fn reserve_exact(&mut self, capacity: usize) -> CoreResult<()> {
        self.index
            .reserve_capacity_and_threads(capacity, SEARCH_THREADS)
            .map_err(|e| {
                CoreError::internal(format!("Reserving room for {capacity} vectors failed: {e}. Free some memory and try again."))
            })
    }
}

fn new_usearch() -> CoreResult<Index> {
    let options = IndexOptions {
        dimensions: DIM,
        metric: MetricKind::Cos,
        quantization: ScalarKind::F16,
        // 0 keeps usearch's defaults (connectivity 16, expansion 128 on add).
        connectivity: 0,
        expansion_add: 0,
        expansion_search: EXPANSION_SEARCH,
        multi: false,
    };
    Index::new(&options).map_err(|e| {
        CoreError::internal(format!(
            "Creating the vector index failed: {e}. Free some memory and try again."
        ))
    })
}

fn check_dim(vector: &[f32]) -> CoreResult<()> {
    if vector.len() == DIM {
        Ok(())
    } else {
        Err(CoreError::internal(format!(
            "A {}-dimensional vector was given to the vector index, which holds {DIM}-dimensional ones.",
            vector.len()
        )))
    }
}

fn corrupt(path: &Path, why: &str) -> CoreError {
    CoreError::new(
        ErrorCode::IndexCorrupt,
        format!(
            "The vector index {} is damaged or from another version ({why}). Rebuild the knowledge base index; it is recreated from the local database.",
            path.display()
        ),
    )
}

fn write_header(header: &mut [u8], payload_len: u64, crc: u32) {
    header[..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&(DIM as u32).to_le_bytes());
    header[16..24].copy_from_slice(&payload_len.to_le_bytes());
    header[24..28].copy_from_slice(&crc.to_le_bytes());
}

/// Checks the header and checksum; returns the usearch payload.
fn check_header(bytes: &[u8]) -> Result<&[u8], String> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err("not a Support Bot vector index".into());
    }
    let u32_at =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, expected {FORMAT_VERSION}"
        ));
    }
    let dims = u32_at(12) as usize;
    if dims != DIM {
        return Err(format!("{dims}-dimensional vectors, expected {DIM}"));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[16..24]);
    let payload = &bytes[HEADER_LEN..];
    if u64::from_le_bytes(len_bytes) != payload.len() as u64 {
        return Err("truncated".into());
    }
    if crc32fast::hash(payload) != u32_at(24) {
        return Err("checksum mismatch".into());
    }
    Ok(payload)
}
