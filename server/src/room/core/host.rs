//! The room's side of an interview (issue 22): host actions (from `POST /api/rooms/{room}/host` or a
//! host connection's `host_action` message), the state every connection is sent, the edits the lock
//! and the driver refuse, and the copies other instances publish. The state machine itself is in
//! `interview.rs`.

use serde_json::Value;

use super::interview::{self, Action, ActionError, Interview};
use super::*;
use crate::clock::now_ms;

/// A refused connection hears why at most this often.
const REFUSAL_NOTICE: Duration = Duration::from_secs(1);

impl RoomCore {
    fn hints(&self) -> &[String] {
        self.problem.as_deref().map_or(&[], |p| p.hints.as_slice())
    }

    /// The `interview` message, or for the host the `host` message (every hint, the notes).
    pub(super) fn interview_message_for(&self, role: Role) -> Bytes {
        let now = now_ms();
        let json = if role.is_host() {
            self.interview.host_view(self.hints(), now)
        } else {
            self.interview.message(self.hints(), now)
        };
        protocol::encode_tierboard(&json)
    }

    /// The state as `POST /api/rooms/{room}/host` answers it.
    pub fn interview_state(&self) -> Value {
        self.interview.public(self.hints())
    }

    pub fn solution_revealed(&self) -> bool {
        self.interview.solution_revealed
    }

    /// Whether `from` may edit under the lock and the driver; if not, it is told (at most once a
    /// second) and the refusal counted.
    pub(super) fn may_edit(&mut self, now: Instant, from: ConnId, role: Role) -> bool {
        let owner = Owner::Conn(from);
        let verdict = self
            .interview
            .may_edit(role.is_host(), self.awareness.clients_of(&owner));
        let Err(refusal) = verdict else {
            return true;
        };
        inc(&self.config.metrics.rejected_messages, 1);
        // A new reason is told at once; the same one at most once a second.
        let due = self
            .refusal_notices
            .get(&from)
            .is_none_or(|(at, last)| *last != refusal || now.duration_since(*at) >= REFUSAL_NOTICE);
        if due {
            self.refusal_notices.insert(from, (now, refusal));
            self.send_to(from, protocol::encode_tierboard(refusal.message()));
        }
        false
    }

    /// A type-100 message from a client: `{"type":"host_action","action":…}` from a host connection.
    /// Anything else is refused with an `error` message and logged; nothing is closed.
    pub(super) fn tierboard_message(
        &mut self,
        now: Instant,
        from: ConnId,
        role: Role,
        json: &[u8],
    ) {
        let refuse = |core: &mut RoomCore, code: &str, message: String| {
            tracing::warn!(room = %core.config.id, conn = from.0, code, reason = %message, "client message refused");
            inc(&core.config.metrics.rejected_messages, 1);
            let error = serde_json::json!({"type": "error", "code": code, "message": message});
            core.send_to(from, protocol::encode_tierboard(&error.to_string()));
        };
        let mut value: Value = match serde_json::from_slice(json) {
            Ok(v) => v,
            Err(e) => return refuse(self, "bad_request", format!("not JSON: {e}")),
        };
        let kind = value
            .as_object_mut()
            .and_then(|m| m.remove("type"))
            .and_then(|t| t.as_str().map(str::to_string));
        if kind.as_deref() != Some("host_action") {
            return refuse(
                self,
                "bad_request",
                format!("unknown message type {kind:?}"),
            );
        }
        if !role.is_host() {
            return refuse(self, "forbidden", "host actions need the host link".into());
        }
        let action: Action = match serde_json::from_value(value) {
            Ok(a) => a,
            Err(e) => return refuse(self, "bad_request", format!("bad host action: {e}")),
        };
        if let Err(e) = self.host_action(now, &action) {
            let code = match e {
                ActionError::TooFast => "rate_limited",
                _ => "bad_request",
            };
            refuse(self, code, e.to_string());
        }
    }

    /// Applies a host action: every connection hears the new state, the other instances get it, and
    /// the state and the action are stored. A curveball re-judges the design at once.
    pub fn host_action(&mut self, now: Instant, action: &Action) -> Result<Value, ActionError> {
        // A fixed one-second window: bounds the writes and publishes a flooding host can cause.
        match self.host_window {
            Some((start, n)) if now.duration_since(start) < Duration::from_secs(1) => {
                if n >= interview::MAX_ACTIONS_PER_SECOND {
                    return Err(ActionError::TooFast);
                }
                self.host_window = Some((start, n + 1));
            }
            _ => self.host_window = Some((now, 1)),
        }
        let at_ms = now_ms();
        let scenario = self.interview.curveball.clone();
        let overrides = self.interview.api_overrides.clone();
        let hints = self.hints().len();
        self.interview.apply(action, at_ms, hints)?;
        tracing::info!(room = %self.config.id, action = action.name(), version = self.interview.version, "host action");
        self.out.push(Effect::SaveInterview {
            state: self.interview.to_stored(),
            version: self.interview.version,
            action: serde_json::to_string(action).unwrap_or_default(),
            at_ms,
        });
        self.publish_interview();
        self.interview_changed(
            now,
            scenario != self.interview.curveball,
            overrides != self.interview.api_overrides,
        );
        Ok(self.interview_state())
    }

    /// Publishes the whole interview state, if a host ever acted (after a load, a reconnect of the
    /// bus, or a peer's hello: a state change lost on the bus is healed by the next of these).
    pub(super) fn publish_interview(&mut self) {
        if self.interview.version > 0 {
            let state = self.interview.to_stored();
            self.publish(BusMessage::Interview(Bytes::from(state)));
        }
    }

    /// Another instance's copy of the state: kept when newer.
    pub(super) fn interview_from_peer(&mut self, now: Instant, raw: &[u8]) {
        let theirs = match std::str::from_utf8(raw)
            .map_err(|e| e.to_string())
            .and_then(|s| Interview::from_stored(s).map_err(|e| e.to_string()))
        {
            Ok(state) => state,
            Err(e) => {
                tracing::warn!(room = %self.config.id, error = %e, "bus interview state ignored");
                inc(&self.config.metrics.bus_errors, 1);
                return;
            }
        };
        if !self.interview.is_newer(&theirs) {
            return;
        }
        let rejudge = theirs.curveball != self.interview.curveball;
        let recheck = theirs.api_overrides != self.interview.api_overrides;
        self.interview = theirs;
        self.interview_changed(now, rejudge, recheck);
    }

    /// Everyone hears the new state; a new curveball re-judges the design, new API verdicts re-run
    /// the section checks (when the room has judged them once: otherwise its first run will).
    fn interview_changed(&mut self, now: Instant, rejudge: bool, recheck: bool) {
        let conns: Vec<(ConnId, Role)> = self.conns.iter().map(|(c, r)| (*c, *r)).collect();
        // Encoded once per audience, shared by its connections.
        let public = self.interview_message_for(Role::Edit);
        let host = self.interview_message_for(Role::Host);
        for (conn, role) in conns {
            let message = if role.is_host() { &host } else { &public };
            self.send_to(conn, message.clone());
        }
        if rejudge && self.owe_step1.is_none() {
            self.validate(now);
        } else if recheck
            && self.section_checks.is_some()
            && let Some(problem) = self.problem.clone()
        {
            self.check_sections(&problem);
        }
    }
}
