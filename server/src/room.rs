//! One room: its document, its connections and its awareness, owned by a single task.
//!
//! Every change to a room goes through its mailbox, so no two paths ever race on the document: the
//! actor applies an update, fans the encoded bytes out to every other connection (encoded once, the
//! same `Bytes` for everyone), hands them to the persister and schedules validation. Fan-out never
//! waits for the disk: persistence is a `try_submit` whose acknowledgement comes back as a message.
//!
//! Across instances (see [`crate::bus`]): a room subscribes to its bus channel before it loads, publishes
//! the deltas of its own clients and their awareness, applies (and stores) what other instances publish,
//! and reconciles with them by state vectors when it loads, periodically while it has connections, after
//! the bus reconnects and after its bus inbox overflowed. Every instance stores every update it
//! integrates, local or from the bus, so an edit any surviving client has seen is stored by a surviving
//! instance.
//!
//! Because the actor is the document's only user, `transact_mut` never waits for a lock, so yrs
//! transactions never block the executor on contention; the CPU work of one update is bounded by the
//! message size limit.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::task::AtomicWaker;
use tokio::sync::{mpsc, oneshot};
use tokio::time::sleep_until;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, ReadTxn, StateVector, Transact, Update};

use crate::bus::reconcile::{self, DocState};
use crate::bus::{
    Bus, BusEvent, BusMessage, Dropped, Envelope, RECONCILE_JITTER, RECONCILE_PERIOD, Subscription,
    SyncState,
};
use crate::close::CloseCode;
use crate::ids::{Role, RoomId};
use crate::metrics::{Metrics, dec, inc};
use crate::problems::{Bank, Problem};
use crate::store::persister::OnSaved;
use crate::store::{Persister, RowKey, Store, StoredRow, Transition};
use crate::sync::{AwarenessTable, protocol};
use crate::validation::{self, ValidationResult};

/// How long a silent awareness state is kept (y-protocols' own timeout).
pub const AWARENESS_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a room looks for expired awareness states.
const HOUSEKEEPING: Duration = Duration::from_secs(5);
/// Coalesces a burst of updates into one persistence job; the persister adds at most its own interval.
const PERSIST_COALESCE: Duration = Duration::from_millis(10);
/// A room snapshots itself (submits its whole document in place of the rows it covers) only while its
/// stored state is at most this large; a larger document is compacted by the persister from the stored
/// rows, off this task (encoding it here would hold up the room's fan-out).
const SNAPSHOT_MAX_BYTES: usize = 1 << 20;
/// A persistence job refused because the persister's queue was full is retried after this delay.
const PERSIST_RETRY: Duration = Duration::from_millis(20);
/// After a bus message was dropped (our inbox or the publish queue was full), the room announces its
/// state this soon, so peers re-send what it missed and it re-sends what they missed.
const ANNOUNCE_SOON: Duration = Duration::from_millis(200);
/// At most one validation run per room in this window: a burst of edits is judged once.
pub const VALIDATION_INTERVAL: Duration = Duration::from_millis(50);
/// At most one round of `saved` messages per room in this window. The indicator is read by people,
/// and a busy room commits many times a second: each commit telling every writer would cost as many
/// messages as the edits themselves. The first round after a quiet second goes out as soon as its
/// commit does, so a single edit still reads "Saved" within the commit's ~60 ms; only steady editing
/// is acknowledged once a second. (At 200 ms, scenario 3 of the benchmarks sent one `saved` for every
/// edit, against three deliveries of it: about a quarter of the messages the server wrote.)
const SAVED_INTERVAL: Duration = Duration::from_secs(1);

/// Who announced an awareness state: one of this instance's connections, or another instance (whose
/// states are removed when it publishes their removal, or expire when it stops renewing them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Conn(ConnId),
    Remote,
}

impl Owner {
    fn is_local(&self) -> bool {
        matches!(self, Owner::Conn(_))
    }
}

/// A connection id, unique within the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

impl ConnId {
    pub fn next() -> ConnId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// How the room tells a connection's reader and writer to stop: a close code, then the flag.
///
/// Both loops check it on every wake-up, once per message sent or received. A `CancellationToken`
/// costs two uncontended mutex locks per check (its node's and its `Notify`'s); this is an atomic load
/// and a waker registration, one waker per loop.
#[derive(Debug, Default)]
pub struct ConnControl {
    stopped: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
    code: AtomicU16,
}

/// Which loop of a connection waits on [`ConnControl::stopped`].
#[derive(Debug, Clone, Copy)]
pub enum Side {
    Reader,
    Writer,
}

/// Resolves once the connection is told to stop (see [`ConnControl`]).
pub struct Stopped<'a> {
    control: &'a ConnControl,
    side: Side,
}

impl std::future::Future for Stopped<'_> {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let control = self.control;
        if control.is_stopped() {
            return std::task::Poll::Ready(());
        }
        match self.side {
            Side::Reader => control.reader.register(cx.waker()),
            Side::Writer => control.writer.register(cx.waker()),
        }
        // Checked again after registering: a `stop` in between woke the old waker, or none.
        if control.is_stopped() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl ConnControl {
    pub fn close(&self, code: CloseCode) {
        // First writer wins: a later reason never overwrites the first one.
        let _ = self
            .code
            .compare_exchange(0, code.code(), Ordering::Relaxed, Ordering::Relaxed);
        self.stop();
    }

    /// Tells both loops to end (with the code set by [`ConnControl::close`], if any).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.reader.wake();
        self.writer.wake();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// A future for one side's loop; create it once per loop, not per message.
    pub fn stopped(&self, side: Side) -> Stopped<'_> {
        Stopped {
            control: self,
            side,
        }
    }

    /// The code set by [`ConnControl::close`]; a normal close when none was.
    pub fn code(&self) -> CloseCode {
        CloseCode::from_code(self.code.load(Ordering::Relaxed)).unwrap_or(CloseCode::Normal)
    }
}

/// What the room keeps of a connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub role: Role,
    /// Bounded outbox. When it is full the client is too slow: it is closed with 4000 and will resync
    /// on reconnect, rather than silently missing an update.
    pub outbox: mpsc::Sender<Bytes>,
    pub control: Arc<ConnControl>,
}

