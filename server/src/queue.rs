//! A bounded multi-producer, single-consumer queue that costs nothing while it is empty: the room
//! mailboxes, the rooms' bus inboxes and the connections' outboxes.
//!
//! Why not `tokio::sync::mpsc`: its channel allocates a cache-padded shared state and its first
//! block of 32 slots up front, whatever the queue holds. For a connection's outbox of `Bytes` that
//! was about 1.8 KB, for a room's mailbox of 96-byte commands about 3.6 KB and for its bus inbox
//! about 2.9 KB, paid by every idle connection and room (BENCHMARKS.md, scenario 4: 2,500 rooms and
//! 10,000 connections). Here the messages live in a `VecDeque` that grows on use and gives its
//! buffer back once a burst has drained; an idle queue is about 150 bytes.
//!
//! The API is the subset of tokio's mpsc the server uses, with the same meaning: `try_send` refuses
//! when full, `send` waits for room (tokio's `Semaphore` counts the free slots, so waiting senders
//! are served in order and a cancelled `send` loses nothing), `close` refuses further sends while
//! what is queued can still be received, and the receiver sees the end once every sender is gone.
//!
//! A std `Mutex` guards the `VecDeque`: it is held only to push or pop, never across an `.await`.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use futures::task::AtomicWaker;
use tokio::sync::{Semaphore, TryAcquireError};

pub mod error {
    /// [`super::Sender::try_send`] refused: the value comes back.
    #[derive(Clone, PartialEq, Eq)]
    pub enum TrySendError<T> {
        /// The queue holds as many values as it may.
        Full(T),
        /// The receiver has closed the queue or is gone.
        Closed(T),
    }

    /// [`super::Sender::send`] failed because the receiver closed the queue or is gone.
    #[derive(Clone, PartialEq, Eq)]
    pub struct SendError<T>(pub T);

    // Without `T: Debug`, as tokio's: the value is what was refused, not why.
    impl<T> std::fmt::Debug for TrySendError<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                TrySendError::Full(_) => f.write_str("Full(..)"),
                TrySendError::Closed(_) => f.write_str("Closed(..)"),
            }
        }
    }

    impl<T> std::fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("SendError(..)")
        }
    }
}

use error::{SendError, TrySendError};

/// A queue above this many slots is given back to the allocator once it is empty again.
const KEEP_SLOTS: usize = 8;

struct State<T> {
    values: VecDeque<T>,
    senders: usize,
    closed: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// One permit per free slot.
    slots: Semaphore,
    /// The receiver's waker: set while it waits on an empty queue.
    waker: AtomicWaker,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Each change under the lock is one `VecDeque` call or a counter: a panic elsewhere while it
        // was held cannot have left the state half-changed, so a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `value` for a slot already taken from `slots`.
    fn push(&self, value: T) -> Result<(), T> {
        let was_empty = {
            let mut state = self.lock();
            if state.closed {
                return Err(value);
            }
            state.values.push_back(value);
            state.values.len() == 1
        };
        // Only the first value wakes the receiver: with more queued it has been woken already and
        // takes them all before it waits again.
        if was_empty {
            self.waker.wake();
        }
        Ok(())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.slots.close();
    }
}

/// Creates a queue that holds at most `capacity` values (at least one).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            values: VecDeque::new(),
            senders: 1,
            closed: false,
        }),
        slots: Semaphore::new(capacity.max(1)),
        waker: AtomicWaker::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The sending side; clones share the queue.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A sender that does not keep the queue open (see [`Sender::downgrade`]).
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            state.senders == 0
        };
        if last {
            self.shared.waker.wake();
        }
    }
}

impl<T> Sender<T> {
    /// Queues `value` unless the queue is full or closed.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.shared.slots.try_acquire() {
            Ok(slot) => slot.forget(),
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
        }
        self.shared.push(value).map_err(TrySendError::Closed)
    }

    /// Queues `value`, waiting for a free slot; fails once the queue is closed. Cancel-safe: a
    /// `send` dropped while it waits has queued nothing and taken no slot.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.shared.slots.acquire().await {
            Ok(slot) => slot.forget(),
            Err(_) => return Err(SendError(value)),
        }
        self.shared.push(value).map_err(SendError)
    }

    /// Whether the receiver has closed the queue or is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.slots.is_closed()
    }

    /// Whether nothing is queued: the receiver has taken everything sent so far.
    pub fn is_empty(&self) -> bool {
        self.shared.lock().values.is_empty()
    }

    /// A sender that does not count towards keeping the queue open.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> WeakSender<T> {
    /// A sender again, unless every sender is already gone.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut state = self.shared.lock();
        if state.senders == 0 {
            return None;
        }
        state.senders += 1;
        Some(Sender {
            shared: self.shared.clone(),
        })
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.close();
        // What was queued will never be received: free it now, not when the last sender goes.
        let values = std::mem::take(&mut self.shared.lock().values);
        drop(values);
    }
}

