//! Catching up a connection that fell behind a burst (issue 25, item 11).
//!
//! A connection's outbox is bounded. When the actor finds it full, the reader is slower than the
//! room right now (a paste, an import, a replayed offline session on a busy machine), not
//! necessarily gone. Closing it would make a healthy client reconnect and resync the whole document;
//! queueing without bound would make the server's memory grow with the burst. Instead the room marks
//! it **behind**: nothing more is queued for it (the actor skips it, and the core folds a step 2
//! it owes into the catch-up), and the room remembers a state vector the client is known to have.
//! Once its outbox has drained ([`RoomCore::outbox_drained`]) it gets one update, the document's
//! diff from that state vector, plus the latest presence, validation and `saved` messages, and is
//! current again. What the room holds for it is then bounded by the document, not by the burst.
//!
//! A reader that stopped reading never drains: its writer's blocked write times out and drops it
//! (item 1, in `ws.rs`). Awareness changes meant for a behind connection are dropped; the catch-up
//! sends everyone's current state (removals it missed expire on the client, as stale states do).
//!
//! **What the client is known to have.** Every effect the actor took before the one that found the
//! outbox full was queued for the connection, so it has the document as of the last
//! [`RoomCore::take_effects`] before that, at least: the state vector from just before the first
//! change after a take is kept for that (`base`), computed only when the document changes. A sync
//! step 2 answering the client's own step 1 is the exception: if that one was not queued, the
//! client has only what it announced, so the known state is lowered to it.

use std::collections::HashMap;

use super::*;

/// How often the actor is woken to look at the outboxes of connections that are behind.
pub const CATCH_UP_POLL: Duration = Duration::from_millis(20);

/// The room's bookkeeping of connections that are behind (see the module docs).
#[derive(Default)]
pub(super) struct CatchUp {
    /// Connections that are behind, and a state vector each is known to have.
    behind: HashMap<ConnId, StateVector>,
    /// The document's state vector before the first change since the last take.
    since_take: Option<StateVector>,
    /// The document version when the effects were last taken.
    taken_version: u64,
    /// The state vector as of the previous take: what the effects of the last take started from.
    /// `None` when those effects changed nothing (then the current state vector is it).
    base: Option<StateVector>,
    /// Step 2 answers (connection, the state vector it announced) queued since the last take, and
    /// those of the last take.
    answers: Vec<(ConnId, StateVector)>,
    answers_taken: Vec<(ConnId, StateVector)>,
    /// When the actor is next woken to look at the outboxes, while a connection is behind.
    poll_at: Option<Instant>,
}

impl CatchUp {
    /// The effects queued so far are handed to the actor.
    pub(super) fn taken(&mut self, version: u64) {
        self.base = self.since_take.take();
        self.taken_version = version;
        std::mem::swap(&mut self.answers, &mut self.answers_taken);
        self.answers.clear();
    }

    pub(super) fn is_behind(&self, conn: ConnId) -> bool {
        self.behind.contains_key(&conn)
    }

    pub(super) fn left(&mut self, conn: ConnId) {
        self.behind.remove(&conn);
    }
}

/// The clocks both state vectors contain: what a client surely has when it is known to have one of
/// them, but not which.
fn lower_bound(a: &StateVector, b: &StateVector) -> StateVector {
    a.iter()
        .filter_map(|(client, clock)| {
            let clock = (*clock).min(b.get(client));
            (clock > 0).then_some((*client, clock))
        })
        .collect()
}

impl RoomCore {
    /// Called before every change of the document: keeps the state vector the current effects
    /// start from, once per take.
    pub(super) fn before_change(&mut self) {
        if self.first_change_since_take() {
            self.catch_up.since_take = Some(self.doc.transact().state_vector());
        }
    }

    /// [`RoomCore::before_change`] after the change, given the state vector from before it (the
    /// guard read it while applying the update); the room's version must not have moved yet.
    pub(super) fn changed_from(&mut self, before: StateVector) {
        if self.first_change_since_take() {
            self.catch_up.since_take = Some(before);
        }
    }

