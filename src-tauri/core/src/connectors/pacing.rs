//! Staying under an instance's request limit instead of running into it: a per-integration
//! budget of requests per rolling hour that a sync waits for, and the notices that tell the
//! user a sync is waiting (for the budget, or for a server that rate limits).
//!
//! Invariants: a request is counted when it is sent, retries included, so the budget holds
//! against the instance's own count; a wait is always announced through the observer before
//! it starts, and is cut short by cancellation (the caller selects on its cancel token).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The window a budget counts over: ServiceNow's rate limit rules are per hour.
pub const BUDGET_WINDOW: Duration = Duration::from_secs(3600);

/// Why a request waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// The server answered 429 (or 503 with a wait) and this is the backoff before retrying.
    RateLimited,
    /// The server answered 503 without a wait: maintenance or overload.
    Unavailable,
    /// The integration's request budget for the hour is spent.
    Budget,
}

/// A wait about to start, for progress reporting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitNotice {
    pub reason: WaitReason,
    /// How long, as the production schedule has it (tests may sleep a scaled fraction).
    pub wait: Duration,
}

/// Told about every wait before it starts.
#[derive(Clone)]
pub struct WaitObserver(pub Arc<dyn Fn(WaitNotice) + Send + Sync>);

impl WaitObserver {
    pub fn new(f: impl Fn(WaitNotice) + Send + Sync + 'static) -> WaitObserver {
        WaitObserver(Arc::new(f))
    }
    pub(crate) fn notify(&self, notice: WaitNotice) {
        (self.0)(notice)
    }
}

impl fmt::Debug for WaitObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitObserver")
    }
}

/// Requests per rolling hour that one integration may send, shared by every connector of that
/// integration in this process (syncs, connection checks), with the send times of the last
/// hour so a new process can carry on where the last one stopped.
#[derive(Debug)]
pub struct RequestBudget {
    per_hour: u32,
    sent: Mutex<VecDeque<SystemTime>>,
}

impl RequestBudget {
    /// A budget of `per_hour` requests (at least 1), starting from the send times `recent`
    /// (older ones are dropped).
    pub fn new(per_hour: u32, recent: impl IntoIterator<Item = SystemTime>) -> RequestBudget {
        let mut sent: Vec<SystemTime> = recent.into_iter().collect();
        sent.sort();
        let budget = RequestBudget {
            per_hour: per_hour.max(1),
            sent: Mutex::new(sent.into()),
        };
        budget.prune(SystemTime::now());
        budget
    }

    pub fn per_hour(&self) -> u32 {
        self.per_hour
    }

    /// Takes one request from the budget at `now` when there is room (`None`), or says how
    /// long until there is (nothing is taken then).
    pub fn take(&self, now: SystemTime) -> Option<Duration> {
        let mut sent = self.lock();
        drop_older(&mut sent, now);
        if sent.len() < self.per_hour as usize {
            sent.push_back(now);
            return None;
        }
        let oldest = *sent.front()?;
        let frees_at = oldest + BUDGET_WINDOW;
        Some(
            frees_at
                .duration_since(now)
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_millis(1)),
        )
    }

    /// Counts a request sent at `now` whether or not the budget had room.
    pub(crate) fn record(&self, now: SystemTime) {
        self.lock().push_back(now);
    }

    /// The send times of the last hour, oldest first (to persist between processes).
    pub fn recent(&self) -> Vec<SystemTime> {
        let mut sent = self.lock();
        drop_older(&mut sent, SystemTime::now());
        sent.iter().copied().collect()
    }

    fn prune(&self, now: SystemTime) {
        drop_older(&mut self.lock(), now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<SystemTime>> {
        // A panic while holding this lock leaves a valid queue behind.
        self.sent.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn drop_older(sent: &mut VecDeque<SystemTime>, now: SystemTime) {
    while let Some(first) = sent.front() {
        let age = now.duration_since(*first).unwrap_or(Duration::ZERO);
        if age >= BUDGET_WINDOW {
            sent.pop_front();
        } else {
            break;
        }
    }
}

/// What a connector paces itself with; the default neither limits nor reports.
#[derive(Debug, Clone, Default)]
pub struct Pacing {
    pub budget: Option<Arc<RequestBudget>>,
    pub on_wait: Option<WaitObserver>,
}

impl Pacing {
    pub(crate) fn announce(&self, reason: WaitReason, wait: Duration) {
        if let Some(observer) = &self.on_wait {
            observer.notify(WaitNotice { reason, wait });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_says_when_the_oldest_request_leaves_the_hour() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let budget = RequestBudget::new(3, []);
        for i in 0..3 {
            assert_eq!(budget.take(start + Duration::from_secs(i * 10)), None);
        }
        let later = start + Duration::from_secs(60);
        assert_eq!(budget.take(later), Some(Duration::from_secs(3540)));
        // Once the first request is an hour old, one more fits.
        assert_eq!(budget.take(start + BUDGET_WINDOW), None);
        assert!(budget.take(start + BUDGET_WINDOW).is_some());
    }

    #[test]
    fn send_times_carried_over_count_and_old_ones_are_dropped() {
        let now = SystemTime::now();
        let budget = RequestBudget::new(
            2,
            [
                now - Duration::from_secs(7200),
                now - Duration::from_secs(60),
            ],
        );
        assert_eq!(budget.recent().len(), 1);
        assert_eq!(budget.take(now), None);
        assert!(budget.take(now).is_some());
    }
}
