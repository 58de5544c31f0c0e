//! The room's actor: one tokio task per loaded room. It runs the room's turns (`turn.rs`) for
//! everything but its connections' own messages: commands from the mailbox, bus events, timers.
//! Those messages are applied on their readers' tasks when the turn is free (`RoomShared::try_inbound`),
//! and come through the mailbox otherwise. The turn executes the effects the core returns: outbox
//! sends, bus publishes, persister submissions, connection closes, tier transitions (written in order
//! by one writer per room) and the request to unload.
//!
//! Fan-out never waits for the disk: persistence is a `try_submit` whose answer waits in the room's
//! `Acks` (`acks.rs`) for its next turn, with a [`RoomCommand::Persisted`] in the room's own mailbox
//! only when the room asked to be woken for it. The actor never calls into the
//! registry: it returns an [`Exit`], and the registry ([`crate::rooms`]) forgets and compacts it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, TryLockError};

use tokio::time::{Instant, sleep_until};
use yrs::Doc;

use super::command::{RoomCommand, RoomDeps, RoomShared};
use super::conn::{ConnHandle, ConnId};
use super::core::{Inbound, PERSIST_RETRY, RoomStatus};
use super::load::{self, Host, Loading};
use super::turn::Turn;
use crate::bus::{BusEvent, Envelope, Subscription};
use crate::close::CloseCode;
use crate::ids::RoomId;
use crate::metrics::dec;
use crate::queue;
use crate::rows::RowKey;

/// Why a room's actor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Idle: nobody connected, everything stored, idle time passed. Its mailbox was closed before
    /// it returned, so a join racing the unload fails to reach it and starts a fresh actor.
    Idle,
    /// Closed by the server (shutdown), its mailbox's senders all gone, its load failed, or a turn
    /// panicked.
    Stopped,
}

/// Whether the actor goes on after a command.
enum Flow {
    Continue,
    Stop,
    /// Flush everything for a graceful shutdown (awaits, so outside the turn), then answer.
    Shutdown(tokio::sync::oneshot::Sender<()>),
}

/// What woke the actor.
enum Wake {
    Command(Option<RoomCommand>),
    Bus(BusEvent),
    /// A reader's turn moved the core's next deadline before the timer's.
    Notified,
    Timer,
}

pub struct Room {
    /// The room's turn lives here, shared with its connections' readers.
    shared: Arc<RoomShared>,
    deps: RoomDeps,
    id: RoomId,
    /// Membership of the room's bus channel; dropping the room unsubscribes.
    _bus: Subscription,
    /// The bus inbox, taken by [`Room::run`].
    bus_events: Option<queue::Receiver<BusEvent>>,
    loading: Option<Loading>,
}

impl Room {
    /// Loads the room from the store (see `room/load.rs`) and puts its turn in `shared`.
    pub async fn load(id: RoomId, deps: RoomDeps, shared: Arc<RoomShared>) -> crate::Result<Room> {
        let load::Loaded {
            core,
            mut bus,
            loading,
        } = load::load(id.clone(), &deps).await?;
        let bus_events = bus.events.take();
        let turn = Turn::new(
            core,
            deps.clone(),
            shared.connections.clone(),
            bus.lagged.clone(),
        );
        *shared
            .lock_turn()
            .map_err(|_| crate::Error::Internal("room turn poisoned".into()))? = Some(turn);
        Ok(Room {
            shared,
            deps,
            id,
            _bus: bus,
            bus_events,
            loading,
        })
    }

    /// The initial document of a new room: `meta.problem` set.
    pub fn initial_update(problem: &str) -> Vec<u8> {
        super::core::initial_update(problem)
    }

    /// Runs `f` on the room's turn; `None` once a turn panicked (the room then stops) or after the
    /// turn ended. Waits without blocking the thread while a reader holds the turn: the reader runs one
    /// turn on the other worker, and this one goes on serving other tasks meanwhile (a blocking `lock`
    /// would hold both workers on one room for as long as that turn lasts; yielding in a loop instead
    /// spent a core while a joiner's turn encoded a 20 MB document, scenario 7). The reader wakes it
    /// as it lets go (`RoomShared::try_inbound`).
    async fn with<R>(&self, f: impl FnOnce(&mut Turn) -> R) -> Option<R> {
        let shared = &self.shared;
        loop {
            // Each match ends before the wait: its guard (or error) must not live across an await.
            match shared.turn.try_lock() {
                Ok(mut guard) => return guard.as_mut().map(f),
                Err(TryLockError::Poisoned(_)) => return None,
                Err(TryLockError::WouldBlock) => {}
            }
            // Say so first, then look again: a reader that let go before it could see the flag
            // leaves the turn free for this second look; one that lets go after sees the flag.
            shared.actor_waiting.store(true, Ordering::SeqCst);
            match shared.turn.try_lock() {
                Ok(mut guard) => {
                    shared.actor_waiting.store(false, Ordering::SeqCst);
                    return guard.as_mut().map(f);
                }
                Err(TryLockError::Poisoned(_)) => return None,
                Err(TryLockError::WouldBlock) => {}
            }
            shared.turn_free.notified().await;
        }
    }