/// A message the WebSocket reader has already parsed and checked.
#[derive(Debug)]
pub enum Inbound {
    SyncStep1(StateVector),
    /// A decoded update (from sync step 2 or an update message) and its encoded size.
    Update(Update, usize),
    Awareness(Bytes),
    QueryAwareness,
}

pub enum RoomCommand {
    Join {
        conn: ConnHandle,
        reply: oneshot::Sender<crate::Result<()>>,
    },
    Inbound {
        conn: ConnId,
        messages: Vec<Inbound>,
    },
    Leave {
        conn: ConnId,
    },
    Persisted {
        result: crate::Result<()>,
        /// The stored state vector and the document version it belongs to.
        saved_sv: Bytes,
        version: u64,
    },
    Status {
        reply: oneshot::Sender<RoomStatus>,
    },
    /// The current validation result (after a pending run, so it reflects every accepted edit).
    Validation {
        reply: oneshot::Sender<Option<Arc<ValidationResult>>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    CloseAll {
        code: CloseCode,
    },
}

/// A point-in-time view for the HTTP API.
#[derive(Debug, Clone)]
pub struct RoomStatus {
    pub participants: usize,
    pub connections: usize,
}

/// Fields the registry and HTTP handlers read without a round trip through the mailbox.
#[derive(Debug, Default)]
pub struct RoomShared {
    pub connections: AtomicUsize,
}

/// Everything a room needs from the rest of the server.
#[derive(Clone)]
pub struct RoomDeps {
    pub store: Arc<Store>,
    pub bank: Arc<Bank>,
    pub persister: Persister,
    pub metrics: Arc<Metrics>,
    pub bus: Arc<dyn Bus>,
    pub idle: Duration,
}

/// A handle to a running room.
#[derive(Clone)]
pub struct RoomHandle {
    pub tx: mpsc::Sender<RoomCommand>,
    pub shared: Arc<RoomShared>,
    /// Distinguishes this actor from a later one for the same room id in the registry.
    pub generation: u64,
}

pub struct Room {
    id: RoomId,
    /// The document; an empty placeholder while `loading` is set.
    doc: Doc,
    loading: Option<Loading>,
    /// The problem the room was created for (its stored row says so).
    problem_id: Option<String>,
    conns: HashMap<ConnId, ConnHandle>,
    awareness: AwarenessTable<Owner>,
    deps: RoomDeps,
    /// Membership of the room's bus channel; dropping the room unsubscribes.
    bus: Subscription,
    /// The bus inbox, taken by [`Room::run`].
    bus_events: Option<mpsc::Receiver<BusEvent>>,
    /// When the next reconcile message is due, and whether it must be a full announcement.
    reconcile_at: Option<Instant>,
    announce_due: bool,
    cached_state: Option<(u64, DocState)>,
    shared: Arc<RoomShared>,
    /// Bumped on every document change; keys the encoding caches below.
    version: u64,
    cached_sv: Option<(u64, Bytes)>,
    cached_full: Option<(u64, Bytes)>,
    /// Accepted updates not yet handed to the persister.
    pending: Vec<Vec<u8>>,
    /// Rows the room's storage gained since its last snapshot (one per submission, an upper bound:
    /// the persister merges a room's submissions of one commit), counting the rows it was loaded from
    /// and, until the first snapshot, a random head start.
    rows_since_snapshot: u64,
    /// Bytes of those rows: an upper bound on the size of the room's state, which decides whether the
    /// room may encode a snapshot itself ([`SNAPSHOT_MAX_BYTES`]).
    stored_bytes: usize,
    /// Keys of the stored rows the document was loaded from, for the first snapshot to replace.
    loaded_keys: Vec<RowKey>,
    /// Connections found slow during a broadcast, closed after it. Closing one broadcasts its
    /// awareness removal, which may find more slow connections: they queue here instead of recursing.
    closing: Vec<ConnId>,
    draining: bool,
    persist_at: Option<Instant>,
    in_flight: usize,
    /// The latest stored state vector and its `saved` message (sent to joiners), and the document
    /// version it covers. The message is encoded when first sent, not per commit: most commits are
    /// superseded within the saved window before anyone is told.
    last_saved: Option<(Bytes, Option<Bytes>)>,
    saved_version: u64,
    /// Connections with edits not yet confirmed by a `saved` message: the document version after
    /// their latest edit. Only they are told; a client that made no edits is trivially saved.
    unsaved: HashMap<ConnId, u64>,
    /// When the pending `saved` round is due (throttled by [`SAVED_INTERVAL`]), and the last round.
    saved_at: Option<Instant>,
    last_saved_round: Instant,
    idle_since: Option<Instant>,
    next_housekeeping: Instant,
    /// The problem this room practises; `None` if the bank no longer has it (then nothing is judged).
    problem: Option<Arc<Problem>>,
    /// Raised by the document's observer when a change touched what validation reads.
    design_changed: Arc<AtomicBool>,
    validation: Option<Arc<ValidationResult>>,
    /// The last result encoded as a `validation` message, sent to joiners.
    validation_message: Option<Bytes>,
    /// Set when the document changed since the last run; the run happens at this instant.
    validate_at: Option<Instant>,
    last_validation: Instant,
}

/// The first moments of a room whose store holds one row: the document is integrated on a blocking
/// thread while joiners with an empty document are answered from that row (see [`Room::load`]).
/// Everything else that needs the document waits, in arrival order, until it is there.
struct Loading {
    doc: tokio::task::JoinHandle<(Doc, Vec<RowKey>)>,
    /// Commands held back until the document is there; once one waits, every later one does too,
    /// so a connection's messages keep their order.
    deferred: Vec<RoomCommand>,
    /// Connections greeted meanwhile, still owed the greeting's step 1 (it carries the document's
    /// state vector).
    owe_step1: Vec<ConnId>,
}

/// A document made of the stored rows, and the keys of the rows it holds. A row that fails to decode
/// or apply is logged and skipped, never fatal: the rest of the room stays usable, and the row stays
/// stored (no snapshot replaces it). Blocking: run it off the executor.
fn doc_from_rows(room: &RoomId, rows: Vec<StoredRow>) -> (Doc, Vec<RowKey>) {
    let doc = Doc::new();
    let mut applied = Vec::with_capacity(rows.len());
    {
        let mut txn = doc.transact_mut();
        for (i, row) in rows.into_iter().enumerate() {
            match Update::decode_v1(&row.data) {
                Ok(update) => match txn.apply_update(update) {
                    Ok(()) => applied.push(row.key),
                    Err(e) => {
                        tracing::error!(room = %room, row = i, error = %e, "stored update failed to apply")
                    }
                },
                Err(e) => {
                    tracing::error!(room = %room, row = i, error = %e, "stored update failed to decode")
                }
            }
        }
    }
    (doc, applied)
}

/// Raises `changed` whenever a transaction changes something validation reads: anything under
/// `nodes` or `edges` except a node's position set to a number. Dragging nodes is most of what a
/// session does, and a position changes no tier (a position that is not a number is an issue, so it
/// counts). Observers run inside the commit; this one only looks at the changed keys.
fn watch_design(doc: &Doc, changed: &Arc<AtomicBool>) {
    use yrs::Out;
    use yrs::types::{EntryChange, Event, PathSegment};
    use yrs::{DeepObservable, Origin};
    let flag = changed.clone();
    doc.get_or_insert_map(crate::design::NODES_KEY)
        .observe_deep(Origin::from("tierboard-design"), move |txn, events| {
            let moves_only = events.iter().all(|event| match event {
                Event::Map(map) => {
                    let path = map.path();
                    matches!(path.front(), Some(PathSegment::Key(_)))
                        && path.len() == 1
                        && map.keys(txn).iter().all(|(key, change)| {
                            matches!(key.as_ref(), "x" | "y")
                                && matches!(
                                    change,
                                    EntryChange::Inserted(Out::Any(yrs::Any::Number(_)))
                                        | EntryChange::Updated(_, Out::Any(yrs::Any::Number(_)))
                                )
                        })
                }
                _ => false,
            });
            if !moves_only {
                flag.store(true, Ordering::Relaxed);
            }
        });
    let flag = changed.clone();
    doc.get_or_insert_map(crate::design::EDGES_KEY)
        .observe_deep(Origin::from("tierboard-design"), move |_, _| {
            flag.store(true, Ordering::Relaxed)
        });
}

/// Whether the actor goes on after a command.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

impl Room {
    /// Loads the room's document from the store. A stored row that fails to decode is logged and
    /// skipped, never fatal: the rest of the room stays usable.
    pub async fn load(id: RoomId, deps: RoomDeps, shared: Arc<RoomShared>) -> crate::Result<Room> {
        // Subscribe first: what other instances publish while we read the store waits in the inbox, and
        // what they published before is fetched by the announcement `run` starts with.
        let mut bus = deps.bus.subscribe(&id).await;
        let bus_events = bus.events.take();
        let (record, rows) = deps.store.load_room(&id).await?;
        let problem_id = record.map(|r| r.problem);
        let problem = problem_id.as_deref().and_then(|p| deps.bank.get(p));
        if problem.is_none() {
            tracing::warn!(room = %id, problem = ?problem_id, "room's problem is not in the bank: no validation");
        }
        let rows_loaded = rows.len() as u64;
        let head_start = rand::random_range(0..deps.persister.compact_rows());
        let bytes_loaded = rows.iter().map(|r| r.data.len()).sum();
        // One stored row is the whole state as one update (a compaction's snapshot, or a room's
        // only update), exactly the step 2 a client with nothing needs: joiners get it while the
        // document is integrated, instead of waiting for that.
        let snapshot = match rows.as_slice() {
            [only] => Some(protocol::encode_step2(&only.data)),
            _ => None,
        };
        let room_id = id.clone();
        let integrate = tokio::task::spawn_blocking(move || doc_from_rows(&room_id, rows));
        let ((doc, loaded_keys), loading) = match snapshot {
            Some(_) => (
                (Doc::new(), Vec::new()),
                Some(Loading {
                    doc: integrate,
                    deferred: Vec::new(),
                    owe_step1: Vec::new(),
                }),
            ),
            None => (
                integrate
                    .await
                    .map_err(|e| crate::Error::Internal(format!("loading room: {e}")))?,
                None,
            ),
        };
        inc(&deps.metrics.rooms_loaded, 1);
        let design_changed = Arc::new(AtomicBool::new(false));
        if loading.is_none() {
            watch_design(&doc, &design_changed);
        }
        let room = Room {
            id,
            doc,
            loading,
            problem_id,
            conns: HashMap::new(),
            awareness: AwarenessTable::default(),
            deps,
            bus,
            bus_events,
            reconcile_at: None,
            announce_due: true,
            cached_state: None,
            shared,
            version: 0,
            cached_sv: None,
            cached_full: snapshot.map(|full| (0, full)),
            pending: Vec::new(),
            // Plus a random head start on the first snapshot: rooms loaded together (a restart, the
            // thousand rooms of benchmark scenario 3) and edited at like rates would otherwise all
            // snapshot within the same second, period after period (in benchmark scenario 3 a
            // per-thread CPU sampler showed the runtime's threads at 1.1–1.3 cores for about a second
            // at each such wave, against 0.5–0.6 between them).
            rows_since_snapshot: rows_loaded + head_start,
            stored_bytes: bytes_loaded,
            loaded_keys,
            closing: Vec::new(),
            draining: false,
            persist_at: None,
            in_flight: 0,
            last_saved: None,
            saved_version: 0,
            unsaved: HashMap::new(),
            saved_at: None,
            // As if the last round were a window ago: the room's first commit is acknowledged at once.
            last_saved_round: Instant::now()
                .checked_sub(SAVED_INTERVAL)
                .unwrap_or_else(Instant::now),
            idle_since: Some(Instant::now()),
            next_housekeeping: Instant::now() + HOUSEKEEPING,
            problem,
            design_changed,
            validation: None,
            validation_message: None,
            // The first run is the baseline. It comes one validation window after the load, so the
            // joiner that loaded the room is greeted and answered first (it gets the result as soon
            // as the run is done).
            validate_at: Some(Instant::now() + VALIDATION_INTERVAL),
            last_validation: Instant::now(),
        };
        Ok(room)
    }

