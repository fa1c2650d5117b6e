//! Sync: pulls new and changed incidents from an integration, embeds what changed and commits
//! each batch (rows, vectors, its part of the version, the checkpoint) in one transaction.
//!
//! Data flows one way: connector → batch → embed → SQLite (one transaction per batch) → vector
//! index → progress events. Fetching runs in its own task ahead of embedding, through a bounded
//! channel, so the network overlaps the model without unbounded memory.
//!
//! Invariants: the watermark moves only in the transaction that commits the page it covers, so a
//! crash re-fetches at most one page and upserts make that harmless; a record is re-embedded only
//! when its embedded text changed; a sync that skipped anything ends `partial`, never `success`.

mod jobs;
mod schedule;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

pub use jobs::{ExclusiveGuard, JobGuard, SyncJobs};

use crate::clock::now_rfc3339;
use crate::connectors::{
    Connector, ConnectorOptions, Credentials, Page, SkippedRecord, SourceIncident,
};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::integrations::{Integration, SecretField};
use crate::kb::{store, Counts, MODEL_ID};
use crate::{Actor, Core, Permission};

/// Incidents embedded and committed together. Measured (see BENCHMARKS.md): length-sorted
/// batches of 32 embed as fast as single texts while amortising the transaction.
pub const DEFAULT_BATCH_SIZE: usize = 32;
/// Incidents asked for per request.
pub const DEFAULT_PAGE_SIZE: usize = 200;
/// Pages fetched ahead of the embedder.
const PREFETCH_PAGES: usize = 2;
/// Minimum time between two progress events (the last one always goes out).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Also list every id at the source and remove incidents deleted there.
    pub full: bool,
    pub batch_size: usize,
    pub page_size: usize,
    /// Connector tuning (retry policy, timeouts); tests shorten waits with it.
    pub connector: ConnectorOptions,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full: false,
            batch_size: DEFAULT_BATCH_SIZE,
            page_size: DEFAULT_PAGE_SIZE,
            connector: ConnectorOptions::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    Connecting,
    Fetching,
    Embedding,
    Saving,
    Pruning,
    Finishing,
}

/// One progress event, sent at most every 100 ms.
#[derive(Debug, Clone, Serialize)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    pub batch: u64,
    pub total_batches: Option<u64>,
    pub processed: u64,
    pub total_hint: Option<u64>,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    /// Incidents per second since the start.
    pub rate: f64,
    pub eta_s: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Success,
    Partial,
    Error,
    Cancelled,
}

impl SyncOutcome {
    fn as_str(self) -> &'static str {
        match self {
            SyncOutcome::Success => "success",
            SyncOutcome::Partial => "partial",
            SyncOutcome::Error => "error",
            SyncOutcome::Cancelled => "cancelled",
        }
    }
}

/// How a sync ended. Failures during the sync end here (status `error`), not as `Err`.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub status: SyncOutcome,
    pub fetched: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub skipped: u64,
    /// Incidents of this integration in the knowledge base afterwards.
    pub total: u64,
    pub version: Option<i64>,
    pub skipped_records: Vec<SkippedRecord>,
    pub notes: Vec<String>,
    pub duration_s: f64,
    pub error: Option<CoreError>,
}

impl Core {
    /// Runs a sync of integration `id` to the end, reporting progress through `on_progress`.
    /// `Err` only when it cannot start (permission, not found, already running, no model).
    pub async fn sync(
        self: &Arc<Self>,
        actor: &Actor,
        id: i64,
        options: SyncOptions,
        on_progress: impl Fn(SyncProgress) + Send + Sync + 'static,
    ) -> CoreResult<SyncReport> {
        actor.require(Permission::IntegrationSync)?;
        let integration = self.integration(actor, id)?;
        let job = self.sync_jobs().start(id, &integration.name)?;
        let core = self.clone();
        // The model loads once per process; a missing model stops the sync before it starts.
        let embedder = tokio::task::spawn_blocking(move || core.knowledge_base().embedder())
            .await
            .map_err(|e| CoreError::internal(format!("Loading the model failed: {e}")))??;
        let _ = embedder;
        let run = Run::new(
            self.clone(),
            integration,
            options,
            job,
            Box::new(on_progress),
        )?;
        Ok(run.execute().await)
    }

