//! A room's turn: its core and its connections' outlets, and everything done with them without
//! waiting. The actor (`actor.rs`) runs a turn for its mailbox, its timers and its bus; a
//! connection's reader runs one for its own messages ([`RoomShared::try_inbound`]), so a cursor move
//! or an edit is applied and fanned out on the reader's task, with no queue push and no task wake-up
//! in between, as the null relay does (BENCHMARKS.md, "Figures behind code choices").
//!
//! The turn lives in the room's [`RoomShared`] behind a std mutex. Why a std mutex is fine: nothing
//! in a turn awaits (sends are non-blocking writes, storage is a `try_submit`, side writes are
//! spawned), so the lock is never held across an `.await`. A reader only `try_lock`s: when the
//! actor or another reader holds the turn, the message goes through the mailbox as before, and that
//! connection keeps using the mailbox until the actor has handled everything it queued there
//! ([`ConnControl::queued`]), so one connection's messages are applied in the order they arrived.
//! A panic inside a turn poisons the lock: the actor then stops the room, as a panic in its own task
//! did before.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::acks::{Ack, Acks};
use super::command::{RoomCommand, RoomDeps, RoomShared};
use super::conn::{ConnControl, ConnHandle, ConnId, NotSent, Outgoing};
use super::core::{Inbound, RoomCore};
use super::effect::{Effect, Refused, Rows, Submission};
use crate::bus::Dropped;
use crate::ids::RoomId;
use crate::metrics::inc;
use crate::queue;
use crate::rows::Transition;
use crate::store::Store;
use crate::store::persister::OnSaved;

pub(super) struct Turn {
    pub core: RoomCore,
    /// Ordered by id, which is the order connections arrived in, so a broadcast writes to the
    /// sockets in that order, as the relay does: the kernel's socket structures and the receivers'
    /// state are then touched in the order they were allocated. A `HashMap`'s order cost both sides
    /// measurably more CPU per delivery with many receivers (BENCHMARKS.md, "Figures behind code
    /// choices").
    conns: BTreeMap<ConnId, ConnHandle>,
    deps: RoomDeps,
    /// `RoomShared::connections`, kept current after every turn (not the `RoomShared` itself: the
    /// turn lives inside it).
    connections: Arc<AtomicUsize>,
    /// Set when a bus event for this room was dropped (the bus subscription's flag).
    lagged: Arc<AtomicBool>,
    pub tx_self: Option<queue::WeakSender<RoomCommand>>,
    /// The effects being executed; swapped with the core's queue so both keep their capacity.
    effects: Vec<Effect>,
    /// Connections whose outbox was full during the effects being executed.
    slow: Vec<ConnId>,
    /// Connections that are behind (see `core/catchup.rs`): nothing is queued for them until their
    /// outbox has drained, then the core catches them up with one update.
    behind: HashSet<ConnId>,
    /// The core asked to unload (`Effect::Unload`); the actor acts on it.
    unload: bool,
    transitions: TransitionWriter,
    /// Side writes in flight (host actions are rare: a handful at a time at most). Awaited before
    /// the room's task ends and by a graceful shutdown, so no host action is left unstored.
    interview_writes: JoinSet<()>,
    /// Commit answers left by the persister (`acks.rs`), and the buffer they are taken into.
    acks: Arc<Acks>,
    taken: Vec<Ack>,
    /// Readers may run turns: set once the room is loaded and its held commands are replayed,
    /// cleared when it stops.
    pub direct: bool,
    /// The deadline the actor's timer is set to: a reader's turn that brings the core's next wake
    /// before it wakes the actor (`RoomShared::wake`).
    pub armed: Instant,
}

impl Turn {
    pub fn new(
        core: RoomCore,
        deps: RoomDeps,
        connections: Arc<AtomicUsize>,
        lagged: Arc<AtomicBool>,
    ) -> Turn {
        let armed = core.next_wake();
        Turn {
            core,
            conns: BTreeMap::new(),
            deps,
            connections,
            lagged,
            tx_self: None,
            effects: Vec::new(),
            slow: Vec::new(),
            behind: HashSet::new(),
            unload: false,
            transitions: TransitionWriter::default(),
            interview_writes: JoinSet::new(),
            acks: Arc::new(Acks::default()),
            taken: Vec::new(),
            direct: false,
            armed,
        }
    }

    /// What every turn starts with: the commit answers that came in, and behind connections that
    /// have drained.
    pub fn begin(&mut self, now: Instant) {
        self.take_acks(now);
        self.check_drained(now);
    }

