//! The Redis pub/sub bus (`--redis-url`): one channel per loaded room, `tierboard:room:<id>`.
//!
//! One RESP3 [`ConnectionManager`] carries everything: publishes, SUBSCRIBE/UNSUBSCRIBE and the pushed
//! messages. It reconnects by itself and, with automatic resubscription, restores its subscriptions
//! after a Redis restart (checked on this machine; `get_async_pubsub` does not reconnect).
//!
//! Three parts, none of which ever waits on a room:
//! - **the push handler** (runs inside the connection's reader): drops our own echoes by the sender
//!   field, decodes the envelope and `try_send`s it to the room's inbox ([`Inboxes::deliver`]). A
//!   `Disconnection` push marks the bus down.
//! - **the publisher task**: drains the bounded publish queue ([`PUBLISH_QUEUE`]) in batches of up to
//!   [`PUBLISH_BATCH`], one pipeline (one round trip) per batch, in order. While the bus is down, queued
//!   messages are dropped and counted instead of piling up.
//! - **the control task**: keeps Redis' subscriptions equal to the set of loaded rooms (subscribing a
//!   room before it loads, unsubscribing it after it unloads), pings every [`HEALTH_PERIOD`], and while
//!   the bus is down pings with exponential backoff ([`BACKOFF_MIN`] doubling to [`BACKOFF_MAX`]). When
//!   a ping succeeds again it re-subscribes every loaded room, and only then tells every room
//!   [`super::BusEvent::Reconnected`], so the rooms' reconcile answers can be
//!   heard.
//!
//! An outage is logged once when it starts and once when it ends (with its duration); `bus_errors`
//! counts the failures and `bus_dropped` the messages not sent. Rooms keep serving their own clients
//! throughout.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{Bus, BusEvent, BusMessage, Dropped, Envelope, Inboxes, Subscription, channel};
use crate::ids::{InstanceId, RoomId};
use crate::metrics::{Metrics, inc};

/// Messages waiting to be published; a full queue drops the message (the room reconciles later).
pub const PUBLISH_QUEUE: usize = 8192;
/// Publishes sent in one pipeline.
pub const PUBLISH_BATCH: usize = 256;
/// How often a healthy connection is checked.
pub const HEALTH_PERIOD: Duration = Duration::from_secs(2);
/// Reconnect backoff while Redis is down.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Longest a room load waits for its SUBSCRIBE to be confirmed before it reads the store anyway
/// (reconciliation covers what that could miss).
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(2);
/// Channels per SUBSCRIBE / UNSUBSCRIBE command.
const SUBSCRIBE_CHUNK: usize = 1000;

pub struct RedisBus {
    shared: Arc<Shared>,
    queue: mpsc::Sender<(String, Bytes)>,
    stop: CancellationToken,
}

struct Shared {
    instance: InstanceId,
    inboxes: Arc<Inboxes>,
    metrics: Arc<Metrics>,
    /// True while the last command succeeded and every loaded room is subscribed.
    up: AtomicBool,
    down_since: Mutex<Option<Instant>>,
    /// Wakes the control task: the set of rooms changed, or a failure was seen.
    wake: Arc<Notify>,
    /// Room loads waiting for their SUBSCRIBE to be confirmed.
    waiters: Mutex<Vec<(RoomId, oneshot::Sender<()>)>>,
}