    /// The initial document of a new room: `meta.problem` set.
    pub fn initial_update(problem: &str) -> Vec<u8> {
        let doc = Doc::new();
        let meta = doc.get_or_insert_map("meta");
        let mut txn = doc.transact_mut();
        meta.insert(&mut txn, "problem", problem.to_string());
        txn.encode_update_v1()
    }

    /// Runs the actor until the room is idle and persisted, or shut down. Returns true when it
    /// unloaded because it was idle.
    /// `try_unload` is called when the room decides to unload and must return false if new work
    /// arrived meanwhile (the registry checks under its lock).
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<RoomCommand>,
        try_unload: impl Fn() -> bool + Send,
        tx_self: mpsc::WeakSender<RoomCommand>,
    ) -> bool {
        let mut bus_events = self.bus_events.take();
        let mut idle = false;
        let mut stopped = false;
        let mut deferred = Vec::new();
        if let Some(loading) = self.loading.take() {
            match self.finish_loading(loading, &mut rx).await {
                Some(held) => deferred = held,
                None => stopped = true,
            }
        }
        if !stopped && self.deps.bus.fans_out() {
            self.announce();
        }
        for cmd in deferred {
            if self.handle(cmd, &tx_self).await == Flow::Stop {
                stopped = true;
                break;
            }
        }
        while !stopped {
            let deadline = self.next_deadline();
            let cmd = tokio::select! {
                cmd = rx.recv() => cmd,
                Some(event) = recv_bus(&mut bus_events) => {
                    self.on_bus(event);
                    continue;
                }
                _ = sleep_until(deadline.into()) => {
                    if self.on_timer(&tx_self) && rx.is_empty() && try_unload() {
                        idle = true;
                        break;
                    }
                    continue;
                }
            };
            let Some(cmd) = cmd else { break };
            stopped = self.handle(cmd, &tx_self).await == Flow::Stop;
        }
        dec(&self.deps.metrics.rooms_loaded);
        tracing::debug!(room = %self.id, "room unloaded");
        idle
    }