    /// [`Room::with`] for the loading phase's `Host` calls, which are not async: readers run no turn
    /// while the room loads (they only look whether they may, for an instant), so this waits little.
    fn with_blocking<R>(&self, f: impl FnOnce(&mut Turn) -> R) -> Option<R> {
        let mut guard = self.shared.lock_turn().ok()?;
        guard.as_mut().map(f)
    }

    /// Runs the actor until the room is idle and stored ([`Exit::Idle`]), or stopped.
    pub async fn run(
        mut self,
        mut rx: queue::Receiver<RoomCommand>,
        tx_self: queue::WeakSender<RoomCommand>,
    ) -> Exit {
        let mut stopped = self.with(|t| t.tx_self = Some(tx_self)).await.is_none();
        let mut bus_events = self.bus_events.take();
        let mut exit = Exit::Stopped;
        let mut deferred = Vec::new();
        if let Some(loading) = self.loading.take()
            && !stopped
        {
            match loading.finish(&mut self, &mut rx).await {
                Some(held) => deferred = held,
                None => stopped = true,
            }
        }
        if !stopped {
            stopped = self
                .with(|t| {
                    t.core.announce();
                    t.execute(Instant::now());
                })
                .await
                .is_none();
        }
        for cmd in deferred {
            if stopped {
                break;
            }
            stopped = matches!(self.handle(cmd).await, Flow::Stop);
        }
        // From here on a reader runs its own connection's turns while the turn is free. The deadline
        // the timer is set to is recorded under the lock (`armed`): a reader's turn that moves the
        // core's next deadline before it wakes the actor through `shared.wake` (a permit, kept if
        // nobody waits yet).
        let mut deadline = None;
        if !stopped {
            deadline = self
                .with(|t| {
                    t.direct = true;
                    t.armed = t.core.next_wake();
                    t.armed
                })
                .await;
        }
        // One timer for the actor's life, moved only when the core's next deadline moves: a fresh
        // `sleep_until` per wake-up put an entry into tokio's timer wheel and took it out again for
        // every message (1.8 % of the server's time in scenario 9's profile, at 60 cursor moves per
        // room-second), although most messages leave the deadline where it was.
        let timer = sleep_until(Instant::now());
        tokio::pin!(timer);
        while let Some(at) = deadline.take() {
            if timer.deadline() != at {
                timer.as_mut().reset(at);
            }
            let wake = tokio::select! {
                cmd = rx.recv() => Wake::Command(cmd),
                Some(event) = recv_bus(&mut bus_events) => Wake::Bus(event),
                () = self.shared.wake.notified() => Wake::Notified,
                () = &mut timer => Wake::Timer,
            };
            let now = Instant::now();
            // One turn: what woke the actor, then what is due (`Turn::end`).
            let flow = self
                .with(|t| {
                    t.begin(now);
                    match wake {
                        Wake::Command(None) => Flow::Stop,
                        Wake::Command(Some(cmd)) => Self::handle_in(t, now, cmd),
                        Wake::Bus(event) => {
                            match event {
                                BusEvent::Reconnected => t.core.bus_reconnected(),
                                BusEvent::Message(Envelope { from, message }) => {
                                    t.core.bus_message(now, &from, message)
                                }
                            }
                            t.check_lagged(now);
                            t.execute(now);
                            Flow::Continue
                        }
                        Wake::Notified | Wake::Timer => Flow::Continue,
                    }
                })
                .await
                .unwrap_or(Flow::Stop);
            match flow {
                Flow::Stop => break,
                Flow::Shutdown(reply) => {
                    self.flush_for_shutdown().await;
                    let _ = reply.send(());
                }
                Flow::Continue => {}
            }
            // What is due, then the deadline the timer is set to next, in the same lock.
            let Some((unload, at)) = self
                .with(|t| {
                    let unload = t.end(now) && rx.is_empty();
                    t.armed = t.core.next_wake();
                    (unload, t.armed)
                })
                .await
            else {
                break;
            };
            if unload {
                // From here on the registry's handle reads as closed and a join starts a
                // fresh actor; one that slipped in meanwhile has its reply dropped below and
                // retries (see `Rooms::join`). No reader runs a turn: nobody is connected.
                rx.close();
                exit = Exit::Idle;
                break;
            }
            deadline = Some(at);
        }
        drop(rx);
        self.finish().await;
        // The room's state goes with its task (readers still holding the handle find no turn).
        // After a turn panicked, its connections are closed (1011), as the room cannot go on.
        let poisoned = self.shared.turn.is_poisoned();
        let turn = self
            .shared
            .turn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut turn) = turn
            && poisoned
        {
            tracing::error!(room = %self.id, "a turn of the room panicked: closing its connections");
            turn.close_all(CloseCode::Internal);
        }
        dec(&self.deps.metrics.rooms_loaded);
        tracing::debug!(room = %self.id, ?exit, "room unloaded");
        exit
    }

    /// Handles one command in a turn of its own (a graceful shutdown's flush awaits, outside it).
    async fn handle(&mut self, cmd: RoomCommand) -> Flow {
        let now = Instant::now();
        let flow = self
            .with(|t| {
                t.begin(now);
                Self::handle_in(t, now, cmd)
            })
            .await
            .unwrap_or(Flow::Stop);
        match flow {
            Flow::Shutdown(reply) => {
                self.flush_for_shutdown().await;
                let _ = reply.send(());
                Flow::Continue
            }
            other => other,
        }
    }

    fn handle_in(t: &mut Turn, now: Instant, cmd: RoomCommand) -> Flow {
        match cmd {
            RoomCommand::Join { conn, reply } => {
                t.join(now, conn);
                let _ = reply.send(Ok(()));
            }
            RoomCommand::Inbound { conn, messages } => t.inbound_queued(now, conn, messages),
            RoomCommand::Leave { conn } => t.leave(now, conn),
            // Taken at the start of this turn (`Turn::begin`).
            RoomCommand::Persisted => {}
            RoomCommand::Validation { reply } => {
                let result = t.core.validation_now(now);
                t.execute(now);
                let _ = reply.send(result);
            }
            RoomCommand::Status { reply } => {
                let _ = reply.send(t.core.status());
            }
            RoomCommand::Shutdown { reply } => return Flow::Shutdown(reply),
            RoomCommand::HostAction { action, reply } => {
                let result = t.core.host_action(now, &action);
                t.execute(now);
                let _ = reply.send(result);
            }
            RoomCommand::SolutionRevealed { reply } => {
                let _ = reply.send(t.core.solution_revealed());
            }
            RoomCommand::Revoke { tokens } => {
                t.core.revoke(now, tokens, true);
                t.execute(now);
            }
            RoomCommand::CloseAll { code } => {
                t.close_all(code);
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    async fn flush_for_shutdown(&mut self) {
        // Readers run no more turns: everything from here on is the actor's.
        let _ = self.with(|t| t.direct = false).await;
        // Until nothing is left pending (a full queue leaves some), or the turn is gone.
        while let Some(false) = self.with(|t| t.flush(Instant::now())).await {
            tokio::time::sleep(PERSIST_RETRY).await;
        }
        self.finish().await;
    }

    /// Waits for the room's writes in flight (tier transitions, interview state, history), taken
    /// out of the turn so that no lock is held while they are awaited.
    async fn finish(&mut self) {
        let Some((transitions, mut writes)) = self
            .with(|t| {
                t.direct = false;
                t.writes_in_flight()
            })
            .await
        else {
            return;
        };
        if let Some(task) = transitions {
            let _ = task.await;
        }
        while writes.join_next().await.is_some() {}
    }
}

impl Host for Room {
    fn room(&self) -> &RoomId {
        &self.id
    }

    fn join(&mut self, now: Instant, conn: ConnHandle) {
        let _ = self.with_blocking(|t| t.join(now, conn));
    }

    fn inbound(&mut self, now: Instant, conn: ConnId, messages: Vec<Inbound>) {
        let _ = self.with_blocking(|t| t.inbound_queued(now, conn, messages));
    }

    fn status(&self) -> Option<RoomStatus> {
        self.with_blocking(|t| t.core.status())
    }

    fn loaded(&mut self, now: Instant, doc: Doc, loaded_keys: Vec<RowKey>) {
        let _ = self.with_blocking(|t| {
            t.core.loaded(doc, loaded_keys);
            t.execute(now);
        });
    }

    fn failed(&mut self) {
        let _ = self.with_blocking(|t| t.close_all(CloseCode::Internal));
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