    /// What every turn ends with: whatever is due now is done in this turn, not at the timer's next
    /// poll (a lone edit's submission is due at once, `PERSIST_STEADY`; a round after a commit's
    /// answer), then the acks are armed. Returns whether the core asked to unload.
    pub fn end(&mut self, now: Instant) -> bool {
        if self.core.next_wake() <= now {
            self.check_lagged(now);
            self.core.tick(now);
            self.execute(now);
        }
        self.arm_acks(now);
        std::mem::take(&mut self.unload)
    }

    /// A connection's messages that came through the mailbox: that connection may run its own turns
    /// again once none of its messages waits there.
    pub fn inbound_queued(&mut self, now: Instant, conn: ConnId, messages: Vec<Inbound>) {
        if let Some(c) = self.conns.get(&conn) {
            // Saturating: a message put in the mailbox without being counted (tests do) must not
            // wrap the count and keep the connection off its own turns for good.
            let _ = c
                .control
                .queued
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| q.checked_sub(1));
        }
        self.core.inbound(now, conn, messages);
        self.execute(now);
    }

    /// Behind connections whose outbox has drained are caught up (the core wakes the actor every
    /// `CATCH_UP_POLL` while one is behind). Drained means empty: the writer has taken everything
    /// that was queued, so the catch-up goes out next.
    fn check_drained(&mut self, now: Instant) {
        if self.behind.is_empty() {
            return;
        }
        let conns = &self.conns;
        let drained: Vec<ConnId> = self
            .behind
            .iter()
            .copied()
            .filter(|id| conns.get(id).is_none_or(|c| c.outbox.is_empty()))
            .collect();
        if drained.is_empty() {
            return;
        }
        for id in drained {
            self.behind.remove(&id);
            self.core.outbox_drained(now, id);
        }
        self.execute(now);
    }

    /// A bus event for this room was dropped (its inbox was full): announce soon.
    pub fn check_lagged(&mut self, now: Instant) {
        if self.lagged.swap(false, Ordering::Relaxed) {
            self.core.publish_dropped(now);
        }
    }

    pub fn leave(&mut self, now: Instant, conn: ConnId) {
        self.conns.remove(&conn);
        self.behind.remove(&conn);
        self.core.leave(now, conn);
        self.execute(now);
    }

    /// Closes every connection (the room is stopping).
    pub fn close_all(&mut self, code: crate::close::CloseCode) {
        self.direct = false;
        for conn in self.conns.values() {
            conn.control.close(code);
        }
        self.conns.clear();
        self.connections.store(0, Ordering::Relaxed);
    }

    pub fn join(&mut self, now: Instant, conn: ConnHandle) {
        let (id, role, token) = (conn.id, conn.role, conn.token.clone());
        self.conns.insert(id, conn);
        self.core.join_holding(now, id, role, token);
        self.execute(now);
    }

    /// Executes the core's effects, then reports the connections whose outbox they found full (they
    /// are behind from then on), until the core has nothing more to do.
    pub fn execute(&mut self, now: Instant) {
        let mut effects = std::mem::take(&mut self.effects);
        loop {
            self.core.take_effects(&mut effects);
            if effects.is_empty() {
                break;
            }
            for effect in effects.drain(..) {
                self.run_effect(now, effect);
            }
            for i in 0..self.slow.len() {
                self.core.slow_consumer(now, self.slow[i]);
            }
            self.slow.clear();
        }
        self.effects = effects;
        self.connections.store(self.conns.len(), Ordering::Relaxed);
    }

    /// One message to one connection, sent or held for its next message (`Effect::Send`,
    /// `Effect::Hold`). Nothing goes to a connection that is behind.
    fn send_one(&mut self, to: ConnId, message: Bytes, hold: bool) {
        let Some(conn) = self.conns.get(&to) else {
            return;
        };
        if self.behind.contains(&to) {
            return;
        }
        let len = message.len() as u64;
        let message = Outgoing::new(message);
        let result = if hold {
            conn.outbox.hold(&message)
        } else {
            conn.outbox.try_send(&message)
        };
        match result {
            Ok(()) => inc(&self.deps.metrics.bytes_out, len),
            Err(NotSent::Full) => {
                self.behind.insert(to);
                self.slow.push(to);
            }
            // The connection's writer has ended and its `Leave` is on the way: not a slow consumer.
            Err(NotSent::Closed) => {}
        }
    }

    fn run_effect(&mut self, now: Instant, effect: Effect) {
        let metrics = &self.deps.metrics;
        match effect {
            Effect::Send { to, message } => self.send_one(to, message, false),
            Effect::Hold { to, message } => self.send_one(to, message, true),
            Effect::FlushHeld => {
                for (id, conn) in &self.conns {
                    if self.behind.contains(id) {
                        continue;
                    }
                    if let Err(NotSent::Full) = conn.outbox.flush_held() {
                        self.behind.insert(*id);
                        self.slow.push(*id);
                    }
                }
            }
            Effect::Broadcast { message, except } => {
                let mut sent = 0u64;
                let len = message.len() as u64;
                // Framed once, by the first connection that needs it, for all of them.
                let message = Outgoing::new(message);
                // Nobody is behind nearly always: no hash per receiver then.
                let any_behind = !self.behind.is_empty();
                for (id, conn) in &self.conns {
                    if Some(*id) == except || (any_behind && self.behind.contains(id)) {
                        continue;
                    }
                    match conn.outbox.try_send(&message) {
                        Ok(()) => sent += 1,
                        Err(NotSent::Full) => {
                            self.behind.insert(*id);
                            self.slow.push(*id);
                        }
                        Err(NotSent::Closed) => {}
                    }
                }
                inc(&metrics.updates_out, sent);
                inc(&metrics.bytes_out, sent * len);
            }
            Effect::Close { conn, code } => {
                self.behind.remove(&conn);
                if let Some(conn) = self.conns.remove(&conn) {
                    conn.control.close(code);
                }
            }
            Effect::Publish(message) => {
                if let Err(Dropped::Full) = self.deps.bus.publish(self.core.id(), message) {
                    self.core.publish_dropped(now);
                }
            }
            Effect::Submit(submission) => self.submit(now, submission),
            Effect::RecordTransitions(events) => {
                self.transitions.push(events, &self.deps, self.core.id())
            }
            Effect::RecordHistory(rows) => {
                self.spawn_write(|store, room| async move {
                    if let Err(e) = store.append_history(&room, &rows).await {
                        tracing::error!(room = %room, error = %e, rows = rows.len(), "storing the room's history failed");
                    }
                });
            }
            Effect::RecordParticipant {
                client,
                name,
                role,
                at_ms,
            } => {
                self.spawn_write(|store, room| async move {
                    if let Err(e) = store
                        .record_participant(&room, client, &name, &role, at_ms)
                        .await
                    {
                        tracing::warn!(room = %room, error = %e, "storing a participant failed");
                    }
                });
            }
            Effect::SaveInterview {
                state,
                version,
                action,
                at_ms,
            } => {
                // Off the room's task; the store keeps the highest version whatever order the
                // writes finish in. A failure is logged: the state lives on in memory and on peers.
                self.spawn_write(|store, room| async move {
                    if let Err(e) = store
                        .save_interview(&room, &state, version, &action, at_ms)
                        .await
                    {
                        tracing::error!(room = %room, error = %e, "storing the interview state failed");
                    }
                });
            }
            Effect::Unload => self.unload = true,
        }
    }

    /// Runs one of the room's side writes (history, participants, interview state) off its task,
    /// tracked so that shutdown waits for it; finished ones are reaped first so the set stays small.
    fn spawn_write<F, Fut>(&mut self, write: F)
    where
        F: FnOnce(Arc<Store>, RoomId) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        while self.interview_writes.try_join_next().is_some() {}
        let fut = write(self.deps.store.clone(), self.core.id().clone());
        self.interview_writes.spawn(fut);
    }

    fn submit(&mut self, now: Instant, submission: Submission) {
        let Submission {
            rows,
            version,
            saved_sv,
        } = submission;
        let on_saved = self.on_saved(version, saved_sv);
        let room = self.core.id().clone();
        match rows {
            Rows::Update(update) => {
                if let Err(update) = self.deps.persister.try_submit_with(room, update, on_saved) {
                    self.core.refused(now, Refused::Update(update));
                }
            }
            Rows::Snapshot {
                snapshot,
                replaces,
                restore,
            } => match self
                .deps
                .persister
                .try_submit_snapshot(room, snapshot, replaces, on_saved)
            {
                Ok(()) => inc(&self.deps.metrics.room_snapshots, 1),
                Err(replaces) => self
                    .core
                    .refused(now, Refused::Snapshot { replaces, restore }),
            },
        }
    }

    /// The callback of a submission covering the document up to `version`. It runs on the
    /// persister task after the commit and leaves the answer in the room's [`Acks`]; the room's
    /// queue hears of it only when the room asked (`acks.rs`). A full queue needs no word: the room
    /// takes the answers at the start of each of the turns queued.
    fn on_saved(&self, version: u64, saved_sv: Bytes) -> OnSaved {
        let tx = self.tx_self.clone();
        let acks = self.acks.clone();
        Box::new(move |result| {
            let ack = Ack {
                result,
                saved_sv,
                version,
            };
            if !acks.put(ack) {
                return;
            }
            if let Some(tx) = tx.and_then(|tx| tx.upgrade()) {
                let _ = tx.try_send(RoomCommand::Persisted);
            }
        })
    }

    /// Hands the core the commit answers that have come in.
    fn take_acks(&mut self, now: Instant) {
        self.acks.take(&mut self.taken);
        for ack in self.taken.drain(..) {
            self.core
                .persisted(now, ack.result, ack.saved_sv, ack.version);
        }
    }

    /// Tells the acks whether the next answer wakes the room (the core decides, and keeps a timer
    /// for the answers it lets wait); answers that came during this turn are taken at once when
    /// they would have woken it.
    fn arm_acks(&mut self, now: Instant) {
        while self.acks.arm(self.core.acks_urgent(now)) {
            self.take_acks(now);
            self.execute(now);
        }
    }

    /// Hands everything pending to the persister; true when nothing is left pending (a full queue
    /// leaves some, retried after `PERSIST_RETRY`).
    pub fn flush(&mut self, now: Instant) -> bool {
        self.core.flush(now);
        self.execute(now);
        !self.core.has_pending()
    }

    /// The writes in flight, to await outside the lock: the tier-transition writer (which writes
    /// everything queued before it ends) and the side writes.
    pub fn writes_in_flight(&mut self) -> (Option<JoinHandle<()>>, JoinSet<()>) {
        (
            self.transitions.writing.take(),
            std::mem::take(&mut self.interview_writes),
        )
    }
}

