//! The room core's hand-off to storage: pending updates submitted as one row or a snapshot, a
//! refused submission kept and retried, acknowledged commits turned into `saved` rounds.

use super::*;
use crate::sync::guard;

impl RoomCore {
    /// Whether accepted updates are still waiting to be handed to the persister.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Hands everything pending to the persister now (graceful shutdown).
    pub fn flush(&mut self, now: Instant) {
        self.submit_pending(now);
    }

    /// When updates accepted at `now` go to the persister: at once (in the turn that accepted
    /// them), but no sooner than the steady window ([`CoreConfig::persist_steady`]) after the last
    /// submission.
    pub(super) fn persist_due(&self, now: Instant) -> Instant {
        match self.last_submit {
            Some(at) => now.max(at + self.config.persist_steady),
            None => now,
        }
    }

    pub(super) fn submit_pending(&mut self, now: Instant) {
        self.persist_at = None;
        if !self.history.is_empty() {
            self.out
                .push(Effect::RecordHistory(std::mem::take(&mut self.history)));
        }
        if self.pending.is_empty() {
            return;
        }
        self.last_submit = Some(now);
        if self.rows_since_snapshot >= self.config.compact_rows
            && self.stored_bytes <= SNAPSHOT_MAX_BYTES
            && self.submit_snapshot()
        {
            return;
        }
        // Everything pending goes out as one update; if merging fails (it cannot for updates the
        // document accepted), the oldest goes alone and the rest wait for the next round.
        let (update, all) = if self.pending.len() == 1 {
            (self.pending.pop().expect("one pending update"), true)
        } else {
            match yrs::merge_updates_v1(self.pending.iter()) {
                Ok(merged) => {
                    self.pending.clear();
                    (merged, true)
                }
                Err(e) => {
                    tracing::error!(room = %self.config.id, error = %e, "merging pending updates failed");
                    self.persist_at = Some(now + PERSIST_RETRY);
                    (self.pending.remove(0), false)
                }
            }
        };
        // What the acknowledgement may claim: the whole document only when the whole of it was
        // submitted; a partial submit claims the version already saved, which announces nothing.
        let version = if all {
            self.version
        } else {
            self.saved.version()
        };
        let saved_sv = self.saved_sv(version);
        // Counted as taken; a refusal (queue full) undoes it at once (see `refused`).
        self.in_flight += 1;
        self.rows_since_snapshot += 1;
        self.stored_bytes += update.len();
        self.out.push(Effect::Submit(Submission {
            rows: Rows::Update(update),
            version,
            saved_sv,
        }));
    }

    /// Submits the whole document as one row that replaces the rows it covers: this instance's
    /// earlier rows of the room and the rows it was loaded from (store module docs, "Snapshots from
    /// the room"). It holds every pending update, which therefore need not go on their own.
    ///
    /// The snapshot is submitted only if it loads (decodes and applies to an empty document, see
    /// [`guard::snapshot_loads`]): a snapshot replaces rows, and one that does not load would lose
    /// them at the next start. Otherwise it is logged, the rows stay, and false is returned (the
    /// pending updates then go as a plain row; the next attempt comes `compact_rows` rows later).
    pub(super) fn submit_snapshot(&mut self) -> bool {
        let snapshot = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        if let Err(e) = guard::snapshot_loads(&snapshot) {
            tracing::error!(room = %self.config.id, error = %e, bytes = snapshot.len(), "snapshot of the room would not load; keeping the rows");
            inc(&self.config.metrics.errors, 1);
            self.rows_since_snapshot = 0;
            return false;
        }
        let version = self.version;
        let saved_sv = self.saved_sv(version);
        let restore = Restore {
            pending: std::mem::take(&mut self.pending),
            rows_since_snapshot: self.rows_since_snapshot,
            stored_bytes: self.stored_bytes,
        };
        self.in_flight += 1;
        self.rows_since_snapshot = 1;
        self.stored_bytes = snapshot.len();
        self.out.push(Effect::Submit(Submission {
            rows: Rows::Snapshot {
                snapshot,
                replaces: std::mem::take(&mut self.loaded_keys),
                restore,
            },
            version,
            saved_sv,
        }));
        true
    }

    /// The state vector a submission covering `version` stores; empty for a version already saved.
    pub(super) fn saved_sv(&mut self, version: u64) -> Bytes {
        if version > self.saved.version() {
            self.state_vector()
        } else {
            Bytes::new()
        }
    }

    /// The persister's queue was full: the submission is undone and retried shortly.
    pub fn refused(&mut self, now: Instant, refused: Refused) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match refused {
            Refused::Update(update) => {
                self.rows_since_snapshot = self.rows_since_snapshot.saturating_sub(1);
                self.stored_bytes = self.stored_bytes.saturating_sub(update.len());
                // First: it is the oldest.
                self.pending.insert(0, update);
            }
            Refused::Snapshot { replaces, restore } => {
                // The next attempt encodes the document as it is then.
                self.loaded_keys = replaces;
                let newer = std::mem::replace(&mut self.pending, restore.pending);
                self.pending.extend(newer);
                self.rows_since_snapshot = restore.rows_since_snapshot;
                self.stored_bytes = restore.stored_bytes;
            }
        }
        self.persist_at = Some(now + PERSIST_RETRY);
    }

    /// A submission's commit succeeded or failed. `version` and `saved_sv` are the submission's.
    pub fn persisted(
        &mut self,
        now: Instant,
        result: crate::Result<()>,
        saved_sv: Bytes,
        version: u64,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match result {
            Ok(()) => self.saved.committed(now, saved_sv, version),
            Err(e) => {
                // The persister keeps and retries failed batches itself (and counts the error);
                // nothing is dropped here, the `saved` message just waits for the retry.
                tracing::warn!(room = %self.config.id, error = %e, "not saved yet");
            }
        }
        if self.conns.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(now);
        }
    }

    /// A `saved` round (see [`SavedAcks::round`]).
    pub(super) fn send_saved(&mut self, now: Instant) {
        let conns = &self.conns;
        let out = &mut self.out;
        self.saved.round(now, |to, message, hold| {
            if conns.contains_key(&to) {
                out.push(if hold {
                    Effect::Hold { to, message }
                } else {
                    Effect::Send { to, message }
                });
            }
        });
    }
}
