//! Removing what the source deleted, without waiting for a full reconcile: ServiceNow's
//! deletion log (`sys_audit_delete`) when the account may read it; otherwise (that account,
//! and Jira, which has no such log) an id-only listing compared with the knowledge base, at
//! every sync while it costs a page or two, else every [`ID_LISTING_EVERY`]th sync. A full
//! reconcile always lists.
//!
//! Invariants: a listing that came back shorter than the source's own count (ACL-hidden rows)
//! removes nothing; a listing that would remove more than [`MASS_DELETE_SHARE`] of the
//! integration's incidents holds them until the admin confirms (lost access is not deletion);
//! every removal is recorded in the sync's version as deleted.

// The sync module's types and imports: this file is one part of `Run`'s life.
use super::*;

/// Without a readable deletion log, an id-only listing runs at least every this many syncs.
pub const ID_LISTING_EVERY: u32 = 5;
/// …and at every sync while the integration holds at most this many incidents: one or two
/// pages of ids (ServiceNow answers 10,000 per page, Jira Cloud 5,000).
pub const CHEAP_LISTING_MAX: usize = 10_000;

impl Run {
    /// Removes incidents deleted at the source (see the module docs).
    pub(super) async fn prune(
        &mut self,
        connector: &mut Connector,
        checkpoint: Option<String>,
    ) -> CoreResult<()> {
        self.progress(SyncPhase::Pruning, true);
        let id = self.integration.id;
        let gone = if self.options.full {
            self.listed_deletions(connector).await?
        } else {
            let mut from_log = None;
            if connector.supports_deletion_log() {
                let since = checkpoint.unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
                match connector.deleted_since(&since).await {
                    Ok(d) => {
                        if let Some(c) = &d.checkpoint {
                            store::set_deletions_checkpoint(&self.core.db().conn(), id, c)?;
                        }
                        from_log = Some(d.ids);
                    }
                    Err(e) if e.code == ErrorCode::Forbidden => {}
                    Err(e) => return Err(e),
                }
            }
            match from_log {
                Some(ids) => ids,
                None => self.periodic_listing(connector).await?,
            }
        };
        if gone.is_empty() {
            return Ok(());
        }
        self.remove(gone).await
    }

    /// The id-only listing when it is due, counting the syncs in between.
    async fn periodic_listing(&mut self, connector: &mut Connector) -> CoreResult<Vec<String>> {
        let id = self.integration.id;
        let (since, held) = {
            let conn = self.core.db().conn();
            let since: u32 = conn.query_row(
                "SELECT syncs_since_listing FROM integrations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            (since, store::integration_total(&conn, id)? as usize)
        };
        let due = since + 1 >= ID_LISTING_EVERY || held <= CHEAP_LISTING_MAX;
        let core = self.core.clone();
        let set_since = move |n: u32| -> CoreResult<()> {
            core.db().conn().execute(
                "UPDATE integrations SET syncs_since_listing = ?2 WHERE id = ?1",
                rusqlite::params![id, n],
            )?;
            Ok(())
        };
        if !due {
            set_since(since + 1)?;
            let why = if connector.supports_deletion_log() {
                "The deletion log (sys_audit_delete) is not readable by this account, so"
            } else {
                "Jira keeps no deletion log, so"
            };
            self.notes.push(format!(
                "{why} deleted incidents are found by listing every id at the source every \
                 {ID_LISTING_EVERY}th sync (next in {} syncs), or now with a full reconcile.",
                ID_LISTING_EVERY - since - 1
            ));
            return Ok(Vec::new());
        }
        let gone = self.listed_deletions(connector).await?;
        set_since(0)?;
        Ok(gone)
    }

    /// What an id-only listing says is gone, or nothing when the listing cannot be trusted
    /// (incomplete) or would remove too much without confirmation (held, with a note).
    async fn listed_deletions(&mut self, connector: &mut Connector) -> CoreResult<Vec<String>> {
        let id = self.integration.id;
        let listed = connector.list_all_ids(&self.integration.filters).await?;
        if !listed.is_complete() {
            self.notes.push("The source listed fewer incidents than it reports (row-level security?); nothing was removed.".into());
            return Ok(Vec::new());
        }
        let listed_count = listed.ids.len();
        let present: std::collections::HashSet<String> = listed.ids.into_iter().collect();
        let local = store::external_ids(&self.core.db().conn(), id)?;
        let held = local.len();
        let gone: Vec<String> = local.into_iter().filter(|e| !present.contains(e)).collect();
        #[allow(clippy::cast_precision_loss)]
        let mass = gone.len() as f64 > MASS_DELETE_SHARE * held as f64
            && (gone.len() > MASS_DELETE_FLOOR || (gone.len() == held && held > 0));
        if mass && !self.options.allow_mass_delete {
            self.held_deletions = gone.len() as u64;
            self.notes.push(format!(
                "The source listed {listed_count} incidents while the knowledge base holds {held} \
                 from it: {} would be removed, more than {:.0} %. That usually means the \
                 account lost access (a role or ACL change), not that the incidents were \
                 deleted, so nothing was removed. Check the account with Test connection; if \
                 they really were deleted, confirm the removal from the card or run `supportbot \
                 sync {} --full --allow-mass-delete`.",
                gone.len(),
                MASS_DELETE_SHARE * 100.0,
                self.integration.name
            ));
            return Ok(Vec::new());
        }
        Ok(gone)
    }

    /// Deletes `gone` (external ids) in one transaction recorded in this sync's version.
    async fn remove(&mut self, gone: Vec<String>) -> CoreResult<()> {
        let id = self.integration.id;
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
}