    /// Cancels a running sync of `id`; the pending `sync` then reports `cancelled`.
    pub fn cancel_sync(&self, actor: &Actor, id: i64) -> CoreResult<bool> {
        actor.require(Permission::IntegrationSync)?;
        Ok(self.sync_jobs().cancel(id))
    }
}

type ProgressFn = Box<dyn Fn(SyncProgress) + Send + Sync>;

/// One sync in progress.
struct Run {
    core: Arc<Core>,
    integration: Integration,
    options: SyncOptions,
    job: JobGuard,
    on_progress: ProgressFn,
    version: i64,
    started: Instant,
    last_event: Instant,
    counts: Counts,
    batch: u64,
    total_hint: Option<u64>,
    skipped_records: Vec<SkippedRecord>,
    notes: Vec<String>,
}

/// Outcome of the fetch + process loop.
enum Ended {
    Done,
    Cancelled,
    Failed(CoreError),
}

impl Run {
    fn new(
        core: Arc<Core>,
        integration: Integration,
        options: SyncOptions,
        job: JobGuard,
        on_progress: ProgressFn,
    ) -> CoreResult<Run> {
        let kind = if options.full { "full_sync" } else { "sync" };
        let version = {
            let conn = core.db().conn();
            conn.execute(
                "UPDATE integrations SET last_attempt = ?2 WHERE id = ?1",
                rusqlite::params![integration.id, now_rfc3339()],
            )?;
            store::create_version(&conn, integration.id, &integration.name, kind)?
        };
        let now = Instant::now();
        Ok(Run {
            core,
            integration,
            options,
            job,
            on_progress,
            version,
            started: now,
            last_event: now - PROGRESS_EVERY,
            counts: Counts::default(),
            batch: 0,
            total_hint: None,
            skipped_records: Vec::new(),
            notes: Vec::new(),
        })
    }

    async fn execute(mut self) -> SyncReport {
        self.progress(SyncPhase::Connecting, true);
        let ended = match self.connect() {
            Ok(connector) => self.pull(connector).await,
            Err(e) => Ended::Failed(e),
        };
        self.finish(ended).await
    }

    fn connect(&self) -> CoreResult<Connector> {
        let i = &self.integration;
        let secret = |f| self.core.integration_secret(i.id, f);
        let credentials = Credentials {
            username: i.username.clone(),
            password: secret(SecretField::Password)?,
            token: secret(SecretField::Token)?,
            client_id: i.client_id.clone(),
            client_secret: secret(SecretField::ClientSecret)?,
        };
        let mut options = self.options.connector.clone();
        options.cancel = self.job.cancel.clone();
        Connector::new(i.kind, i.auth, &i.url, credentials, options)
    }

