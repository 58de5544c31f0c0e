//! One loaded room: its document, its connections and its awareness.
//!
//! - [`core`](RoomCore): the room's state and rules, sans I/O. Inputs (a connection joined or left,
//!   a frame's messages, a submission refused or acknowledged, a bus message, a tick) with the current
//!   time in; [`Effect`]s out (`effect.rs`). Unit-tested without a database, a bus or sockets
//!   (`tests.rs`). Split by concern: `core/integrate.rs` (the guard and the
//!   room's limits), `core/persist.rs`, `core/saved.rs`, `core/peers.rs`, `core/validate.rs`.
//! - `turn.rs`: the core with the connections' outlets, run by whoever holds the room's turn (a
//!   std mutex in [`RoomShared`]): it executes the core's effects with the outboxes, the persister,
//!   the bus and the store (tier transitions, written in order). A connection's reader runs the
//!   turn for its own messages when it is free; the mailbox takes them otherwise.
//! - `actor.rs` ([`Room`]): one tokio task per room that runs the turn for everything else (its
//!   mailbox, its bus inbox, its timers) and ends the room.
//! - `load.rs`: reading the room from the store and the loading state machine (it reaches the actor
//!   through its `Host` trait, so it never imports the actor).
//! - `command.rs`: the mailbox commands, the registry's handle and the room's dependencies.
//! - `conn.rs`: a connection's handle, outbox and [`ConnControl`].
//! - `acks.rs`: commit answers left for the room to take on its next turn (a wake-up only when
//!   one is acted on at once).
//!
//! Across instances (see [`crate::bus`]): a room subscribes to its bus channel before it loads,
//! publishes the deltas of its own clients and their awareness, applies (and stores) what other
//! instances publish, and reconciles with them by state vectors when it loads, periodically while it
//! has connections, after the bus reconnects and after its bus inbox overflowed. Every instance
//! stores every update it integrates, local or from the bus, so an edit any surviving client has
//! seen is stored by a surviving instance.
//!
//! The registry ([`crate::rooms`]) starts rooms and forgets them when their actor returns; a room
//! never calls back into it (it asks to unload with [`Effect::Unload`] and ends with [`Exit::Idle`]).

mod acks;
mod actor;
mod command;
mod conn;
mod core;
mod effect;
mod load;
#[cfg(test)]
mod tests;
mod turn;

pub use actor::{Exit, Room};
pub use command::{RoomCommand, RoomDeps, RoomHandle, RoomShared};
pub use conn::{ConnControl, ConnHandle, ConnId, NotSent, Outgoing, Outlet, Side, Stopped};
pub use core::interview::{Action as HostAction, ActionError, Interview};
pub use core::{
    AWARENESS_TIMEOUT, CoreConfig, Inbound, Owner, PERSIST_STEADY, PRESENCE_WINDOW, RoomCore,
    RoomLimits, RoomStatus, SAVED_INTERVAL, SharedResults, Start, VALIDATION_INTERVAL,
    initial_update,
};
pub use effect::{Effect, Refused, Restore, Rows, Submission};
