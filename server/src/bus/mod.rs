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
pub mod reconcile;
pub mod redis;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::ids::{InstanceId, RoomId};
use crate::metrics::{Metrics, inc};

pub use local::{LocalBus, LocalHub};
pub use redis::RedisBus;

/// Events a room's bus inbox holds before further ones are dropped (and the room marked lagged).
pub const INBOX: usize = 1024;

/// How often a room with connections publishes its state for reconciliation (plus up to
/// [`RECONCILE_JITTER`], so that rooms and instances do not tick in step).
pub const RECONCILE_PERIOD: Duration = Duration::from_secs(3);
pub const RECONCILE_JITTER: Duration = Duration::from_millis(500);

/// Wire format version of an [`Envelope`].
const VERSION: u8 = 1;
const KIND_UPDATE: u8 = 1;
const KIND_AWARENESS: u8 = 2;
const KIND_SYNC: u8 = 3;
const FLAG_REQUEST: u8 = 1;
const FLAG_HELLO: u8 = 2;
/// Instance ids are 16 hex characters; anything up to this length is accepted.
const MAX_INSTANCE_LEN: usize = 64;

/// A room's reconcile state as published on the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// The sender's state vector, v1-encoded.
    pub sv: Bytes,
    /// A digest of the sender's delete set: deletions do not advance a state vector, so two documents
    /// with equal state vectors may still differ in what they deleted.
    pub deletes: u64,
    /// Peers that lack something the sender has answer with their own state.
    pub request: bool,
    /// The sender has just loaded the room (or reconnected): peers also send their clients' awareness.
    pub hello: bool,
}

/// What one instance tells the others about a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusMessage {
    /// A Yjs v1 update (a delta a local client produced, or a reconcile diff).
    Update(Bytes),
    /// A y-protocols awareness update (states of the sender's clients, or their removal).
    Awareness(Bytes),
    Sync(SyncState),
}

/// A message with the id of the instance that published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: InstanceId,
    pub message: BusMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("bus message too short")]
    Truncated,
    #[error("unknown bus message version {0}")]
    Version(u8),
    #[error("unknown bus message kind {0}")]
    Kind(u8),
    #[error("bad instance id in bus message")]
    Instance,
}

impl Envelope {
    /// `[version, kind, len(instance), instance.., payload..]`; a sync payload is
    /// `[flags, deletes (8 bytes, big-endian), sv..]`.
    pub fn encode(&self) -> Bytes {
        let from = self.from.0.as_bytes();
        debug_assert!(from.len() <= MAX_INSTANCE_LEN);
        let payload_len = match &self.message {
            BusMessage::Update(b) | BusMessage::Awareness(b) => b.len(),
            BusMessage::Sync(s) => 9 + s.sv.len(),
        };
        let mut buf = BytesMut::with_capacity(3 + from.len() + payload_len);
        buf.put_u8(VERSION);
        buf.put_u8(match &self.message {
            BusMessage::Update(_) => KIND_UPDATE,
            BusMessage::Awareness(_) => KIND_AWARENESS,
            BusMessage::Sync(_) => KIND_SYNC,
        });
        buf.put_u8(from.len() as u8);
        buf.put_slice(from);
        match &self.message {
            BusMessage::Update(b) | BusMessage::Awareness(b) => buf.put_slice(b),
            BusMessage::Sync(s) => {
                let mut flags = 0;
                if s.request {
                    flags |= FLAG_REQUEST;
                }
                if s.hello {
                    flags |= FLAG_HELLO;
                }
                buf.put_u8(flags);
                buf.put_u64(s.deletes);
                buf.put_slice(&s.sv);
            }
        }
        buf.freeze()
    }

    /// The sender of an encoded envelope, read without decoding the rest (to drop echoes cheaply).
    pub fn sender(raw: &[u8]) -> Option<&[u8]> {
        let len = *raw.get(2)? as usize;
        raw.get(3..3 + len)
    }

    pub fn decode(raw: Bytes) -> Result<Envelope, DecodeError> {
        if raw.len() < 3 {
            return Err(DecodeError::Truncated);
        }
        if raw[0] != VERSION {
            return Err(DecodeError::Version(raw[0]));
        }
        let kind = raw[1];
        let from = Envelope::sender(&raw).ok_or(DecodeError::Truncated)?;
        if from.is_empty() || from.len() > MAX_INSTANCE_LEN {
            return Err(DecodeError::Instance);
        }
        let from = std::str::from_utf8(from).map_err(|_| DecodeError::Instance)?;
        let from = InstanceId(from.to_string());
        let payload = raw.slice(3 + from.0.len()..);
        let message = match kind {
            KIND_UPDATE => BusMessage::Update(payload),
            KIND_AWARENESS => BusMessage::Awareness(payload),
            KIND_SYNC => {
                if payload.len() < 9 {
                    return Err(DecodeError::Truncated);
                }
                let flags = payload[0];
                let deletes = u64::from_be_bytes(payload[1..9].try_into().expect("8 bytes"));
                BusMessage::Sync(SyncState {
                    sv: payload.slice(9..),
                    deletes,
                    request: flags & FLAG_REQUEST != 0,
                    hello: flags & FLAG_HELLO != 0,
                })
            }
            other => return Err(DecodeError::Kind(other)),
        };
        Ok(Envelope { from, message })
    }
}

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
    pub events: Option<mpsc::Receiver<BusEvent>>,
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
    tx: mpsc::Sender<BusEvent>,
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
        let (tx, events) = mpsc::channel(INBOX);
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
            Err(mpsc::error::TrySendError::Closed(_)) => Delivery::NotHere,
            Err(mpsc::error::TrySendError::Full(_)) => {
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
    fn envelopes_round_trip_and_bad_ones_are_refused() {
        let from = InstanceId("0123456789abcdef".into());
        for message in [
            BusMessage::Update(Bytes::from_static(&[1, 2, 3])),
            BusMessage::Awareness(Bytes::from_static(b"")),
            BusMessage::Sync(SyncState {
                sv: Bytes::from_static(&[1, 5, 9]),
                deletes: u64::MAX - 3,
                request: true,
                hello: false,
            }),
            BusMessage::Sync(SyncState {
                sv: Bytes::new(),
                deletes: 0,
                request: false,
                hello: true,
            }),
        ] {
            let envelope = Envelope {
                from: from.clone(),
                message,
            };
            let raw = envelope.encode();
            assert_eq!(Envelope::sender(&raw), Some(from.0.as_bytes()));
            assert_eq!(Envelope::decode(raw).unwrap(), envelope);
        }
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 1])),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[9, 1, 1, b'a'])),
            Err(DecodeError::Version(9))
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 7, 1, b'a'])),
            Err(DecodeError::Kind(7))
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 1, 5, b'a'])),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 3, 1, b'a', 0, 0])),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Envelope::decode(Bytes::from_static(&[1, 1, 0])),
            Err(DecodeError::Instance)
        );
    }

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
