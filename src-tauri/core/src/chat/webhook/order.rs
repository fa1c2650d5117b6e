//! The ordered delivery worker of one session: a sliding reorder buffer (see the module docs of
//! `webhook`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{ConversationSink, Inbound};

/// A payload waiting in a session's reorder buffer, ordered by (order key, arrival).
struct Held {
    key: (i64, u64),
    due: tokio::time::Instant,
    inbound: Inbound,
    stored: oneshot::Receiver<bool>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// The ordered delivery worker of one session: a sliding reorder buffer. Each payload is held
/// for `window` after it arrived; the lowest key is released once its own time is up (higher
/// keys wait behind it). So a payload that overtook another by at most `window` is released
/// after it, whatever the batch boundaries; a fixed batch window would let an inversion that
/// straddles two batches through.
pub(super) fn spawn_worker(
    sink: Arc<dyn ConversationSink>,
    window: Duration,
) -> mpsc::UnboundedSender<(Inbound, oneshot::Receiver<bool>)> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let (tx, mut rx) = mpsc::unbounded_channel::<(Inbound, oneshot::Receiver<bool>)>();
    tokio::spawn(async move {
        let mut released: Option<(i64, u64)> = None;
        let mut held: BinaryHeap<Reverse<Held>> = BinaryHeap::new();
        let mut open = true;
        while open || !held.is_empty() {
            let due = held.peek().map(|Reverse(h)| h.due);
            tokio::select! {
                next = rx.recv(), if open => match next {
                    Some((inbound, stored)) => held.push(Reverse(Held {
                        key: (inbound.order_key, inbound.arrival),
                        due: tokio::time::Instant::now() + window,
                        inbound,
                        stored,
                    })),
                    None => open = false,
                },
                _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() || !open => {
                    let Some(Reverse(h)) = held.pop() else { continue };
                    // Only what was stored (not a duplicate, not a failure) is handed over.
                    if h.stored.await != Ok(true) {
                        continue;
                    }
                    let mut inbound = h.inbound;
                    if released.is_some_and(|r| h.key < r) {
                        inbound.late = true;
                    } else {
                        released = Some(h.key);
                    }
                    sink.deliver(inbound);
                }
            }
        }
    });
    tx
}
