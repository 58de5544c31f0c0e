//! A connection as the room sees it: its id, role, bounded [`Outlet`] and the [`ConnControl`] that
//! tells its reader and writer to stop (with a close code). The WebSocket layer creates them; the
//! room's actor sends through the outlet and closes them as the core decides.

use std::cell::OnceCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use futures::task::AtomicWaker;

use crate::close::CloseCode;
use crate::ids::{Role, TokenHash};

/// A connection id, unique within the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl ConnId {
    pub fn next() -> ConnId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// How the room tells a connection's reader and writer to stop: a close code, then the flag.
///
/// Both loops check it on every wake-up, once per message sent or received. A `CancellationToken`
/// costs two uncontended mutex locks per check (its node's and its `Notify`'s); this is an atomic load
/// and a waker registration, one waker per loop.
#[derive(Debug, Default)]
pub struct ConnControl {
    /// The connection's messages waiting in the room's mailbox (the reader counts them in, the room
    /// counts them out once handled): while any waits, the reader runs no turn of its own, so the
    /// connection's messages are applied in order (`turn.rs`).
    pub queued: AtomicUsize,
    stopped: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
    code: AtomicU16,
}

/// Which loop of a connection waits on [`ConnControl::stopped`].
#[derive(Debug, Clone, Copy)]
pub enum Side {
    Reader,
    Writer,
}

/// Resolves once the connection is told to stop (see [`ConnControl`]).
pub struct Stopped<'a> {
    control: &'a ConnControl,
    side: Side,
}

impl std::future::Future for Stopped<'_> {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let control = self.control;
        if control.is_stopped() {
            return std::task::Poll::Ready(());
        }
        match self.side {
            Side::Reader => control.reader.register(cx.waker()),
            Side::Writer => control.writer.register(cx.waker()),
        }
        // Checked again after registering: a `stop` in between woke the old waker, or none.
        if control.is_stopped() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl ConnControl {
    pub fn close(&self, code: CloseCode) {
        // First writer wins: a later reason never overwrites the first one.
        let _ = self
            .code
            .compare_exchange(0, code.code(), Ordering::Relaxed, Ordering::Relaxed);
        self.stop();
    }

    /// Tells both loops to end (with the code set by [`ConnControl::close`], if any).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.reader.wake();
        self.writer.wake();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// A future for one side's loop; create it once per loop, not per message.
    pub fn stopped(&self, side: Side) -> Stopped<'_> {
        Stopped {
            control: self,
            side,
        }
    }

    /// The code set by [`ConnControl::close`]; a normal close when none was.
    pub fn code(&self) -> CloseCode {
        CloseCode::from_code(self.code.load(Ordering::Relaxed)).unwrap_or(CloseCode::Normal)
    }
}

/// What the room keeps of a connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub role: Role,
    /// The token the connection was authorised by (`None` in tests that make no token): revoking
    /// it closes the connection.
    pub token: Option<TokenHash>,
    /// Where the room's messages for it go: bounded. When it is full the client is behind: nothing
    /// more is sent until it has drained, then the room sends it one update with everything it
    /// missed (`core/catchup.rs`). A client that stops reading is dropped by its writer's timeout.
    pub outbox: Arc<dyn Outlet>,
    pub control: Arc<ConnControl>,
}

/// A message on its way to one or more connections: the y-websocket payload, and its transport form
/// (a WebSocket frame), made by the first outlet that needs it and shared by the others. Why: a
/// broadcast is framed once for the whole room, not once per receiver.
#[derive(Debug)]
pub struct Outgoing {
    payload: Bytes,
    framed: OnceCell<Bytes>,
}

impl Outgoing {
    pub fn new(payload: Bytes) -> Outgoing {
        Outgoing {
            payload,
            framed: OnceCell::new(),
        }
    }

    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The payload in transport form; `frame` runs once per message, whatever the receivers.
    pub fn framed(&self, frame: fn(&[u8]) -> Bytes) -> &Bytes {
        self.framed.get_or_init(|| frame(&self.payload))
    }
}

/// Why an outlet did not take a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSent {
    /// It holds as many messages as it may: the connection is behind.
    Full,
    /// The connection is closing or gone (its `Leave` is on the way): not a slow consumer.
    Closed,
}

/// A connection's sending side as the room's actor uses it. The WebSocket layer's outlet writes a
/// message straight to the socket when nothing waits before it (`ws::socket`); tests use a plain
/// `queue::Sender` and read the payloads back.
///
/// `try_send` never waits: it runs on the room's task for every receiver of every broadcast.
pub trait Outlet: Send + Sync + std::fmt::Debug {
    fn try_send(&self, message: &Outgoing) -> Result<(), NotSent>;
    /// Holds `message` to go out with the next message sent, in the same write, or alone at
    /// [`Outlet::flush_held`]: a steady `saved` rides on the next update instead of costing both
    /// sides a write and a wake-up of its own. A message held before and not sent yet is replaced,
    /// so only a message that a later one of its kind supersedes may be held. The default sends it
    /// at once.
    fn hold(&self, message: &Outgoing) -> Result<(), NotSent> {
        self.try_send(message)
    }
    /// Sends the held message, if one waits, alone.
    fn flush_held(&self) -> Result<(), NotSent> {
        Ok(())
    }
    /// Whether everything sent so far has left (is in the socket, or was taken by the reader).
    fn is_empty(&self) -> bool;
}

/// For tests: the room's messages as payloads in a queue, read back with `try_recv`.
#[cfg(any(test, feature = "test-util"))]
impl Outlet for crate::queue::Sender<Bytes> {
    fn try_send(&self, message: &Outgoing) -> Result<(), NotSent> {
        use crate::queue::{Sender, error::TrySendError};
        Sender::try_send(self, message.payload().clone()).map_err(|e| match e {
            TrySendError::Full(_) => NotSent::Full,
            TrySendError::Closed(_) => NotSent::Closed,
        })
    }

    fn is_empty(&self) -> bool {
        crate::queue::Sender::is_empty(self)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_stop_wakes_both_loops_of_a_connection_and_keeps_the_first_code() {
        let control = Arc::new(ConnControl::default());
        let wait = |side| {
            let control = control.clone();
            tokio::spawn(async move { control.stopped(side).await })
        };
        let (reader, writer) = (wait(Side::Reader), wait(Side::Writer));
        // On this single-threaded runtime the yield lets both tasks poll once and register.
        tokio::task::yield_now().await;
        assert!(!reader.is_finished() && !writer.is_finished());
        assert!(!control.is_stopped());
        control.close(CloseCode::SlowConsumer);
        control.close(CloseCode::Malformed);
        for task in [reader, writer] {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("a stopped loop wakes up")
                .expect("the task ran");
        }
        assert_eq!(
            control.code(),
            CloseCode::SlowConsumer,
            "the first reason wins"
        );
        // A loop that starts waiting after the stop does not wait at all.
        tokio::time::timeout(Duration::from_secs(5), control.stopped(Side::Reader))
            .await
            .expect("ready at once");
    }
}
