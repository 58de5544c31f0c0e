//! A connection's outbox: the bounded queue of encoded messages between the room (and the
//! connection's own reader) and the connection's writer.
//!
//! Why not `tokio::sync::mpsc`: its channel allocates its first block of 32 slots and a cache-padded
//! shared state up front, about 1.8 KB, and ten thousand idle connections paid that for queues that
//! hold nothing between greetings (issue 18, BENCHMARKS.md scenario 4). This queue is a `VecDeque`
//! behind a std mutex that grows on use and gives its buffer back once a burst has drained: about
//! a hundred bytes for an idle connection.
//!
//! A std `Mutex` is fine here: it is held only to push or pop, never across an `.await`, and the only
//! contention is the room and the writer touching the queue at the same instant.
//!
//! Semantics are those of a bounded channel with `try_send`: a full queue refuses (the room then
//! marks the connection as behind and catches it up later, `core/catchup.rs`); once the receiver is
//! gone every send is refused as closed; once every sender is gone the receiver drains what is left
//! and then sees the end.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use bytes::Bytes;
use futures::task::AtomicWaker;

/// A queue above this many slots is given back to the allocator once it is empty again.
const KEEP_SLOTS: usize = 8;

struct Queue {
    messages: VecDeque<Bytes>,
    senders: usize,
    receiver: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    capacity: usize,
    /// The receiver's waker: set while it waits on an empty queue.
    waker: AtomicWaker,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock cannot leave the queue half-changed (each change is one
        // `VecDeque` call or a counter): go on with it.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why [`OutboxSender::try_send`] refused a message (the message is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The queue holds `capacity` messages: the connection is behind.
    Full,
    /// The receiver (the connection's writer) has ended.
    Closed,
}

/// Creates an outbox holding at most `capacity` messages.
pub fn outbox(capacity: usize) -> (OutboxSender, OutboxReceiver) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            messages: VecDeque::new(),
            senders: 1,
            receiver: true,
        }),
        capacity: capacity.max(1),
        waker: AtomicWaker::new(),
    });
    (
        OutboxSender {
            shared: shared.clone(),
        },
        OutboxReceiver { shared },
    )
}

/// The sending side; clones share the queue.
pub struct OutboxSender {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for OutboxSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxSender")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

impl Clone for OutboxSender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        OutboxSender {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for OutboxSender {
    fn drop(&mut self) {
        let last = {
            let mut queue = self.shared.lock();
            queue.senders -= 1;
            queue.senders == 0
        };
        if last {
            self.shared.waker.wake();
        }
    }
}

impl OutboxSender {
    /// Queues `message` unless the queue is full or the receiver has ended.
    pub fn try_send(&self, message: Bytes) -> Result<(), SendError> {
        let was_empty = {
            let mut queue = self.shared.lock();
            if !queue.receiver {
                return Err(SendError::Closed);
            }
            if queue.messages.len() >= self.shared.capacity {
                return Err(SendError::Full);
            }
            queue.messages.push_back(message);
            queue.messages.len() == 1
        };
        // Only the first message wakes the writer: with more queued it has been woken already and
        // takes all of them before it waits again.
        if was_empty {
            self.shared.waker.wake();
        }
        Ok(())
    }

