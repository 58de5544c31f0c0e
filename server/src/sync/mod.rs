//! The y-websocket protocol without I/O: framing of sync, awareness and tierboard messages, and the
//! server's awareness table.
//!
//! Also the messages instances exchange about a room ([`peer`]) and how two copies of a room are
//! reconciled ([`reconcile`]): plain data and pure functions shared by the bus and the room core.
//!
//! Everything here works on byte slices and plain data so it can be tested (and fuzzed) without a socket.
//! The WebSocket glue in [`crate::ws`] and the room actor in [`crate::room`] are adapters around it.

pub mod awareness;
pub mod guard;
pub mod peer;
pub mod protocol;
pub mod reconcile;

pub use awareness::AwarenessTable;
pub use guard::{Applied, Rejected, apply_guarded};
pub use protocol::{ClientMessage, ProtocolError, parse_frame};
