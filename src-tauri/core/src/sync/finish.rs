//! How a sync ends: the version's stats and notes, the integration's status and error, the
//! report.

// The sync module's types and imports: this file is one part of `Run`'s life.
use super::*;

impl Run {
    pub(super) async fn finish(mut self, ended: Ended) -> SyncReport {
        self.progress(SyncPhase::Finishing, true);
        let done = matches!(ended, Ended::Done);
        let read = self.counts.fetched + self.counts.skipped;
        let unread = match self.source_total {
            Some(counted) if done => counted.saturating_sub(read),
            _ => 0,
        };
        if unread > 0 {
            self.notes.push(format!(
                "The source counted {} incidents for this sync but only {read} could be read: {unread} \
                 are hidden from this account (row-level ACLs) or were deleted while it ran. Grant \
                 the service account read access to every incident you want in the knowledge base, \
                 then run a full reconcile.",
                read + unread
            ));
        }
        let (status, error) = match ended {
            Ended::Done if self.counts.skipped > 0 || unread > 0 || self.held_deletions > 0 => {
                (SyncOutcome::Partial, None)
            }
            Ended::Done => (SyncOutcome::Success, None),
            Ended::Cancelled => (SyncOutcome::Cancelled, None),
            Ended::Failed(e) => (SyncOutcome::Error, Some(e)),
        };
        let notes = self.generated_notes(status, error.as_ref());
        let core = self.core.clone();
        let (id, version) = (self.integration.id, self.version);
        let err_for_db = error.clone();
        let source_total = self.source_total;
        let changed = self.counts.added + self.counts.updated + self.counts.deleted > 0;
        let saved = tokio::task::spawn_blocking(move || -> CoreResult<u64> {
            let conn = core.db().conn();
            let error_json = err_for_db.as_ref().map(sync_error_json);
            store::finish_version(&conn, version, status.as_str(), &notes, error_json.as_deref())?;
            store::set_version_source_counts(&conn, version, source_total, unread)?;
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
            drop(conn);
            core.save_request_log(id)?;
            let conn = core.db().conn();
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
            source_total: self.source_total,
            unread,
            held_deletions: self.held_deletions,
            version: Some(self.version),
            skipped_records: std::mem::take(&mut self.skipped_records),
            notes: std::mem::take(&mut self.notes),
            duration_s: self.started.elapsed().as_secs_f64(),
            error,
        }
    }

    pub(super) fn generated_notes(&self, status: SyncOutcome, error: Option<&CoreError>) -> String {
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
        if let Some(counted) = self.source_total {
            s.push_str(&format!(" The source counted {counted} for this sync."));
        }
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
}

pub(super) fn add(total: &mut Counts, c: &Counts) {
    total.fetched += c.fetched;
    total.added += c.added;
    total.updated += c.updated;
    total.unchanged += c.unchanged;
    total.deleted += c.deleted;
    total.skipped += c.skipped;
}

/// The integration's `error_json`: code, message, the technical detail, when.
pub(super) fn sync_error_json(e: &CoreError) -> String {
    serde_json::json!({
        "code": e.code.as_str(),
        "message": e.message,
        "detail": e.fields.get("detail"),
        "at": now_rfc3339(),
    })
    .to_string()
}
