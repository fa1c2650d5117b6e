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

mod commit;
mod deletions;
mod finish;
mod jobs;
mod pull;
mod run;
mod schedule;

use commit::{embed_changed, BatchCommit};
use finish::add;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

pub use deletions::{CHEAP_LISTING_MAX, ID_LISTING_EVERY};
pub use jobs::{ExclusiveGuard, JobGuard, SyncJobs};

use crate::clock::now_rfc3339;
use crate::connectors::pacing::{WaitNotice, WaitObserver, WaitReason};
use crate::connectors::{Connector, ConnectorOptions, Page, SkippedRecord, SourceIncident};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::integrations::Integration;
use crate::kb::{store, Counts, MODEL_ID};
use crate::{Actor, Core, Permission};

/// Incidents embedded and committed together. Measured (see BENCHMARKS.md): length-sorted
/// batches of 32 embed as fast as single texts while amortising the transaction.
pub const DEFAULT_BATCH_SIZE: usize = 32;
/// Incidents asked for per request.
pub const DEFAULT_PAGE_SIZE: usize = 200;
/// A full reconcile that would remove more than this share of an integration's incidents holds
/// the deletions until the admin confirms: a source that suddenly lists far fewer incidents
/// has more often lost access (a role, an ACL) than lost the incidents.
pub const MASS_DELETE_SHARE: f64 = 0.10;
/// …and more than this many incidents, unless it would remove all of them: a small knowledge
/// base losing one or two incidents to real deletions needs no confirmation, an emptied one
/// does.
pub const MASS_DELETE_FLOOR: usize = 5;
/// Pages fetched ahead of the embedder.
const PREFETCH_PAGES: usize = 2;
/// Minimum time between two progress events (the last one always goes out).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Also list every id at the source and remove incidents deleted there.
    pub full: bool,
    /// A full reconcile may remove more than [`MASS_DELETE_SHARE`] of the integration's
    /// incidents (the admin confirmed that they were really deleted at the source).
    pub allow_mass_delete: bool,
    pub batch_size: usize,
    pub page_size: usize,
    /// Connector tuning (retry policy, timeouts); tests shorten waits with it.
    pub connector: ConnectorOptions,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full: false,
            allow_mass_delete: false,
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
    /// Waiting for the source's rate limit, a maintenance window, or the request budget:
    /// [`SyncProgress::wait`] says which and how long.
    Waiting,
    Finishing,
}

/// What a waiting sync waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitFor {
    /// The source answered 429 (or 503 asking to wait).
    RateLimit,
    /// The source answered 503: maintenance or overload.
    Maintenance,
    /// The integration's request budget for the hour is spent.
    RequestBudget,
}

/// A wait that a sync is in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncWait {
    pub reason: WaitFor,
    /// Whole seconds, rounded up.
    pub seconds: u64,
    /// "waiting for rate limit (12 s)": what the CLI and the window show.
    pub label: String,
}

impl SyncWait {
    pub fn new(reason: WaitFor, seconds: u64) -> SyncWait {
        let what = match reason {
            WaitFor::RateLimit => "rate limit",
            WaitFor::Maintenance => "the instance to come back (HTTP 503)",
            WaitFor::RequestBudget => "rate limit: request budget of the hour spent",
        };
        SyncWait {
            reason,
            seconds,
            label: format!("waiting for {what} ({seconds} s)"),
        }
    }
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
    /// Set while the phase is `waiting`.
    pub wait: Option<SyncWait>,
}

impl SyncProgress {
    /// The event before anything was fetched.
    fn starting() -> SyncProgress {
        SyncProgress {
            phase: SyncPhase::Connecting,
            batch: 0,
            total_batches: None,
            processed: 0,
            total_hint: None,
            added: 0,
            updated: 0,
            unchanged: 0,
            skipped: 0,
            rate: 0.0,
            eta_s: None,
            wait: None,
        }
    }
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
    /// What the source counted for this run's query when it began (`X-Total-Count`, Jira's
    /// total); `None` when it gives no count (Jira Cloud's token paging).
    pub source_total: Option<u64>,
    /// Incidents the source counted that this run could not read (hidden from the account by
    /// row-level ACLs, or deleted while it ran): a run with any ends `partial`.
    pub unread: u64,
    /// Deletions a full reconcile held back (more than [`MASS_DELETE_SHARE`] of the
    /// integration's incidents, not confirmed): the run ends `partial`.
    pub held_deletions: u64,
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
            Arc::new(on_progress),
        )?;
        Ok(run.execute().await)
    }

    /// Cancels a running sync of `id`; the pending `sync` then reports `cancelled`.
    pub fn cancel_sync(&self, actor: &Actor, id: i64) -> CoreResult<bool> {
        actor.require(Permission::IntegrationSync)?;
        Ok(self.sync_jobs().cancel(id))
    }
}

type ProgressFn = Arc<dyn Fn(SyncProgress) + Send + Sync>;

/// One sync in progress.
struct Run {
    core: Arc<Core>,
    integration: Integration,
    options: SyncOptions,
    job: JobGuard,
    on_progress: ProgressFn,
    /// The last event sent, so a wait announced from the fetching task keeps the counts.
    last_progress: Arc<std::sync::Mutex<Option<SyncProgress>>>,
    version: i64,
    started: Instant,
    last_event: Instant,
    counts: Counts,
    batch: u64,
    total_hint: Option<u64>,
    /// The first page's count (see [`SyncReport::source_total`]).
    source_total: Option<u64>,
    /// See [`SyncReport::held_deletions`].
    held_deletions: u64,
    skipped_records: Vec<SkippedRecord>,
    notes: Vec<String>,
}

/// Outcome of the fetch + process loop.
enum Ended {
    Done,
    Cancelled,
    Failed(CoreError),
}