    /// Fetches pages in a task ahead of the processing loop, then handles deletions.
    async fn pull(&mut self, mut connector: Connector) -> Ended {
        let (watermark, deletions_checkpoint) =
            match store::checkpoint(&self.core.db().conn(), self.integration.id) {
                Ok(c) => c,
                Err(e) => return Ended::Failed(e),
            };
        let (tx, mut rx) = mpsc::channel::<CoreResult<Page>>(PREFETCH_PAGES);
        let filters = self.integration.filters.clone();
        let page_size = self.options.page_size;
        let cancel = self.job.cancel.clone();
        let fetcher = tokio::spawn(async move {
            let mut after = watermark;
            loop {
                if cancel.is_cancelled() {
                    break;
                }
                let page = connector
                    .next_page(after.as_ref(), &filters, page_size)
                    .await;
                let (next, done) = match &page {
                    Ok(p) => (p.next.clone(), p.done),
                    Err(_) => (None, true),
                };
                if tx.send(page).await.is_err() || done {
                    break;
                }
                after = next.or(after);
            }
            connector
        });

        let mut ended = Ended::Done;
        while let Some(page) = rx.recv().await {
            if self.job.cancel.is_cancelled() {
                ended = Ended::Cancelled;
                break;
            }
            match page {
                Ok(page) => {
                    if let Err(e) = self.process_page(page).await {
                        ended = Ended::Failed(e);
                        break;
                    }
                }
                Err(e) if e.code == ErrorCode::Cancelled => {
                    ended = Ended::Cancelled;
                    break;
                }
                Err(e) => {
                    ended = Ended::Failed(e);
                    break;
                }
            }
        }
        drop(rx);
        let mut connector = match fetcher.await {
            Ok(c) => c,
            Err(e) => {
                return Ended::Failed(CoreError::internal(format!("The fetch task failed: {e}")))
            }
        };
        if self.job.cancel.is_cancelled() {
            return Ended::Cancelled;
        }
        if !matches!(ended, Ended::Done) {
            return ended;
        }
        match self.prune(&mut connector, deletions_checkpoint).await {
            Ok(()) => Ended::Done,
            Err(e) if e.code == ErrorCode::Cancelled => Ended::Cancelled,
            Err(e) => Ended::Failed(e),
        }
    }

    /// Splits a page into batches; the last batch's transaction also moves the watermark.
    async fn process_page(&mut self, page: Page) -> CoreResult<()> {
        // The source counts what matches from this page on: add what came before it.
        if let Some(remaining) = page.total_hint {
            self.total_hint = Some(self.counts.fetched + remaining);
        }
        self.notes.extend(page.notes.iter().cloned());
        let skipped = page.skipped;
        let next = page.next;
        let mut incidents = page.incidents;
        let batch_size = self.options.batch_size.max(1);
        let mut batches: Vec<Vec<SourceIncident>> = Vec::new();
        while !incidents.is_empty() {
            let rest = incidents.split_off(batch_size.min(incidents.len()));
            batches.push(std::mem::replace(&mut incidents, rest));
        }
        if batches.is_empty() {
            batches.push(Vec::new());
        }
        // Embed the whole page in one call: the embedder sorts its texts by length, and a
        // page sorts far better than a batch (less padding, near the model's raw speed).
        self.progress(SyncPhase::Embedding, false);
        let core = self.core.clone();
        let integration_id = self.integration.id;
        let to_embed: Vec<Vec<SourceIncident>> = batches.clone();
        let mut vectors =
            tokio::task::spawn_blocking(move || embed_changed(&core, integration_id, &to_embed))
                .await
                .map_err(|e| CoreError::internal(format!("Embedding failed: {e}")))??
                .into_iter();
        let last = batches.len() - 1;
        for (n, batch) in batches.into_iter().enumerate() {
            if self.job.cancel.is_cancelled() {
                return Err(CoreError::new(
                    ErrorCode::Cancelled,
                    "The sync was cancelled.",
                ));
            }
            let is_last = n == last;
            let commit = BatchCommit {
                integration_id: self.integration.id,
                source_name: self.integration.name.clone(),
                version: self.version,
                vectors: vectors.next().unwrap_or_default(),
                incidents: batch,
                skipped: if is_last { skipped.clone() } else { Vec::new() },
                watermark: if is_last { next.clone() } else { None },
            };
            let core = self.core.clone();
            self.progress(SyncPhase::Saving, false);
            let counts = tokio::task::spawn_blocking(move || commit.run(&core))
                .await
                .map_err(|e| CoreError::internal(format!("A sync batch failed: {e}")))??;
            add(&mut self.counts, &counts);
            self.batch += 1;
            self.progress(SyncPhase::Fetching, false);
        }
        self.skipped_records.extend(skipped);
        Ok(())
    }

