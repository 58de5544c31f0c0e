//! Saved acknowledgements: which connections have edits not yet confirmed by a `saved` message, the
//! latest stored state vector, and the once-a-second rounds that tell them (docs/PROTOCOL.md,
//! `saved`). Part of the room core: no I/O, time passed in.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use tokio::time::Instant;

use crate::room::conn::ConnId;
use crate::sync::protocol;

/// At most one round of `saved` messages per room in this window. The indicator is read by people,
/// and a busy room commits many times a second: each commit telling every writer would cost as many
/// messages as the edits themselves. The first round after a quiet second goes out as soon as its
/// commit does, so a single edit still reads "Saved" as soon as it is stored; steady editing is
/// acknowledged once a second. (A shorter window made `saved` a large share of the messages the
/// server wrote: BENCHMARKS.md, "Figures behind code choices".)
pub const SAVED_INTERVAL: Duration = Duration::from_secs(1);

/// A steady round's messages (a round the window held back: the room was editing all along) ride
/// on the next update each connection gets, in one write with it, and go alone after this long at
/// most. A connection in a busy room gets an update every ~100-150 ms, and a `saved` of its own was
/// a ninth of the messages the server wrote in scenario 3 (BENCHMARKS.md, "Figures behind code
/// choices"). The first round after a quiet second is not held: a lone edit reads "Saved" as soon
/// as it is stored.
pub const SAVED_HOLD: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub(super) struct SavedAcks {
    /// The latest stored state vector and its `saved` message (sent to joiners). The message is
    /// encoded when first sent, not per commit: most commits are superseded within the window.
    last: Option<(Bytes, Option<Bytes>)>,
    /// The document version the latest stored state covers.
    version: u64,
    /// Connections with edits not yet covered by a `saved` message: the document version after
    /// their latest edit. Only they are told; a client that made no edits is trivially saved.
    unsaved: HashMap<ConnId, u64>,
    /// When the pending round is due, and when the last one went out.
    due: Option<Instant>,
    last_round: Instant,
    /// The pending round was held back by the window (see [`SAVED_HOLD`]).
    steady: bool,
    /// When messages held by the last steady round go out alone.
    flush_at: Option<Instant>,
}

impl SavedAcks {
    pub fn new(now: Instant) -> SavedAcks {
        SavedAcks {
            last: None,
            version: 0,
            unsaved: HashMap::new(),
            due: None,
            // As if the last round were a window ago: the room's first commit is acknowledged at once.
            last_round: now.checked_sub(SAVED_INTERVAL).unwrap_or(now),
            steady: false,
            flush_at: None,
        }
    }

    /// When held messages must go out alone (see [`SAVED_HOLD`]).
    pub fn flush_due(&self) -> Option<Instant> {
        self.flush_at
    }

    /// Whether held messages must go out alone now; then they are no longer due.
    pub fn take_flush(&mut self, now: Instant) -> bool {
        let due = self.flush_at.is_some_and(|at| at <= now);
        if due {
            self.flush_at = None;
        }
        due
    }

    /// The document version the latest stored state covers.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// When the current window ends: a commit acknowledged before then waits for it (unless a
    /// round is already due).
    pub fn window_end(&self) -> Instant {
        self.last_round + SAVED_INTERVAL
    }

    /// `conn`'s latest edit made the document `version`.
    pub fn edited(&mut self, conn: ConnId, version: u64) {
        self.unsaved.insert(conn, version);
    }

    pub fn left(&mut self, conn: ConnId) {
        self.unsaved.remove(&conn);
    }

    /// A commit covering the document up to `version` succeeded and stored `sv`.
    pub fn committed(&mut self, now: Instant, sv: Bytes, version: u64) {
        // Commits are acknowledged in order; the guard keeps an older one from winning, and a
        // partial submit (which claims only the version already saved) from announcing anything.
        if version <= self.version {
            return;
        }
        self.last = Some((sv, None));
        self.version = version;
        if self.due.is_none() {
            let window_end = self.window_end();
            self.steady = window_end > now;
            self.due = Some(now.max(window_end));
        }
    }

    /// The `saved` message for the latest commit, encoded once.
    pub fn message(&mut self) -> Option<Bytes> {
        let (sv, message) = self.last.as_mut()?;
        Some(
            message
                .get_or_insert_with(|| {
                    let json = serde_json::json!({"type": "saved", "sv": STANDARD.encode(&*sv)});
                    protocol::encode_tierboard(&json.to_string())
                })
                .clone(),
        )
    }

    /// A round: every connection with unsaved edits hears what is stored, whether or not its latest
    /// edit is in it (steady editing always has an edit in flight, and the protocol promises a
    /// `saved` a second); those whose latest edit is covered are done. `tell` learns whether the
    /// message may be held for the connection's next update (a steady round, see [`SAVED_HOLD`]).
    pub fn round(&mut self, now: Instant, mut tell: impl FnMut(ConnId, Bytes, bool)) {
        self.due = None;
        self.last_round = now;
        let hold = std::mem::take(&mut self.steady);
        let Some(message) = self.message() else {
            return;
        };
        let covered = self.version;
        self.unsaved.retain(|conn, edited| {
            tell(*conn, message.clone(), hold);
            *edited > covered
        });
        if hold && self.flush_at.is_none() {
            self.flush_at = Some(now + SAVED_HOLD);
        }
    }
}
