//! Fan-out across instances: a room's document updates, awareness and reconcile messages reach every
//! other instance that has the room loaded.
//!
//! [`Bus`] has two implementations:
//! - [`LocalBus`] (the default, no Redis): with one process there is nobody to fan out to, so publishing
//!   is a no-op. Buses joined to a [`LocalHub`] deliver to each other instead, which is how the room
//!   logic is tested with several "instances" in one process (with fault injection: lost messages, an
//!   outage and its recovery).
//! - [`RedisBus`] (`--redis-url`): Redis pub/sub, one channel per loaded room.
//!
//! ## What crosses, and who sends it
//! Every message is an [`Envelope`]: the sending instance's id (a bus drops its own echoes) and a
//! [`BusMessage`]. An instance publishes only what originates with it: the deltas its own clients
//! produced, its clients' awareness (including the removal when one of its connections closes), its own
//! reconcile messages and the diffs it answers them with. Nothing received from the bus is re-published,
//! so there are no loops.
//!
//! ## No gaps: subscribe, load, reconcile
//! Pub/sub keeps nothing, so a room subscribes *before* it reads the store; whatever arrives meanwhile
//! waits in its bus inbox and is applied after the load. What was published before the subscription and
//! not yet stored is fetched by reconciling: a room publishes its state vector and a digest of its delete
//! set ([`SyncState`]) when it loads (`hello`), every [`RECONCILE_PERIOD`] while it has connections, right
//! after the bus reconnects, and soon after its inbox overflowed. A peer that has something the sender
//! lacks publishes the diff (`encode_state_as_update_v1(peer_sv)`); a peer that lacks something answers
//! with its own state so the sender can do the same (see [`reconcile`]).
//!
//! ## Bounded everywhere
//! - Each room's bus inbox holds [`INBOX`] events. The deliverer never waits for it: `try_send`, and when
//!   it is full the event is dropped, the room's `lagged` flag is set and the room reconciles (which
//!   re-fetches whatever was dropped) as soon as it next runs. A slow or stuck room therefore never stalls
//!   delivery to other rooms.
//! - Publishing never waits either: the room `try_send`s to the bus's queue; when it is full (or Redis is
//!   down) the message is dropped and counted, and the room reconciles later (after the reconnect, or on
//!   its next reconcile tick).

pub mod local;
pub mod redis;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use crate::ids::{InstanceId, RoomId};
use crate::metrics::{Metrics, inc};
use crate::queue::{self, error::TrySendError};

pub use crate::sync::peer::{BusMessage, DecodeError, Envelope, SyncState};
/// Reconciling two instances' copies of a room (pure, in [`crate::sync`] so the room core uses it too).
pub use crate::sync::reconcile;
pub use crate::sync::reconcile::{RECONCILE_JITTER, RECONCILE_PERIOD};
pub use local::{LocalBus, LocalHub};
pub use redis::RedisBus;

/// Events a room's bus inbox holds before further ones are dropped (and the room marked lagged).
pub const INBOX: usize = 1024;

/// What a room's bus inbox delivers.
#[derive(Debug, Clone)]
pub enum BusEvent {
    /// A message another instance published on the room's channel.
    Message(Envelope),
    /// The bus was down and is back (subscriptions restored): messages may have been lost meanwhile, so
    /// the room reconciles at once.
    Reconnected,
}

/// Why a publish did not go out. Either way the room heals by reconciling later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// The publish queue is full: the room should reconcile soon.
    Full,
    /// The bus is down: every room reconciles when it is back ([`BusEvent::Reconnected`]).
    Down,
}

/// A room's membership of the bus. Dropping it unsubscribes.
pub struct Subscription {
    /// Bounded ([`INBOX`]); see the module docs for the policy when full. The room takes it.
    pub events: Option<queue::Receiver<BusEvent>>,
    /// Set when an event for this room was dropped because `events` was full.
    pub lagged: Arc<AtomicBool>,
    _membership: Membership,
}

/// The fan-out bus. Implementations never block the caller on the network.
pub trait Bus: Send + Sync + 'static {
    /// Whether a publish can reach another instance at all. A standalone in-process bus cannot, and
    /// rooms then skip reconciliation entirely.
    fn fans_out(&self) -> bool;

    /// Registers a room and resolves once messages on its channel are being delivered, or as soon as it
    /// is known that they cannot be yet (the bus is down: the subscription is restored, and the room told
    /// with [`BusEvent::Reconnected`], when it is back). Never waits more than a couple of seconds.
    fn subscribe(&self, room: &RoomId) -> BoxFuture<'static, Subscription>;

    /// Queues a message for every other instance that has the room loaded. Never waits.
    fn publish(&self, room: &RoomId, message: BusMessage) -> Result<(), Dropped>;

    /// Stops background tasks (graceful shutdown).
    fn close(&self) {}
}

/// Opens the bus the configuration asks for: Redis when a URL is given, in-process otherwise. A
/// malformed URL is an error at start-up; an unreachable Redis is not (the bus keeps retrying and the
/// instance serves its own clients meanwhile).
pub fn open(
    redis_url: Option<&str>,
    instance: InstanceId,
    metrics: Arc<Metrics>,
) -> crate::Result<Arc<dyn Bus>> {
    match redis_url {
        Some(url) => Ok(Arc::new(RedisBus::open(url, instance, metrics)?)),
        None => Ok(Arc::new(LocalBus::standalone(instance, metrics))),
    }
}

