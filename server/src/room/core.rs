//! The room core, sans I/O: a room's document, caches, pending updates, saved acknowledgements,
//! awareness, reconcile and validation timers.
//!
//! Every method takes the current time (`tokio::time::Instant`, so tests pause and advance it) and
//! one input: a connection joined or left, a frame's messages arrived, a submission was refused or
//! its commit acknowledged, a bus message, a tick. What the room must do in answer is pushed as
//! [`Effect`]s, which the actor ([`super::actor`]) drains and executes in order. The core imports no
//! networking, database, Redis, store or bus code: its bus messages and stored rows are plain data
//! from [`crate::sync::peer`] and [`crate::rows`].
//!
//! Because the core (through its actor) is the document's only user, `transact_mut` never waits for
//! a lock, and the CPU work of one update is bounded by the message size limit.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, ReadTxn, StateVector, Transact, Update};

use super::conn::ConnId;
use super::effect::{Effect, Refused, Restore, Rows, Submission};
use super::saved::SavedAcks;
use crate::close::CloseCode;
use crate::ids::{InstanceId, Role, RoomId};
use crate::metrics::{Metrics, inc};
use crate::problems::{Bank, Problem};
use crate::rows::{RowKey, Transition};
use crate::sync::peer::{BusMessage, SyncState};
use crate::sync::reconcile::{self, DocState, RECONCILE_PERIOD};
use crate::sync::{AwarenessTable, protocol};
use crate::validation::{self, ValidationResult};

/// How long a silent awareness state is kept (y-protocols' own timeout).
pub const AWARENESS_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a room looks for expired awareness states.
pub const HOUSEKEEPING: Duration = Duration::from_secs(5);
/// Coalesces a burst of updates into one persistence job; the persister adds at most its own interval.
pub const PERSIST_COALESCE: Duration = Duration::from_millis(10);
/// A room snapshots itself (submits its whole document in place of the rows it covers) only while its
/// stored state is at most this large; a larger document is compacted by the persister from the stored
/// rows, off the room's task (encoding it here would hold up the room's fan-out).
pub const SNAPSHOT_MAX_BYTES: usize = 1 << 20;
/// A persistence job refused because the persister's queue was full is retried after this delay.
pub const PERSIST_RETRY: Duration = Duration::from_millis(20);
/// After a bus message was dropped (our inbox or the publish queue was full), the room announces its
/// state this soon, so peers re-send what it missed and it re-sends what they missed.
pub const ANNOUNCE_SOON: Duration = Duration::from_millis(200);
/// At most one validation run per room in this window: a burst of edits is judged once.
pub const VALIDATION_INTERVAL: Duration = Duration::from_millis(50);

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

/// A message the WebSocket reader has already parsed and checked.
#[derive(Debug)]
pub enum Inbound {
    SyncStep1(StateVector),
    /// A decoded update (from sync step 2 or an update message) and its encoded size.
    Update(Update, usize),
    Awareness(Bytes),
    QueryAwareness,
}

/// A point-in-time view for the HTTP API.
#[derive(Debug, Clone)]
pub struct RoomStatus {
    pub participants: usize,
    pub connections: usize,
}

/// What a core is told about its room and server when it starts.
#[derive(Clone)]
pub struct CoreConfig {
    pub id: RoomId,
    /// The problem the room was created for (its stored row says so).
    pub problem_id: Option<String>,
    pub bank: Arc<Bank>,
    pub metrics: Arc<Metrics>,
    /// Whether a publish can reach another instance; when not, the room never reconciles.
    pub fans_out: bool,
    /// Rows gained since the last snapshot at which the room snapshots itself.
    pub compact_rows: u64,
    /// How long a room with nobody connected stays loaded.
    pub idle: Duration,
    /// Reconcile ticks are spread by a random delay up to this, so rooms and instances do not
    /// reconcile in step (tests set zero).
    pub reconcile_jitter: Duration,
}

