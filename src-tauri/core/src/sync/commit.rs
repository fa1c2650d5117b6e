//! One batch: embed what changed, then one transaction for rows, changes, counts and the
//! checkpoint, then the vector index.

// The sync module's types and imports: this file is one part of `Run`'s life.
use super::*;

/// One batch: embed what changed, then one transaction for rows, changes, counts, checkpoint.
pub(super) struct BatchCommit {
    pub(super) integration_id: i64,
    pub(super) source_name: String,
    pub(super) version: i64,
    pub(super) incidents: Vec<SourceIncident>,
    /// New embeddings, aligned with `incidents`; `None` keeps the stored one.
    pub(super) vectors: Vec<Option<Vec<f32>>>,
    pub(super) skipped: Vec<SkippedRecord>,
    pub(super) watermark: Option<crate::connectors::Watermark>,
}

/// For each batch, the embedding of every incident that is new or whose embedded text changed
/// (`None` for the others), computed in one embedder call for the whole page.
pub(super) fn embed_changed(
    core: &Core,
    integration_id: i64,
    batches: &[Vec<SourceIncident>],
) -> CoreResult<Vec<Vec<Option<Vec<f32>>>>> {
    let all: Vec<&SourceIncident> = batches.iter().flatten().collect();
    let ids: Vec<&str> = all.iter().map(|i| i.external_id.as_str()).collect();
    let existing = store::existing(&core.db().conn(), integration_id, &ids)?;
    let wanted: Vec<usize> = (0..all.len())
        .filter(|&n| {
            existing
                .get(&all[n].external_id)
                .is_none_or(|e| e.text_hash != store::hashes(all[n]).1)
        })
        .collect();
    let texts: Vec<String> = wanted
        .iter()
        .map(|&n| store::embedding_text(all[n]))
        .collect();
    let mut flat: Vec<Option<Vec<f32>>> = vec![None; all.len()];
    if !texts.is_empty() {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vectors = core.knowledge_base().embedder()?.embed(&refs)?;
        for (k, &n) in wanted.iter().enumerate() {
            flat[n] = Some(vectors[k].clone());
        }
    }
    let mut flat = flat.into_iter();
    Ok(batches
        .iter()
        .map(|b| flat.by_ref().take(b.len()).collect())
        .collect())
}

impl BatchCommit {
    pub(super) fn run(self, core: &Core) -> CoreResult<Counts> {
        let hashes: Vec<(String, String)> = self.incidents.iter().map(store::hashes).collect();
        let ids: Vec<&str> = self
            .incidents
            .iter()
            .map(|i| i.external_id.as_str())
            .collect();
        let existing = store::existing(&core.db().conn(), self.integration_id, &ids)?;

        let mut counts = Counts {
            fetched: self.incidents.len() as u64,
            skipped: self.skipped.len() as u64,
            ..Counts::default()
        };
        let mut index_adds: Vec<(u64, &Vec<f32>)> = Vec::new();
        let mut conn = core.db().conn();
        // Lock the index before the transaction so no reader sees rows without vectors for
        // long; if the process dies between commit and save, the index is rebuilt from SQLite.
        let mut index = core.knowledge_base().index(&conn)?;
        let tx = conn.transaction()?;
        // Duplicates within one batch (a record re-delivered at a page seam) count once.
        let mut seen = std::collections::HashSet::new();
        for (n, incident) in self.incidents.iter().enumerate() {
            let (record_hash, text_hash) = &hashes[n];
            let prior = existing.get(&incident.external_id);
            if prior.is_some_and(|p| &p.record_hash == record_hash)
                || !seen.insert(&incident.external_id)
            {
                counts.unchanged += 1;
                continue;
            }
            let before = match prior {
                Some(p) => store::before_image(&tx, p.id)?,
                None => None,
            };
            let row = store::upsert(
                &tx,
                &store::Upsert {
                    integration_id: self.integration_id,
                    source_name: &self.source_name,
                    incident,
                    record_hash,
                    text_hash,
                    embedding: self.vectors.get(n).and_then(|v| v.as_deref()),
                    model: MODEL_ID,
                    version_id: self.version,
                },
            )?;
            let change = if prior.is_some() { "updated" } else { "added" };
            store::record_change(&tx, self.version, row, change, before.as_ref())?;
            if prior.is_some() {
                counts.updated += 1;
            } else {
                counts.added += 1;
            }
            if let Some(Some(v)) = self.vectors.get(n) {
                index_adds.push((row as u64, v));
            }
        }
        store::record_skipped(&tx, self.version, &self.skipped)?;
        store::add_counts(&tx, self.version, &counts)?;
        if counts.added + counts.updated > 0 {
            store::mark_index_dirty(&tx)?;
        }
        if let Some(w) = &self.watermark {
            store::set_watermark(&tx, self.integration_id, w)?;
        }
        tx.commit()?;
        if let Some(ix) = index.as_mut() {
            ix.reserve(index_adds.len())?;
            for (key, v) in index_adds {
                if ix.contains(key) {
                    ix.remove(key)?;
                }
                ix.add(key, v)?;
            }
        }
        Ok(counts)
    }
}