impl RedisBus {
    /// Parses the URL and starts the background tasks; does not wait for Redis (an unreachable Redis is
    /// an outage like any other, logged and retried). Must be called inside a Tokio runtime.
    pub fn open(url: &str, instance: InstanceId, metrics: Arc<Metrics>) -> crate::Result<RedisBus> {
        let bad = |e: redis::RedisError| crate::Error::BadRequest(format!("bad --redis-url: {e}"));
        let info = url.into_connection_info().map_err(bad)?;
        // Pushes (and so pub/sub on the shared connection) need RESP3.
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings)).map_err(bad)?;

        let wake = Arc::new(Notify::new());
        let on_change = {
            let wake = wake.clone();
            Box::new(move || wake.notify_one())
        };
        let shared = Arc::new(Shared {
            instance,
            inboxes: Inboxes::new(metrics.clone(), on_change),
            metrics,
            up: AtomicBool::new(false),
            down_since: Mutex::new(None),
            wake,
            waiters: Mutex::new(Vec::new()),
        });
        let pushes = shared.clone();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(
                move |info: PushInfo| -> Result<(), std::convert::Infallible> {
                    pushes.on_push(info);
                    Ok(())
                },
            )
            .set_automatic_resubscription()
            // Fail fast and let the control task own the backoff (and the logging).
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| crate::Error::Internal(format!("redis connection manager: {e}")))?;

        let stop = CancellationToken::new();
        let (queue, rx) = mpsc::channel(PUBLISH_QUEUE);
        tokio::spawn(publisher(shared.clone(), conn.clone(), rx, stop.clone()));
        tokio::spawn(control(shared.clone(), conn, stop.clone()));
        Ok(RedisBus {
            shared,
            queue,
            stop,
        })
    }

    pub fn is_up(&self) -> bool {
        self.shared.up.load(Ordering::SeqCst)
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Bus for RedisBus {
    fn fans_out(&self) -> bool {
        true
    }

    fn subscribe(&self, room: &RoomId) -> BoxFuture<'static, Subscription> {
        let shared = self.shared.clone();
        let room = room.clone();
        async move {
            let (tx, confirmed) = oneshot::channel();
            // The waiter exists before the room does, so the confirmation cannot be missed.
            shared.lock_waiters().push((room.clone(), tx));
            let subscription = shared.inboxes.register(&room);
            if shared.up.load(Ordering::SeqCst) {
                let _ = tokio::time::timeout(SUBSCRIBE_WAIT, confirmed).await;
            }
            subscription
        }
        .boxed()
    }

    fn publish(&self, room: &RoomId, message: BusMessage) -> Result<(), Dropped> {
        if !self.shared.up.load(Ordering::SeqCst) {
            inc(&self.shared.metrics.bus_dropped, 1);
            return Err(Dropped::Down);
        }
        let raw = Envelope {
            from: self.shared.instance.clone(),
            message,
        }
        .encode();
        match self.queue.try_send((channel(room), raw)) {
            Ok(()) => Ok(()),
            Err(_) => {
                inc(&self.shared.metrics.bus_dropped, 1);
                Err(Dropped::Full)
            }
        }
    }

    fn close(&self) {
        self.stop.cancel();
    }
}

impl Shared {
    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, Vec<(RoomId, oneshot::Sender<()>)>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs in the connection's reader: must not block.
    fn on_push(&self, info: PushInfo) {
        match info.kind {
            PushKind::Message => {
                let Some(msg) = redis::Msg::from_push_info(info) else {
                    return;
                };
                let raw = msg.get_payload_bytes();
                if Envelope::sender(raw) == Some(self.instance.0.as_bytes()) {
                    return;
                }
                let Some(room) = super::room_of_channel(msg.get_channel_name().as_bytes()) else {
                    return;
                };
                inc(&self.metrics.bus_received, 1);
                match Envelope::decode(Bytes::copy_from_slice(raw)) {
                    Ok(envelope) => {
                        self.inboxes.deliver(&room, BusEvent::Message(envelope));
                    }
                    Err(e) => {
                        inc(&self.metrics.bus_errors, 1);
                        tracing::warn!(room = %room, error = %e, "undecodable bus message ignored");
                    }
                }
            }
            PushKind::Disconnection => self.mark_down(&"connection to Redis lost"),
            _ => {}
        }
    }

    /// Records a failure; the first one of an outage is logged.
    fn mark_down(&self, why: &dyn std::fmt::Display) {
        inc(&self.metrics.bus_errors, 1);
        if self.up.swap(false, Ordering::SeqCst) {
            *self.down_since.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            self.metrics.bus_up.store(0, Ordering::Relaxed);
            tracing::warn!(error = %why, "Redis bus down: serving this instance's clients only, reconnecting with backoff");
        }
        self.wake.notify_one();
    }

    fn mark_up(&self) {
        let since = self
            .down_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.up.store(true, Ordering::SeqCst);
        self.metrics.bus_up.store(1, Ordering::Relaxed);
        match since {
            Some(since) => tracing::info!(
                outage_ms = since.elapsed().as_millis() as u64,
                "Redis bus reconnected; rooms reconcile now"
            ),
            None => tracing::info!("Redis bus connected"),
        }
    }

    /// Resolves the room loads waiting for these subscriptions; forgets waiters that gave up.
    fn confirm(&self, subscribed: &HashSet<RoomId>) {
        let mut waiters = self.lock_waiters();
        let mut keep = Vec::new();
        for (room, tx) in waiters.drain(..) {
            if subscribed.contains(&room) {
                let _ = tx.send(());
            } else if !tx.is_closed() {
                keep.push((room, tx));
            }
        }
        *waiters = keep;
    }
}