/// The stored state a core starts from.
#[derive(Debug, Default)]
pub struct Start {
    /// The document, or `None` while it is integrated off the room's task: then joiners are greeted
    /// without the step 1 (owed until [`RoomCore::loaded`]) and `snapshot` answers empty state vectors.
    pub doc: Option<Doc>,
    /// The step 2 holding the room's whole stored state (its only stored row), when there is one.
    pub snapshot: Option<Bytes>,
    /// Keys of the stored rows the document was loaded from, for the first snapshot to replace.
    pub loaded_keys: Vec<RowKey>,
    /// Rows the room's storage holds towards its next snapshot (plus a random head start).
    pub rows_since_snapshot: u64,
    /// Bytes of the stored rows: an upper bound on the size of the room's state.
    pub stored_bytes: usize,
}

pub struct RoomCore {
    config: CoreConfig,
    /// The problem this room practises; `None` if the bank no longer has it (then nothing is judged).
    problem: Option<Arc<Problem>>,
    /// The document; an empty placeholder while `owe_step1` is `Some`.
    doc: Doc,
    /// `Some` while the document is loading: connections greeted meanwhile, still owed the greeting's
    /// step 1 (it carries the document's state vector).
    owe_step1: Option<Vec<ConnId>>,
    conns: HashMap<ConnId, Role>,
    awareness: AwarenessTable<Owner>,
    /// Bumped on every document change; keys the encoding caches below.
    version: u64,
    cached_sv: Option<(u64, Bytes)>,
    cached_full: Option<(u64, Bytes)>,
    cached_state: Option<(u64, DocState)>,
    /// Accepted updates not yet handed to the persister.
    pending: Vec<Vec<u8>>,
    /// Rows the room's storage gained since its last snapshot (one per submission, an upper bound:
    /// the persister merges a room's submissions of one commit).
    rows_since_snapshot: u64,
    /// Bytes of those rows: decides whether the room may encode a snapshot itself.
    stored_bytes: usize,
    loaded_keys: Vec<RowKey>,
    persist_at: Option<Instant>,
    in_flight: usize,
    saved: SavedAcks,
    idle_since: Option<Instant>,
    next_housekeeping: Instant,
    /// When the next reconcile message is due, and whether it must be a full announcement.
    reconcile_at: Option<Instant>,
    announce_due: bool,
    /// Raised by the document's observer when a change touched what validation reads.
    design_changed: Arc<AtomicBool>,
    validation: Option<Arc<ValidationResult>>,
    /// The last result encoded as a `validation` message, sent to joiners.
    validation_message: Option<Bytes>,
    /// Set when the document changed since the last run; the run happens at this instant.
    validate_at: Option<Instant>,
    last_validation: Instant,
    out: Vec<Effect>,
}

impl RoomCore {
    pub fn new(config: CoreConfig, now: Instant, start: Start) -> RoomCore {
        let problem = config
            .problem_id
            .as_deref()
            .and_then(|p| config.bank.get(p));
        if problem.is_none() {
            tracing::warn!(room = %config.id, problem = ?config.problem_id, "room's problem is not in the bank: no validation");
        }
        let design_changed = Arc::new(AtomicBool::new(false));
        let (doc, owe_step1) = match start.doc {
            Some(doc) => {
                watch_design(&doc, &design_changed);
                (doc, None)
            }
            None => (Doc::new(), Some(Vec::new())),
        };
        RoomCore {
            config,
            problem,
            doc,
            owe_step1,
            conns: HashMap::new(),
            awareness: AwarenessTable::default(),
            version: 0,
            cached_sv: None,
            cached_full: start.snapshot.map(|full| (0, full)),
            cached_state: None,
            pending: Vec::new(),
            rows_since_snapshot: start.rows_since_snapshot,
            stored_bytes: start.stored_bytes,
            loaded_keys: start.loaded_keys,
            persist_at: None,
            in_flight: 0,
            saved: SavedAcks::new(now),
            idle_since: Some(now),
            next_housekeeping: now + HOUSEKEEPING,
            reconcile_at: None,
            announce_due: true,
            design_changed,
            validation: None,
            validation_message: None,
            // The first run is the baseline. It comes one validation window after the load, so the
            // joiner that loaded the room is greeted and answered first.
            validate_at: Some(now + VALIDATION_INTERVAL),
            last_validation: now,
            out: Vec::new(),
        }
    }

