//! What the room core asks its actor to do: plain data, executed in order by
//! [`super::actor`]. A broadcast carries one encoded `Bytes` that every connection shares.

use bytes::Bytes;

use super::conn::ConnId;
use crate::close::CloseCode;
use crate::rows::{RowKey, Transition};
use crate::sync::peer::BusMessage;

/// One thing the actor does for the core.
#[derive(Debug)]
pub enum Effect {
    /// Queue `message` on one connection's outbox. A full outbox means the connection is behind:
    /// the actor queues nothing more for it and reports it with [`super::RoomCore::slow_consumer`]
    /// once the current effects are executed; once the outbox has drained it calls
    /// [`super::RoomCore::outbox_drained`], and the core catches the connection up.
    Send { to: ConnId, message: Bytes },
    /// Like `Send`, but the message may wait for the next message to the connection and go in the
    /// same write (a steady `saved`, see `core/saved.rs`); a later `Hold` for it replaces it, and
    /// [`Effect::FlushHeld`] sends what still waits.
    Hold { to: ConnId, message: Bytes },
    /// Send every connection's held message that is still waiting.
    FlushHeld,
    /// The same bytes to every connection but `except` and those behind (a full outbox: as for
    /// `Send`).
    Broadcast {
        message: Bytes,
        except: Option<ConnId>,
    },
    /// Close a connection with `code` (the core has already forgotten it).
    Close { conn: ConnId, code: CloseCode },
    /// Publish to the other instances (only when the bus fans out). A publish the bus's queue
    /// refused is reported with [`super::RoomCore::publish_dropped`].
    Publish(BusMessage),
    /// Hand rows to the persister without waiting. A refusal (queue full) goes back to the core
    /// at once with [`super::RoomCore::refused`]; the commit's outcome later with
    /// [`super::RoomCore::persisted`].
    Submit(Submission),
    /// Store tier transitions, in this order, after every earlier batch of the room.
    RecordTransitions(Vec<Transition>),
    /// Append updates with their times (epoch ms) to the room's history (interview rooms: the
    /// replay of the session report). Written off the room's task, awaited before it ends.
    RecordHistory(Vec<(i64, Vec<u8>)>),
    /// Record an interview participant: an awareness client id, the name it shows and the role of
    /// its connection, first seen at `at_ms` (the session report's participants).
    RecordParticipant {
        client: u64,
        name: String,
        role: String,
        at_ms: i64,
    },
    /// Store the room's interview state (JSON) and the host action (JSON) that made it, taken at
    /// `at_ms`. Writes may finish out of order: the store keeps the state of the highest `version`.
    SaveInterview {
        state: String,
        version: u64,
        action: String,
        at_ms: i64,
    },
    /// The room is idle, nobody is connected and everything it submitted is stored: it may stop
    /// (the actor does when no command is waiting).
    Unload,
}

/// A submission to the persister, with what its acknowledgement will claim.
#[derive(Debug)]
pub struct Submission {
    pub rows: Rows,
    /// The document version the commit covers (the version already saved for a partial submit).
    pub version: u64,
    /// The state vector the commit stores, empty when it covers no newer version.
    pub saved_sv: Bytes,
}

/// What a [`Submission`] stores.
#[derive(Debug)]
pub enum Rows {
    /// Pending updates, merged into one.
    Update(Vec<u8>),
    /// The whole document, replacing this instance's earlier rows and the rows named here.
    Snapshot {
        snapshot: Vec<u8>,
        replaces: Vec<RowKey>,
        restore: Restore,
    },
}

/// What a refused snapshot gives back to the core: the updates it covered and the counters before
/// it. Opaque to the actor, which only hands it back.
#[derive(Debug)]
pub struct Restore {
    pub(super) pending: Vec<Vec<u8>>,
    pub(super) rows_since_snapshot: u64,
    pub(super) stored_bytes: usize,
}

/// A submission the persister's queue did not take, handed back to the core.
#[derive(Debug)]
pub enum Refused {
    Update(Vec<u8>),
    Snapshot {
        replaces: Vec<RowKey>,
        restore: Restore,
    },
}
