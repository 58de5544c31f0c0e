//! Applying updates to the room's document under the guard and the room's limits (issue 25, items 4
//! and 8): every update, a client's or another instance's, goes through
//! [`crate::sync::guard::try_apply_guarded`], so one poisoned update is refused (and logged) and the
//! room lives on.
//!
//! Three bounds keep what one room holds in memory proportional to its document, not to what its
//! clients send:
//!
//! - **The document quota** ([`RoomLimits::max_document_bytes`]): a client's update that would take
//!   the document beyond it is refused and its sender closed with 4414. The size is counted as the
//!   stored bytes plus every accepted delta (an upper bound: rows not compacted yet, content deleted
//!   since), and measured exactly (one encode of the document) when the count first passes the quota,
//!   then again only after another sixteenth of the quota of growth.
//! - **Held updates**: an update that starts beyond what the document has of its client (a hole in
//!   its clocks) cannot be applied safely by yrs 0.28 (see the guard), but an honest one is only early
//!   (a bus message overtaken by a later one, a client's edits relayed out of order). The room holds
//!   it, and applies it once the clocks it waits for are there.
//! - **Pending parts**: an update whose items wait for another client's items is held by yrs itself
//!   as pending. Held updates and pending parts together are bounded by
//!   [`RoomLimits::max_pending_updates`] and [`RoomLimits::max_pending_bytes`]; an update beyond them
//!   is refused and its sender closed with 4415. If yrs' pending parts grew past the bound they are
//!   dropped (logged): they were never part of the document, never stored and never acknowledged,
//!   and the clients that sent them send them again when they resync.

use yrs::ClientID;

use super::*;
use crate::sync::guard::{self, Rejected};

/// What a room may be made to hold (issue 25, item 8). Zero switches a bound off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomLimits {
    /// Largest document a client's update may make, in encoded bytes.
    pub max_document_bytes: usize,
    /// Updates held by the room or by yrs waiting for missing parts.
    pub max_pending_updates: usize,
    /// Bytes of those.
    pub max_pending_bytes: usize,
}

impl Default for RoomLimits {
    fn default() -> RoomLimits {
        RoomLimits {
            max_document_bytes: 64 << 20,
            max_pending_updates: 256,
            max_pending_bytes: 8 << 20,
        }
    }
}

/// An update waiting for earlier clocks of one client.
struct Held {
    update: Update,
    bytes: usize,
    /// The connection that sent it (`None`: another instance, over the bus).
    from: Option<ConnId>,
    /// It can be tried again once the document has `client`'s clocks up to `clock`.
    client: ClientID,
    clock: u32,
}

/// The room's counts of what waits (see the module docs).
#[derive(Default)]
pub(super) struct Waiting {
    held: Vec<Held>,
    held_bytes: usize,
    /// Encoded size of yrs' pending parts after the last update, and how many updates grew them
    /// since they were last empty.
    pending_bytes: usize,
    pending_updates: usize,
}

/// Why a client's update was refused: its sender is closed with [`Refusal::code`].
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Guard(#[from] Rejected),
    #[error("document would reach {would} bytes, beyond the room's quota of {quota}")]
    Quota { would: usize, quota: usize },
    #[error(
        "{updates} updates ({bytes} bytes) would wait for missing parts, beyond the room's bound"
    )]
    Pending { updates: usize, bytes: usize },
}

impl Refusal {
    fn code(&self) -> CloseCode {
        match self {
            Refusal::Guard(_) => CloseCode::Malformed,
            Refusal::Quota { .. } => CloseCode::DocumentQuota,
            Refusal::Pending { .. } => CloseCode::TooManyPending,
        }
    }
}

/// What the room knows of an update's encoding: the bytes it was decoded from, or only their size
/// (a held update keeps only its size).
#[derive(Clone, Copy)]
enum Received<'a> {
    Bytes(&'a [u8]),
    Size(usize),
}

impl<'a> Received<'a> {
    fn size(self) -> usize {
        match self {
            Received::Bytes(bytes) => bytes.len(),
            Received::Size(size) => size,
        }
    }

    fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Received::Bytes(bytes) => Some(bytes),
            Received::Size(_) => None,
        }
    }
}

/// What one update did.
struct Outcome {
    /// What it changed, when it changed something.
    delta: Option<Vec<u8>>,
    refusal: Option<Refusal>,
}

