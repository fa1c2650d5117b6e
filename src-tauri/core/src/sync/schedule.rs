//! Automatic syncs: which integrations are due, and running one as the scheduler.

use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{SyncOptions, SyncReport};
use crate::error::CoreResult;
use crate::{Actor, Core, Role};

/// Who scheduled syncs act as: an operator, so the scheduler can sync and nothing else.
fn scheduler() -> Actor {
    Actor {
        name: "Scheduler".into(),
        role: Role::Operator,
    }
}

impl Core {
    /// Enabled integrations with a schedule whose last attempt is older than their interval
    /// (or that never ran), and that are not syncing now. The schedule lives in SQLite and is
    /// measured from the last attempt, so it survives restarts without catching up in bursts.
    pub fn due_scheduled_syncs(&self, now: OffsetDateTime) -> CoreResult<Vec<i64>> {
        let conn = self.db().conn();
        let mut stmt = conn.prepare(
            "SELECT id, schedule_minutes, last_attempt FROM integrations
             WHERE enabled = 1 AND schedule_minutes IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut due = Vec::new();
        for row in rows {
            let (id, minutes, last) = row?;
            let last = last.and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok());
            let is_due = last.is_none_or(|t| now - t >= time::Duration::minutes(minutes));
            if is_due && !self.sync_jobs().is_running(id) {
                due.push(id);
            }
        }
        Ok(due)
    }

    /// Runs a due sync as the scheduler. `sync_running` when a manual sync got there first.
    pub async fn run_scheduled_sync(self: &Arc<Self>, id: i64) -> CoreResult<SyncReport> {
        self.sync(&scheduler(), id, SyncOptions::default(), |_| {})
            .await
    }
}