    /// Removes incidents deleted at the source: every id not listed (full reconcile), or the
    /// source's deletion log since the last checkpoint.
    async fn prune(
        &mut self,
        connector: &mut Connector,
        checkpoint: Option<String>,
    ) -> CoreResult<()> {
        self.progress(SyncPhase::Pruning, true);
        let id = self.integration.id;
        let gone: Vec<String> = if self.options.full {
            let listed = connector.list_all_ids(&self.integration.filters).await?;
            if !listed.is_complete() {
                self.notes.push("The source listed fewer incidents than it reports (row-level security?); nothing was removed.".into());
                return Ok(());
            }
            let present: std::collections::HashSet<String> = listed.ids.into_iter().collect();
            let local = store::external_ids(&self.core.db().conn(), id)?;
            local.into_iter().filter(|e| !present.contains(e)).collect()
        } else if connector.supports_deletion_log() {
            let since = checkpoint.unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
            match connector.deleted_since(&since).await {
                Ok(d) => {
                    if let Some(c) = &d.checkpoint {
                        store::set_deletions_checkpoint(&self.core.db().conn(), id, c)?;
                    }
                    d.ids
                }
                Err(e) if e.code == ErrorCode::Forbidden => {
                    self.notes.push("The deletion log (sys_audit_delete) is not readable: run a full reconcile to remove deleted incidents.".into());
                    Vec::new()
                }
                Err(e) => return Err(e),
            }
        } else {
            Vec::new()
        };
        if gone.is_empty() {
            return Ok(());
        }
        let core = self.core.clone();
        let version = self.version;
        let deleted = tokio::task::spawn_blocking(move || -> CoreResult<u64> {
            let mut conn = core.db().conn();
            let mut index = core.knowledge_base().index(&conn)?;
            let tx = conn.transaction()?;
            let ids = store::delete_external(&tx, id, &gone, version)?;
            let c = Counts {
                deleted: ids.len() as u64,
                ..Counts::default()
            };
            store::add_counts(&tx, version, &c)?;
            store::mark_index_dirty(&tx)?;
            tx.commit()?;
            if let Some(ix) = index.as_mut() {
                for key in &ids {
                    ix.remove(*key as u64)?;
                }
            }
            Ok(ids.len() as u64)
        })
        .await
        .map_err(|e| CoreError::internal(format!("Pruning failed: {e}")))??;
        self.counts.deleted += deleted;
        Ok(())
    }