    /// Serves what can be served while the document is integrated (greetings without step 1, step 2
    /// answers to empty state vectors, status), holds back the rest, and sends the owed step 1s once
    /// the document is there. Returns the held-back commands, or `None` when the room must stop.
    async fn finish_loading(
        &mut self,
        mut loading: Loading,
        rx: &mut mpsc::Receiver<RoomCommand>,
    ) -> Option<Vec<RoomCommand>> {
        loop {
            tokio::select! {
                doc = &mut loading.doc => match doc {
                    Ok((doc, loaded_keys)) => {
                        watch_design(&doc, &self.design_changed);
                        self.doc = doc;
                        self.loaded_keys = loaded_keys;
                        break;
                    }
                    Err(e) => {
                        tracing::error!(room = %self.id, error = %e, "loading room failed");
                        for conn in self.conns.values() {
                            conn.control.close(CloseCode::Internal);
                        }
                        return None;
                    }
                },
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else {
                        // Nobody can reach the room any more; the stored rows stay as they are.
                        return None;
                    };
                    if !loading.deferred.is_empty() {
                        loading.deferred.push(cmd);
                        continue;
                    }
                    match cmd {
                        RoomCommand::Join { conn, reply } => {
                            loading.owe_step1.push(conn.id);
                            self.join(conn, false);
                            let _ = reply.send(Ok(()));
                        }
                        RoomCommand::Inbound { conn, messages }
                            if messages
                                .iter()
                                .all(|m| matches!(m, Inbound::SyncStep1(sv) if sv.is_empty())) =>
                        {
                            self.inbound(conn, messages)
                        }
                        RoomCommand::Status { reply } => self.status(reply),
                        other => loading.deferred.push(other),
                    }
                }
            }
        }
        let sv = self.state_vector();
        for conn in loading.owe_step1 {
            self.send_to(conn, protocol::encode_step1(&sv));
        }
        Some(loading.deferred)
    }

    /// Handles one command.
    async fn handle(&mut self, cmd: RoomCommand, tx_self: &mpsc::WeakSender<RoomCommand>) -> Flow {
        match cmd {
            RoomCommand::Join { conn, reply } => {
                self.join(conn, true);
                let _ = reply.send(Ok(()));
            }
            RoomCommand::Inbound { conn, messages } => self.inbound(conn, messages),
            RoomCommand::Leave { conn } => self.leave(conn),
            RoomCommand::Persisted {
                result,
                saved_sv,
                version,
            } => self.persisted(result, saved_sv, version),
            RoomCommand::Validation { reply } => {
                if self.validate_at.is_some() {
                    self.validate();
                }
                let _ = reply.send(self.validation.clone());
            }
            RoomCommand::Status { reply } => self.status(reply),
            RoomCommand::Shutdown { reply } => {
                self.flush_for_shutdown(tx_self).await;
                let _ = reply.send(());
            }
            RoomCommand::CloseAll { code } => {
                for conn in self.conns.values() {
                    conn.control.close(code);
                }
                self.conns.clear();
                self.shared.connections.store(0, Ordering::Relaxed);
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    fn status(&self, reply: oneshot::Sender<RoomStatus>) {
        let _ = reply.send(RoomStatus {
            participants: self.awareness.present(),
            connections: self.conns.len(),
        });
    }

    fn next_deadline(&self) -> Instant {
        let mut deadline = self.next_housekeeping;
        if let Some(at) = self.persist_at {
            deadline = deadline.min(at);
        }
        if let Some(at) = self.validate_at {
            deadline = deadline.min(at);
        }
        if let Some(at) = self.saved_at {
            deadline = deadline.min(at);
        }
        if let Some(since) = self.idle_since {
            deadline = deadline.min(since + self.deps.idle);
        }
        if let Some(at) = self.reconcile_at {
            deadline = deadline.min(at);
        }
        deadline
    }

    /// Handles whatever is due. Returns true when the room may unload.
    fn on_timer(&mut self, tx_self: &mpsc::WeakSender<RoomCommand>) -> bool {
        let now = Instant::now();
        if self.persist_at.is_some_and(|at| at <= now) {
            self.submit_pending(tx_self);
        }
        if self.validate_at.is_some_and(|at| at <= now) {
            self.validate();
        }
        if self.saved_at.is_some_and(|at| at <= now) {
            self.send_saved(now);
        }
        if self.next_housekeeping <= now {
            self.next_housekeeping = now + HOUSEKEEPING;
            // Our own clients' silent states: removed here and on the other instances. States relayed
            // by other instances expire here without a word (also how the states of a dead instance's
            // clients go away: nobody renews them).
            if let Some(removal) =
                self.awareness
                    .expire_where(now, AWARENESS_TIMEOUT, Owner::is_local)
            {
                let message = protocol::encode_awareness(&removal);
                self.broadcast(&message, None);
                self.publish(BusMessage::Awareness(removal));
            }
            if let Some(removal) = self.awareness.expire(now, AWARENESS_TIMEOUT) {
                self.broadcast(&protocol::encode_awareness(&removal), None);
            }
        }
        self.reconcile_tick(now);
        let idle = self
            .idle_since
            .is_some_and(|since| now >= since + self.deps.idle);
        idle && self.conns.is_empty() && self.pending.is_empty() && self.in_flight == 0
    }

    /// Greets a connection and adds it. `step1` is false while the document is still loading: the
    /// step 1 follows once it is there.
    fn join(&mut self, conn: ConnHandle, step1: bool) {
        let id = conn.id;
        // The greeting: our state vector (so the client sends what we lack), who is present, and
        // the session facts. Queued in order on the fresh outbox, which has room for them.
        if step1 {
            let sv = self.state_vector();
            let _ = conn.outbox.try_send(protocol::encode_step1(&sv));
        }
        if let Some(all) = self.awareness.encode_all() {
            let _ = conn.outbox.try_send(protocol::encode_awareness(&all));
        }
        let session = serde_json::json!({
            "type": "session",
            "room": self.id.as_str(),
            "role": conn.role.as_str(),
            "problem": self.problem_id,
        });
        let _ = conn
            .outbox
            .try_send(protocol::encode_tierboard(&session.to_string()));
        if let Some(validation) = &self.validation_message {
            let _ = conn.outbox.try_send(validation.clone());
        }
        if let Some(saved) = self.saved_message() {
            let _ = conn.outbox.try_send(saved);
        }
        self.conns.insert(id, conn);
        self.shared
            .connections
            .store(self.conns.len(), Ordering::Relaxed);
        self.idle_since = None;
        if self.reconcile_at.is_none() && self.deps.bus.fans_out() {
            self.reconcile_at = Some(Instant::now() + jitter());
        }
    }

    fn leave(&mut self, conn: ConnId) {
        self.unsaved.remove(&conn);
        if self.conns.remove(&conn).is_some() {
            self.shared
                .connections
                .store(self.conns.len(), Ordering::Relaxed);
        }
        if let Some(removal) = self.awareness.remove_owner(Owner::Conn(conn)) {
            self.broadcast(&protocol::encode_awareness(&removal), None);
            self.publish(BusMessage::Awareness(removal));
        }
        if self.conns.is_empty() {
            self.idle_since = Some(Instant::now());
        }
    }

    fn inbound(&mut self, from: ConnId, messages: Vec<Inbound>) {
        // A message from a connection the room already dropped (slow consumer) is ignored.
        let Some(role) = self.conns.get(&from).map(|c| c.role) else {
            return;
        };
        for message in messages {
            match message {
                Inbound::SyncStep1(sv) => {
                    let step2 = self.diff_for(&sv);
                    self.send_to(from, step2);
                }
                Inbound::Update(update, size) => {
                    // The WebSocket reader refuses updates from view connections before they get
                    // here; this is the second lock on that door.
                    if !role.can_edit() {
                        inc(&self.deps.metrics.rejected_messages, 1);
                        continue;
                    }
                    inc(&self.deps.metrics.updates_in, 1);
                    inc(&self.deps.metrics.bytes_in, size as u64);
                    self.apply(from, update);
                }
                Inbound::Awareness(update) => {
                    match self
                        .awareness
                        .apply(Owner::Conn(from), &update, Instant::now())
                    {
                        Ok(true) => {
                            self.broadcast(&protocol::encode_awareness(&update), Some(from));
                            self.publish(BusMessage::Awareness(update));
                        }
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(room = %self.id, conn = from.0, error = %e, "bad awareness update");
                            inc(&self.deps.metrics.rejected_messages, 1);
                            self.close(from, CloseCode::Malformed);
                            return;
                        }
                    }
                }
                Inbound::QueryAwareness => {
                    if let Some(all) = self.awareness.encode_all() {
                        self.send_to(from, protocol::encode_awareness(&all));
                    }
                }
            }
        }
    }

    /// Applies a client's update, fans out exactly what it changed and publishes it to other instances.
    fn apply(&mut self, from: ConnId, update: Update) {
        match self.integrate(update) {
            Ok(Some(delta)) => {
                self.unsaved.insert(from, self.version);
                self.broadcast(&protocol::encode_update(&delta), Some(from));
                self.publish(BusMessage::Update(Bytes::from(delta)));
            }
            // Nothing new (e.g. a reconnecting client re-sending edits another connection of
            // its own already delivered): it still hears when they are stored.
            Ok(None) => {
                if self.version > self.saved_version {
                    self.unsaved.insert(from, self.version);
                }
            }
            Err(e) => {
                tracing::warn!(room = %self.id, conn = from.0, error = %e, "update failed to apply");
                inc(&self.deps.metrics.rejected_messages, 1);
                self.close(from, CloseCode::Malformed);
            }
        }
    }

    /// Applies an update to the document and queues what it changed for storage. Returns that delta,
    /// or `None` when nothing changed.
    fn integrate(&mut self, update: Update) -> Result<Option<Vec<u8>>, yrs::error::UpdateError> {
        let delta = {
            let mut txn = self.doc.transact_mut();
            txn.apply_update(update)?;
            txn.encode_update_v1()
        };
        // `[0, 0]`: no new blocks and no deletions (a duplicate, or only stashed as pending).
        if delta.len() <= 2 {
            return Ok(None);
        }
        self.version += 1;
        self.pending.push(delta.clone());
        if self.persist_at.is_none() {
            self.persist_at = Some(Instant::now() + PERSIST_COALESCE);
        }
        if self.design_changed.swap(false, Ordering::Relaxed) && self.validate_at.is_none() {
            // Run now if the last run is old enough, else at the end of its window: a burst of edits
            // costs one run per window, and the first edit after a quiet spell is judged at once.
            self.validate_at = Some(Instant::now().max(self.last_validation + VALIDATION_INTERVAL));
        }
        Ok(Some(delta))
    }

    /// Something another instance published on the room's channel (or the bus came back).
    fn on_bus(&mut self, event: BusEvent) {
        match event {
            BusEvent::Reconnected => self.announce(),
            BusEvent::Message(Envelope { from, message }) => match message {
                BusMessage::Update(raw) => {
                    let applied = Update::decode_v1(&raw)
                        .map_err(|e| e.to_string())
                        .and_then(|update| self.integrate(update).map_err(|e| e.to_string()));
                    match applied {
                        // Stored here too, and sent to our clients; never re-published.
                        Ok(Some(delta)) => self.broadcast(&protocol::encode_update(&delta), None),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(room = %self.id, from = %from, error = %e, "bus update ignored");
                            inc(&self.deps.metrics.bus_errors, 1);
                        }
                    }
                }
                BusMessage::Awareness(update) => {
                    match self.awareness.apply(Owner::Remote, &update, Instant::now()) {
                        Ok(true) => self.broadcast(&protocol::encode_awareness(&update), None),
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(room = %self.id, from = %from, error = %e, "bus awareness ignored");
                            inc(&self.deps.metrics.bus_errors, 1);
                        }
                    }
                }
                BusMessage::Sync(state) => self.on_peer_state(&from, state),
            },
        }
        if self.bus.lagged.load(Ordering::Relaxed) {
            self.announce_soon();
        }
    }

    /// A peer's reconcile message: send it what it lacks, ask for what we lack (see [`reconcile`]).
    fn on_peer_state(&mut self, from: &crate::ids::InstanceId, state: SyncState) {
        let peer_sv = match StateVector::decode_v1(&state.sv) {
            Ok(sv) => sv,
            Err(e) => {
                tracing::warn!(room = %self.id, from = %from, error = %e, "bad state vector on the bus");
                inc(&self.deps.metrics.bus_errors, 1);
                return;
            }
        };
        let mine = self.doc_state();
        let plan = reconcile::plan(&mine, &peer_sv, state.deletes, state.request);
        if plan.send_diff {
            let diff = self.doc.transact().encode_state_as_update_v1(&peer_sv);
            inc(&self.deps.metrics.reconcile_diffs, 1);
            self.publish(BusMessage::Update(Bytes::from(diff)));
        }
        if plan.answer {
            inc(&self.deps.metrics.reconciles, 1);
            self.publish(BusMessage::Sync(mine.to_message(false, false)));
        }
        if state.hello
            && let Some(ours) = self.awareness.encode_where(Owner::is_local)
        {
            self.publish(BusMessage::Awareness(ours));
        }
    }

    /// Publishes our state, asking peers to answer, and our clients' awareness, asking peers for theirs:
    /// after a load, a reconnect, or a dropped bus message.
    fn announce(&mut self) {
        self.announce_due = false;
        self.bus.lagged.store(false, Ordering::Relaxed);
        let state = self.doc_state().to_message(true, true);
        inc(&self.deps.metrics.reconciles, 1);
        self.publish(BusMessage::Sync(state));
        if let Some(ours) = self.awareness.encode_where(Owner::is_local) {
            self.publish(BusMessage::Awareness(ours));
        }
    }

    fn announce_soon(&mut self) {
        self.announce_due = true;
        let soon = Instant::now() + ANNOUNCE_SOON;
        self.reconcile_at = Some(self.reconcile_at.map_or(soon, |at| at.min(soon)));
    }

    /// Due reconcile work: an announcement when something was dropped, else (while we have
    /// connections) the periodic state, every [`RECONCILE_PERIOD`] plus jitter.
    fn reconcile_tick(&mut self, now: Instant) {
        if self.bus.lagged.load(Ordering::Relaxed) && !self.announce_due {
            self.announce_soon();
        }
        if self.reconcile_at.is_none_or(|at| at > now) {
            return;
        }
        self.reconcile_at = None;
        if self.announce_due {
            self.announce();
        } else if !self.conns.is_empty() {
            let state = self.doc_state().to_message(true, false);
            inc(&self.deps.metrics.reconciles, 1);
            self.publish(BusMessage::Sync(state));
        }
        if !self.conns.is_empty() {
            self.reconcile_at = Some(now + RECONCILE_PERIOD + jitter());
        }
    }

    /// Publishes to the other instances. Never waits; a message the bus could not take is healed by
    /// announcing soon (queue full) or after the reconnect (bus down).
    fn publish(&mut self, message: BusMessage) {
        if !self.deps.bus.fans_out() {
            return;
        }
        if let Err(Dropped::Full) = self.deps.bus.publish(&self.id, message) {
            self.announce_soon();
        }
    }

    /// The state vector and delete-set digest, computed once per document version.
    fn doc_state(&mut self) -> DocState {
        if let Some((version, state)) = &self.cached_state
            && *version == self.version
        {
            return state.clone();
        }
        let state = DocState::of(&self.doc.transact());
        self.cached_state = Some((self.version, state.clone()));
        state
    }

    /// Re-reads the design, validates it and, when the result changed, pushes it to everyone and
    /// stores the tier transitions. The first run after loading is the baseline: the tiers the stored
    /// design already met are not new transitions.
    fn validate(&mut self) {
        let record = self.validation.is_some();
        self.validate_at = None;
        self.last_validation = Instant::now();
        let Some(problem) = self.problem.clone() else {
            return;
        };
        let run = {
            let txn = self.doc.transact();
            validation::revalidate(
                &problem,
                self.deps.bank.catalog(),
                &txn,
                self.validation.as_deref(),
            )
        };
        inc(&self.deps.metrics.validations, 1);
        if !run.changed {
            return;
        }
        let result = run.result;
        let transitions = if record { run.transitions } else { Vec::new() };
        let message = serde_json::json!({"type": "validation", "result": &result});
        let message = protocol::encode_tierboard(&message.to_string());
        self.broadcast(&message, None);
        self.validation_message = Some(message);
        self.validation = Some(Arc::new(result));
        if !transitions.is_empty() {
            let at_ms = crate::clock::now_ms();
            let events: Vec<Transition> = transitions
                .into_iter()
                .map(|t| Transition {
                    at_ms,
                    tier: t.tier,
                    event: match t.event {
                        validation::TierEvent::Reached => "reached".into(),
                        validation::TierEvent::Lost => "lost".into(),
                    },
                })
                .collect();
            let store = self.deps.store.clone();
            let room = self.id.clone();
            // The timeline is history, not state: storing it off the actor keeps fan-out fast; a
            // failure is logged and counted.
            let metrics = self.deps.metrics.clone();
            tokio::spawn(async move {
                if let Err(e) = store.record_transitions(&room, &events).await {
                    tracing::error!(room = %room, error = %e, "storing tier transitions failed");
                    inc(&metrics.errors, 1);
                }
            });
        }
    }

    fn submit_pending(&mut self, tx_self: &mpsc::WeakSender<RoomCommand>) {
        self.persist_at = None;
        if self.pending.is_empty() {
            return;
        }
        if self.rows_since_snapshot >= self.deps.persister.compact_rows()
            && self.stored_bytes <= SNAPSHOT_MAX_BYTES
        {
            self.submit_snapshot(tx_self);
            return;
        }
        // Everything pending goes out as one update; if merging fails (it cannot for updates the
        // document accepted), the oldest goes alone and the rest wait for the next round.
        let (update, all) = if self.pending.len() == 1 {
            (self.pending.pop().expect("one pending update"), true)
        } else {
            match yrs::merge_updates_v1(self.pending.iter()) {
                Ok(merged) => {
                    self.pending.clear();
                    (merged, true)
                }
                Err(e) => {
                    tracing::error!(room = %self.id, error = %e, "merging pending updates failed");
                    self.persist_at = Some(Instant::now() + PERSIST_RETRY);
                    (self.pending.remove(0), false)
                }
            }
        };
        // What the acknowledgement may claim: the whole document only when the whole of it was
        // submitted; a partial submit claims the version already saved, which announces nothing.
        let on_saved = if all {
            self.on_saved(tx_self, self.version)
        } else {
            self.on_saved(tx_self, self.saved_version)
        };
        let bytes = update.len();
        match self
            .deps
            .persister
            .try_submit_with(self.id.clone(), update, on_saved)
        {
            Ok(()) => {
                self.in_flight += 1;
                self.rows_since_snapshot += 1;
                self.stored_bytes += bytes;
            }
            Err(update) => {
                // The persister's queue is full: keep the update (first: it is the oldest) and
                // retry shortly.
                self.pending.insert(0, update);
                self.persist_at = Some(Instant::now() + PERSIST_RETRY);
            }
        }
    }

    /// Submits the whole document as one row that replaces the rows it covers: this instance's
    /// earlier rows of the room and the rows it was loaded from (store module docs, "Snapshots from
    /// the room"). It holds every pending update, which therefore need not go on their own.
    fn submit_snapshot(&mut self, tx_self: &mpsc::WeakSender<RoomCommand>) {
        let snapshot = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let bytes = snapshot.len();
        let replaces = std::mem::take(&mut self.loaded_keys);
        let on_saved = self.on_saved(tx_self, self.version);
        match self
            .deps
            .persister
            .try_submit_snapshot(self.id.clone(), snapshot, replaces, on_saved)
        {
            Ok(()) => {
                inc(&self.deps.metrics.room_snapshots, 1);
                self.pending.clear();
                self.in_flight += 1;
                self.rows_since_snapshot = 1;
                self.stored_bytes = bytes;
            }
            Err(replaces) => {
                // The persister's queue is full: the pending updates stay, and the next attempt
                // encodes the document as it is then.
                self.loaded_keys = replaces;
                self.persist_at = Some(Instant::now() + PERSIST_RETRY);
            }
        }
    }

    /// The callback of a submission covering the document up to `version` (with the current state
    /// vector, or none for a version already saved). It runs on the persister task after the commit:
    /// straight into this room's queue, with a task to wait for room in it only when the queue is
    /// full (a spawn per commit would be the rule).
    fn on_saved(&mut self, tx_self: &mpsc::WeakSender<RoomCommand>, version: u64) -> OnSaved {
        let saved_sv = if version > self.saved_version {
            self.state_vector()
        } else {
            Bytes::new()
        };
        let tx = tx_self.clone();
        Box::new(move |result| {
            let Some(tx) = tx.upgrade() else { return };
            let ack = RoomCommand::Persisted {
                result,
                saved_sv,
                version,
            };
            if let Err(mpsc::error::TrySendError::Full(ack)) = tx.try_send(ack)
                // None only while the runtime itself is being torn down, when nobody waits anymore.
                && let Ok(runtime) = tokio::runtime::Handle::try_current()
            {
                runtime.spawn(async move {
                    let _ = tx.send(ack).await;
                });
            }
        })
    }

    fn persisted(&mut self, result: crate::Result<()>, saved_sv: Bytes, version: u64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match result {
            // Commits are acknowledged in order; the guard keeps an older one from winning, and a
            // partial submit (which claims only the version already saved) from announcing anything.
            Ok(()) if version > self.saved_version => {
                self.last_saved = Some((saved_sv, None));
                self.saved_version = version;
                if self.saved_at.is_none() {
                    self.saved_at =
                        Some(Instant::now().max(self.last_saved_round + SAVED_INTERVAL));
                }
            }
            Ok(()) => {}
            Err(e) => {
                // The persister keeps and retries failed batches itself (and counts the error);
                // nothing is dropped here, the `saved` message just waits for the retry.
                tracing::warn!(room = %self.id, error = %e, "not saved yet");
            }
        }
        if self.conns.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
        }
    }

    /// Tells each connection whose edits the latest commit covers that they are stored.
    fn send_saved(&mut self, now: Instant) {
        self.saved_at = None;
        self.last_saved_round = now;
        let Some(message) = self.saved_message() else {
            return;
        };
        let covered = self.saved_version;
        let mut told = Vec::new();
        self.unsaved.retain(|conn, edited| {
            let done = *edited <= covered;
            if done {
                told.push(*conn);
            }
            !done
        });
        for conn in told {
            self.send_to(conn, message.clone());
        }
    }

    /// The `saved` message for the latest commit, encoded once.
    fn saved_message(&mut self) -> Option<Bytes> {
        let (sv, message) = self.last_saved.as_mut()?;
        Some(
            message
                .get_or_insert_with(|| {
                    let json = serde_json::json!({"type": "saved", "sv": STANDARD.encode(&*sv)});
                    protocol::encode_tierboard(&json.to_string())
                })
                .clone(),
        )
    }

    async fn flush_for_shutdown(&mut self, tx_self: &mpsc::WeakSender<RoomCommand>) {
        while !self.pending.is_empty() {
            self.submit_pending(tx_self);
            if !self.pending.is_empty() {
                tokio::time::sleep(PERSIST_RETRY).await;
            }
        }
    }

    fn state_vector(&mut self) -> Bytes {
        if let Some((version, sv)) = &self.cached_sv
            && *version == self.version
        {
            return sv.clone();
        }
        let sv = Bytes::from(self.doc.transact().state_vector().encode_v1());
        self.cached_sv = Some((self.version, sv.clone()));
        sv
    }

    /// The step 2 answering a client's state vector. A client with nothing (a joiner) gets the
    /// full state, encoded once per document version and shared by every joiner.
    fn diff_for(&mut self, sv: &StateVector) -> Bytes {
        if sv.is_empty() {
            if let Some((version, full)) = &self.cached_full
                && *version == self.version
            {
                return full.clone();
            }
            let full = protocol::encode_step2(&self.doc.transact().encode_state_as_update_v1(sv));
            self.cached_full = Some((self.version, full.clone()));
            return full;
        }
        protocol::encode_step2(&self.doc.transact().encode_state_as_update_v1(sv))
    }

    fn send_to(&mut self, to: ConnId, message: Bytes) {
        let Some(conn) = self.conns.get(&to) else {
            return;
        };
        let len = message.len() as u64;
        match conn.outbox.try_send(message) {
            Ok(()) => inc(&self.deps.metrics.bytes_out, len),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.closing.push(to);
                self.close_slow();
            }
            // The connection's writer has ended and its `Leave` is on the way: not a slow consumer.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Sends the same bytes to every connection but `except`. A full outbox closes that connection.
    fn broadcast(&mut self, message: &Bytes, except: Option<ConnId>) {
        let mut sent = 0u64;
        for (id, conn) in &self.conns {
            if Some(*id) == except {
                continue;
            }
            match conn.outbox.try_send(message.clone()) {
                Ok(()) => sent += 1,
                Err(mpsc::error::TrySendError::Full(_)) => self.closing.push(*id),
                // Disconnected, `Leave` on the way (see `send_to`).
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        inc(&self.deps.metrics.updates_out, sent);
        inc(&self.deps.metrics.bytes_out, sent * message.len() as u64);
        self.close_slow();
    }

    /// Closes the queued slow connections. Iterative and idempotent: a mass disconnect (every removal
    /// broadcast finding more full outboxes) closes each connection once, without deep recursion.
    fn close_slow(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        while let Some(id) = self.closing.pop() {
            if self.conns.contains_key(&id) {
                self.slow(id);
            }
        }
        self.draining = false;
    }

    fn slow(&mut self, id: ConnId) {
        tracing::warn!(room = %self.id, conn = id.0, "outbox full: closing slow consumer");
        inc(&self.deps.metrics.slow_consumers, 1);
        self.close(id, CloseCode::SlowConsumer);
    }

    fn close(&mut self, id: ConnId, code: CloseCode) {
        if let Some(conn) = self.conns.get(&id) {
            conn.control.close(code);
        }
        self.leave(id);
    }
}

/// The next bus event, or never when there is no (longer an) inbox.
async fn recv_bus(events: &mut Option<mpsc::Receiver<BusEvent>>) -> Option<BusEvent> {
    match events {
        Some(rx) => match rx.recv().await {
            Some(event) => Some(event),
            None => {
                *events = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// A random delay up to [`RECONCILE_JITTER`], so rooms and instances do not reconcile in step.
fn jitter() -> Duration {
    Duration::from_millis(rand::random_range(0..=RECONCILE_JITTER.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_wakes_both_loops_of_a_connection_and_keeps_the_first_code() {
        let control = Arc::new(ConnControl::default());
        let wait = |side| {
            let control = control.clone();
            tokio::spawn(async move { control.stopped(side).await })
        };
        let (reader, writer) = (wait(Side::Reader), wait(Side::Writer));
        // On this single-threaded runtime the yield lets both tasks poll once and register.
        tokio::task::yield_now().await;
        assert!(!reader.is_finished() && !writer.is_finished());
        assert!(!control.is_stopped());
        control.close(CloseCode::SlowConsumer);
        control.close(CloseCode::Malformed);
        for task in [reader, writer] {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("a stopped loop wakes up")
                .expect("the task ran");
        }
        assert_eq!(
            control.code(),
            CloseCode::SlowConsumer,
            "the first reason wins"
        );
        // A loop that starts waiting after the stop does not wait at all.
        tokio::time::timeout(Duration::from_secs(5), control.stopped(Side::Reader))
            .await
            .expect("ready at once");
    }
}