    /// Swaps the queued effects into `into` (which must be empty; its capacity is reused next time).
    pub fn take_effects(&mut self, into: &mut Vec<Effect>) {
        debug_assert!(into.is_empty());
        std::mem::swap(&mut self.out, into);
    }

    pub fn id(&self) -> &RoomId {
        &self.config.id
    }

    pub fn is_loading(&self) -> bool {
        self.owe_step1.is_some()
    }

    /// The document is there (see [`Start::doc`]): the owed step 1s go out.
    pub fn loaded(&mut self, doc: Doc, loaded_keys: Vec<RowKey>) {
        watch_design(&doc, &self.design_changed);
        self.doc = doc;
        self.loaded_keys = loaded_keys;
        self.cached_sv = None;
        self.cached_state = None;
        let owed = self.owe_step1.take().unwrap_or_default();
        if owed.is_empty() {
            return;
        }
        let step1 = protocol::encode_step1(&self.state_vector());
        for conn in owed {
            self.send_to(conn, step1.clone());
        }
    }

    pub fn status(&self) -> RoomStatus {
        RoomStatus {
            participants: self.awareness.present(),
            connections: self.conns.len(),
        }
    }

    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Greets a connection and adds it: our state vector (so the client sends what we lack), who is
    /// present, the session facts, the latest validation and saved messages, in that order.
    pub fn join(&mut self, now: Instant, id: ConnId, role: Role) {
        match &mut self.owe_step1 {
            Some(owed) => owed.push(id),
            None => {
                let step1 = protocol::encode_step1(&self.state_vector());
                self.out.push(Effect::Send {
                    to: id,
                    message: step1,
                });
            }
        }
        if let Some(all) = self.awareness.encode_all() {
            self.out.push(Effect::Send {
                to: id,
                message: protocol::encode_awareness(&all),
            });
        }
        let session = serde_json::json!({
            "type": "session",
            "room": self.config.id.as_str(),
            "role": role.as_str(),
            "problem": self.config.problem_id,
        });
        self.out.push(Effect::Send {
            to: id,
            message: protocol::encode_tierboard(&session.to_string()),
        });
        if let Some(validation) = &self.validation_message {
            self.out.push(Effect::Send {
                to: id,
                message: validation.clone(),
            });
        }
        if let Some(saved) = self.saved.message() {
            self.out.push(Effect::Send {
                to: id,
                message: saved,
            });
        }
        self.conns.insert(id, role);
        self.idle_since = None;
        if self.reconcile_at.is_none() && self.config.fans_out {
            self.reconcile_at = Some(now + self.jitter());
        }
    }

    /// A connection is gone (its socket closed): its presence is removed here and on the peers.
    pub fn leave(&mut self, now: Instant, conn: ConnId) {
        self.saved.left(conn);
        self.conns.remove(&conn);
        if let Some(removal) = self.awareness.remove_owner(Owner::Conn(conn)) {
            self.broadcast(protocol::encode_awareness(&removal), None);
            self.publish(BusMessage::Awareness(removal));
        }
        if self.conns.is_empty() {
            self.idle_since = Some(now);
        }
    }