impl<T> Receiver<T> {
    /// The next value, waiting while none is queued; `None` once the queue is empty and every
    /// sender is gone (or it was closed). Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            if let Some(value) = self.take_one() {
                return Poll::Ready(Some(value));
            }
            self.shared.waker.register(cx.waker());
            // Checked again after registering: a send in between woke the old waker, or none.
            if let Some(value) = self.take_one() {
                return Poll::Ready(Some(value));
            }
            if self.ended() {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// Moves up to `max` queued values into `into`, waiting while none is queued; how many were
    /// moved, 0 only once the queue is empty and every sender is gone (or it was closed).
    pub async fn recv_many(&mut self, into: &mut Vec<T>, max: usize) -> usize {
        poll_fn(|cx| {
            let n = self.take(into, max);
            if n > 0 {
                return Poll::Ready(n);
            }
            self.shared.waker.register(cx.waker());
            let n = self.take(into, max);
            if n > 0 || self.ended() {
                Poll::Ready(n)
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// The next queued value, without waiting.
    pub fn try_recv(&mut self) -> Option<T> {
        self.take_one()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.shared.lock().values.is_empty()
    }

    /// Refuses further sends; what is queued can still be received.
    pub fn close(&mut self) {
        self.shared.close();
    }

    fn ended(&self) -> bool {
        let state = self.shared.lock();
        state.values.is_empty() && (state.senders == 0 || state.closed)
    }

    fn take_one(&self) -> Option<T> {
        let value = {
            let mut state = self.shared.lock();
            let value = state.values.pop_front()?;
            shrink_if_drained(&mut state.values);
            value
        };
        self.shared.slots.add_permits(1);
        Some(value)
    }

    fn take(&self, into: &mut Vec<T>, max: usize) -> usize {
        let n = {
            let mut state = self.shared.lock();
            let n = state.values.len().min(max);
            into.extend(state.values.drain(..n));
            shrink_if_drained(&mut state.values);
            n
        };
        if n > 0 {
            self.shared.slots.add_permits(n);
        }
        n
    }
}

/// After a burst the buffer would stay as large as the burst was, for as long as the queue lives.
fn shrink_if_drained<T>(values: &mut VecDeque<T>) {
    if values.is_empty() && values.capacity() > KEEP_SLOTS {
        *values = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_and_takes_again_once_drained() {
        let (tx, mut rx) = channel(2);
        assert!(tx.is_empty());
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
        assert!(!tx.is_empty());
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 10).await, 2);
        assert_eq!(got, vec![1, 2], "in order, the refused one not queued");
        assert!(tx.is_empty());
        tx.try_send(4).unwrap();
        assert_eq!(rx.recv().await, Some(4));
    }

    #[tokio::test]
    async fn recv_many_takes_at_most_max() {
        let (tx, mut rx) = channel(10);
        for n in 0..5 {
            tx.try_send(n).unwrap();
        }
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 3).await, 3);
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(rx.try_recv(), Some(3));
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_on_a_send_from_another_task() {
        let (tx, mut rx) = channel(4);
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished());
        tx.try_send(7).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(got, Some(7));
    }

    #[tokio::test]
    async fn a_send_waits_for_a_free_slot_and_senders_are_served_in_order() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let first = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(1).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let second = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(2).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!first.is_finished() && !second.is_finished(), "both wait");
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(
                tokio::time::timeout(Duration::from_secs(5), rx.recv())
                    .await
                    .expect("a value in time")
                    .unwrap(),
            );
        }
        assert_eq!(got, vec![0, 1, 2]);
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_cancelled_send_takes_no_slot() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let waited = tokio::time::timeout(Duration::from_millis(10), tx.send(1)).await;
        assert!(waited.is_err(), "the queue is full: the send waits");
        assert_eq!(rx.recv().await, Some(0));
        tx.try_send(2)
            .expect("the cancelled send left its slot free");
        assert_eq!(rx.try_recv(), Some(2));
        assert_eq!(rx.try_recv(), None);
    }

    #[tokio::test]
    async fn the_receiver_drains_then_ends_when_every_sender_is_gone() {
        let (tx, mut rx) = channel(4);
        let other = tx.clone();
        tx.try_send(1).unwrap();
        drop(tx);
        other.try_send(2).unwrap();
        let waiter = tokio::spawn(async move {
            let mut all = Vec::new();
            while let Some(m) = rx.recv().await {
                all.push(m);
            }
            all
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished(), "one sender is left: still waiting");
        drop(other);
        let all = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("ended")
            .unwrap();
        assert_eq!(all, vec![1, 2]);
    }

    #[tokio::test]
    async fn close_refuses_sends_and_wakes_waiting_senders_but_keeps_what_is_queued() {
        let (tx, mut rx) = channel(1);
        tx.try_send(1).unwrap();
        let waiting = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(2).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        rx.close();
        assert!(tx.is_closed());
        let refused = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the waiting sender is woken")
            .unwrap();
        assert_eq!(refused, Err(SendError(2)));
        assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
        assert_eq!(
            rx.recv().await,
            Some(1),
            "what was queued is still received"
        );
        assert_eq!(rx.recv().await, None, "closed and empty: the end");
    }

    #[tokio::test]
    async fn a_dropped_receiver_closes_and_frees_what_was_queued() {
        let (tx, rx) = channel(4);
        let value = Arc::new(());
        tx.try_send(value.clone()).unwrap();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(Arc::strong_count(&value), 1, "the queued value was dropped");
        assert!(matches!(tx.try_send(value), Err(TrySendError::Closed(_))));
    }

    #[tokio::test]
    async fn a_weak_sender_upgrades_only_while_a_sender_lives() {
        let (tx, mut rx) = channel(4);
        let weak = tx.downgrade();
        let strong = weak.upgrade().expect("a sender lives");
        drop(tx);
        strong.try_send(1).unwrap();
        drop(strong);
        assert!(weak.upgrade().is_none(), "every sender is gone");
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(
            rx.recv().await,
            None,
            "a weak sender does not keep the queue open"
        );
    }

    #[tokio::test]
    async fn a_drained_burst_gives_its_buffer_back() {
        let (tx, mut rx) = channel(1024);
        for n in 0..100 {
            tx.try_send(n).unwrap();
        }
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 1000).await, 100);
        assert_eq!(rx.shared.lock().values.capacity(), 0);
        assert_eq!(
            rx.shared.slots.available_permits(),
            1024,
            "every slot is free again"
        );
    }
}
