//! Plain data of what the store keeps and the room core also handles (the keys of the rows a room
//! was loaded from, the rows themselves, tier transitions). Defined below both, so the room core
//! needs no import of [`crate::store`]; the store re-exports them.

/// A tier of the room's problem was reached or lost at `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub at_ms: i64,
    pub tier: String,
    /// `reached` or `lost`.
    pub event: String,
}

/// The key of a stored row of the log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub writer: String,
    pub seq: i64,
}

/// A stored row as `Store::load_rows` reads it.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub key: RowKey,
    pub data: Vec<u8>,
}