    /// A connection's outbox was full: it is too slow, and is closed (it resyncs on reconnect)
    /// rather than silently missing an update. Idempotent.
    pub fn slow_consumer(&mut self, now: Instant, conn: ConnId) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        tracing::warn!(room = %self.config.id, conn = conn.0, "outbox full: closing slow consumer");
        inc(&self.config.metrics.slow_consumers, 1);
        self.close(now, conn, CloseCode::SlowConsumer);
    }

    fn close(&mut self, now: Instant, conn: ConnId, code: CloseCode) {
        if self.conns.contains_key(&conn) {
            self.out.push(Effect::Close { conn, code });
        }
        self.leave(now, conn);
    }

    /// The messages of one frame, in order.
    pub fn inbound(&mut self, now: Instant, from: ConnId, messages: Vec<Inbound>) {
        // A message from a connection the room already dropped (slow consumer) is ignored.
        let Some(role) = self.conns.get(&from).copied() else {
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
                        inc(&self.config.metrics.rejected_messages, 1);
                        continue;
                    }
                    inc(&self.config.metrics.updates_in, 1);
                    inc(&self.config.metrics.bytes_in, size as u64);
                    if !self.apply(now, from, update) {
                        return;
                    }
                }
                Inbound::Awareness(update) => {
                    match self
                        .awareness
                        .apply(Owner::Conn(from), &update, now.into_std())
                    {
                        Ok(true) => {
                            self.broadcast(protocol::encode_awareness(&update), Some(from));
                            self.publish(BusMessage::Awareness(update));
                        }
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(room = %self.config.id, conn = from.0, error = %e, "bad awareness update");
                            inc(&self.config.metrics.rejected_messages, 1);
                            self.close(now, from, CloseCode::Malformed);
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

    /// Applies a client's update, fans out exactly what it changed and publishes it to other
    /// instances. False when the update was refused and its connection closed.
    fn apply(&mut self, now: Instant, from: ConnId, update: Update) -> bool {
        match self.integrate(now, update) {
            Ok(Some(delta)) => {
                self.saved.edited(from, self.version);
                self.broadcast(protocol::encode_update(&delta), Some(from));
                self.publish(BusMessage::Update(Bytes::from(delta)));
            }
            // Nothing new (e.g. a reconnecting client re-sending edits another connection of
            // its own already delivered): it still hears when they are stored.
            Ok(None) => {
                if self.version > self.saved.version() {
                    self.saved.edited(from, self.version);
                }
            }
            Err(e) => {
                tracing::warn!(room = %self.config.id, conn = from.0, error = %e, "update failed to apply");
                inc(&self.config.metrics.rejected_messages, 1);
                self.close(now, from, CloseCode::Malformed);
                return false;
            }
        }
        true
    }

    /// Applies an update to the document and queues what it changed for storage. Returns that delta,
    /// or `None` when nothing changed.
    fn integrate(
        &mut self,
        now: Instant,
        update: Update,
    ) -> Result<Option<Vec<u8>>, yrs::error::UpdateError> {
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
            self.persist_at = Some(now + PERSIST_COALESCE);
        }
        if self.design_changed.swap(false, Ordering::Relaxed) && self.validate_at.is_none() {
            // Run now if the last run is old enough, else at the end of its window: a burst of edits
            // costs one run per window, and the first edit after a quiet spell is judged at once.
            self.validate_at = Some(now.max(self.last_validation + VALIDATION_INTERVAL));
        }
        Ok(Some(delta))
    }

    /// A message another instance published on the room's channel.
    pub fn bus_message(&mut self, now: Instant, from: &InstanceId, message: BusMessage) {
        match message {
            BusMessage::Update(raw) => {
                let applied = Update::decode_v1(&raw)
                    .map_err(|e| e.to_string())
                    .and_then(|update| self.integrate(now, update).map_err(|e| e.to_string()));
                match applied {
                    // Stored here too, and sent to our clients; never re-published.
                    Ok(Some(delta)) => self.broadcast(protocol::encode_update(&delta), None),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(room = %self.config.id, from = %from, error = %e, "bus update ignored");
                        inc(&self.config.metrics.bus_errors, 1);
                    }
                }
            }
            BusMessage::Awareness(update) => {
                match self.awareness.apply(Owner::Remote, &update, now.into_std()) {
                    Ok(true) => self.broadcast(protocol::encode_awareness(&update), None),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(room = %self.config.id, from = %from, error = %e, "bus awareness ignored");
                        inc(&self.config.metrics.bus_errors, 1);
                    }
                }
            }
            BusMessage::Sync(state) => self.peer_state(from, state),
        }
    }

    /// The bus was down and is back: messages may have been lost meanwhile.
    pub fn bus_reconnected(&mut self) {
        self.announce();
    }

    /// A bus message for this room was dropped (its inbox was full), or a publish was (the bus's
    /// queue was full): announce soon, so peers re-send what we missed and we what they missed.
    pub fn publish_dropped(&mut self, now: Instant) {
        self.announce_due = true;
        let soon = now + ANNOUNCE_SOON;
        self.reconcile_at = Some(self.reconcile_at.map_or(soon, |at| at.min(soon)));
    }

    /// A peer's reconcile message: send it what it lacks, ask for what we lack (see [`reconcile`]).
    fn peer_state(&mut self, from: &InstanceId, state: SyncState) {
        let peer_sv = match StateVector::decode_v1(&state.sv) {
            Ok(sv) => sv,
            Err(e) => {
                tracing::warn!(room = %self.config.id, from = %from, error = %e, "bad state vector on the bus");
                inc(&self.config.metrics.bus_errors, 1);
                return;
            }
        };
        let mine = self.doc_state();
        let plan = reconcile::plan(&mine, &peer_sv, state.deletes, state.request);
        if plan.send_diff {
            let diff = self.doc.transact().encode_state_as_update_v1(&peer_sv);
            inc(&self.config.metrics.reconcile_diffs, 1);
            self.publish(BusMessage::Update(Bytes::from(diff)));
        }
        if plan.answer {
            inc(&self.config.metrics.reconciles, 1);
            self.publish(BusMessage::Sync(mine.to_message(false, false)));
        }
        if state.hello
            && let Some(ours) = self.awareness.encode_where(Owner::is_local)
        {
            self.publish(BusMessage::Awareness(ours));
        }
    }

    /// Publishes our state, asking peers to answer, and our clients' awareness, asking peers for
    /// theirs: after a load, a reconnect, or a dropped bus message.
    pub fn announce(&mut self) {
        if !self.config.fans_out {
            return;
        }
        self.announce_due = false;
        let state = self.doc_state().to_message(true, true);
        inc(&self.config.metrics.reconciles, 1);
        self.publish(BusMessage::Sync(state));
        if let Some(ours) = self.awareness.encode_where(Owner::is_local) {
            self.publish(BusMessage::Awareness(ours));
        }
    }

    /// Due reconcile work: an announcement when something was dropped, else (while we have
    /// connections) the periodic state, every [`RECONCILE_PERIOD`] plus jitter.
    fn reconcile_tick(&mut self, now: Instant) {
        if self.reconcile_at.is_none_or(|at| at > now) {
            return;
        }
        self.reconcile_at = None;
        if self.announce_due {
            self.announce();
        } else if !self.conns.is_empty() {
            let state = self.doc_state().to_message(true, false);
            inc(&self.config.metrics.reconciles, 1);
            self.publish(BusMessage::Sync(state));
        }
        if !self.conns.is_empty() {
            self.reconcile_at = Some(now + RECONCILE_PERIOD + self.jitter());
        }
    }

    /// Publishes to the other instances (never waits: see [`RoomCore::publish_dropped`]).
    fn publish(&mut self, message: BusMessage) {
        if self.config.fans_out {
            self.out.push(Effect::Publish(message));
        }
    }

    fn jitter(&self) -> Duration {
        let max = self.config.reconcile_jitter.as_millis() as u64;
        if max == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::random_range(0..=max))
    }

    /// The instant of the next due timer: the actor sleeps until then and calls [`RoomCore::tick`].
    pub fn next_wake(&self) -> Instant {
        let mut deadline = self.next_housekeeping;
        for at in [
            self.persist_at,
            self.validate_at,
            self.saved.due(),
            // Only while nothing keeps the room loaded: a room whose edits are still being stored
            // would otherwise wake at once, again and again, until they are.
            self.idle_since
                .filter(|_| self.nothing_unsaved())
                .map(|since| since + self.config.idle),
            self.reconcile_at,
        ]
        .into_iter()
        .flatten()
        {
            deadline = deadline.min(at);
        }
        deadline
    }

    /// Handles whatever is due at `now`; asks to unload ([`Effect::Unload`]) when the room may.
    pub fn tick(&mut self, now: Instant) {
        if self.persist_at.is_some_and(|at| at <= now) {
            self.submit_pending(now);
        }
        if self.validate_at.is_some_and(|at| at <= now) {
            self.validate(now);
        }
        if self.saved.due().is_some_and(|at| at <= now) {
            self.send_saved(now);
        }
        if self.next_housekeeping <= now {
            self.next_housekeeping = now + HOUSEKEEPING;
            let at = now.into_std();
            // Our own clients' silent states: removed here and on the other instances. States relayed
            // by other instances expire here without a word (also how the states of a dead instance's
            // clients go away: nobody renews them).
            if let Some(removal) =
                self.awareness
                    .expire_where(at, AWARENESS_TIMEOUT, Owner::is_local)
            {
                self.broadcast(protocol::encode_awareness(&removal), None);
                self.publish(BusMessage::Awareness(removal));
            }
            if let Some(removal) = self.awareness.expire(at, AWARENESS_TIMEOUT) {
                self.broadcast(protocol::encode_awareness(&removal), None);
            }
        }
        self.reconcile_tick(now);
        if self.may_unload(now) {
            self.out.push(Effect::Unload);
        }
    }

    /// Idle for the configured time, nobody connected, nothing pending and nothing in flight.
    pub fn may_unload(&self, now: Instant) -> bool {
        self.idle_since
            .is_some_and(|since| now >= since + self.config.idle)
            && self.nothing_unsaved()
    }

    /// Nobody connected, nothing pending, nothing in flight.
    fn nothing_unsaved(&self) -> bool {
        self.conns.is_empty() && self.pending.is_empty() && self.in_flight == 0
    }

    /// The current validation result, after running a pending validation (so it reflects every
    /// accepted edit).
    pub fn validation_now(&mut self, now: Instant) -> Option<Arc<ValidationResult>> {
        if self.validate_at.is_some() {
            self.validate(now);
        }
        self.validation.clone()
    }

    /// Re-reads the design, validates it and, when the result changed, pushes it to everyone and
    /// records the tier transitions. The first run after loading is the baseline: the tiers the
    /// stored design already met are not new transitions.
    fn validate(&mut self, now: Instant) {
        let record = self.validation.is_some();
        self.validate_at = None;
        self.last_validation = now;
        let Some(problem) = self.problem.clone() else {
            return;
        };
        let run = {
            let txn = self.doc.transact();
            validation::revalidate(
                &problem,
                self.config.bank.catalog(),
                &txn,
                self.validation.as_deref(),
            )
        };
        inc(&self.config.metrics.validations, 1);
        if !run.changed {
            return;
        }
        let message = serde_json::json!({"type": "validation", "result": &run.result});
        let message = protocol::encode_tierboard(&message.to_string());
        self.broadcast(message.clone(), None);
        self.validation_message = Some(message);
        self.validation = Some(Arc::new(run.result));
        if record && !run.transitions.is_empty() {
            let at_ms = crate::clock::now_ms();
            let events = run
                .transitions
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
            self.out.push(Effect::RecordTransitions(events));
        }
    }

    /// Whether accepted updates are still waiting to be handed to the persister.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Hands everything pending to the persister now (graceful shutdown).
    pub fn flush(&mut self, now: Instant) {
        self.submit_pending(now);
    }

    fn submit_pending(&mut self, now: Instant) {
        self.persist_at = None;
        if self.pending.is_empty() {
            return;
        }
        if self.rows_since_snapshot >= self.config.compact_rows
            && self.stored_bytes <= SNAPSHOT_MAX_BYTES
        {
            self.submit_snapshot();
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
                    tracing::error!(room = %self.config.id, error = %e, "merging pending updates failed");
                    self.persist_at = Some(now + PERSIST_RETRY);
                    (self.pending.remove(0), false)
                }
            }
        };
        // What the acknowledgement may claim: the whole document only when the whole of it was
        // submitted; a partial submit claims the version already saved, which announces nothing.
        let version = if all {
            self.version
        } else {
            self.saved.version()
        };
        let saved_sv = self.saved_sv(version);
        // Counted as taken; a refusal (queue full) undoes it at once (see `refused`).
        self.in_flight += 1;
        self.rows_since_snapshot += 1;
        self.stored_bytes += update.len();
        self.out.push(Effect::Submit(Submission {
            rows: Rows::Update(update),
            version,
            saved_sv,
        }));
    }

    /// Submits the whole document as one row that replaces the rows it covers: this instance's
    /// earlier rows of the room and the rows it was loaded from (store module docs, "Snapshots from
    /// the room"). It holds every pending update, which therefore need not go on their own.
    fn submit_snapshot(&mut self) {
        let snapshot = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let version = self.version;
        let saved_sv = self.saved_sv(version);
        let restore = Restore {
            pending: std::mem::take(&mut self.pending),
            rows_since_snapshot: self.rows_since_snapshot,
            stored_bytes: self.stored_bytes,
        };
        self.in_flight += 1;
        self.rows_since_snapshot = 1;
        self.stored_bytes = snapshot.len();
        self.out.push(Effect::Submit(Submission {
            rows: Rows::Snapshot {
                snapshot,
                replaces: std::mem::take(&mut self.loaded_keys),
                restore,
            },
            version,
            saved_sv,
        }));
    }

    /// The state vector a submission covering `version` stores; empty for a version already saved.
    fn saved_sv(&mut self, version: u64) -> Bytes {
        if version > self.saved.version() {
            self.state_vector()
        } else {
            Bytes::new()
        }
    }

    /// The persister's queue was full: the submission is undone and retried shortly.
    pub fn refused(&mut self, now: Instant, refused: Refused) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match refused {
            Refused::Update(update) => {
                self.rows_since_snapshot = self.rows_since_snapshot.saturating_sub(1);
                self.stored_bytes = self.stored_bytes.saturating_sub(update.len());
                // First: it is the oldest.
                self.pending.insert(0, update);
            }
            Refused::Snapshot { replaces, restore } => {
                // The next attempt encodes the document as it is then.
                self.loaded_keys = replaces;
                let newer = std::mem::replace(&mut self.pending, restore.pending);
                self.pending.extend(newer);
                self.rows_since_snapshot = restore.rows_since_snapshot;
                self.stored_bytes = restore.stored_bytes;
            }
        }
        self.persist_at = Some(now + PERSIST_RETRY);
    }

    /// A submission's commit succeeded or failed. `version` and `saved_sv` are the submission's.
    pub fn persisted(
        &mut self,
        now: Instant,
        result: crate::Result<()>,
        saved_sv: Bytes,
        version: u64,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match result {
            Ok(()) => self.saved.committed(now, saved_sv, version),
            Err(e) => {
                // The persister keeps and retries failed batches itself (and counts the error);
                // nothing is dropped here, the `saved` message just waits for the retry.
                tracing::warn!(room = %self.config.id, error = %e, "not saved yet");
            }
        }
        if self.conns.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(now);
        }
    }

    /// A `saved` round (see [`SavedAcks::round`]).
    fn send_saved(&mut self, now: Instant) {
        let conns = &self.conns;
        let out = &mut self.out;
        self.saved.round(now, |to, message| {
            if conns.contains_key(&to) {
                out.push(Effect::Send { to, message });
            }
        });
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
        if self.conns.contains_key(&to) {
            self.out.push(Effect::Send { to, message });
        }
    }

    fn broadcast(&mut self, message: Bytes, except: Option<ConnId>) {
        self.out.push(Effect::Broadcast { message, except });
    }
}

/// The initial document of a new room: `meta.problem` set.
pub fn initial_update(problem: &str) -> Vec<u8> {
    let doc = Doc::new();
    let meta = doc.get_or_insert_map(crate::design::META_KEY);
    let mut txn = doc.transact_mut();
    meta.insert(&mut txn, "problem", problem.to_string());
    txn.encode_update_v1()
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
