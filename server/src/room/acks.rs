//! Commit acknowledgements on their way from the persister to a room, without a wake-up each.
//!
//! The persister answers every submission after its commit. A room in steady editing submits a row
//! for nearly every edit (scenario 3: one per edit at 2 edits/s per client), and an answer per row
//! posted to the room's mailbox woke its task once more per edit, for nothing most of the time: the
//! room tells its clients `saved` at most once a second ([`super::SAVED_INTERVAL`]), so inside that
//! window an answer only updates what the next round will say. So the answers are left here, and the
//! room takes them whenever it runs anyway (every wake-up starts with [`Acks::take`]). It asks to be
//! woken by an answer ([`Acks::arm`]) only when one would be acted on at once: outside the `saved`
//! window, with nobody connected (the room waits for its commits before it unloads), or for a failed
//! commit (logged at once). Inside the window, the room's own timer wakes it at the window's end
//! while submissions are in flight (the core's `ack_check`), which is when the round needs them.
//!
//! A std mutex: it is held for a `Vec` push or swap, never across an `.await`, and contended only
//! when a commit's answer and the room's turn meet. Every turn of the room looks (a cursor move is a
//! turn), and most find nothing to take and no wish to change: two atomics, written under the mutex,
//! let those turns skip it (1.5 % of the server's samples in scenario 9 went to the two locks).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

/// One submission's answer: the commit's outcome, with what the submission covered.
pub struct Ack {
    pub result: crate::Result<()>,
    pub saved_sv: Bytes,
    pub version: u64,
}

#[derive(Default)]
pub struct Acks {
    inner: Mutex<Inner>,
    /// `!inner.waiting.is_empty()`, as of the last change under the mutex.
    any_waiting: AtomicBool,
    /// `inner.wake`, as of the last change under the mutex. Only [`Acks::arm`] sets it, and only the
    /// room's turn calls that, so the turn never reads it stale as false.
    wake_asked: AtomicBool,
}

#[derive(Default)]
struct Inner {
    waiting: Vec<Ack>,
    /// The room wants a wake-up with the next answer; cleared when one is asked for.
    wake: bool,
}

impl Acks {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding it can only have been in a `Vec` push: the data is still whole.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Leaves an answer for the room. True when the room must be woken for it (it asked to be,
    /// or the commit failed); the wish is then spent, so a burst of answers wakes it once.
    pub fn put(&self, ack: Ack) -> bool {
        let failed = ack.result.is_err();
        let mut inner = self.lock();
        inner.waiting.push(ack);
        self.any_waiting.store(true, Ordering::Release);
        let wake = std::mem::take(&mut inner.wake);
        self.wake_asked.store(false, Ordering::Relaxed);
        wake || failed
    }

    /// Moves the waiting answers into `into` (in commit order).
    pub fn take(&self, into: &mut Vec<Ack>) {
        // An answer put after this look is taken by the next turn, as one put after the lock would
        // be; a room that asked to be woken is woken by it.
        if !self.any_waiting.load(Ordering::Acquire) {
            return;
        }
        let mut inner = self.lock();
        into.append(&mut inner.waiting);
        self.any_waiting.store(false, Ordering::Release);
    }

    /// Whether the next answer wakes the room. True when answers are already waiting and
    /// `wake` is asked: they came after the last [`Acks::take`] and woke nobody, so the room
    /// takes them now instead.
    pub fn arm(&self, wake: bool) -> bool {
        // Nothing to change: no wish before and none now (the common turn), or a wish already
        // standing with nothing waiting (an answer put from here on sees the wish and wakes the room).
        if wake == self.wake_asked.load(Ordering::Relaxed)
            && (!wake || !self.any_waiting.load(Ordering::Acquire))
        {
            return false;
        }
        let mut inner = self.lock();
        inner.wake = wake;
        self.wake_asked.store(wake, Ordering::Relaxed);
        wake && !inner.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(version: u64) -> Ack {
        Ack {
            result: Ok(()),
            saved_sv: Bytes::new(),
            version,
        }
    }

    #[test]
    fn answers_wake_the_room_only_when_it_asked_and_once() {
        let acks = Acks::default();
        assert!(!acks.put(ok(1)), "nobody asked for a wake-up");
        assert!(acks.arm(true), "an answer already waits: take it now");
        let mut taken = Vec::new();
        acks.take(&mut taken);
        assert_eq!(taken.iter().map(|a| a.version).collect::<Vec<_>>(), vec![1]);
        assert!(!acks.arm(true), "nothing waits after the take");
        assert!(acks.put(ok(2)), "the room asked");
        assert!(!acks.put(ok(3)), "the wish is spent by the first answer");
        acks.take(&mut taken);
        assert_eq!(
            taken.iter().map(|a| a.version).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn a_failed_commit_always_wakes_the_room() {
        let acks = Acks::default();
        acks.arm(false);
        let failed = Ack {
            result: Err(crate::Error::Unavailable("disk".into())),
            saved_sv: Bytes::new(),
            version: 1,
        };
        assert!(acks.put(failed));
    }
}