async fn ping(conn: &mut ConnectionManager) -> redis::RedisResult<()> {
    redis::cmd("PING")
        .query_async::<String>(conn)
        .await
        .map(drop)
}

/// A ping that may reconnect: the manager answers a command issued after a failed reconnect with that
/// attempt's error and only then starts a new attempt, which the second ping waits for.
async fn ping_reconnecting(conn: &mut ConnectionManager) -> redis::RedisResult<()> {
    match ping(conn).await {
        Ok(()) => Ok(()),
        Err(_) => ping(conn).await,
    }
}

async fn subscribe_all(
    conn: &mut ConnectionManager,
    rooms: &[RoomId],
    subscribe: bool,
) -> redis::RedisResult<()> {
    for chunk in rooms.chunks(SUBSCRIBE_CHUNK) {
        let channels: Vec<String> = chunk.iter().map(channel).collect();
        if subscribe {
            conn.subscribe(&channels).await?;
        } else {
            conn.unsubscribe(&channels).await?;
        }
    }
    Ok(())
}

/// Keeps Redis' subscriptions equal to the loaded rooms, and watches the connection.
async fn control(shared: Arc<Shared>, mut conn: ConnectionManager, stop: CancellationToken) {
    let mut subscribed: HashSet<RoomId> = HashSet::new();
    let mut backoff = BACKOFF_MIN;
    // Later outages are announced by `mark_down`; one at start-up is announced here.
    let mut announced = false;
    loop {
        if stop.is_cancelled() {
            return;
        }
        if !shared.up.load(Ordering::SeqCst) {
            // Down (or not connected yet): retry with backoff, then restore every subscription.
            let rooms = shared.inboxes.rooms();
            let attempt = async {
                ping_reconnecting(&mut conn).await?;
                subscribe_all(&mut conn, &rooms, true).await
            };
            match attempt.await {
                Ok(()) => {
                    subscribed = rooms.into_iter().collect();
                    backoff = BACKOFF_MIN;
                    announced = true;
                    shared.mark_up();
                    shared.confirm(&subscribed);
                    shared.inboxes.reconnected();
                }
                Err(e) => {
                    inc(&shared.metrics.bus_errors, 1);
                    if !announced {
                        announced = true;
                        tracing::warn!(error = %e, "Redis bus unreachable: serving this instance's clients only, retrying with backoff");
                    }
                    tracing::debug!(error = %e, backoff_ms = backoff.as_millis() as u64, "Redis still unreachable");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            }
        }
        // Up: bring the subscriptions in line with the loaded rooms.
        let loaded: HashSet<RoomId> = shared.inboxes.rooms().into_iter().collect();
        let add: Vec<RoomId> = loaded.difference(&subscribed).cloned().collect();
        let remove: Vec<RoomId> = subscribed.difference(&loaded).cloned().collect();
        if !add.is_empty() {
            match subscribe_all(&mut conn, &add, true).await {
                Ok(()) => {
                    subscribed.extend(add);
                    shared.confirm(&subscribed);
                }
                Err(e) => {
                    shared.mark_down(&e);
                    continue;
                }
            }
        }
        if !remove.is_empty() {
            match subscribe_all(&mut conn, &remove, false).await {
                Ok(()) => {
                    for room in &remove {
                        subscribed.remove(room);
                    }
                }
                Err(e) => {
                    shared.mark_down(&e);
                    continue;
                }
            }
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(HEALTH_PERIOD) => {
                if let Err(e) = ping(&mut conn).await {
                    shared.mark_down(&e);
                }
            }
            _ = stop.cancelled() => return,
        }
    }
}

/// Sends queued publishes in order, one pipeline per batch.
async fn publisher(
    shared: Arc<Shared>,
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<(String, Bytes)>,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut batch, PUBLISH_BATCH) => n,
            _ = stop.cancelled() => return,
        };
        if n == 0 {
            return;
        }
        if !shared.up.load(Ordering::SeqCst) {
            inc(&shared.metrics.bus_dropped, n as u64);
            batch.clear();
            continue;
        }
        let mut pipe = redis::pipe();
        for (channel, payload) in &batch {
            pipe.publish(channel, payload.as_ref()).ignore();
        }
        match pipe.exec_async(&mut conn).await {
            Ok(()) => inc(&shared.metrics.bus_published, n as u64),
            Err(e) => {
                inc(&shared.metrics.bus_dropped, n as u64);
                shared.mark_down(&e);
            }
        }
        batch.clear();
    }
}
