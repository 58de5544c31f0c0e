//! Presence coalescing: while a room's cursors keep moving, its awareness changes go out at most once
//! per window (`--presence-window-ms`), merged into one update. Part of the room core: no I/O, time
//! passed in.
//!
//! Why: presence is most of what a whiteboard room sends (three participants moving cursors at
//! 20 Hz are 60 awareness updates a second against one or two edits), and every update relayed on
//! its own is a write to each other participant's socket and a turn of the room. Within a window the
//! room keeps only *which* client ids changed; the awareness table already holds their latest
//! states, so the merged update carries each client's newest state once (an older cursor position
//! superseded within the window is never sent, as y-protocols would drop it on arrival anyway).
//!
//! The first change after a quiet window goes out at once: a lone move, or the first of a drag,
//! waits for nothing. Later ones wait at most one window after the previous send.
//!
//! Only rooms of at least [`MIN_CONNS`] connections wait. A merged update saves writes only when
//! several participants' moves fall in one window, and goes to every participant: in an interview
//! of three, 20 ms windows saved about 5 % of the server's CPU and added up to 20 ms to every
//! cursor; in a study group of 50 they cut the server's CPU for the room from 202 to 80 ms per
//! second (BENCHMARKS.md, "Figures behind code choices").
//!
//! Who gets the merged update: when every change in it came from one connection, everyone but that
//! connection (as an immediate relay). When several connections' changes are in it, everyone,
//! senders included, so that it is encoded once: a sender's own entry comes back with the clock it
//! already has, which y-protocols' `applyAwarenessUpdate` ignores (it applies an entry only with a
//! newer clock, or a removal of a state it still holds, and never lets a remote removal take its own
//! local state). Encoding one update per sender instead would cost an encode per receiver in a busy
//! room, which is what the fan-out is built to avoid.

use std::time::Duration;

use tokio::time::Instant;

use crate::room::conn::ConnId;

/// Rooms with fewer connections relay every awareness update as it comes (see the module doc): an
/// interview's interviewer, candidate and an observer or two.
pub const MIN_CONNS: usize = 6;

/// More changed client ids than this in one window go out at once: the pending list is searched on
/// every change, and a room with this many moving cursors gains nothing from waiting.
const MAX_PENDING: usize = 256;

#[derive(Debug)]
pub(super) struct Presence {
    window: Duration,
    /// Client ids changed since the last send, each once, in the order they first changed.
    pending: Vec<u64>,
    /// The connections whose messages changed them (a room's participants: a short list).
    senders: Vec<ConnId>,
    /// The client ids the message being handled changed (filled by the awareness table).
    pub(super) changed: Vec<u64>,
    last_sent: Option<Instant>,
    due: Option<Instant>,
}

/// What a due send holds: the client ids to encode from the table, and the one connection not to
/// send to (`None`: several senders, everyone gets it).
pub(super) struct Due {
    pub clients: Vec<u64>,
    pub except: Option<ConnId>,
}

impl Presence {
    pub fn new(window: Duration) -> Presence {
        Presence {
            window,
            pending: Vec::new(),
            senders: Vec::new(),
            changed: Vec::new(),
            last_sent: None,
            due: None,
        }
    }

    /// `from`'s message changed the client ids in [`Presence::changed`] (which this clears), in a
    /// room of `conns` connections. True when its relay goes out now, as it is; false when the
    /// changes wait for [`Presence::due`]. Changes never overtake waiting ones of the same room, so
    /// a room that shrank below [`MIN_CONNS`] with changes waiting sends them at the window's end.
    pub fn offer(&mut self, now: Instant, from: ConnId, conns: usize) -> bool {
        let quiet = self.due.is_none()
            && (conns < MIN_CONNS
                || self
                    .last_sent
                    .is_none_or(|sent| now.saturating_duration_since(sent) >= self.window));
        if self.window.is_zero() || quiet {
            self.changed.clear();
            self.last_sent = Some(now);
            return true;
        }
        for id in self.changed.drain(..) {
            if !self.pending.contains(&id) {
                self.pending.push(id);
            }
        }
        if !self.senders.contains(&from) {
            self.senders.push(from);
        }
        let at = if self.pending.len() > MAX_PENDING {
            now
        } else {
            // `last_sent` is set: the window is not quiet.
            self.last_sent.map_or(now, |sent| sent + self.window)
        };
        self.due = Some(self.due.map_or(at, |due| due.min(at)));
        false
    }