impl RoomCore {
    /// Applies a client's update, fans out exactly what it changed and publishes it to other
    /// instances, then applies the held updates it made ready. False when the update was refused
    /// and its connection closed.
    pub(super) fn apply(
        &mut self,
        now: Instant,
        from: ConnId,
        update: Update,
        received: &[u8],
    ) -> bool {
        let outcome = self.integrate(now, update, Received::Bytes(received), Some(from), true);
        let changed = outcome.delta.is_some();
        self.fan_out(from, outcome.delta);
        if let Some(refusal) = outcome.refusal {
            tracing::warn!(room = %self.config.id, conn = from.0, error = %refusal, "update refused");
            inc(&self.config.metrics.rejected_messages, 1);
            self.close(now, from, refusal.code());
            return false;
        }
        if changed {
            self.release_held(now);
        }
        true
    }

    /// A delta from `from` goes to everyone else and the other instances; no delta still owes `from`
    /// a `saved` (e.g. a reconnecting client re-sending edits another connection of its own
    /// already delivered: it still hears when they are stored).
    fn fan_out(&mut self, from: ConnId, delta: Option<Vec<u8>>) {
        match delta {
            Some(delta) => {
                if self.conns.contains_key(&from) {
                    self.saved.edited(from, self.version);
                }
                self.broadcast(protocol::encode_update(&delta), Some(from));
                self.publish(BusMessage::Update(Bytes::from(delta)));
            }
            None => {
                if self.version > self.saved.version() && self.conns.contains_key(&from) {
                    self.saved.edited(from, self.version);
                }
            }
        }
    }

    /// Another instance's update: applied like a client's, but never refused for the quota (the
    /// other instance accepted it; the rooms must agree), never re-published. Held or dropped
    /// updates are fetched again by reconciling.
    pub(super) fn apply_from_bus(&mut self, now: Instant, update: Update, received: &[u8]) {
        let outcome = self.integrate(now, update, Received::Bytes(received), None, false);
        if let Some(delta) = &outcome.delta {
            self.broadcast(protocol::encode_update(delta), None);
        }
        if let Some(refusal) = outcome.refusal {
            tracing::warn!(room = %self.config.id, error = %refusal, "bus update refused");
            inc(&self.config.metrics.bus_errors, 1);
            self.publish_dropped(now);
        }
        if outcome.delta.is_some() {
            self.release_held(now);
        }
    }

    /// Applies one update under the guard and the limits (the quota only when `quota`), and queues
    /// what it changed for storage.
    fn integrate(
        &mut self,
        now: Instant,
        update: Update,
        received: Received,
        from: Option<ConnId>,
        quota: bool,
    ) -> Outcome {
        let size = received.size();
        if quota && let Some(refusal) = self.over_quota(size) {
            return Outcome {
                delta: None,
                refusal: Some(refusal),
            };
        }
        let applied = match guard::try_apply_received(&self.doc, update, received.bytes()) {
            Ok(applied) => applied,
            Err((Rejected::Gap { client, to, .. }, Some(update))) => {
                let refusal = self.hold(Held {
                    update,
                    bytes: size,
                    from,
                    client: ClientID::new(client),
                    clock: to,
                });
                return Outcome {
                    delta: None,
                    refusal,
                };
            }
            Err((rejected, _)) => {
                return Outcome {
                    delta: None,
                    refusal: Some(Refusal::Guard(rejected)),
                };
            }
        };
        let refusal = self.count_pending(applied.pending_bytes);
        if !applied.changed() {
            return Outcome {
                delta: None,
                refusal,
            };
        }
        if let Some(before) = applied.before {
            self.changed_from(before);
        }
        let delta = applied.delta;
        self.version += 1;
        if let Some(sv) = applied.state_vector {
            self.remember_state_vector(&sv);
        }
        self.doc_bytes += delta.len();
        self.pending.push(delta.clone());
        if self.config.mode == Mode::Interview {
            // Kept for the session report's replay (store `history.rs`); each update with its time.
            self.history.push((crate::clock::now_ms(), delta.clone()));
        }
        if self.persist_at.is_none() {
            self.persist_at = Some(self.persist_due(now));
        }
        if self.design_changed.swap(false, Ordering::Relaxed) && self.validate_at.is_none() {
            // Run now if the last run is old enough, else at the end of its window: a burst of edits
            // costs one run per window, and the first edit after a quiet spell is judged at once.
            self.validate_at = Some(now.max(self.last_validation + VALIDATION_INTERVAL));
        }
        Outcome {
            delta: Some(delta),
            refusal,
        }
    }

