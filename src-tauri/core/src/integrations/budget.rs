//! Each integration's request budget: one per integration in this process, shared by its syncs
//! and connection checks, and carried across processes through the `request_log` column.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::connectors::pacing::RequestBudget;
use crate::error::CoreResult;
use crate::integrations::Integration;
use crate::Core;

impl Core {
    /// The budget `integration` paces its requests under, or `None` when it has none.
    pub(crate) fn request_budget(
        &self,
        integration: &Integration,
    ) -> CoreResult<Option<Arc<RequestBudget>>> {
        let Some(per_hour) = integration.request_budget else {
            return Ok(None);
        };
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(budget) = budgets.get(&integration.id) {
            if budget.per_hour() == per_hour {
                return Ok(Some(budget.clone()));
            }
        }
        let recent = load(&self.db().conn(), integration.id)?;
        let budget = Arc::new(RequestBudget::new(per_hour, recent));
        budgets.insert(integration.id, budget.clone());
        Ok(Some(budget))
    }

    /// Stores the send times of the last hour of `integration`'s budget, for the next process.
    pub(crate) fn save_request_log(&self, integration_id: i64) -> CoreResult<()> {
        let budget = {
            let budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
            budgets.get(&integration_id).cloned()
        };
        let Some(budget) = budget else { return Ok(()) };
        let seconds: Vec<u64> = budget
            .recent()
            .into_iter()
            .filter_map(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .collect();
        self.db().conn().execute(
            "UPDATE integrations SET request_log = ?2 WHERE id = ?1",
            rusqlite::params![
                integration_id,
                serde_json::to_string(&seconds).unwrap_or_default()
            ],
        )?;
        Ok(())
    }
}

fn load(conn: &rusqlite::Connection, id: i64) -> CoreResult<Vec<SystemTime>> {
    let json: Option<String> = conn.query_row(
        "SELECT request_log FROM integrations WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let seconds: Vec<u64> = json
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    Ok(seconds
        .into_iter()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
        .collect())
}