/// The channel that carries a room's messages.
pub fn channel(room: &RoomId) -> String {
    format!("{CHANNEL_PREFIX}{room}")
}

const CHANNEL_PREFIX: &str = "tierboard:room:";

/// The room a channel name belongs to, if it is one of ours.
pub fn room_of_channel(channel: &[u8]) -> Option<RoomId> {
    let name = std::str::from_utf8(channel).ok()?;
    RoomId::parse(name.strip_prefix(CHANNEL_PREFIX)?)
}

struct Slot {
    token: u64,
    tx: queue::Sender<BusEvent>,
    lagged: Arc<AtomicBool>,
}

/// The rooms subscribed in this process and their inboxes: shared by both implementations. The lock is
/// held only for a map lookup or update, never across an `.await`.
pub struct Inboxes {
    slots: Mutex<HashMap<RoomId, Slot>>,
    next_token: AtomicU64,
    metrics: Arc<Metrics>,
    /// Called after a room is added or removed (the Redis bus wakes its subscription task).
    on_change: Box<dyn Fn() + Send + Sync>,
}

/// Removes its room's slot when dropped, unless a newer subscription for the room replaced it.
struct Membership {
    inboxes: Arc<Inboxes>,
    room: RoomId,
    token: u64,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.inboxes.remove(&self.room, self.token);
    }
}

/// What happened to one delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The room's inbox was full: dropped, room marked lagged.
    Lagged,
    /// No such room is subscribed here (it unloaded): ignored.
    NotHere,
}

impl Inboxes {
    pub fn new(metrics: Arc<Metrics>, on_change: Box<dyn Fn() + Send + Sync>) -> Arc<Inboxes> {
        Arc::new(Inboxes {
            slots: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
            metrics,
            on_change,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Slot>> {
        // Single inserts and removes cannot leave the map half-updated: a poisoned lock is still usable.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds (or replaces) a room's inbox.
    pub fn register(self: &Arc<Inboxes>, room: &RoomId) -> Subscription {
        let (tx, events) = queue::channel(INBOX);
        let lagged = Arc::new(AtomicBool::new(false));
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            room.clone(),
            Slot {
                token,
                tx,
                lagged: lagged.clone(),
            },
        );
        (self.on_change)();
        Subscription {
            events: Some(events),
            lagged,
            _membership: Membership {
                inboxes: self.clone(),
                room: room.clone(),
                token,
            },
        }
    }

    fn remove(&self, room: &RoomId, token: u64) {
        let removed = {
            let mut slots = self.lock();
            match slots.get(room) {
                Some(slot) if slot.token == token => slots.remove(room).is_some(),
                _ => false,
            }
        };
        if removed {
            (self.on_change)();
        }
    }

    pub fn contains(&self, room: &RoomId) -> bool {
        self.lock().contains_key(room)
    }

    pub fn rooms(&self) -> Vec<RoomId> {
        self.lock().keys().cloned().collect()
    }

    /// Hands an event to a room without waiting (see the module docs for the policy when full).
    pub fn deliver(&self, room: &RoomId, event: BusEvent) -> Delivery {
        let slots = self.lock();
        let Some(slot) = slots.get(room) else {
            return Delivery::NotHere;
        };
        match slot.tx.try_send(event) {
            Ok(()) => Delivery::Delivered,
            // A closed inbox belongs to a room that is unloading; its successor reconciles on load.
            Err(TrySendError::Closed(_)) => Delivery::NotHere,
            Err(TrySendError::Full(_)) => {
                if !slot.lagged.swap(true, Ordering::Relaxed) {
                    tracing::warn!(room = %room, "bus inbox full: dropping, the room will reconcile");
                }
                inc(&self.metrics.bus_lagged, 1);
                Delivery::Lagged
            }
        }
    }

    /// Tells every subscribed room that the bus is back.
    pub fn reconnected(&self) {
        for room in self.rooms() {
            self.deliver(&room, BusEvent::Reconnected);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_map_back_to_rooms() {
        let room = RoomId::random();
        assert_eq!(room_of_channel(channel(&room).as_bytes()), Some(room));
        assert_eq!(room_of_channel(b"other:room:abcdefghijklmnop"), None);
        assert_eq!(room_of_channel(b"tierboard:room:../../x"), None);
    }

    #[tokio::test]
    async fn a_full_inbox_marks_the_room_lagged_and_never_blocks() {
        let metrics = Arc::new(Metrics::default());
        let inboxes = Inboxes::new(metrics.clone(), Box::new(|| {}));
        let room = RoomId::random();
        let mut sub = inboxes.register(&room);
        for _ in 0..INBOX {
            assert_eq!(
                inboxes.deliver(&room, BusEvent::Reconnected),
                Delivery::Delivered
            );
        }
        assert_eq!(
            inboxes.deliver(&room, BusEvent::Reconnected),
            Delivery::Lagged
        );
        assert!(sub.lagged.load(Ordering::Relaxed));
        assert_eq!(metrics.bus_lagged.load(Ordering::Relaxed), 1);
        assert!(sub.events.as_mut().unwrap().recv().await.is_some());
        // A newer subscription for the same room survives the older one being dropped.
        let newer = inboxes.register(&room);
        drop(sub);
        assert!(inboxes.contains(&room));
        drop(newer);
        assert!(!inboxes.contains(&room));
        assert_eq!(
            inboxes.deliver(&room, BusEvent::Reconnected),
            Delivery::NotHere
        );
    }
}
