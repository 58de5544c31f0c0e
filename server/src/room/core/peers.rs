//! The room core's part in reconciling with other instances: what it does with a bus message, when
//! it announces itself or publishes its state, and the delete-set digest it compares (see
//! [`crate::sync::reconcile`]).

use super::*;
use crate::sync::reconcile;

impl RoomCore {
    /// A message another instance published on the room's channel.
    pub fn bus_message(&mut self, now: Instant, from: &InstanceId, message: BusMessage) {
        match message {
            BusMessage::Update(raw) => {
                // The bus is another instance, but its bytes are checked like a client's: the
                // count before decoding, the guard when applying.
                let decoded = crate::sync::guard::precheck(&raw)
                    .map_err(|e| e.to_string())
                    .and_then(|()| Update::decode_v1(&raw).map_err(|e| e.to_string()));
                match decoded {
                    Ok(update) => self.apply_from_bus(now, update, &raw),
                    Err(e) => {
                        tracing::warn!(room = %self.config.id, from = %from, error = %e, "bus update ignored");
                        inc(&self.config.metrics.bus_errors, 1);
                    }
                }
            }
            BusMessage::Awareness(update) => {
                match self.awareness.apply(Owner::Remote, &update, now.into_std()) {
                    Ok(true) => self.broadcast(protocol::encode_awareness(&update), None),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(room = %self.config.id, from = %from, error = %e, "bus awareness ignored");
                        inc(&self.config.metrics.bus_errors, 1);
                    }
                }
            }
            BusMessage::Sync(state) => self.peer_state(from, state),
            BusMessage::Revoke(tokens) => self.revoke(now, tokens, false),
            BusMessage::Interview(state) => self.interview_from_peer(now, &state),
        }
    }

    /// The bus was down and is back: messages may have been lost meanwhile.
    pub fn bus_reconnected(&mut self) {
        self.announce();
    }

    /// A bus message for this room was dropped (its inbox was full), or a publish was (the bus's
    /// queue was full): announce soon, so peers re-send what we missed and we what they missed.
    pub fn publish_dropped(&mut self, now: Instant) {
        self.announce_due = true;
        let soon = now + ANNOUNCE_SOON;
        self.reconcile_at = Some(self.reconcile_at.map_or(soon, |at| at.min(soon)));
    }

    /// A peer's reconcile message: send it what it lacks, ask for what we lack (see [`reconcile`]).
    pub(super) fn peer_state(&mut self, from: &InstanceId, state: SyncState) {
        let peer_sv = match StateVector::decode_v1(&state.sv) {
            Ok(sv) => sv,
            Err(e) => {
                tracing::warn!(room = %self.config.id, from = %from, error = %e, "bad state vector on the bus");
                inc(&self.config.metrics.bus_errors, 1);
                return;
            }
        };
        let mine = self.doc_state();
        let plan = reconcile::plan(&mine, &peer_sv, state.deletes, state.request);
        if plan.send_diff {
            let diff = self.doc.transact().encode_state_as_update_v1(&peer_sv);
            inc(&self.config.metrics.reconcile_diffs, 1);
            self.publish(BusMessage::Update(Bytes::from(diff)));
        }
        if plan.answer {
            inc(&self.config.metrics.reconciles, 1);
            self.publish(BusMessage::Sync(mine.to_message(false, false)));
        }
        if state.hello
            && let Some(ours) = self.awareness.encode_where(Owner::is_local)
        {
            self.publish(BusMessage::Awareness(ours));
        }
        if state.hello {
            self.publish_interview();
        }
    }

    /// Publishes our state, asking peers to answer, and our clients' awareness, asking peers for
    /// theirs: after a load, a reconnect, or a dropped bus message.
    pub fn announce(&mut self) {
        if !self.config.fans_out {
            return;
        }
        self.announce_due = false;
        let state = self.doc_state().to_message(true, true);
        inc(&self.config.metrics.reconciles, 1);
        self.publish(BusMessage::Sync(state));
        if let Some(ours) = self.awareness.encode_where(Owner::is_local) {
            self.publish(BusMessage::Awareness(ours));
        }
        // Interview states and revocations published while the bus was down are exchanged again;
        // each side keeps the newest state, and a revocation is idempotent.
        self.publish_interview();
        if !self.revoked.is_empty() {
            let revoked = self.revoked.iter().cloned().collect();
            self.publish(BusMessage::Revoke(revoked));
        }
    }

    /// Due reconcile work: an announcement when something was dropped, else (while we have
    /// connections) the periodic state, every [`RECONCILE_PERIOD`] plus jitter.
    pub(super) fn reconcile_tick(&mut self, now: Instant) {
        if self.reconcile_at.is_none_or(|at| at > now) {
            return;
        }
        self.reconcile_at = None;
        if self.announce_due {
            self.announce();
        } else if !self.conns.is_empty() {
            let state = self.doc_state().to_message(true, false);
            inc(&self.config.metrics.reconciles, 1);
            self.publish(BusMessage::Sync(state));
        }
        if !self.conns.is_empty() {
            self.reconcile_at = Some(now + RECONCILE_PERIOD + self.jitter());
        }
    }

    /// Publishes to the other instances (never waits: see [`RoomCore::publish_dropped`]).
    pub(super) fn publish(&mut self, message: BusMessage) {
        if self.config.fans_out {
            self.out.push(Effect::Publish(message));
        }
    }

    pub(super) fn jitter(&self) -> Duration {
        let max = self.config.reconcile_jitter.as_millis() as u64;
        if max == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::random_range(0..=max))
    }

    /// The state vector and delete-set digest, computed once per document version.
    pub(super) fn doc_state(&mut self) -> DocState {
        if let Some((version, state)) = &self.cached_state
            && *version == self.version
        {
            return state.clone();
        }
        let state = DocState::of(&self.doc.transact());
        self.cached_state = Some((self.version, state.clone()));
        state
    }
}
