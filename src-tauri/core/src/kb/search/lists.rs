//! The two candidate lists of a query (BM25 over FTS5, cosine over the vector index or exact
//! scores for small filtered sets) and their fusion.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::{FilterSql, SearchMethod, BM25_WEIGHT, RRF_K};
use crate::error::CoreResult;
use crate::kb::store::blob_to_vector;
use crate::kb::{KnowledgeBase, VectorIndex};

/// With filters, allowed sets up to this size are scored exactly from the stored embeddings.
/// Why: usearch's filtered HNSW walk visits neighbours the filter rejects and can stop before it
/// finds enough allowed vectors when they are a small fraction of the index; exact scoring is
/// exact, and cheap at this size (5 000 × 384 multiply-adds and ~7.5 MB of blobs, a few ms).
/// Larger allowed sets are a large fraction of the graph, where the filtered walk works well.
const EXACT_LIMIT: usize = 5_000;
/// FTS5 `bm25()` column weights, in the table's column order: number, short description,
/// description, resolution, category, comments. A typed incident number must win outright;
/// the title and the resolution say what the incident is about more densely than the
/// description; comments are mostly chatter ("any update on this?").
const BM25_WEIGHTS: &str = "10.0, 3.0, 1.0, 2.0, 1.0, 0.5";

/// The two candidate lists of one query, best first.
pub(crate) struct Lists {
    pub bm25: Vec<(i64, f64)>,
    pub vector: Vec<(i64, f32)>,
}

impl Lists {
    /// The lists `method` needs: BM25 when there is an FTS query, vector when there is a query
    /// vector, `n` deep each.
    pub(crate) fn fetch(
        conn: &Connection,
        kb: &KnowledgeBase,
        fts: Option<&str>,
        vector: Option<&[f32]>,
        method: SearchMethod,
        filters: &FilterSql,
        n: usize,
    ) -> CoreResult<Lists> {
        let bm25 = Lists::bm25(conn, fts, method, filters, n)?;
        let vector = match (method, vector) {
            (SearchMethod::Bm25, _) | (_, None) => Vec::new(),
            (_, Some(v)) => vector_list(conn, kb, v, filters, n)?,
        };
        Ok(Lists { bm25, vector })
    }

    /// The BM25 list `method` needs: none for `vector` or without an FTS query.
    pub(super) fn bm25(
        conn: &Connection,
        fts: Option<&str>,
        method: SearchMethod,
        filters: &FilterSql,
        n: usize,
    ) -> CoreResult<Vec<(i64, f64)>> {
        match (method, fts) {
            (SearchMethod::Vector, _) | (_, None) => Ok(Vec::new()),
            (_, Some(q)) => bm25_list(conn, q, filters, n),
        }
    }

    /// Incident ids with their scores, best first, as `method` ranks them.
    pub(crate) fn rank(&self, method: SearchMethod) -> Vec<(i64, f64)> {
        match method {
            SearchMethod::Bm25 => self.bm25.clone(),
            SearchMethod::Vector => self
                .vector
                .iter()
                .map(|(id, s)| (*id, f64::from(*s)))
                .collect(),
            SearchMethod::Hybrid => fuse(
                &self.bm25.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                &self.vector.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            ),
        }
    }
}

/// Weighted reciprocal rank fusion of two rankings ([`RRF_K`], [`BM25_WEIGHT`]). Ties (equal fused scores, e.g. #1 in one list only
/// versus #1 in the other only) go to the hit with the better single rank, then the better
/// vector rank (the list that understands paraphrases), then the lower incident id.
pub(crate) fn fuse(bm25: &[i64], vector: &[i64]) -> Vec<(i64, f64)> {
    struct Entry {
        score: f64,
        best: usize,
        vector: usize,
    }
    let mut fused: HashMap<i64, Entry> = HashMap::new();
    for (list, is_vector, weight) in [(bm25, false, BM25_WEIGHT), (vector, true, 1.0)] {
        for (index, id) in list.iter().enumerate() {
            let rank = index + 1;
            let e = fused.entry(*id).or_insert(Entry {
                score: 0.0,
                best: usize::MAX,
                vector: usize::MAX,
            });
            e.score += weight / (RRF_K + rank as f64);
            e.best = e.best.min(rank);
            if is_vector {
                e.vector = rank;
            }
        }
    }
    let mut out: Vec<(i64, Entry)> = fused.into_iter().collect();
    out.sort_by(|(a_id, a), (b_id, b)| {
        b.score
            .total_cmp(&a.score)
            .then(a.best.cmp(&b.best))
            .then(a.vector.cmp(&b.vector))
            .then(a_id.cmp(b_id))
    });
    out.into_iter().map(|(id, e)| (id, e.score)).collect()
}