    /// Whether everything queued has been taken by the writer.
    pub fn is_empty(&self) -> bool {
        self.shared.lock().messages.is_empty()
    }
}

/// The receiving side: the connection's writer.
pub struct OutboxReceiver {
    shared: Arc<Shared>,
}

impl Drop for OutboxReceiver {
    fn drop(&mut self) {
        let mut queue = self.shared.lock();
        queue.receiver = false;
        // What was queued will never be written: free it now, not when the last sender goes.
        queue.messages = VecDeque::new();
    }
}

impl OutboxReceiver {
    /// Moves up to `max` queued messages into `into`, waiting while none is queued; `false` once
    /// every sender is gone and the queue is empty.
    pub async fn recv_many(&mut self, into: &mut Vec<Bytes>, max: usize) -> bool {
        poll_fn(|cx| {
            if self.take(into, max) {
                return Poll::Ready(true);
            }
            self.shared.waker.register(cx.waker());
            // Checked again after registering: a send in between woke the old waker, or none.
            if self.take(into, max) {
                return Poll::Ready(true);
            }
            if self.shared.lock().senders == 0 {
                Poll::Ready(false)
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// The next message, waiting while none is queued; `None` once every sender is gone and the
    /// queue is empty.
    pub async fn recv(&mut self) -> Option<Bytes> {
        let mut one = Vec::with_capacity(1);
        self.recv_many(&mut one, 1).await.then(|| one.pop())?
    }

    /// The next queued message, without waiting.
    pub fn try_recv(&mut self) -> Option<Bytes> {
        let mut one = Vec::with_capacity(1);
        self.take(&mut one, 1).then(|| one.pop())?
    }

    /// Takes what is queued (up to `max`) without waiting; whether anything was taken.
    fn take(&self, into: &mut Vec<Bytes>, max: usize) -> bool {
        let mut queue = self.shared.lock();
        if queue.messages.is_empty() {
            return false;
        }
        let n = queue.messages.len().min(max);
        into.extend(queue.messages.drain(..n));
        if queue.messages.is_empty() && queue.messages.capacity() > KEEP_SLOTS {
            queue.messages = VecDeque::new();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn msg(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[tokio::test]
    async fn a_full_outbox_refuses_and_takes_again_once_drained() {
        let (tx, mut rx) = outbox(2);
        assert!(tx.is_empty());
        tx.try_send(msg(1)).unwrap();
        tx.try_send(msg(2)).unwrap();
        assert_eq!(tx.try_send(msg(3)), Err(SendError::Full));
        assert!(!tx.is_empty());
        let mut got = Vec::new();
        assert!(rx.recv_many(&mut got, 10).await);
        assert_eq!(
            got,
            vec![msg(1), msg(2)],
            "in order, the refused one not queued"
        );
        assert!(tx.is_empty());
        tx.try_send(msg(4)).unwrap();
        assert_eq!(rx.recv().await, Some(msg(4)));
    }

    #[tokio::test]
    async fn recv_many_takes_at_most_max() {
        let (tx, mut rx) = outbox(10);
        for n in 0..5 {
            tx.try_send(msg(n)).unwrap();
        }
        let mut got = Vec::new();
        assert!(rx.recv_many(&mut got, 3).await);
        assert_eq!(got.len(), 3);
        assert_eq!(rx.recv().await, Some(msg(3)));
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_on_a_send_from_another_task() {
        let (tx, mut rx) = outbox(4);
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        tx.try_send(msg(7)).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(got, Some(msg(7)));
    }

    #[tokio::test]
    async fn the_receiver_drains_then_ends_when_every_sender_is_gone() {
        let (tx, mut rx) = outbox(4);
        let other = tx.clone();
        tx.try_send(msg(1)).unwrap();
        drop(tx);
        other.try_send(msg(2)).unwrap();
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
        assert_eq!(all, vec![msg(1), msg(2)]);
    }

    #[tokio::test]
    async fn sends_after_the_receiver_is_gone_are_refused_as_closed() {
        let (tx, rx) = outbox(4);
        tx.try_send(msg(1)).unwrap();
        drop(rx);
        assert_eq!(tx.try_send(msg(2)), Err(SendError::Closed));
        assert!(tx.is_empty(), "what was queued is freed with the receiver");
    }

    #[tokio::test]
    async fn a_drained_burst_gives_its_buffer_back() {
        let (tx, mut rx) = outbox(1024);
        for n in 0..100 {
            tx.try_send(msg(n)).unwrap();
        }
        let mut got = Vec::new();
        assert!(rx.recv_many(&mut got, 1000).await);
        assert_eq!(got.len(), 100);
        assert_eq!(rx.shared.lock().messages.capacity(), 0);
    }
}
