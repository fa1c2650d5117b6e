//! Bulk loading for benchmarks: incidents with precomputed (synthetic) vectors written straight
//! into SQLite, as a sync would leave them, without fetching or embedding. Not part of the app's
//! API: `benches/search.rs` needs 100k incidents, which a real sync would take about an hour to
//! embed.

use crate::connectors::SourceIncident;
use crate::error::{CoreError, CoreResult};
use crate::Core;

use super::{store, DIM, MODEL_ID};

/// Stores `items` (incident, [`DIM`]-dimensional unit vector) as a successful full sync of
/// integration `integration_id` named `source_name`, in one transaction: the rows are complete
/// (hashes, version, "added" changes, embedding as f32 little-endian tagged [`MODEL_ID`]), so
/// everything that reads a synced knowledge base sees them. The vector index is not touched;
/// the next [`super::KnowledgeBase::index`] rebuilds it from these rows. Returns the version id.
#[doc(hidden)]
pub fn insert_incidents(
    core: &Core,
    integration_id: i64,
    source_name: &str,
    items: &[(SourceIncident, Vec<f32>)],
) -> CoreResult<i64> {
    if let Some((i, _)) = items.iter().find(|(_, v)| v.len() != DIM) {
        return Err(CoreError::internal(format!(
            "The vector of {} does not have {DIM} dimensions.",
            i.number
        )));
    }
    let mut conn = core.db().conn();
    let tx = conn.transaction()?;
    let version_id = store::create_version(&tx, integration_id, source_name, "full_sync")?;
    for (incident, vector) in items {
        let (record_hash, text_hash) = store::hashes(incident);
        let id = store::upsert(
            &tx,
            &store::Upsert {
                integration_id,
                source_name,
                incident,
                record_hash: &record_hash,
                text_hash: &text_hash,
                embedding: Some(vector),
                model: MODEL_ID,
                version_id,
            },
        )?;
        store::record_change(&tx, version_id, id, "added", None)?;
    }
    let n = items.len() as u64;
    store::add_counts(
        &tx,
        version_id,
        &store::Counts {
            fetched: n,
            added: n,
            ..store::Counts::default()
        },
    )?;
    store::set_last_version(&tx, integration_id, version_id)?;
    store::finish_version(&tx, version_id, "success", "benchmark data", None)?;
    tx.commit()?;
    // As the end of a sync does.
    store::optimize_fts(&conn);
    Ok(version_id)
}

/// The incident ids of the top `k` for `text` by `method`, unfiltered, with the BM25 words
/// pruned as search prunes them at scale or with every word kept: the benchmark compares the
/// two rankings' quality and cost.
#[doc(hidden)]
pub fn ranked_top(
    core: &Core,
    text: &str,
    k: usize,
    method: super::SearchMethod,
    prune: bool,
) -> CoreResult<Vec<i64>> {
    use super::search::{bm25_query, candidates, fts_query, FilterSql, Lists};
    let vector = match method {
        super::SearchMethod::Bm25 => None,
        _ => Some(core.knowledge_base().embedder()?.embed_one(text)?),
    };
    let conn = core.db().conn();
    let fts = if prune {
        bm25_query(&conn, core.knowledge_base(), text)?.map(|q| q.rank)
    } else {
        fts_query(text)
    };
    let lists = Lists::fetch(
        &conn,
        core.knowledge_base(),
        fts.as_deref(),
        vector.as_deref(),
        method,
        &FilterSql::new(&Default::default())?,
        candidates(k),
    )?;
    Ok(lists
        .rank(method)
        .into_iter()
        .take(k)
        .map(|(id, _)| id)
        .collect())
}
