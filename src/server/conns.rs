//! The connections being served: which have a request in flight, and when each last did, so that
//! at the connection limit the one idle longest makes room for a new one.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::Notify;

/// Every connection being served.
pub(super) struct Conns {
    started: Instant,
    next_id: AtomicU64,
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
}

/// One connection: its requests in flight, when it last started or finished one (ms since the
/// server started), and how it is asked to close.
pub(super) struct Slot {
    id: u64,
    busy: AtomicUsize,
    last_active_ms: AtomicU64,
    pub close: Notify,
}

/// Marks a request in flight on its connection while it lives.
pub(super) struct Busy {
    slot: Arc<Slot>,
    conns: Arc<Conns>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.slot.busy.fetch_sub(1, Ordering::AcqRel);
        self.slot.last_active_ms.store(self.conns.now_ms(), Ordering::Release);
    }
}

impl Conns {
    pub fn new() -> Arc<Conns> {
        Arc::new(Conns { started: Instant::now(), next_id: AtomicU64::new(0), slots: Mutex::new(BTreeMap::new()) })
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Registers a new connection.
    pub fn open(&self) -> Arc<Slot> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            id,
            busy: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(self.now_ms()),
            close: Notify::new(),
        });
        self.slots.lock().insert(id, slot.clone());
        slot
    }

    /// Forgets a connection that closed.
    pub fn closed(&self, slot: &Slot) {
        self.slots.lock().remove(&slot.id);
    }

    /// A request starts on `slot`.
    pub fn busy(self: &Arc<Self>, slot: &Arc<Slot>) -> Busy {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        slot.last_active_ms.store(self.now_ms(), Ordering::Release);
        Busy { slot: slot.clone(), conns: self.clone() }
    }

    /// Asks the connection idle longest (no request in flight) to close; false when every
    /// connection is busy.
    pub fn shed_idlest(&self) -> bool {
        let slots = self.slots.lock();
        let idlest = slots
            .values()
            .filter(|s| s.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|s| s.last_active_ms.load(Ordering::Acquire));
        match idlest {
            Some(s) => {
                s.close.notify_one();
                true
            }
            None => false,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idlest_connection_without_a_request_is_shed() {
        let conns = Conns::new();
        let (a, b) = (conns.open(), conns.open());
        let busy = conns.busy(&a);
        assert!(conns.shed_idlest());
        // b was asked to close (its permit is stored), a was not.
        assert!(futures_ready(&b.close));
        assert!(!futures_ready(&a.close));
        conns.closed(&b);
        assert!(!conns.shed_idlest(), "the only connection left is busy");
        drop(busy);
        assert!(conns.shed_idlest());
        assert_eq!(conns.len(), 1);
    }

    use std::future::Future;

    /// Whether a `notify_one` is stored for the next waiter.
    fn futures_ready(n: &Notify) -> bool {
        let f = n.notified();
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        f.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_ready()
    }
}
