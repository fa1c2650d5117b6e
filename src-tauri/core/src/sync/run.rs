//! One sync's life: starting its version, connecting, and its progress events.

// The sync module's types and imports: this file is one part of `Run`'s life.
use super::*;

impl Run {
    pub(super) fn new(
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
            last_progress: Default::default(),
            version,
            started: now,
            last_event: now - PROGRESS_EVERY,
            counts: Counts::default(),
            batch: 0,
            total_hint: None,
            source_total: None,
            held_deletions: 0,
            skipped_records: Vec::new(),
            notes: Vec::new(),
        })
    }

    pub(super) async fn execute(mut self) -> SyncReport {
        self.progress(SyncPhase::Connecting, true);
        let ended = match self.connect() {
            Ok(connector) => self.pull(connector).await,
            Err(e) => Ended::Failed(e),
        };
        self.finish(ended).await
    }

    pub(super) fn connect(&self) -> CoreResult<Connector> {
        let mut options = self.options.connector.clone();
        options.cancel = self.job.cancel.clone();
        options.pacing.on_wait = Some(self.wait_observer());
        self.core.connector_for(&self.integration, options)
    }

    /// Turns the connector's wait notices into `waiting` progress events with the last counts.
    fn wait_observer(&self) -> WaitObserver {
        let on_progress = self.on_progress.clone();
        let last = self.last_progress.clone();
        WaitObserver::new(move |notice: WaitNotice| {
            let reason = match notice.reason {
                WaitReason::RateLimited => WaitFor::RateLimit,
                WaitReason::Unavailable => WaitFor::Maintenance,
                WaitReason::Budget => WaitFor::RequestBudget,
            };
            let seconds = notice.wait.as_secs_f64().ceil() as u64;
            let mut event = last
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_else(SyncProgress::starting);
            event.phase = SyncPhase::Waiting;
            event.eta_s = None;
            event.wait = Some(SyncWait::new(reason, seconds));
            on_progress(event);
        })
    }

    /// Sends a progress event, at most every 100 ms unless `force`.
    pub(super) fn progress(&mut self, phase: SyncPhase, force: bool) {
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
        let event = SyncProgress {
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
            wait: None,
        };
        *self.last_progress.lock().unwrap_or_else(|e| e.into_inner()) = Some(event.clone());
        (self.on_progress)(event);
    }
}