    fn first_change_since_take(&self) -> bool {
        self.catch_up.since_take.is_none() && self.version == self.catch_up.taken_version
    }

    /// A step 2 answering `to`'s step 1 (which announced `sv`): queued, or, while `to` is behind,
    /// folded into its catch-up.
    pub(super) fn send_step2(&mut self, to: ConnId, sv: &StateVector, step2: Bytes) {
        if let Some(known) = self.catch_up.behind.get_mut(&to) {
            *known = lower_bound(known, sv);
            return;
        }
        if self.conns.contains_key(&to) {
            self.catch_up.answers.push((to, sv.clone()));
            self.out.push(Effect::Send { to, message: step2 });
        }
    }

    /// A connection's outbox was full when the actor executed the last effects it took: from now
    /// on nothing is queued for it until it drains (see the module docs). Idempotent.
    pub fn slow_consumer(&mut self, now: Instant, conn: ConnId) {
        if !self.conns.contains_key(&conn) || self.catch_up.is_behind(conn) {
            return;
        }
        let mut known = match &self.catch_up.base {
            Some(sv) => sv.clone(),
            None if self.version == self.catch_up.taken_version => {
                self.doc.transact().state_vector()
            }
            // Changes made since the take are not queued yet; the state before them is what the
            // connection has (they will skip it).
            None => self
                .catch_up
                .since_take
                .clone()
                .unwrap_or_else(|| self.doc.transact().state_vector()),
        };
        for (to, sv) in &self.catch_up.answers_taken {
            if *to == conn {
                known = lower_bound(&known, sv);
            }
        }
        tracing::info!(room = %self.config.id, conn = conn.0, "outbox full: connection is behind until it drains");
        inc(&self.config.metrics.fell_behind, 1);
        self.catch_up.behind.insert(conn, known);
        if self.catch_up.poll_at.is_none() {
            self.catch_up.poll_at = Some(now + CATCH_UP_POLL);
        }
    }

    /// Whether `conn` is behind (for tests and status).
    pub fn is_behind(&self, conn: ConnId) -> bool {
        self.catch_up.is_behind(conn)
    }

    /// A behind connection's outbox has drained: it gets the document's diff from what it has and
    /// the latest presence, validation and saved messages, and is current again.
    pub fn outbox_drained(&mut self, _now: Instant, conn: ConnId) {
        let Some(known) = self.catch_up.behind.remove(&conn) else {
            return;
        };
        if !self.conns.contains_key(&conn) {
            return;
        }
        let diff = self.doc.transact().encode_state_as_update_v1(&known);
        inc(&self.config.metrics.catch_ups, 1);
        tracing::info!(room = %self.config.id, conn = conn.0, bytes = diff.len(), "catching up a connection that was behind");
        self.out.push(Effect::Send {
            to: conn,
            message: protocol::encode_update(&diff),
        });
        if let Some(all) = self.awareness.encode_all() {
            self.out.push(Effect::Send {
                to: conn,
                message: protocol::encode_awareness(&all),
            });
        }
        if let Some(&role) = self.conns.get(&conn) {
            self.send_latest(conn, role);
        }
    }

    /// A tick: while a connection is behind, the actor is woken every [`CATCH_UP_POLL`] to look at
    /// its outbox (it does on every wake-up), so a quiet room still catches it up.
    pub(super) fn catch_up_tick(&mut self, now: Instant) {
        if self.catch_up.poll_at.is_some_and(|at| at <= now) {
            self.catch_up.poll_at =
                (!self.catch_up.behind.is_empty()).then_some(now + CATCH_UP_POLL);
        }
    }

    /// When the actor should next look at the outboxes of connections that are behind.
    pub(super) fn catch_up_wake(&self) -> Option<Instant> {
        self.catch_up.poll_at
    }
}