    async fn finish(mut self, ended: Ended) -> SyncReport {
        self.progress(SyncPhase::Finishing, true);
        let (status, error) = match ended {
            Ended::Done if self.counts.skipped > 0 => (SyncOutcome::Partial, None),
            Ended::Done => (SyncOutcome::Success, None),
            Ended::Cancelled => (SyncOutcome::Cancelled, None),
            Ended::Failed(e) => (SyncOutcome::Error, Some(e)),
        };
        let notes = self.generated_notes(status, error.as_ref());
        let core = self.core.clone();
        let (id, version) = (self.integration.id, self.version);
        let err_for_db = error.clone();
        let changed = self.counts.added + self.counts.updated + self.counts.deleted > 0;
        let saved = tokio::task::spawn_blocking(move || -> CoreResult<u64> {
            let conn = core.db().conn();
            let error_json = err_for_db.as_ref().map(sync_error_json);
            store::finish_version(&conn, version, status.as_str(), &notes, error_json.as_deref())?;
            store::set_last_version(&conn, id, version)?;
            store::snapshot_sync_state(&conn, version, id)?;
            let now = now_rfc3339();
            match status {
                SyncOutcome::Success | SyncOutcome::Partial => {
                    conn.execute(
                        "UPDATE integrations SET status = ?2, last_sync = ?3, error_json = NULL WHERE id = ?1",
                        rusqlite::params![id, status.as_str(), now],
                    )?;
                }
                SyncOutcome::Error => {
                    conn.execute(
                        "UPDATE integrations SET status = 'error', error_json = ?2 WHERE id = ?1",
                        rusqlite::params![id, error_json],
                    )?;
                }
                // A cancelled sync keeps what it committed and the previous status.
                SyncOutcome::Cancelled => {}
            }
            core.knowledge_base().save_index(&conn)?;
            if changed {
                store::optimize_fts(&conn);
            }
            store::integration_total(&conn, id)
        })
        .await;
        let total = match saved {
            Ok(Ok(total)) => total,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not record the end of a sync");
                0
            }
            Err(e) => {
                tracing::error!(error = %e, "could not record the end of a sync");
                0
            }
        };
        tracing::info!(integration = %self.integration.name, status = status.as_str(), added = self.counts.added, updated = self.counts.updated, deleted = self.counts.deleted, skipped = self.counts.skipped, "sync finished");
        SyncReport {
            status,
            fetched: self.counts.fetched,
            added: self.counts.added,
            updated: self.counts.updated,
            unchanged: self.counts.unchanged,
            deleted: self.counts.deleted,
            skipped: self.counts.skipped,
            total,
            version: Some(self.version),
            skipped_records: std::mem::take(&mut self.skipped_records),
            notes: std::mem::take(&mut self.notes),
            duration_s: self.started.elapsed().as_secs_f64(),
            error,
        }
    }

    fn generated_notes(&self, status: SyncOutcome, error: Option<&CoreError>) -> String {
        let c = &self.counts;
        let mut s = format!(
            "{} sync of {}: {} fetched, {} added, {} updated, {} unchanged, {} deleted, {} skipped.",
            if self.options.full { "Full" } else { "Incremental" },
            self.integration.name,
            c.fetched,
            c.added,
            c.updated,
            c.unchanged,
            c.deleted,
            c.skipped
        );
        match (status, error) {
            (SyncOutcome::Error, Some(e)) => s.push_str(&format!(" Failed: {}", e.message)),
            (SyncOutcome::Cancelled, _) => s.push_str(" Cancelled; committed batches kept."),
            _ => {}
        }
        for n in &self.notes {
            s.push(' ');
            s.push_str(n);
        }
        s
    }

    /// Sends a progress event, at most every 100 ms unless `force`.
    fn progress(&mut self, phase: SyncPhase, force: bool) {
        let now = Instant::now();
        if !force && now.duration_since(self.last_event) < PROGRESS_EVERY {
            return;
        }
        self.last_event = now;
        let processed = self.counts.fetched;
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = processed as f64 / elapsed;
        let batch_size = self.options.batch_size.max(1) as u64;
        let total_batches = self
            .total_hint
            .map(|t| t.div_ceil(batch_size).max(self.batch));
        let eta_s = self
            .total_hint
            .filter(|_| rate > 0.0)
            .map(|t| (t.saturating_sub(processed)) as f64 / rate);
        (self.on_progress)(SyncProgress {
            phase,
            batch: self.batch,
            total_batches,
            processed,
            total_hint: self.total_hint,
            added: self.counts.added,
            updated: self.counts.updated,
            unchanged: self.counts.unchanged,
            skipped: self.counts.skipped,
            rate,
            eta_s,
        });
    }
}

fn add(total: &mut Counts, c: &Counts) {
    total.fetched += c.fetched;
    total.added += c.added;
    total.updated += c.updated;
    total.unchanged += c.unchanged;
    total.deleted += c.deleted;
    total.skipped += c.skipped;
}

/// The integration's `error_json`: code, message, the technical detail, when.
fn sync_error_json(e: &CoreError) -> String {
    serde_json::json!({
        "code": e.code.as_str(),
        "message": e.message,
        "detail": e.fields.get("detail"),
        "at": now_rfc3339(),
    })
    .to_string()
}

/// One batch: embed what changed, then one transaction for rows, changes, counts, checkpoint.
struct BatchCommit {
    integration_id: i64,
    source_name: String,
    version: i64,
    incidents: Vec<SourceIncident>,
    /// New embeddings, aligned with `incidents`; `None` keeps the stored one.
    vectors: Vec<Option<Vec<f32>>>,
    skipped: Vec<SkippedRecord>,
    watermark: Option<crate::connectors::Watermark>,
}

/// For each batch, the embedding of every incident that is new or whose embedded text changed
/// (`None` for the others), computed in one embedder call for the whole page.
fn embed_changed(
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
    fn run(self, core: &Core) -> CoreResult<Counts> {
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
