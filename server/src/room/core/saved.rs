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
        }
    }

    /// The document version the latest stored state covers.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn due(&self) -> Option<Instant> {
        self.due
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
            self.due = Some(now.max(self.last_round + SAVED_INTERVAL));
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
    /// `saved` a second); those whose latest edit is covered are done.
    pub fn round(&mut self, now: Instant, mut tell: impl FnMut(ConnId, Bytes)) {
        self.due = None;
        self.last_round = now;
        let Some(message) = self.message() else {
            return;
        };
        let covered = self.version;
        self.unsaved.retain(|conn, edited| {
            tell(*conn, message.clone());
            *edited > covered
        });
    }
}
