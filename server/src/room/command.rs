//! The plain types through which the rest of the server reaches a room: its mailbox commands, its
//! handle in the registry, the figures readable without a round trip, and its dependencies.

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use super::conn::{ConnHandle, ConnId};
use super::core::{Inbound, RoomLimits, RoomStatus, SharedResults};
use super::turn::Turn;
use crate::bus::Bus;
use crate::close::CloseCode;
use crate::metrics::Metrics;
use crate::problems::Bank;
use crate::queue;
use crate::store::{Persister, Store};
use crate::validation::ValidationResult;

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
    /// Commit answers wait in the room's `Acks` (`room/acks.rs`): take them now (`acks.rs` says when
    /// the room is woken for them).
    Persisted,
    Status {
        reply: oneshot::Sender<RoomStatus>,
    },
    /// The current validation result (after a pending run, so it reflects every accepted edit).
    Validation {
        reply: oneshot::Sender<Option<Arc<ValidationResult>>>,
    },
    /// Hand everything pending to the persister and store the queued tier transitions.
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    CloseAll {
        code: CloseCode,
    },
    /// A host action from `POST /api/rooms/{room}/host`: the new public state, or why it was refused.
    HostAction {
        action: crate::room::core::interview::Action,
        reply:
            oneshot::Sender<Result<serde_json::Value, crate::room::core::interview::ActionError>>,
    },
    /// Whether the host revealed the solution (`GET /api/rooms/{room}/solution`).
    SolutionRevealed {
        reply: oneshot::Sender<bool>,
    },
    /// Tokens of the room were revoked: close their connections here and on the other instances.
    Revoke {
        tokens: Vec<crate::ids::TokenHash>,
    },
}

/// What the registry, the HTTP handlers and the connections' readers reach without a round trip
/// through the mailbox: the figures, and the room's turn (`turn.rs`), which a reader runs for its
/// own connection's messages when it is free.
#[derive(Default)]
pub struct RoomShared {
    pub connections: Arc<AtomicUsize>,
    /// `None` until the room has loaded, and again once its actor has ended.
    pub(super) turn: Mutex<Option<Turn>>,
    /// Wakes the actor when a reader's turn moved the core's next deadline before its timer's.
    pub(super) wake: Notify,
    /// The actor waits for the turn a reader holds (`actor.rs`, `Room::with`): the reader wakes it
    /// through `turn_free` as it lets go.
    pub(super) actor_waiting: AtomicBool,
    pub(super) turn_free: Notify,
}

impl std::fmt::Debug for RoomShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomShared")
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

impl RoomShared {
    /// The room's turn. An error means a turn panicked while holding it: the room stops.
    pub(super) fn lock_turn(&self) -> std::sync::LockResult<MutexGuard<'_, Option<Turn>>> {
        self.turn.lock()
    }
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
    /// A room's steady submission window (`--persist-steady-ms`).
    pub persist_steady: Duration,
    /// A room's presence window (`--presence-window-ms`).
    pub presence_window: Duration,
    /// What clients may make a room hold.
    pub limits: RoomLimits,
    /// Results the rooms share when they compute the same (`crate::interned`).
    pub results: Arc<SharedResults>,
}

/// A handle to a running room.
#[derive(Clone)]
pub struct RoomHandle {
    pub tx: queue::Sender<RoomCommand>,
    pub shared: Arc<RoomShared>,
    /// Distinguishes this actor from a later one for the same room id in the registry.
    pub generation: u64,
}