/// Incidents whose number the query types (`INC0010001`, `IT-42`, any case) among the
/// filtered ones, in the order typed. The fusion weighs keywords lightly, so a typed number
/// is put first here rather than left to BM25's number column to win.
pub(crate) fn typed_numbers(
    conn: &Connection,
    query: &str,
    filters: &FilterSql,
) -> CoreResult<Vec<i64>> {
    let mut ids = Vec::new();
    let tokens = query
        .split(|c: char| c.is_whitespace() || ",;()[]{}\"'".contains(c))
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|t| {
            (4..=40).contains(&t.len())
                && t.chars().any(|c| c.is_ascii_digit())
                && t.chars().any(|c| c.is_alphabetic())
        })
        .take(8);
    let sql = format!(
        "SELECT inc.id FROM incidents inc WHERE inc.number = ? AND {} ORDER BY inc.id",
        filters.condition
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    for token in tokens {
        let mut params = vec![Value::Text(token.to_uppercase())];
        params.extend(filters.params.iter().cloned());
        let found = stmt
            .query_map(params_from_iter(params), |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        for id in found {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// `ranked` with `first` moved to the front (those not in it added), scores kept in order.
pub(crate) fn pin_first(ranked: Vec<(i64, f64)>, first: &[i64]) -> Vec<(i64, f64)> {
    if first.is_empty() {
        return ranked;
    }
    let top = ranked.first().map_or(1.0, |(_, s)| *s);
    let mut out: Vec<(i64, f64)> = first.iter().map(|id| (*id, top)).collect();
    out.extend(ranked.into_iter().filter(|(id, _)| !first.contains(id)));
    out
}

/// The `n` best BM25 matches of `fts` among the filtered incidents: `(id, -bm25)` so that
/// higher is better.
fn bm25_list(
    conn: &Connection,
    fts: &str,
    filters: &FilterSql,
    n: usize,
) -> CoreResult<Vec<(i64, f64)>> {
    // Without filters the incidents table is not needed at all: joining it costs a row lookup
    // per matching document, which at 100k incidents was more than half the query.
    let sql = if filters.active {
        format!(
            "SELECT incidents_fts.rowid, -bm25(incidents_fts, {BM25_WEIGHTS}) AS score
             FROM incidents_fts JOIN incidents inc ON inc.id = incidents_fts.rowid
             WHERE incidents_fts MATCH ? AND {}
             ORDER BY score DESC, incidents_fts.rowid
             LIMIT ?",
            filters.condition
        )
    } else {
        format!(
            "SELECT rowid, -bm25(incidents_fts, {BM25_WEIGHTS}) AS score
             FROM incidents_fts WHERE incidents_fts MATCH ?
             ORDER BY score DESC, rowid
             LIMIT ?"
        )
    };
    let mut params = vec![Value::Text(fts.to_string())];
    if filters.active {
        params.extend(filters.params.iter().cloned());
    }
    params.push(Value::Integer(n as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(i64, f64)>>>()?;
    Ok(rows)
}

/// The `n` incidents most similar to `query` among the filtered ones: `(id, cosine)`.
pub(super) fn vector_list(
    conn: &Connection,
    kb: &KnowledgeBase,
    query: &[f32],
    filters: &FilterSql,
    n: usize,
) -> CoreResult<Vec<(i64, f32)>> {
    if !filters.active {
        let guard = kb.index(conn)?;
        let Some(index) = guard.as_ref() else {
            return Ok(Vec::new());
        };
        return nearest(index, query, n);
    }
    let allowed: Vec<i64> = {
        let sql = format!(
            "SELECT inc.id FROM incidents inc WHERE inc.embedding IS NOT NULL AND {}",
            filters.condition
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let ids = stmt
            .query_map(params_from_iter(filters.params.iter()), |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids
    };
    if allowed.is_empty() {
        return Ok(Vec::new());
    }
    if allowed.len() > EXACT_LIMIT {
        let set: HashSet<u64> = allowed.iter().map(|id| *id as u64).collect();
        let guard = kb.index(conn)?;
        if let Some(index) = guard.as_ref() {
            let found = index.search_filtered(query, n, |key| set.contains(&key))?;
            // A walk that ended early falls through to exact scoring below.
            if found.len() >= n.min(allowed.len()) {
                return Ok(sorted(
                    found.into_iter().map(|(key, s)| (key as i64, s)).collect(),
                ));
            }
        }
    }
    exact_scores(conn, query, &allowed, n)
}

/// The `n` nearest incidents in the whole index: `(id, cosine)`, best first.
pub(super) fn nearest(index: &VectorIndex, query: &[f32], n: usize) -> CoreResult<Vec<(i64, f32)>> {
    Ok(sorted(
        index
            .search(query, n)?
            .into_iter()
            .map(|(key, s)| (key as i64, s))
            .collect(),
    ))
}

/// Cosine similarity of `query` with the stored embeddings of `ids` (unit vectors, so the dot
/// product), the `n` best.
fn exact_scores(
    conn: &Connection,
    query: &[f32],
    ids: &[i64],
    n: usize,
) -> CoreResult<Vec<(i64, f32)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT embedding FROM incidents WHERE id = ?1 AND embedding IS NOT NULL",
    )?;
    let mut scored = Vec::with_capacity(ids.len());
    for id in ids {
        let blob: Option<Vec<u8>> =
            stmt.query_row([id], |r| r.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
        if let Some(blob) = blob {
            let v = blob_to_vector(&blob);
            if v.len() == query.len() {
                scored.push((*id, dot(query, &v)));
            }
        }
    }
    let mut scored = sorted(scored);
    scored.truncate(n);
    Ok(scored)
}

pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Best first; equal similarities by id, so results do not depend on index internals.
fn sorted(mut v: Vec<(i64, f32)>) -> Vec<(i64, f32)> {
    v.sort_by(|(a_id, a), (b_id, b)| b.total_cmp(a).then(a_id.cmp(b_id)));
    v
}