    /// `Some` when an update of `size` bytes would take the document beyond the quota.
    fn over_quota(&mut self, size: usize) -> Option<Refusal> {
        let quota = self.config.limits.max_document_bytes;
        if quota == 0 || self.doc_bytes + size <= quota {
            return None;
        }
        // The count is an upper bound: measure the document when it has grown enough since the
        // last measure, so that a room near the quota does not encode its document per update.
        if self.doc_bytes >= self.doc_bytes_measured + quota / 16 {
            let exact = self
                .doc
                .transact()
                .encode_state_as_update_v1(&StateVector::default())
                .len();
            self.doc_bytes = exact;
            self.doc_bytes_measured = exact;
        }
        let would = self.doc_bytes + size;
        (would > quota).then_some(Refusal::Quota { would, quota })
    }

    /// Records yrs' pending parts after an update; past the bounds they are dropped.
    fn count_pending(&mut self, bytes: usize) -> Option<Refusal> {
        let waiting = &mut self.waiting;
        if bytes == 0 {
            waiting.pending_updates = 0;
        } else if bytes > waiting.pending_bytes {
            waiting.pending_updates += 1;
        }
        waiting.pending_bytes = bytes;
        let refusal = self.over_pending(0)?;
        tracing::error!(room = %self.config.id, error = %refusal, "dropping the document's pending parts");
        guard::clear_pending(&self.doc);
        self.waiting.pending_bytes = 0;
        self.waiting.pending_updates = 0;
        Some(refusal)
    }

    /// `Some` when `extra` more bytes in one more update would pass the bounds on what waits.
    fn over_pending(&self, extra: usize) -> Option<Refusal> {
        let limits = &self.config.limits;
        let w = &self.waiting;
        let updates = w.held.len() + w.pending_updates + usize::from(extra > 0);
        let bytes = w.held_bytes + w.pending_bytes + extra;
        let over = (limits.max_pending_updates > 0 && updates > limits.max_pending_updates)
            || (limits.max_pending_bytes > 0 && bytes > limits.max_pending_bytes);
        over.then_some(Refusal::Pending { updates, bytes })
    }

    /// Holds an update that waits for earlier clocks of its client, within the bounds.
    fn hold(&mut self, held: Held) -> Option<Refusal> {
        if let Some(refusal) = self.over_pending(held.bytes.max(1)) {
            return Some(refusal);
        }
        tracing::debug!(room = %self.config.id, client = %held.client, clock = held.clock, "update held until its client's earlier clocks arrive");
        self.waiting.held_bytes += held.bytes;
        self.waiting.held.push(held);
        None
    }

    /// Applies the held updates whose clocks are there now, until none is.
    fn release_held(&mut self, now: Instant) {
        while !self.waiting.held.is_empty() {
            let sv = self.doc.transact().state_vector();
            let Some(i) = self
                .waiting
                .held
                .iter()
                .position(|h| sv.get(&h.client) >= h.clock)
            else {
                return;
            };
            let held = self.waiting.held.swap_remove(i);
            self.waiting.held_bytes -= held.bytes;
            // Without the quota: it passed it when it arrived.
            let outcome = self.integrate(
                now,
                held.update,
                Received::Size(held.bytes),
                held.from,
                false,
            );
            match held.from {
                Some(conn) => {
                    if let Some(delta) = outcome.delta {
                        if self.conns.contains_key(&conn) {
                            self.saved.edited(conn, self.version);
                        }
                        self.broadcast(protocol::encode_update(&delta), Some(conn));
                        self.publish(BusMessage::Update(Bytes::from(delta)));
                    }
                    if let Some(refusal) = outcome.refusal {
                        tracing::warn!(room = %self.config.id, conn = conn.0, error = %refusal, "held update refused");
                        inc(&self.config.metrics.rejected_messages, 1);
                        self.close(now, conn, refusal.code());
                    }
                }
                None => {
                    if let Some(delta) = outcome.delta {
                        self.broadcast(protocol::encode_update(&delta), None);
                    }
                    if let Some(refusal) = outcome.refusal {
                        tracing::warn!(room = %self.config.id, error = %refusal, "held bus update refused");
                        self.publish_dropped(now);
                    }
                }
            }
        }
    }

    /// Updates held for missing clocks, and their bytes (for tests and status).
    pub fn held_updates(&self) -> (usize, usize) {
        (self.waiting.held.len(), self.waiting.held_bytes)
    }
}
