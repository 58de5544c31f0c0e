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
//! Files: this one holds the state, joining and leaving, a frame's messages, timers and unloading;
//! `persist.rs` the hand-off to storage, `saved.rs` the saved acknowledgements, `peers.rs` the
//! bus, `validate.rs` validation scheduling, `catchup.rs` connections that fell behind a burst.
//!
//! Because the core (through its actor) is the document's only user, `transact_mut` never waits for
//! a lock, and the CPU work of one update is bounded by the message size limit.

mod catchup;
mod host;
mod integrate;
pub mod interview;
mod peers;
mod persist;
mod presence;
mod revoke;
mod saved;
mod validate;

pub use integrate::RoomLimits;
#[cfg(test)]
pub use saved::SAVED_HOLD;
pub use saved::SAVED_INTERVAL;
pub use validate::SharedResults;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, ReadTxn, StateVector, Transact, Update};

use self::catchup::CatchUp;
use self::integrate::Waiting;
use self::presence::Presence;
use self::saved::SavedAcks;
use super::conn::ConnId;
use super::effect::{Effect, Refused, Restore, Rows, Submission};
use crate::close::CloseCode;
use crate::ids::{InstanceId, Mode, Role, RoomId, TokenHash};
use crate::interned::Shared;
use crate::metrics::{Metrics, inc};
use crate::problems::{Bank, Problem};
use crate::rows::{RowKey, Transition};
use crate::simulation::SimulationResult;
use crate::sync::awareness::Keep;
use crate::sync::peer::{BusMessage, SyncState};
use crate::sync::reconcile::{DocState, RECONCILE_PERIOD};
use crate::sync::{AwarenessTable, protocol};
use crate::validation::{self, ValidationResult};

