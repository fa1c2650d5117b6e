//! Fetching pages ahead of the embedder and processing each into batches; then pruning (see
//! `deletions`).

// The sync module's types and imports: this file is one part of `Run`'s life.
use super::*;

impl Run {
    /// Fetches pages in a task ahead of the processing loop, then handles deletions.
    pub(super) async fn pull(&mut self, mut connector: Connector) -> Ended {
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
    pub(super) async fn process_page(&mut self, page: Page) -> CoreResult<()> {
        // The source counts what matches from this page on: add what came before it.
        if let Some(remaining) = page.total_hint {
            self.total_hint = Some(self.counts.fetched + remaining);
            if self.counts.fetched + self.counts.skipped == 0 && self.source_total.is_none() {
                self.source_total = Some(remaining);
            }
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
}
