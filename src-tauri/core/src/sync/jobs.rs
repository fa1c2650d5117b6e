//! Running syncs: at most one per integration, each with a cancel token; and knowledge-base
//! maintenance (rollback, rebuild) that runs alone, with no sync beside it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::error::{CoreError, CoreResult, ErrorCode};

/// The registry of running syncs, held by `Core` (not a static, so tests get their own).
#[derive(Default, Clone)]
pub struct SyncJobs {
    running: Arc<Mutex<Registry>>,
}

/// One lock over both, so "no sync runs" and "maintenance starts" are decided together.
#[derive(Default)]
struct Registry {
    syncs: HashMap<i64, (String, CancellationToken)>,
    /// What exclusive job runs ("rollback", "index rebuild"), if any.
    exclusive: Option<String>,
}

/// Removes the job from the registry when the sync ends, however it ends.
pub struct JobGuard {
    jobs: SyncJobs,
    id: i64,
    pub cancel: CancellationToken,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.jobs.lock().syncs.remove(&self.id);
    }
}

/// Holds the knowledge base for an exclusive job; syncs may start again once it is dropped.
pub struct ExclusiveGuard {
    jobs: SyncJobs,
}

impl Drop for ExclusiveGuard {
    fn drop(&mut self) {
        self.jobs.lock().exclusive = None;
    }
}

impl SyncJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a sync of `id`, refusing a second one, and any while an exclusive job runs.
    pub fn start(&self, id: i64, name: &str) -> CoreResult<JobGuard> {
        let mut running = self.lock();
        if let Some(what) = &running.exclusive {
            return Err(CoreError::new(
                ErrorCode::SyncRunning,
                format!("A knowledge base {what} is running, so \"{name}\" cannot sync now. Sync again when it has finished."),
            ));
        }
        if running.syncs.contains_key(&id) {
            return Err(CoreError::new(
                ErrorCode::SyncRunning,
                format!(
                    "A sync of \"{name}\" is already running. Wait for it to finish, or cancel it."
                ),
            ));
        }
        let cancel = CancellationToken::new();
        running.syncs.insert(id, (name.to_string(), cancel.clone()));
        Ok(JobGuard {
            jobs: self.clone(),
            id,
            cancel,
        })
    }

    /// Registers an exclusive job named `what` ("rollback"): refused while any sync or another
    /// exclusive job runs; until the guard drops, every sync is refused.
    pub fn start_exclusive(&self, what: &str) -> CoreResult<ExclusiveGuard> {
        let mut running = self.lock();
        if let Some(other) = &running.exclusive {
            return Err(CoreError::new(
                ErrorCode::SyncRunning,
                format!("A knowledge base {other} is already running. Try the {what} again when it has finished."),
            ));
        }
        if !running.syncs.is_empty() {
            let mut names: Vec<&str> = running.syncs.values().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            return Err(CoreError::new(
                ErrorCode::SyncRunning,
                format!(
                    "A sync is running ({}). Wait for it to finish or cancel it, then start the {what} again.",
                    names.join(", ")
                ),
            ));
        }
        running.exclusive = Some(what.to_string());
        Ok(ExclusiveGuard { jobs: self.clone() })
    }

    pub fn is_running(&self, id: i64) -> bool {
        self.lock().syncs.contains_key(&id)
    }

    /// Whether any sync runs.
    pub fn any_running(&self) -> bool {
        !self.lock().syncs.is_empty()
    }

    /// Cancels a running sync; `false` when none runs.
    pub fn cancel(&self, id: i64) -> bool {
        match self.lock().syncs.get(&id) {
            Some((_, token)) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}