/// How long a silent awareness state is kept (y-protocols' own timeout).
pub const AWARENESS_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a room looks for expired awareness states.
pub const HOUSEKEEPING: Duration = Duration::from_secs(5);
/// While edits keep coming, a room submits at most once in this window (the default of
/// `--persist-steady-ms`): steady editing (a drag sends an update per pointer move) becomes one
/// merged row per window instead of a row per update. The first edit after a quiet window is due at
/// once ([`RoomCore::next_wake`] is then now, and the actor ticks in the same turn; the persister's
/// batch interval coalesces it with other rooms' rows): a short window for it cost the room a timer
/// wake-up per edit when edits come a little further apart than the steady window (BENCHMARKS.md,
/// "Figures behind code choices"). The window adds to how long an accepted update may wait before
/// it is stored (this, the persister's interval, one commit): the default matches the persister's
/// 50 ms, so that stays near 100 ms, which `tests/node/durability.test.mjs` holds the server to with
/// a kill -9 200 ms after the last edit. Longer windows cost fewer rows (BENCHMARKS.md, "Figures
/// behind code choices").
pub const PERSIST_STEADY: Duration = Duration::from_millis(crate::config::PERSIST_STEADY_MS);
/// The default presence window (`--presence-window-ms`, `presence.rs`).
pub const PRESENCE_WINDOW: Duration = Duration::from_millis(crate::config::PRESENCE_WINDOW_MS);
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
    /// A decoded update (from sync step 2 or an update message) and the bytes it was decoded from
    /// (its size counts against the quota; the guard's round trip compares them with its encoding).
    Update(Update, Bytes),
    Awareness(Bytes),
    /// An awareness update that was its WebSocket message's only content, with that message
    /// (`[1, length, update]`, the length in its shortest form): when the whole update is relayed,
    /// the message goes out as it came, with no copy or encode per move.
    AwarenessMessage {
        update: Bytes,
        message: Bytes,
    },
    QueryAwareness,
    /// A tierboard message (type 100) from the client: a host action (`host.rs`).
    Tierboard(Bytes),
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
    /// Practice or interview (its stored row says so).
    pub mode: Mode,
    pub bank: Arc<Bank>,
    pub metrics: Arc<Metrics>,
    /// Whether a publish can reach another instance; when not, the room never reconciles.
    pub fans_out: bool,
    /// Rows gained since the last snapshot at which the room snapshots itself.
    pub compact_rows: u64,
    /// While edits keep coming, at most one submission per this window ([`PERSIST_STEADY`] by
    /// default, `--persist-steady-ms`).
    pub persist_steady: Duration,
    /// While cursors keep moving, awareness changes go out at most once per this window, merged
    /// (`presence.rs`, `--presence-window-ms`; zero relays every update as it comes).
    pub presence_window: Duration,
    /// How long a room with nobody connected stays loaded.
    pub idle: Duration,
    /// Reconcile ticks are spread by a random delay up to this, so rooms and instances do not
    /// reconcile in step (tests set zero).
    pub reconcile_jitter: Duration,
    /// What clients may make the room hold (document quota, waiting updates).
    pub limits: RoomLimits,
    /// Results shared with the server's other rooms (`validate.rs`, `crate::interned`).
    pub results: Arc<SharedResults>,
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
    /// The stored interview state (issue 22), if the host ever acted.
    pub interview: Option<interview::Interview>,
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
    /// foldhash, not std's SipHash: looked up on every message, and the ids are the server's own
    /// counters, nothing a client chooses.
    conns: foldhash::HashMap<ConnId, Role>,
    /// The token each connection was authorised by, and the tokens revoked since the room loaded
    /// (`revoke.rs`).
    holders: HashMap<ConnId, TokenHash>,
    revoked: HashSet<TokenHash>,
    /// The interview state (`interview.rs`, `host.rs`) and when each connection was last told that
    /// its edits were refused (at most once a second).
    interview: interview::Interview,
    refusal_notices: HashMap<ConnId, (Instant, interview::Refusal)>,
    /// The current one-second window of host actions and how many it has had.
    host_window: Option<(Instant, u32)>,
    awareness: AwarenessTable<Owner>,
    /// Awareness changes waiting for the presence window (`presence.rs`).
    presence: Presence,
    /// Bumped on every document change; keys the encoding caches below.
    version: u64,
    cached_sv: Option<(u64, Bytes)>,
    cached_full: Option<(u64, Bytes)>,
    cached_state: Option<(u64, DocState)>,
    /// Accepted updates not yet handed to the persister.
    pending: Vec<Vec<u8>>,
    /// Updates waiting for missing parts (`integrate.rs`).
    waiting: Waiting,
    /// The document's size as counted against the quota, and the last exact measure of it.
    doc_bytes: usize,
    doc_bytes_measured: usize,
    /// Rows the room's storage gained since its last snapshot (one per submission, an upper bound:
    /// the persister merges a room's submissions of one commit).
    rows_since_snapshot: u64,
    /// Bytes of those rows: decides whether the room may encode a snapshot itself.
    stored_bytes: usize,
    loaded_keys: Vec<RowKey>,
    persist_at: Option<Instant>,
    /// When pending updates were last handed to the persister (see [`PERSIST_STEADY`]).
    last_submit: Option<Instant>,
    in_flight: usize,
    /// While submissions are in flight and their answers may wait (`room/acks.rs`): when the room
    /// wakes to take them, the end of the `saved` window.
    ack_check: Option<Instant>,
    saved: SavedAcks,
    idle_since: Option<Instant>,
    next_housekeeping: Instant,
    /// When the next reconcile message is due, and whether it must be a full announcement.
    reconcile_at: Option<Instant>,
    announce_due: bool,
    /// Raised by the document's observer when a change touched what validation reads.
    design_changed: Arc<AtomicBool>,
    /// The last validation result with its `validation` message (sent to joiners), shared with the
    /// other rooms that hold the same (`crate::interned`).
    validation: Option<Arc<Shared<Arc<ValidationResult>>>>,
    /// The capacity simulation at the problem's peak, run with every validation, and its message.
    simulation: Option<Arc<Shared<SimulationResult>>>,
    /// The advisory checks of the structured sections (issue 23), run with every validation, and
    /// their `section_checks` message.
    section_checks: Option<Arc<Shared<crate::sections::SectionChecks>>>,
    /// Accepted updates with their times, not yet handed to the store's history (interview rooms
    /// keep every update for the report's replay: `history.rs`).
    history: Vec<(i64, Vec<u8>)>,
    /// The awareness client ids and names already recorded as participants (interview rooms).
    participants: HashMap<u64, String>,
    /// Set when the document changed since the last run; the run happens at this instant.
    validate_at: Option<Instant>,
    last_validation: Instant,
    /// Connections that fell behind a burst (`catchup.rs`).
    catch_up: CatchUp,
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
        let interview = start
            .interview
            .unwrap_or_else(|| interview::Interview::new(config.mode));
        let design_changed = Arc::new(AtomicBool::new(false));
        let presence = Presence::new(config.presence_window);
        let (doc, owe_step1) = match start.doc {
            Some(doc) => {
                RoomCore::watch_design(&doc, &design_changed);
                (doc, None)
            }
            None => (Doc::new(), Some(Vec::new())),
        };
        RoomCore {
            config,
            problem,
            doc,
            owe_step1,
            conns: foldhash::HashMap::default(),
            holders: HashMap::new(),
            revoked: HashSet::new(),
            interview,
            refusal_notices: HashMap::new(),
            host_window: None,
            awareness: AwarenessTable::default(),
            presence,
            version: 0,
            cached_sv: None,
            cached_full: start.snapshot.map(|full| (0, full)),
            cached_state: None,
            pending: Vec::new(),
            waiting: Waiting::default(),
            doc_bytes: start.stored_bytes,
            doc_bytes_measured: 0,
            rows_since_snapshot: start.rows_since_snapshot,
            stored_bytes: start.stored_bytes,
            loaded_keys: start.loaded_keys,
            persist_at: None,
            last_submit: None,
            in_flight: 0,
            ack_check: None,
            saved: SavedAcks::new(now),
            idle_since: Some(now),
            next_housekeeping: now + HOUSEKEEPING,
            reconcile_at: None,
            announce_due: true,
            design_changed,
            validation: None,
            simulation: None,
            section_checks: None,
            history: Vec::new(),
            participants: HashMap::new(),
            // The first run is the baseline. It comes one validation window after the load, so the
            // joiner that loaded the room is greeted and answered first.
            validate_at: Some(now + VALIDATION_INTERVAL),
            last_validation: now,
            catch_up: CatchUp::default(),
            out: Vec::new(),
        }
    }

    /// Swaps the queued effects into `into` (which must be empty; its capacity is reused next time).
    pub fn take_effects(&mut self, into: &mut Vec<Effect>) {
        debug_assert!(into.is_empty());
        std::mem::swap(&mut self.out, into);
        self.catch_up.taken(self.version);
    }

    pub fn id(&self) -> &RoomId {
        &self.config.id
    }

    pub fn is_loading(&self) -> bool {
        self.owe_step1.is_some()
    }

    /// The document is there (see [`Start::doc`]): the owed step 1s go out.
    pub fn loaded(&mut self, doc: Doc, loaded_keys: Vec<RowKey>) {
        RoomCore::watch_design(&doc, &self.design_changed);
        // Whoever falls behind in the next effects had the placeholder's (empty) state at most.
        self.before_change();
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
            "mode": self.config.mode.as_str(),
            "problem": self.config.problem_id,
        });
        self.out.push(Effect::Send {
            to: id,
            message: protocol::encode_tierboard(&session.to_string()),
        });
        self.send_latest(id, role);
        self.conns.insert(id, role);
        self.idle_since = None;
        if self.reconcile_at.is_none() && self.config.fans_out {
            self.reconcile_at = Some(now + self.jitter());
        }
    }

    /// A connection is gone (its socket closed): its presence is removed here and on the peers.
    pub fn leave(&mut self, now: Instant, conn: ConnId) {
        // Changes waiting for the presence window go first: the table forgets a connection's
        // cleared states when it leaves, and the window's update would not find them.
        self.send_presence(now);
        self.saved.left(conn);
        self.catch_up.left(conn);
        self.conns.remove(&conn);
        self.holders.remove(&conn);
        self.refusal_notices.remove(&conn);
        if let Some(removal) = self.awareness.remove_owner(Owner::Conn(conn)) {
            self.broadcast(protocol::encode_awareness(&removal), None);
            self.publish(BusMessage::Awareness(removal));
        }
        if self.conns.is_empty() {
            self.idle_since = Some(now);
        }
    }

    fn close(&mut self, now: Instant, conn: ConnId, code: CloseCode) {
        if self.conns.contains_key(&conn) {
            self.out.push(Effect::Close { conn, code });
        }
        self.leave(now, conn);
    }

    /// The messages of one frame, in order.
    pub fn inbound(&mut self, now: Instant, from: ConnId, messages: Vec<Inbound>) {
        // A message from a connection the room already closed is ignored.
        let Some(role) = self.conns.get(&from).copied() else {
            return;
        };
        for message in messages {
            match message {
                Inbound::SyncStep1(sv) => {
                    let step2 = self.diff_for(&sv);
                    self.send_step2(from, &sv, step2);
                }
                Inbound::Update(update, received) => {
                    let size = received.len();
                    // The WebSocket reader refuses updates from view connections before they get
                    // here; this is the second lock on that door.
                    if !role.can_edit() {
                        inc(&self.config.metrics.rejected_messages, 1);
                        continue;
                    }
                    // The host's lock and driver (issue 22). `[0, 0]` (an empty step 2) changes nothing.
                    if size > 2 && !self.may_edit(now, from, role) {
                        continue;
                    }
                    inc(&self.config.metrics.updates_in, 1);
                    inc(&self.config.metrics.bytes_in, size as u64);
                    if !self.apply(now, from, update, &received) {
                        return;
                    }
                }
                Inbound::Awareness(update) => {
                    if !self.awareness_in(now, from, role, &update, None) {
                        return;
                    }
                }
                Inbound::AwarenessMessage { update, message } => {
                    if !self.awareness_in(now, from, role, &update, Some(message)) {
                        return;
                    }
                }
                Inbound::Tierboard(json) => self.tierboard_message(now, from, role, &json),
                Inbound::QueryAwareness => {
                    if let Some(all) = self.awareness.encode_all() {
                        self.send_to(from, protocol::encode_awareness(&all));
                    }
                }
            }
        }
    }

    /// One awareness update from `from`, framed as `message` when it came alone; false when it
    /// closed the connection (the rest of its messages are dropped).
    fn awareness_in(
        &mut self,
        now: Instant,
        from: ConnId,
        role: Role,
        update: &Bytes,
        message: Option<Bytes>,
    ) -> bool {
        // Under ownership rules: a connection sets and removes only the client ids it
        // owns, and what is relayed holds only the entries that changed something.
        let keep = match message {
            Some(_) => Keep::SliceOfMessage,
            None => Keep::Copy,
        };
        match self.awareness.apply_owned(
            Owner::Conn(from),
            update,
            now.into_std(),
            &mut self.presence.changed,
            keep,
        ) {
            Ok(Some(relay)) => {
                self.note_participants(from, role, &relay);
                // At once after a quiet window, else merged at its end (`presence.rs`).
                if self.presence.offer(now, from, self.conns.len()) {
                    // The whole update is the relay (the same buffer): its own message.
                    let framed = message.filter(|_| {
                        relay.as_ptr() == update.as_ptr() && relay.len() == update.len()
                    });
                    let framed = framed.unwrap_or_else(|| protocol::encode_awareness(&relay));
                    self.broadcast(framed, Some(from));
                }
                self.publish(BusMessage::Awareness(relay));
            }
            Ok(None) => self.presence.changed.clear(),
            Err(e) => {
                self.presence.changed.clear();
                tracing::warn!(room = %self.config.id, conn = from.0, error = %e, "bad awareness update");
                inc(&self.config.metrics.rejected_messages, 1);
                self.close(now, from, CloseCode::Malformed);
                return false;
            }
        }
        true
    }

    /// The instant of the next due timer: the actor sleeps until then and calls [`RoomCore::tick`].
    pub fn next_wake(&self) -> Instant {
        let mut deadline = self.next_housekeeping;
        for at in [
            self.persist_at,
            self.validate_at,
            self.saved.due(),
            self.saved.flush_due(),
            self.presence.due(),
            // Only while nothing keeps the room loaded: a room whose edits are still being stored
            // would otherwise wake at once, again and again, until they are.
            self.idle_since
                .filter(|_| self.nothing_unsaved())
                .map(|since| since + self.config.idle),
            self.reconcile_at,
            self.catch_up_wake(),
            self.ack_check,
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
        if self.saved.take_flush(now) {
            self.out.push(Effect::FlushHeld);
        }
        if self.presence.due().is_some_and(|at| at <= now) {
            self.send_presence(now);
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
        self.catch_up_tick(now);
        if self.may_unload(now) {
            self.out.push(Effect::Unload);
        }
    }

    /// Whether the answer to a submission in flight should wake the room as soon as it comes
    /// (`room/acks.rs`): outside the `saved` window a commit is acknowledged at once, and with
    /// nobody connected the room waits for its commits to unload. Otherwise the answers wait for
    /// the room's next turn, at the latest the window's end (the timer this sets).
    pub fn acks_urgent(&mut self, now: Instant) -> bool {
        let window_end = self.saved.window_end();
        let urgent = self.conns.is_empty() || window_end <= now;
        self.ack_check = (!urgent && self.in_flight > 0).then_some(window_end);
        urgent
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

    fn state_vector(&mut self) -> Bytes {
        if let Some((version, sv)) = &self.cached_sv
            && *version == self.version
        {
            return sv.clone();
        }
        let sv = self.doc.transact().state_vector().encode_v1();
        self.remember_state_vector(&sv)
    }

    /// Caches `encoded` as the current version's state vector. Copied out: yrs' encoder starts with
    /// a 1 KiB buffer, which `Bytes::from` would keep for as long as the room caches it (2 MB over
    /// scenario 4's 2,500 rooms, seen with heaptrack).
    fn remember_state_vector(&mut self, encoded: &[u8]) -> Bytes {
        let sv = Bytes::copy_from_slice(encoded);
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

    /// The latest of the room's state messages (validation, simulation, saved), as a joiner is
    /// greeted and a connection that was behind is caught up: whatever state a client must not miss
    /// belongs here.
    /// The latest room messages a connection needs, after its greeting or after it caught up:
    /// the interview state for its role, tier results, simulation, saved marker.
    fn send_latest(&mut self, to: ConnId, role: Role) {
        let interview = self.interview_message_for(role);
        self.out.push(Effect::Send {
            to,
            message: interview,
        });
        for message in [
            self.validation.as_ref().map(|v| v.message()),
            self.simulation.as_ref().map(|v| v.message()),
            self.section_checks.as_ref().map(|v| v.message()),
        ]
        .into_iter()
        .flatten()
        {
            self.out.push(Effect::Send {
                to,
                message: message.clone(),
            });
        }
        if let Some(saved) = self.saved.message() {
            self.out.push(Effect::Send { to, message: saved });
        }
    }

    /// Records who took part in an interview (for the report): each awareness client id with the name
    /// and role it first showed (again when the name changes).
    fn note_participants(&mut self, _from: ConnId, role: Role, relay: &Bytes) {
        if self.config.mode != Mode::Interview {
            return;
        }
        for (client, name) in crate::sync::awareness::named_states(relay) {
            if self.participants.get(&client) == Some(&name) {
                continue;
            }
            self.participants.insert(client, name.clone());
            self.out.push(Effect::RecordParticipant {
                client,
                name,
                role: role.as_str().to_string(),
                at_ms: crate::clock::now_ms(),
            });
        }
    }

    /// The awareness changes the presence window held, merged from the table's latest states.
    fn send_presence(&mut self, now: Instant) {
        let Some(due) = self.presence.take(now) else {
            return;
        };
        if let Some(update) = self.awareness.encode_clients(&due.clients) {
            self.broadcast(protocol::encode_awareness(&update), due.except);
        }
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
