//! Running syncs: at most one per integration, each with a cancel token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::error::{CoreError, CoreResult, ErrorCode};

/// The registry of running syncs, held by `Core` (not a static, so tests get their own).
#[derive(Default, Clone)]
pub struct SyncJobs {
    running: Arc<Mutex<HashMap<i64, CancellationToken>>>,
}

/// Removes the job from the registry when the sync ends, however it ends.
pub struct JobGuard {
    jobs: SyncJobs,
    id: i64,
    pub cancel: CancellationToken,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.jobs.lock().remove(&self.id);
    }
}

impl SyncJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, CancellationToken>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a sync of `id`, refusing a second one.
    pub fn start(&self, id: i64, name: &str) -> CoreResult<JobGuard> {
        let mut running = self.lock();
        if running.contains_key(&id) {
            return Err(CoreError::new(
                ErrorCode::SyncRunning,
                format!(
                    "A sync of \"{name}\" is already running. Wait for it to finish, or cancel it."
                ),
            ));
        }
        let cancel = CancellationToken::new();
        running.insert(id, cancel.clone());
        Ok(JobGuard {
            jobs: self.clone(),
            id,
            cancel,
        })
    }

    pub fn is_running(&self, id: i64) -> bool {
        self.lock().contains_key(&id)
    }

    /// Cancels a running sync; `false` when none runs.
    pub fn cancel(&self, id: i64) -> bool {
        match self.lock().get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}