/// Writes a room's tier transitions in the order the room produced them: one task at a time, which
/// writes batch after batch (everything queued meanwhile) until the queue is empty. The task in
/// flight is awaited before the room's task ends and by a graceful shutdown, so no transition is
/// left behind untracked. The queue grows only while the database is slower than validation runs
/// (at most one per 50 ms).
#[derive(Default)]
struct TransitionWriter {
    pending: Arc<Mutex<Pending>>,
    /// The latest writing task: an earlier one had emptied the queue and ended before it started.
    writing: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Pending {
    queue: Vec<Transition>,
    running: bool,
}

impl TransitionWriter {
    fn push(&mut self, events: Vec<Transition>, deps: &RoomDeps, room: &RoomId) {
        let mut pending = lock(&self.pending);
        pending.queue.extend(events);
        if pending.running {
            return;
        }
        pending.running = true;
        drop(pending);
        let shared = self.pending.clone();
        let store: Arc<Store> = deps.store.clone();
        let metrics = deps.metrics.clone();
        let room = room.clone();
        // The timeline is history, not state: storing it off the room keeps fan-out fast; a
        // failure is logged and counted.
        self.writing = Some(tokio::spawn(async move {
            loop {
                let batch = {
                    let mut pending = lock(&shared);
                    if pending.queue.is_empty() {
                        pending.running = false;
                        return;
                    }
                    std::mem::take(&mut pending.queue)
                };
                if let Err(e) = store.record_transitions(&room, &batch).await {
                    tracing::error!(room = %room, error = %e, "storing tier transitions failed");
                    inc(&metrics.errors, 1);
                }
            }
        }));
    }
}

/// A lock whose holder cannot leave it half-changed (a push or a swap): poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl RoomShared {
    /// Runs a turn for a connection's messages on the caller's task (its reader), when the room
    /// is loaded, its turn is free and none of this connection's messages waits in the mailbox;
    /// otherwise hands the messages back, and the reader queues them in the mailbox (counting them in
    /// `control.queued` first).
    pub fn try_inbound(
        &self,
        conn: ConnId,
        control: &ConnControl,
        messages: Vec<Inbound>,
    ) -> Result<(), Vec<Inbound>> {
        let Ok(mut guard) = self.turn.try_lock() else {
            return Err(messages);
        };
        let (result, wake) = match guard.as_mut() {
            Some(turn) if turn.direct && control.queued.load(Ordering::Acquire) == 0 => {
                let now = Instant::now();
                turn.begin(now);
                turn.core.inbound(now, conn, messages);
                turn.execute(now);
                // Left for the actor, which unloads (never the case while this connection is
                // there).
                turn.unload = turn.end(now);
                // The actor sleeps until `armed`: wake it when this turn brought the core's next
                // deadline before that (a submission or a presence window now due).
                (Ok(()), turn.unload || turn.core.next_wake() < turn.armed)
            }
            _ => (Err(messages), false),
        };
        drop(guard);
        if wake {
            self.wake.notify_one();
        }
        // The actor waited for the turn while this reader held it, even for a look (`Room::with`).
        if self.actor_waiting.swap(false, Ordering::SeqCst) {
            self.turn_free.notify_one();
        }
        result
    }
}
