//! The room's actor: one tokio task per loaded room. It owns the [`RoomCore`] and the connections'
//! outboxes, feeds the core its inputs (commands from the mailbox, bus events, timers) and executes
//! the effects the core returns: outbox sends, bus publishes, persister submissions, connection
//! closes, tier transitions (written in order by one writer per room) and the request to unload.
//!
//! Fan-out never waits for the disk: persistence is a `try_submit` whose answer waits in the room's
//! `Acks` (`acks.rs`) for its next turn, with a [`RoomCommand::Persisted`] in the room's own mailbox
//! only when the room asked to be woken for it. The actor never calls into the
//! registry: it returns an [`Exit`], and the registry ([`crate::rooms`]) forgets and compacts it.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use yrs::Doc;

use super::acks::{Ack, Acks};
use super::command::{RoomCommand, RoomDeps, RoomShared};
use super::conn::{ConnHandle, ConnId, NotSent, Outgoing};
use super::core::{Inbound, PERSIST_RETRY, RoomCore, RoomStatus};
use super::effect::{Effect, Refused, Rows, Submission};
use super::load::{self, Host, Loading};
use crate::bus::{BusEvent, Dropped, Envelope, Subscription};
use crate::close::CloseCode;
use crate::ids::RoomId;
use crate::metrics::{dec, inc};
use crate::queue;
use crate::rows::{RowKey, Transition};
use crate::store::Store;
use crate::store::persister::OnSaved;

/// Why a room's actor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Idle: nobody connected, everything stored, idle time passed. Its mailbox was closed before
    /// it returned, so a join racing the unload fails to reach it and starts a fresh actor.
    Idle,
    /// Closed by the server (shutdown), its mailbox's senders all gone, or its load failed.
    Stopped,
}

/// Whether the actor goes on after a command.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// What woke the actor.
enum Wake {
    Command(Option<RoomCommand>),
    Bus(BusEvent),
    Written,
    Timer,
}

pub struct Room {
    core: RoomCore,
    /// Ordered by id, which is the order connections arrived in, so a broadcast writes to the
    /// sockets in that order, as the relay does: the kernel's socket structures and the receivers'
    /// state are then touched in the order they were allocated. A `HashMap`'s order cost both sides
    /// measurably more CPU per delivery with many receivers (BENCHMARKS.md, "Figures behind code
    /// choices").
    conns: BTreeMap<ConnId, ConnHandle>,
    deps: RoomDeps,
    shared: Arc<RoomShared>,
    /// Membership of the room's bus channel; dropping the room unsubscribes.
    bus: Subscription,
    /// The bus inbox, taken by [`Room::run`].
    bus_events: Option<queue::Receiver<BusEvent>>,
    loading: Option<Loading>,
    tx_self: Option<queue::WeakSender<RoomCommand>>,
    /// The effects being executed; swapped with the core's queue so both keep their capacity.
    effects: Vec<Effect>,
    /// Connections whose outbox was full during the effects being executed.
    slow: Vec<ConnId>,
    /// Connections that are behind (see `core/catchup.rs`): nothing is queued for them until their
    /// outbox has drained, then the core catches them up with one update.
    behind: HashSet<ConnId>,
    unload: bool,
    transitions: TransitionWriter,
    /// Interview state writes in flight (host actions are rare: a handful at a time at most). Awaited
    /// before the room's task ends and by a graceful shutdown, so no host action is left unstored.
    interview_writes: tokio::task::JoinSet<()>,
    /// Commit answers left by the persister (`acks.rs`), and the buffer they are taken into.
    acks: Arc<Acks>,
    taken: Vec<Ack>,
}

impl Room {
    /// Loads the room from the store (see `room/load.rs`).
    pub async fn load(id: RoomId, deps: RoomDeps, shared: Arc<RoomShared>) -> crate::Result<Room> {
        let load::Loaded {
            core,
            mut bus,
            loading,
        } = load::load(id, &deps).await?;
        let bus_events = bus.events.take();
        Ok(Room {
            core,
            conns: BTreeMap::new(),
            deps,
            shared,
            bus,
            bus_events,
            loading,
            tx_self: None,
            effects: Vec::new(),
            slow: Vec::new(),
            behind: HashSet::new(),
            unload: false,
            transitions: TransitionWriter::default(),
            interview_writes: tokio::task::JoinSet::new(),
            acks: Arc::new(Acks::default()),
            taken: Vec::new(),
        })
    }

