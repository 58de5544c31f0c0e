//! The in-process bus: the default when no Redis is configured.
//!
//! A [`LocalBus::standalone`] bus has nobody to fan out to: publishing is a no-op and rooms skip
//! reconciliation. Buses made by one [`LocalHub`] deliver to each other as Redis would (encoded
//! envelopes, own echoes dropped, same inbox policy), so tests run several "instances" of the room logic
//! in one process; with the `test-util` feature the hub can also lose messages and simulate an outage to
//! exercise reconciliation.

#[cfg(feature = "test-util")]
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{Bus, BusEvent, BusMessage, Dropped, Envelope, Inboxes, Subscription};
use crate::ids::{InstanceId, RoomId};
use crate::metrics::{Metrics, inc};

/// Connects in-process buses to each other (tests), with fault injection (`test-util`).
#[derive(Default)]
pub struct LocalHub {
    members: Mutex<Vec<Weak<Member>>>,
    /// While set, every publish is lost (and reported as `Dropped::Down`), like a Redis outage.
    #[cfg(feature = "test-util")]
    down: AtomicBool,
    /// The next this-many publishes are lost silently, like messages lost on the way.
    #[cfg(feature = "test-util")]
    lose_next: AtomicU64,
}

struct Member {
    instance: InstanceId,
    inboxes: Arc<Inboxes>,
}

pub struct LocalBus {
    instance: InstanceId,
    inboxes: Arc<Inboxes>,
    metrics: Arc<Metrics>,
    hub: Option<Arc<LocalHub>>,
    _member: Option<Arc<Member>>,
}

impl LocalBus {
    /// The single-process bus: nothing to fan out to.
    pub fn standalone(instance: InstanceId, metrics: Arc<Metrics>) -> LocalBus {
        LocalBus {
            instance,
            inboxes: Inboxes::new(metrics.clone(), Box::new(|| {})),
            metrics,
            hub: None,
            _member: None,
        }
    }
}

impl LocalHub {
    pub fn new() -> Arc<LocalHub> {
        Arc::new(LocalHub::default())
    }

    /// A bus for one more "instance" in this process.
    pub fn bus(self: &Arc<LocalHub>, instance: InstanceId, metrics: Arc<Metrics>) -> LocalBus {
        let inboxes = Inboxes::new(metrics.clone(), Box::new(|| {}));
        let member = Arc::new(Member {
            instance: instance.clone(),
            inboxes: inboxes.clone(),
        });
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members.retain(|m| m.strong_count() > 0);
        members.push(Arc::downgrade(&member));
        LocalBus {
            instance,
            inboxes,
            metrics,
            hub: Some(self.clone()),
            _member: Some(member),
        }
    }

    /// Loses the next `n` publishes (from any member).
    #[cfg(feature = "test-util")]
    pub fn lose_next(&self, n: u64) {
        self.lose_next.store(n, Ordering::Relaxed);
    }

    /// Starts an outage: every publish is lost until [`LocalHub::recover`].
    #[cfg(feature = "test-util")]
    pub fn go_down(&self) {
        self.down.store(true, Ordering::Relaxed);
    }

    /// Ends an outage: every member's rooms are told [`BusEvent::Reconnected`], as the Redis bus does.
    #[cfg(feature = "test-util")]
    pub fn recover(&self) {
        self.down.store(false, Ordering::Relaxed);
        for member in self.members() {
            member.inboxes.reconnected();
        }
    }

    fn members(&self) -> Vec<Arc<Member>> {
        self.members
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    #[cfg(feature = "test-util")]
    fn lose_one(&self) -> bool {
        self.lose_next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

impl Bus for LocalBus {
    fn fans_out(&self) -> bool {
        self.hub.is_some()
    }

    fn subscribe(&self, room: &RoomId) -> BoxFuture<'static, Subscription> {
        let subscription = self.inboxes.register(room);
        async move { subscription }.boxed()
    }

    fn publish(&self, room: &RoomId, message: BusMessage) -> Result<(), Dropped> {
        let Some(hub) = &self.hub else {
            return Ok(());
        };
        #[cfg(feature = "test-util")]
        if hub.down.load(Ordering::Relaxed) {
            inc(&self.metrics.bus_dropped, 1);
            return Err(Dropped::Down);
        }
        inc(&self.metrics.bus_published, 1);
        #[cfg(feature = "test-util")]
        if hub.lose_one() {
            return Ok(());
        }
        // Through the wire format, as with Redis.
        let raw = Envelope {
            from: self.instance.clone(),
            message,
        }
        .encode();
        for member in hub.members() {
            if member.instance == self.instance || !member.inboxes.contains(room) {
                continue;
            }
            let envelope = Envelope::decode(raw.clone()).expect("an envelope just encoded");
            inc(&member.inboxes.metrics.bus_received, 1);
            member.inboxes.deliver(room, BusEvent::Message(envelope));
        }
        Ok(())
    }
}