    /// When the waiting changes go out.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The waiting changes, if any; the window starts again at `now`.
    pub fn take(&mut self, now: Instant) -> Option<Due> {
        self.due.take()?;
        self.last_sent = Some(now);
        let except = match self.senders.as_slice() {
            [only] => Some(*only),
            _ => None,
        };
        self.senders.clear();
        Some(Due {
            clients: std::mem::take(&mut self.pending),
            except,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_millis(20);

    fn offer(p: &mut Presence, now: Instant, from: u64, ids: &[u64]) -> bool {
        p.changed.extend_from_slice(ids);
        p.offer(now, ConnId(from), MIN_CONNS)
    }

    #[test]
    fn small_rooms_relay_at_once_but_never_overtake_waiting_changes() {
        let t0 = Instant::now();
        let mut p = Presence::new(W);
        for i in 0..5 {
            p.changed.push(10);
            assert!(p.offer(t0 + Duration::from_millis(i), ConnId(1), MIN_CONNS - 1));
        }
        assert!(p.due().is_none());
        // A big room's change waits; the room shrinks: the next change still waits behind it.
        assert!(!offer(&mut p, t0 + Duration::from_millis(6), 1, &[10]));
        p.changed.push(20);
        assert!(!p.offer(t0 + Duration::from_millis(7), ConnId(2), 2));
        assert_eq!(p.take(t0 + W).expect("due").clients, vec![10, 20]);
    }

    #[test]
    fn a_lone_change_goes_at_once_and_a_quick_follower_waits_for_the_window() {
        let t0 = Instant::now();
        let mut p = Presence::new(W);
        assert!(offer(&mut p, t0, 1, &[10]));
        assert!(p.due().is_none());
        // 5 ms later: waits until 20 ms after the first send.
        assert!(!offer(&mut p, t0 + Duration::from_millis(5), 1, &[10]));
        assert_eq!(p.due(), Some(t0 + W));
        // The same client again within the window: still one pending id, same deadline.
        assert!(!offer(&mut p, t0 + Duration::from_millis(9), 1, &[10]));
        assert_eq!(p.due(), Some(t0 + W));
        let due = p.take(t0 + W).expect("due");
        assert_eq!(due.clients, vec![10]);
        assert_eq!(
            due.except,
            Some(ConnId(1)),
            "one sender: not sent back to it"
        );
        assert!(p.take(t0 + W).is_none(), "taken once");
        // After a quiet window a change goes at once again.
        assert!(offer(&mut p, t0 + W * 3, 1, &[10]));
    }

    #[test]
    fn several_senders_in_a_window_go_to_everyone_once() {
        let t0 = Instant::now();
        let mut p = Presence::new(W);
        assert!(offer(&mut p, t0, 1, &[10]));
        assert!(!offer(&mut p, t0 + Duration::from_millis(3), 2, &[20]));
        assert!(!offer(&mut p, t0 + Duration::from_millis(4), 1, &[10]));
        let due = p.take(t0 + W).expect("due");
        assert_eq!(due.clients, vec![20, 10]);
        assert_eq!(due.except, None);
    }

    #[test]
    fn a_zero_window_sends_everything_at_once() {
        let t0 = Instant::now();
        let mut p = Presence::new(Duration::ZERO);
        for i in 0..5 {
            assert!(offer(&mut p, t0 + Duration::from_micros(i), 1, &[10]));
        }
        assert!(p.due().is_none());
        assert!(p.changed.is_empty());
    }

    #[test]
    fn too_many_pending_ids_are_due_at_once() {
        let t0 = Instant::now();
        let mut p = Presence::new(W);
        assert!(offer(&mut p, t0, 1, &[0]));
        let now = t0 + Duration::from_millis(1);
        let ids: Vec<u64> = (1..=MAX_PENDING as u64 + 1).collect();
        assert!(!offer(&mut p, now, 2, &ids));
        assert_eq!(p.due(), Some(now));
    }
}