    /// The initial document of a new room: `meta.problem` set.
    pub fn initial_update(problem: &str) -> Vec<u8> {
        super::core::initial_update(problem)
    }

    /// Runs the actor until the room is idle and stored ([`Exit::Idle`]), or stopped.
    pub async fn run(
        mut self,
        mut rx: queue::Receiver<RoomCommand>,
        tx_self: queue::WeakSender<RoomCommand>,
    ) -> Exit {
        self.tx_self = Some(tx_self);
        let mut bus_events = self.bus_events.take();
        let mut exit = Exit::Stopped;
        let mut stopped = false;
        let mut deferred = Vec::new();
        if let Some(loading) = self.loading.take() {
            match loading.finish(&mut self, &mut rx).await {
                Some(held) => deferred = held,
                None => stopped = true,
            }
        }
        if !stopped {
            self.core.announce();
            self.execute(Instant::now());
        }
        for cmd in deferred {
            if stopped {
                break;
            }
            stopped = self.handle(cmd).await == Flow::Stop;
        }
        // One timer for the actor's life, moved only when the core's next deadline moves: a fresh
        // `sleep_until` per wake-up put an entry into tokio's timer wheel and took it out again for
        // every message (1.8 % of the server's time in scenario 9's profile, at 60 cursor moves per
        // room-second), although most messages leave the deadline where it was.
        let timer = sleep_until(self.core.next_wake());
        tokio::pin!(timer);
        while !stopped {
            let deadline = self.core.next_wake();
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            let wake = tokio::select! {
                cmd = rx.recv() => Wake::Command(cmd),
                Some(event) = recv_bus(&mut bus_events) => Wake::Bus(event),
                () = self.transitions.written() => Wake::Written,
                () = &mut timer => Wake::Timer,
            };
            let now = Instant::now();
            self.take_acks(now);
            self.check_drained(now);
            match wake {
                Wake::Command(None) => break,
                Wake::Command(Some(cmd)) => stopped = self.handle(cmd).await == Flow::Stop,
                Wake::Bus(event) => {
                    match event {
                        BusEvent::Reconnected => self.core.bus_reconnected(),
                        BusEvent::Message(Envelope { from, message }) => {
                            self.core.bus_message(now, &from, message)
                        }
                    }
                    self.check_lagged(now);
                    self.execute(now);
                }
                Wake::Written => self.transitions.start(&self.deps, self.core.id()),
                Wake::Timer => {}
            }
            // What is due now is done in this turn, not at the timer's next poll: a lone edit's
            // submission (due at once, `PERSIST_STEADY`), a round after a commit's answer.
            if !stopped && self.core.next_wake() <= now {
                self.check_lagged(now);
                self.core.tick(now);
                self.execute(now);
                if std::mem::take(&mut self.unload) && rx.is_empty() {
                    // From here on the registry's handle reads as closed and a join starts a
                    // fresh actor; one that slipped in meanwhile has its reply dropped below and
                    // retries (see `Rooms::join`).
                    rx.close();
                    exit = Exit::Idle;
                    break;
                }
            }
            self.arm_acks(now);
        }
        drop(rx);
        self.finish().await;
        dec(&self.deps.metrics.rooms_loaded);
        tracing::debug!(room = %self.core.id(), ?exit, "room unloaded");
        exit
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
    fn check_lagged(&mut self, now: Instant) {
        if self.bus.lagged.swap(false, Ordering::Relaxed) {
            self.core.publish_dropped(now);
        }
    }

    /// Handles one command.
    async fn handle(&mut self, cmd: RoomCommand) -> Flow {
        let now = Instant::now();
        match cmd {
            RoomCommand::Join { conn, reply } => {
                self.join(now, conn);
                let _ = reply.send(Ok(()));
            }
            RoomCommand::Inbound { conn, messages } => {
                self.core.inbound(now, conn, messages);
                self.execute(now);
            }
            RoomCommand::Leave { conn } => {
                self.conns.remove(&conn);
                self.behind.remove(&conn);
                self.core.leave(now, conn);
                self.execute(now);
            }
            // Taken at the start of this turn (`take_acks`).
            RoomCommand::Persisted => {}
            RoomCommand::Validation { reply } => {
                let result = self.core.validation_now(now);
                self.execute(now);
                let _ = reply.send(result);
            }
            RoomCommand::Status { reply } => {
                let _ = reply.send(self.core.status());
            }
            RoomCommand::Shutdown { reply } => {
                self.flush_for_shutdown().await;
                let _ = reply.send(());
            }
            RoomCommand::HostAction { action, reply } => {
                let result = self.core.host_action(now, &action);
                self.execute(now);
                let _ = reply.send(result);
            }
            RoomCommand::SolutionRevealed { reply } => {
                let _ = reply.send(self.core.solution_revealed());
            }
            RoomCommand::Revoke { tokens } => {
                self.core.revoke(now, tokens, true);
                self.execute(now);
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

    fn join(&mut self, now: Instant, conn: ConnHandle) {
        let (id, role, token) = (conn.id, conn.role, conn.token.clone());
        self.conns.insert(id, conn);
        self.core.join_holding(now, id, role, token);
        self.execute(now);
    }

    async fn flush_for_shutdown(&mut self) {
        loop {
            let now = Instant::now();
            self.core.flush(now);
            self.execute(now);
            if !self.core.has_pending() {
                break;
            }
            tokio::time::sleep(PERSIST_RETRY).await;
        }
        self.finish().await;
    }

    /// Waits for the room's writes in flight (tier transitions, interview state, history).
    async fn finish(&mut self) {
        self.transitions.finish(&self.deps, self.core.id()).await;
        while self.interview_writes.join_next().await.is_some() {}
    }

    /// Executes the core's effects, then reports the connections whose outbox they found full (they
    /// are behind from then on), until the core has nothing more to do.
    fn execute(&mut self, now: Instant) {
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
        self.shared
            .connections
            .store(self.conns.len(), Ordering::Relaxed);
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
}

impl Host for Room {
    fn room(&self) -> &RoomId {
        self.core.id()
    }

    fn join(&mut self, now: Instant, conn: ConnHandle) {
        Room::join(self, now, conn);
    }

    fn inbound(&mut self, now: Instant, conn: ConnId, messages: Vec<Inbound>) {
        self.core.inbound(now, conn, messages);
        self.execute(now);
    }

    fn status(&self) -> RoomStatus {
        self.core.status()
    }

    fn loaded(&mut self, now: Instant, doc: Doc, loaded_keys: Vec<RowKey>) {
        self.core.loaded(doc, loaded_keys);
        self.execute(now);
    }

    fn failed(&mut self) {
        for conn in self.conns.values() {
            conn.control.close(CloseCode::Internal);
        }
    }
}

/// Writes a room's tier transitions in the order the room produced them: one write at a time, the
/// next batch (everything queued meanwhile) once it is done. The write in flight is awaited before
/// the room's task ends and by a graceful shutdown, so no transition is left behind untracked. The
/// queue grows only while the database is slower than validation runs (at most one per 50 ms).
#[derive(Default)]
struct TransitionWriter {
    queue: Vec<Transition>,
    writing: Option<JoinHandle<()>>,
}

impl TransitionWriter {
    fn push(&mut self, events: Vec<Transition>, deps: &RoomDeps, room: &RoomId) {
        self.queue.extend(events);
        if self.writing.is_none() {
            self.start(deps, room);
        }
    }

    /// Starts writing what is queued, if anything.
    fn start(&mut self, deps: &RoomDeps, room: &RoomId) {
        if self.queue.is_empty() || self.writing.is_some() {
            return;
        }
        let batch = std::mem::take(&mut self.queue);
        let store = deps.store.clone();
        let metrics = deps.metrics.clone();
        let room = room.clone();
        // The timeline is history, not state: storing it off the actor keeps fan-out fast; a
        // failure is logged and counted.
        self.writing = Some(tokio::spawn(async move {
            if let Err(e) = store.record_transitions(&room, &batch).await {
                tracing::error!(room = %room, error = %e, "storing tier transitions failed");
                inc(&metrics.errors, 1);
            }
        }));
    }

    /// Resolves when the write in flight is done; never when there is none.
    async fn written(&mut self) {
        match &mut self.writing {
            Some(task) => {
                let _ = task.await;
                self.writing = None;
            }
            None => std::future::pending().await,
        }
    }

    /// Waits for the write in flight and writes everything still queued.
    async fn finish(&mut self, deps: &RoomDeps, room: &RoomId) {
        loop {
            if let Some(task) = self.writing.take() {
                let _ = task.await;
            }
            if self.queue.is_empty() {
                return;
            }
            self.start(deps, room);
        }
    }
}

/// The next bus event, or never when there is no (longer an) inbox.
async fn recv_bus(events: &mut Option<queue::Receiver<BusEvent>>) -> Option<BusEvent> {
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
